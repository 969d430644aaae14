package internalauth

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// benchmarkRequests signs count distinct requests, so the replay cache
// gets a fresh nonce each time.
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

// Phase benchmarks time each check of a signed bodyless request alone,
// to show where the time of ServeHTTP goes, in particular under yaegi.
// Each runs on the same pre-signed request, so checks that consume
// state (the body, the replay cache) are set up per iteration or left
// out of the timed region.

func benchmarkPhase(b *testing.B, phase func(m *Middleware, req *http.Request)) {
	m, _ := newTestMiddleware(b, testConfig(b))
	req := newSignedRequest(b, http.MethodGet, testURL, "", nil)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		phase(m, req)
	}
}

func BenchmarkPhaseClient(b *testing.B) {
	benchmarkPhase(b, func(m *Middleware, req *http.Request) {
		if reason := m.checkClient(req); reason != "" {
			b.Fatal(reason)
		}
	})
}

func BenchmarkPhaseSelect(b *testing.B) {
	benchmarkPhase(b, func(m *Middleware, req *http.Request) {
		if _, reason := m.selectSignature(req); reason != "" {
			b.Fatal(reason)
		}
	})
}

func BenchmarkPhaseParams(b *testing.B) {
	m, _ := newTestMiddleware(b, testConfig(b))
	req := newSignedRequest(b, http.MethodGet, testURL, "", nil)
	sig, _ := m.selectSignature(req)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if reason := m.checkParams(sig, testNow); reason != "" {
			b.Fatal(reason)
		}
	}
}

func BenchmarkPhaseBase(b *testing.B) {
	m, _ := newTestMiddleware(b, testConfig(b))
	req := newSignedRequest(b, http.MethodGet, testURL, "", nil)
	sig, _ := m.selectSignature(req)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if defaultBase(req, sig) == nil {
			b.Fatal("no signature base for the default components")
		}
	}
}

func BenchmarkPhaseMAC(b *testing.B) {
	m, _ := newTestMiddleware(b, testConfig(b))
	req := newSignedRequest(b, http.MethodGet, testURL, "", nil)
	sig, _ := m.selectSignature(req)
	base, _ := signatureBase(req, "https", sig.components, sig.serialized)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		computeMAC(testSecret, base)
	}
}

func BenchmarkPhaseBody(b *testing.B) {
	benchmarkPhase(b, func(m *Middleware, req *http.Request) {
		if reason := m.checkBody(req); reason != "" {
			b.Fatal(reason)
		}
	})
}

func BenchmarkPhaseReplay(b *testing.B) {
	cache := newReplayCache(b.N + 1)
	now := testNow.UnixNano()
	ids := make([]string, b.N)

	for i := range ids {
		ids[i] = testKeyID + "\x00n" + strconv.Itoa(i)
	}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if cache.insert(ids[i], now+1, now, now+1) != inserted {
			b.Fatal("nonce not inserted")
		}
	}
}

func BenchmarkPhaseAuthorize(b *testing.B) {
	m, _ := newTestMiddleware(b, testConfig(b))
	req := newSignedRequest(b, http.MethodGet, testURL, "", nil)

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		// A fresh cache each time keeps the nonce new; it is a small
		// allocation next to the checks.
		m.replay = newReplayCache(1)
		if _, reason := m.authorize(req); reason != "" {
			b.Fatal(reason)
		}
	}
}
