package bench

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

const (
	benchKeyID = "bench"
	benchURL   = "https://" + harness.InternalHost + "/api/internal/users/reset-otp?user=42"
)

// fixtureCount numbers the middlewares built by this test binary.
var fixtureCount int

// fixture is one middleware under test and what signs its requests.
type fixture struct {
	handler http.Handler
	key     []byte
	state   *tls.ConnectionState
}

// newFixture builds the middleware, interpreted or compiled, with one
// inline key, the pinned certificate of a new PKI and the server name.
func newFixture(b *testing.B, interpreted bool) *fixture {
	b.Helper()

	pki, err := harness.NewPKI(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}

	pin, _ := internalauth.CertificatePins(pki.Pinned.Cert)
	settings, err := json.Marshal(map[string]any{
		"keys":       []map[string]any{{"id": benchKeyID, "secret": hex.EncodeToString(key), "encoding": "hex"}},
		"pins":       []string{pin},
		"serverName": harness.InternalHost,
		// Every nonce stays for maxAge, and a long run signs more than
		// the default capacity within it.
		"replayCacheSize": 10_000_000,
	})
	if err != nil {
		b.Fatal(err)
	}

	next := http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusNoContent) })
	// Instances with one name share a replay cache, so each gets its own.
	fixtureCount++
	name := fmt.Sprintf("bench-%s-%d", b.Name(), fixtureCount)

	var handler http.Handler
	if interpreted {
		root, err := harness.RepoRoot()
		if err != nil {
			b.Fatal(err)
		}
		plugin, err := LoadInterpreted(root, b.TempDir(), io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		handler, err = plugin.New(next, settings, name)
		if err != nil {
			b.Fatal(err)
		}
	} else {
		config := internalauth.CreateConfig()
		if err := json.Unmarshal(settings, config); err != nil {
			b.Fatal(err)
		}
		handler, err = internalauth.New(b.Context(), next, config, name)
		if err != nil {
			b.Fatal(err)
		}
	}

	state := &tls.ConnectionState{
		HandshakeComplete: true,
		ServerName:        harness.InternalHost,
		PeerCertificates:  []*x509.Certificate{pki.Pinned.Cert},
		VerifiedChains:    [][]*x509.Certificate{{pki.Pinned.Cert, pki.DedicatedCA.Cert}},
	}

	return &fixture{handler: handler, key: key, state: state}
}

// signedRequests returns count requests, each signed now with a fresh
// nonce, as the server side would see them.
func (f *fixture) signedRequests(b *testing.B, count int, body []byte) []*http.Request {
	b.Helper()

	requests := make([]*http.Request, count)
	for i := range requests {
		method := http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, benchURL, bytes.NewReader(body))
		req.URL.Scheme = "https"
		if err := internalauth.Sign(req, benchKeyID, f.key, nil); err != nil {
			b.Fatal(err)
		}
		req.TLS = f.state
		requests[i] = req
	}

	return requests
}

// benchmarkServeHTTP sends signed requests through the middleware. The
// requests are signed in batches with the timer stopped.
func benchmarkServeHTTP(b *testing.B, interpreted bool, body []byte) {
	f := newFixture(b, interpreted)

	const batch = 512
	var requests []*http.Request
	rw := &statusWriter{header: http.Header{}}

	b.ReportAllocs()
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			requests = f.signedRequests(b, batch, body)
			b.StartTimer()
		}

		rw.reset()
		f.handler.ServeHTTP(rw, requests[i%batch])
		if rw.status != http.StatusNoContent {
			b.Fatalf("request %d: status %d: %s", i, rw.status, rw.body.String())
		}
	}
}

func BenchmarkInterpretedNoBody(b *testing.B) { benchmarkServeHTTP(b, true, nil) }

func BenchmarkInterpretedBody64KiB(b *testing.B) {
	benchmarkServeHTTP(b, true, bytes.Repeat([]byte("x"), 64<<10))
}

func BenchmarkCompiledNoBody(b *testing.B) { benchmarkServeHTTP(b, false, nil) }

func BenchmarkCompiledBody64KiB(b *testing.B) {
	benchmarkServeHTTP(b, false, bytes.Repeat([]byte("x"), 64<<10))
}

// statusWriter is a reusable http.ResponseWriter that keeps the status
// and the body, so a benchmark allocates no recorder per request.
type statusWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *statusWriter) Header() http.Header { return w.header }

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *statusWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}
