package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

// TestDedicatedHost runs every check of the dedicated hostname in both
// topologies. Each subtest starts with empty upstream records and checks
// what reached the API, or that nothing did.
func TestDedicatedHost(t *testing.T) {
	for _, top := range []harness.Example{harness.SingleSite, harness.Split} {
		t.Run(top.Name, func(t *testing.T) {
			d := deploy(t, top, nil)
			t.Run("transport", func(t *testing.T) { testTransport(t, d) })
			t.Run("allowlist", func(t *testing.T) { testAllowlist(t, d) })
			t.Run("signature", func(t *testing.T) { testSignature(t, d) })
			t.Run("body", func(t *testing.T) { testBody(t, d) })
			t.Run("server name", func(t *testing.T) { testServerName(t, d) })
		})
	}
}

func testTransport(t *testing.T, d *deployment) {
	t.Run("pinned and signed reaches API", func(t *testing.T) {
		d.resetUpstreams()
		req := d.signed(t, http.MethodPost, "/api/internal/users/reset-otp?user=42", []byte(`{"user":42}`), nil)
		got := do(t, d.client(d.pki.Pinned), req)
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		r := expectAPIReceived(t, d, http.MethodPost, "/api/internal/users/reset-otp?user=42")
		if r.BodyLength != int64(len(`{"user":42}`)) {
			t.Errorf("API body length = %d, want %d", r.BodyLength, len(`{"user":42}`))
		}
	})

	rejectedAtHandshake := []struct {
		name string
		cert *harness.Certificate
	}{
		{"no client certificate", nil},
		{"standard PKI certificate", d.pki.Standard},
		{"unrelated CA certificate", d.pki.Other},
	}
	for _, tc := range rejectedAtHandshake {
		t.Run(tc.name, func(t *testing.T) {
			d.resetUpstreams()
			req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
			resp, err := d.client(tc.cert).Do(req)
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("handshake succeeded with status %d, want a TLS error", resp.StatusCode)
			}
			if !strings.Contains(err.Error(), "tls") {
				t.Errorf("error %q is not a TLS error", err)
			}
			expectNothingReceived(t, d)
		})
	}

	t.Run("dedicated CA but not pinned", func(t *testing.T) {
		d.resetUpstreams()
		req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
		got := do(t, d.client(d.pki.Unpinned), req)
		expectRejected(t, d, got, http.StatusForbidden, "certificate_not_pinned")
	})

	t.Run("forged client certificate header", func(t *testing.T) {
		d.resetUpstreams()
		// Traefik's passTLSClientCert middleware would set this header; a
		// client may send it too, with the pinned certificate inside.
		req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
		req.Header.Set("X-Forwarded-Tls-Client-Cert", base64.StdEncoding.EncodeToString(d.pki.Pinned.Cert.Raw))
		got := do(t, d.client(d.pki.Unpinned), req)
		expectRejected(t, d, got, http.StatusForbidden, "certificate_not_pinned")
	})

	t.Run("forged identity headers are replaced", func(t *testing.T) {
		d.resetUpstreams()
		req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
		req.Header.Set(internalauth.DefaultKeyIDHeader, "root")
		req.Header.Set(internalauth.DefaultCertificateHeader, strings.Repeat("0", 64))
		got := do(t, d.client(d.pki.Pinned), req)
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		r := expectAPIReceived(t, d, http.MethodGet, "/api/internal/users/reset-otp")
		if values := r.Header.Values(internalauth.DefaultKeyIDHeader); len(values) != 1 {
			t.Errorf("API received %d %s headers, want 1", len(values), internalauth.DefaultKeyIDHeader)
		}
	})
}

func testAllowlist(t *testing.T, d *deployment) {
	outside := func() *http.Client {
		return d.traefik.Client(d.pki, harness.ClientOptions{Cert: d.pki.Pinned, LocalAddr: loopback2})
	}

	t.Run("outside allowlist", func(t *testing.T) {
		d.resetUpstreams()
		req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
		got := do(t, outside(), req)
		if got.status != http.StatusForbidden {
			t.Errorf("status from 127.0.0.2 = %d, want 403 (body %q)", got.status, got.body)
		}
		if got.reason != "" {
			t.Errorf("reason = %q, want the allowlist's plain 403, not the plugin's", got.reason)
		}
		expectNothingReceived(t, d)
	})

	for _, header := range []string{"X-Forwarded-For", "X-Real-Ip"} {
		t.Run("forged "+header, func(t *testing.T) {
			d.resetUpstreams()
			req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
			req.Header.Set(header, "127.0.0.1")
			got := do(t, outside(), req)
			if got.status != http.StatusForbidden {
				t.Errorf("status = %d, want 403 (body %q)", got.status, got.body)
			}
			expectNothingReceived(t, d)
		})
	}
}

func testSignature(t *testing.T, d *deployment) {
	const target = "/api/internal/users/reset-otp?user=42"
	body := []byte(`{"user":42}`)
	pinned := d.client(d.pki.Pinned)

	t.Run("unsigned", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodPost, d.internalURL(target), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got := do(t, pinned, req)
		expectRejected(t, d, got, http.StatusUnauthorized, "signature_missing")
		if got.header.Get("Accept-Signature") == "" {
			t.Error("401 carries no Accept-Signature")
		}
	})

	t.Run("replayed", func(t *testing.T) {
		d.resetUpstreams()
		first := d.signed(t, http.MethodPost, target, body, nil)
		replay := first.Clone(first.Context())
		replay.Body = io.NopCloser(bytes.NewReader(body))

		if got := do(t, pinned, first); got.status != http.StatusOK {
			t.Fatalf("first request status = %d, want 200 (body %q)", got.status, got.body)
		}
		d.resetUpstreams()
		got := do(t, pinned, replay)
		expectRejected(t, d, got, http.StatusUnauthorized, "nonce_replayed")
	})

	t.Run("expired", func(t *testing.T) {
		d.resetUpstreams()
		opts := &internalauth.SignOptions{Created: time.Now().Add(-10 * time.Minute)}
		got := do(t, pinned, d.signed(t, http.MethodPost, target, body, opts))
		expectRejected(t, d, got, http.StatusUnauthorized, "signature_expired")
	})

	t.Run("wrong key", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodGet, d.internalURL(target), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := internalauth.Sign(req, keyID, bytes.Repeat([]byte{7}, 32), nil); err != nil {
			t.Fatal(err)
		}
		got := do(t, pinned, req)
		expectRejected(t, d, got, http.StatusUnauthorized, "signature_mismatch")
	})

	tampered := []struct {
		name   string
		reason string
		tamper func(req *http.Request)
	}{
		{"method", "signature_mismatch", func(req *http.Request) { req.Method = http.MethodPut }},
		{"path", "signature_mismatch", func(req *http.Request) { req.URL.Path = "/api/internal/users/delete" }},
		{"query", "signature_mismatch", func(req *http.Request) { req.URL.RawQuery = "user=43" }},
		{"body", "content_digest_mismatch", func(req *http.Request) {
			req.Body = io.NopCloser(strings.NewReader(`{"user":43}`))
		}},
		{"authority", "signature_mismatch", func(req *http.Request) {
			// The port differs, so the hostname still routes here.
			req.Host = harness.InternalHost + ":1"
		}},
	}
	for _, tc := range tampered {
		t.Run("tampered "+tc.name, func(t *testing.T) {
			d.resetUpstreams()
			req := d.signed(t, http.MethodPost, target, body, nil)
			tc.tamper(req)
			got := do(t, pinned, req)
			expectRejected(t, d, got, http.StatusUnauthorized, tc.reason)
		})
	}
}

func testBody(t *testing.T, d *deployment) {
	pinned := d.client(d.pki.Pinned)
	const target = "/api/internal/bulk"

	t.Run("over limit", func(t *testing.T) {
		d.resetUpstreams()
		body := bytes.Repeat([]byte("a"), internalauth.DefaultMaxBodyBytes+1)
		req := d.signed(t, http.MethodPost, target, body, nil)
		// The plugin rejects on the declared length without reading the
		// body. Without the interim response, Traefik closes the
		// connection while the client still writes, and the client may
		// see a reset instead of the 413, as curl avoids by default.
		req.Header.Set("Expect", "100-continue")
		got := do(t, pinned, req)
		expectRejected(t, d, got, http.StatusRequestEntityTooLarge, "body_too_large")
	})

	t.Run("chunked over limit", func(t *testing.T) {
		d.resetUpstreams()
		body := bytes.Repeat([]byte("b"), internalauth.DefaultMaxBodyBytes+1)
		req := d.signed(t, http.MethodPost, target, body, nil)
		req.ContentLength = -1
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
		req.GetBody = nil
		got := do(t, pinned, req)
		expectRejected(t, d, got, http.StatusRequestEntityTooLarge, "body_too_large")
	})

	t.Run("at limit", func(t *testing.T) {
		d.resetUpstreams()
		body := bytes.Repeat([]byte("a"), internalauth.DefaultMaxBodyBytes)
		got := do(t, pinned, d.signed(t, http.MethodPost, target, body, nil))
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		r := expectAPIReceived(t, d, http.MethodPost, target)
		if r.BodyLength != int64(len(body)) {
			t.Errorf("API body length = %d, want %d", r.BodyLength, len(body))
		}
	})

	t.Run("chunked", func(t *testing.T) {
		d.resetUpstreams()
		body := make([]byte, 200_000)
		for i := range body {
			body[i] = byte(i * 7)
		}
		req := d.signed(t, http.MethodPost, target, body, nil)
		// An unknown length makes the client send chunks.
		req.ContentLength = -1
		req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:1000]), bytes.NewReader(body[1000:])))
		req.GetBody = nil

		got := do(t, pinned, req)
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		sum := sha256.Sum256(body)
		for _, r := range d.received() {
			if r.BodySHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s received body SHA-256 %s, want %x", r.Host, r.BodySHA256, sum)
			}
			if r.BodyLength != int64(len(body)) {
				t.Errorf("%s received %d bytes, want %d", r.Host, r.BodyLength, len(body))
			}
			if r.Header.Get("Content-Length") != strconv.Itoa(len(body)) && len(r.TransferEncoding) == 0 {
				t.Errorf("%s received Content-Length %q, want %d", r.Host, r.Header.Get("Content-Length"), len(body))
			}
		}
		first := d.received()[0]
		if first.ContentLength != int64(len(body)) {
			t.Errorf("first upstream ContentLength = %d, want %d", first.ContentLength, len(body))
		}
		if len(first.TransferEncoding) != 0 {
			t.Errorf("first upstream Transfer-Encoding = %v, want none", first.TransferEncoding)
		}
		expectAPIReceived(t, d, http.MethodPost, target)
	})
}

func testServerName(t *testing.T, d *deployment) {
	const target = "/api/internal/users/reset-otp"

	cases := []struct {
		name string
		opts harness.ClientOptions
		url  string
	}{
		{
			// Traefik selects the TLS option by SNI, and the request by Host.
			name: "public SNI, dedicated Host",
			opts: harness.ClientOptions{Cert: d.pki.Pinned, ServerName: d.publicHost},
			url:  d.internalURL(target),
		},
		{
			name: "dedicated SNI, public Host",
			opts: harness.ClientOptions{Cert: d.pki.Pinned, ServerName: harness.InternalHost},
			url:  d.publicURL(target),
		},
		{
			name: "no SNI, dedicated Host",
			opts: harness.ClientOptions{Cert: d.pki.Pinned, ServerName: harness.InternalHost, NoSNI: true},
			url:  d.internalURL(target),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d.resetUpstreams()
			// Signed for the Host it carries, so only the names disagree.
			req := d.signedURL(t, http.MethodGet, tc.url, nil, nil)

			resp, err := d.traefik.Client(d.pki, tc.opts).Do(req)
			if err == nil {
				_ = resp.Body.Close()
				// Traefik v3.6.12 returns 421 when SNI and Host select
				// different TLS options, and the plugin 403 otherwise.
				if resp.StatusCode != http.StatusMisdirectedRequest && resp.StatusCode != http.StatusForbidden {
					t.Errorf("status = %d, want 421 or 403", resp.StatusCode)
				}
			} else if !strings.Contains(err.Error(), "tls") {
				t.Errorf("error %q is neither a response nor a TLS error", err)
			}
			for _, r := range d.received() {
				if isInternalPath(r.RequestURI) {
					t.Errorf("upstream received %s with Host %s", r.RequestURI, r.Host)
				}
			}
		})
	}
}
