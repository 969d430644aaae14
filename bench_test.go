package internalauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchmarkRequests signs count distinct requests, so the replay cache
// sees a fresh nonce each time.
func benchmarkRequests(b *testing.B, count int, body string) []*http.Request {
	b.Helper()

	requests := make([]*http.Request, count)
	for i := range requests {
		requests[i] = newSignedRequest(b, http.MethodPost, testURL, body, nil)
	}

	return requests
}

func benchmarkServeHTTP(b *testing.B, body string) {
	m, _ := newTestMiddleware(b, testConfig(b))
	m.next = http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusNoContent) })

	const pool = 1024
	requests := benchmarkRequests(b, pool, body)
	templates := make([]http.Header, pool)

	for i, req := range requests {
		templates[i] = req.Header.Clone()
	}

	rec := httptest.NewRecorder()

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		index := i % pool
		if index == 0 && i > 0 {
			b.StopTimer()
			m.replay = newReplayCache(DefaultReplayCacheSize)
			requests = benchmarkRequests(b, pool, body)
			b.StartTimer()
		}

		req := requests[index]
		m.ServeHTTP(rec, req)

		if rec.Code != http.StatusNoContent {
			b.Fatalf("request %d rejected: %s", i, rec.Body.String())
		}
	}
}

func BenchmarkServeHTTPNoBody(b *testing.B) { benchmarkServeHTTP(b, "") }

func BenchmarkServeHTTPSmallBody(b *testing.B) { benchmarkServeHTTP(b, testBodyText) }
