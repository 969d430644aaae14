package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/bench"
	"github.com/internalauth/internalauth/e2e/harness"
)

// deployTuned is deploy with Traefik's options adjusted by tune.
func deployTuned(t *testing.T, example harness.Example, tune func(*harness.TraefikOptions)) *deployment {
	t.Helper()

	dir := t.TempDir()
	pki, err := harness.NewPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{pki: pki, key: make([]byte, 32), publicHost: example.PublicHost, publicCert: pki.Standard}
	if _, err := rand.Read(d.key); err != nil {
		t.Fatal(err)
	}
	d.api = harness.StartUpstream(t, "api", nil)

	site, err := example.Site(dir, pki, harness.ExampleKey{ID: keyID, Value: d.key}, map[string]string{"api": d.api.URL})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := site.TraefikOptions()
	if err != nil {
		t.Fatal(err)
	}
	tune(&opts)
	d.traefik = harness.StartTraefik(t, opts)

	return d
}

// keepAliveClient returns a client with the pinned certificate that
// reuses up to conns connections, and closes them when the test ends.
func (d *deployment) keepAliveClient(t *testing.T, conns int) *http.Client {
	config := &tls.Config{
		RootCAs:      d.pki.ServerCA.Pool(),
		Certificates: []tls.Certificate{d.pki.Pinned.TLS()},
		MinVersion:   tls.VersionTLS12,
	}
	client := bench.KeepAliveClient(d.traefik.HTTPSAddr, config, conns)
	t.Cleanup(client.CloseIdleConnections)

	return client
}

// TestConcurrentReplays sends one signed request many times at once:
// the replay cache must let exactly one through, whichever wins.
func TestConcurrentReplays(t *testing.T) {
	d := deploy(t, harness.Split, nil)
	const copies = 20
	body := []byte(`{"user":42}`)
	original := d.signed(t, http.MethodPost, "/api/internal/users/reset-otp", body, nil)

	responses := make([]response, copies)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < copies; i++ {
		req := original.Clone(original.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		client := d.client(d.pki.Pinned)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			start.Wait()
			responses[i] = doConcurrent(client, req)
		}(i)
	}
	start.Done()
	done.Wait()

	passed, replayed := 0, 0
	for i, got := range responses {
		switch {
		case got.status == http.StatusOK:
			passed++
		case got.status == http.StatusUnauthorized && got.reason == "nonce_replayed":
			replayed++
		default:
			t.Errorf("copy %d: status %d reason %q, want 200 or 401 nonce_replayed (body %q)", i, got.status, got.reason, got.body)
		}
	}
	if passed != 1 {
		t.Errorf("%d copies passed, want 1", passed)
	}
	if replayed != copies-1 {
		t.Errorf("%d copies rejected as replays, want %d", replayed, copies-1)
	}
	if n := len(d.api.Requests()); n != 1 {
		t.Errorf("API received %d requests, want 1", n)
	}
}

// doConcurrent is do for goroutines other than the test's: it returns
// transport errors as status 0 instead of stopping the test.
func doConcurrent(client *http.Client, req *http.Request) response {
	resp, err := client.Do(req)
	if err != nil {
		return response{body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	got := response{status: resp.StatusCode, header: resp.Header, body: body}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		got.reason = problemReason(body)
	}

	return got
}

// problemReason extracts the reason member of a problem+json body.
func problemReason(body []byte) string {
	_, after, found := strings.Cut(string(body), `"reason":"`)
	if !found {
		return ""
	}
	reason, _, _ := strings.Cut(after, `"`)

	return reason
}

// soakCase is one kind of request in the soak, with the outcome each
// request of that kind must get.
type soakCase struct {
	name   string
	status int
	reason string
	send   func(d *deployment, client *http.Client, n int) response
}

func soakCases(t *testing.T) []soakCase {
	const target = "/api/internal/users/reset-otp"
	body := []byte(`{"user":42}`)
	wrongKey := bytes.Repeat([]byte{7}, 32)

	sign := func(d *deployment, method, path string, body []byte, key []byte, opts *internalauth.SignOptions) *http.Request {
		req, err := http.NewRequest(method, d.internalURL(path), bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return nil
		}
		if err := internalauth.Sign(req, keyID, key, opts); err != nil {
			t.Error(err)
			return nil
		}
		return req
	}

	return []soakCase{
		{"valid GET", http.StatusOK, "", func(d *deployment, c *http.Client, n int) response {
			return doConcurrent(c, sign(d, http.MethodGet, fmt.Sprintf("%s?n=%d", target, n), nil, d.key, nil))
		}},
		{"valid POST", http.StatusOK, "", func(d *deployment, c *http.Client, _ int) response {
			return doConcurrent(c, sign(d, http.MethodPost, target, body, d.key, nil))
		}},
		{"replay", http.StatusUnauthorized, "nonce_replayed", func(d *deployment, c *http.Client, _ int) response {
			req := sign(d, http.MethodPost, target, body, d.key, nil)
			replay := req.Clone(req.Context())
			replay.Body = io.NopCloser(bytes.NewReader(body))
			if first := doConcurrent(c, req); first.status != http.StatusOK {
				return first
			}
			return doConcurrent(c, replay)
		}},
		{"wrong key", http.StatusUnauthorized, "signature_mismatch", func(d *deployment, c *http.Client, _ int) response {
			return doConcurrent(c, sign(d, http.MethodGet, target, nil, wrongKey, nil))
		}},
		{"tampered path", http.StatusUnauthorized, "signature_mismatch", func(d *deployment, c *http.Client, _ int) response {
			req := sign(d, http.MethodGet, target, nil, d.key, nil)
			req.URL.Path = "/api/internal/users/delete"
			return doConcurrent(c, req)
		}},
		{"tampered body", http.StatusUnauthorized, "content_digest_mismatch", func(d *deployment, c *http.Client, _ int) response {
			req := sign(d, http.MethodPost, target, body, d.key, nil)
			req.Body = io.NopCloser(strings.NewReader(`{"user":43}`))
			return doConcurrent(c, req)
		}},
		{"expired", http.StatusUnauthorized, "signature_expired", func(d *deployment, c *http.Client, _ int) response {
			opts := &internalauth.SignOptions{Created: time.Now().Add(-10 * time.Minute)}
			return doConcurrent(c, sign(d, http.MethodGet, target, nil, d.key, opts))
		}},
		{"unsigned", http.StatusUnauthorized, "signature_missing", func(d *deployment, c *http.Client, _ int) response {
			req, _ := http.NewRequest(http.MethodGet, d.internalURL(target), nil)
			return doConcurrent(c, req)
		}},
	}
}

// TestSoak sends at least 20,000 signed requests, valid and invalid in
// a fixed mix, through Traefik over kept-alive connections. Every
// decision must be the expected one, and Traefik must end with about
// the goroutines it started with and a bounded growth of its memory.
func TestSoak(t *testing.T) {
	const (
		rounds  = 2600 // each round sends one request of every case, and replay sends two
		workers = 8
		// maxRSSGrowth is generous: Traefik's heap grows and shrinks
		// with the garbage collector, and 20,000 nonces in the replay
		// cache take a few MiB.
		maxRSSGrowth = 128 << 20
		// maxGoroutineGrowth allows for Traefik's own background work;
		// a leak of one goroutine per request would be thousands.
		maxGoroutineGrowth = 50
	)

	d := deployTuned(t, harness.Split, func(opts *harness.TraefikOptions) {
		opts.Debug = true
		opts.LogLevel = "WARN"
	})
	cases := soakCases(t)
	client := d.keepAliveClient(t, workers)

	// A warm-up brings Traefik's pools and the plugin's caches to a
	// steady state before the first sample.
	runSoak(t, d, client, cases, 100, workers)
	client.CloseIdleConnections()
	before := sampleTraefik(t, d)

	sent := runSoak(t, d, client, cases, rounds, workers)
	client.CloseIdleConnections()

	after := waitGoroutinesSettle(t, d, before.goroutines+maxGoroutineGrowth)
	t.Logf("sent %d requests; Traefik RSS %d -> %d MiB, threads %d -> %d, goroutines %d -> %d",
		sent, before.RSS>>20, after.RSS>>20, before.Threads, after.Threads, before.goroutines, after.goroutines)

	if sent < 20000 {
		t.Errorf("sent %d requests, want at least 20000", sent)
	}
	if growth := after.RSS - before.RSS; growth > maxRSSGrowth {
		t.Errorf("Traefik RSS grew by %d MiB, more than %d MiB", growth>>20, maxRSSGrowth>>20)
	}
	if after.goroutines > before.goroutines+maxGoroutineGrowth {
		t.Errorf("Traefik goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
}

// runSoak sends rounds of every case from workers goroutines, checks
// each outcome and returns the number of requests sent.
func runSoak(t *testing.T, d *deployment, client *http.Client, cases []soakCase, rounds, workers int) int {
	t.Helper()

	d.api.Reset()
	jobs := make(chan int)
	var mu sync.Mutex
	wrong := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				c := cases[n%len(cases)]
				got := c.send(d, client, n)
				if got.status != c.status || got.reason != c.reason {
					mu.Lock()
					if wrong[c.name] == 0 {
						t.Errorf("%s: status %d reason %q, want %d %q (body %q)", c.name, got.status, got.reason, c.status, c.reason, got.body)
					}
					wrong[c.name]++
					mu.Unlock()
				}
			}
		}()
	}
	for n := 0; n < rounds*len(cases); n++ {
		jobs <- n
	}
	close(jobs)
	wg.Wait()

	for name, count := range wrong {
		t.Errorf("%s: %d wrong decisions", name, count)
	}

	// Valid GET, valid POST and the first request of replay pass.
	if got, want := len(d.api.Requests()), 3*rounds; got != want {
		t.Errorf("API received %d requests, want %d", got, want)
	}

	return rounds * (len(cases) + 1)
}

type traefikSample struct {
	harness.ProcessStats
	goroutines int
}

func sampleTraefik(t *testing.T, d *deployment) traefikSample {
	t.Helper()

	stats, err := harness.ReadProcessStats(d.traefik.PID())
	if err != nil {
		t.Fatal(err)
	}
	goroutines, err := d.traefik.Goroutines()
	if err != nil {
		t.Fatal(err)
	}

	return traefikSample{ProcessStats: stats, goroutines: goroutines}
}

// waitGoroutinesSettle samples Traefik until its goroutines fall to at
// most limit, as closed connections' goroutines exit, or 10 s pass, and
// returns the last sample.
func waitGoroutinesSettle(t *testing.T, d *deployment, limit int) traefikSample {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for {
		sample := sampleTraefik(t, d)
		if sample.goroutines <= limit || time.Now().After(deadline) {
			return sample
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFaults checks the responses when something around the plugin is
// wrong: its key file, the upstream, or the caller's clock.
func TestFaults(t *testing.T) {
	t.Run("key file missing at start", func(t *testing.T) {
		const missing = "/nonexistent/internalauth-e2e/api_internal_hmac"
		d := deploy(t, harness.Split, func(site *harness.Site, _ *deployment) {
			site.Container(harness.Split.RoutedService).Labels["traefik.http.middlewares.apiinternal-auth.plugin.internalauth.keys[0].secretFile"] = missing
		})
		got := do(t, d.client(d.pki.Pinned), d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil))
		if got.status != http.StatusNotFound {
			t.Errorf("status = %d, want 404 (body %q)", got.status, got.body)
		}
		expectNothingReceived(t, d)
		if !strings.Contains(d.traefik.Log(), missing) {
			t.Errorf("Traefik's log does not name %s:\n%s", missing, d.traefik.LogTail(40))
		}
	})

	t.Run("upstream down", func(t *testing.T) {
		d := deploy(t, harness.Split, nil)
		d.api.Close()
		req := d.signed(t, http.MethodPost, "/api/internal/users/reset-otp", []byte(`{"user":42}`), nil)
		got := do(t, d.client(d.pki.Pinned), req)
		if got.status != http.StatusBadGateway {
			t.Errorf("status = %d, want 502 (body %q)", got.status, got.body)
		}
		secrets := map[string]string{
			"key (hex)":       hex.EncodeToString(d.key),
			"key (raw)":       string(d.key),
			"signature":       req.Header.Get("Signature"),
			"signature input": req.Header.Get("Signature-Input"),
		}
		var everything strings.Builder
		everything.Write(got.body)
		for name, values := range got.header {
			everything.WriteString(name + ": " + strings.Join(values, ", ") + "\n")
		}
		for name, secret := range secrets {
			if strings.Contains(everything.String(), secret) {
				t.Errorf("the 502 response contains the %s", name)
			}
		}
	})

	d := deploy(t, harness.Split, nil)
	clocks := []struct {
		name   string
		offset time.Duration
		reason string
	}{
		// The default clockSkew is 30 s and maxAge 5 m.
		{"caller clock ahead", 2 * time.Minute, "signature_not_yet_valid"},
		{"caller clock behind", -6 * time.Minute, "signature_expired"},
	}
	for _, tc := range clocks {
		t.Run(tc.name, func(t *testing.T) {
			d.resetUpstreams()
			opts := &internalauth.SignOptions{Created: time.Now().Add(tc.offset)}
			got := do(t, d.client(d.pki.Pinned), d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, opts))
			expectRejected(t, d, got, http.StatusUnauthorized, tc.reason)
		})
	}
}
