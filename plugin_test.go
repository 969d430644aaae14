package internalauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeHTTPSignedRequestPasses(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
	req.Header.Set(DefaultKeyIDHeader, "forged")
	req.Header.Set(DefaultCertificateHeader, "forged")

	rec := serve(m, req)

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, 1, next.count())
	assert.Equal(t, testKeyID, next.headers.Get(DefaultKeyIDHeader))

	pinned, _ := testCertificates(t)
	expected := strings.ToLower(strings.ReplaceAll(certificatePin(pinned), ":", ""))
	assert.Equal(t, expected, next.headers.Get(DefaultCertificateHeader))
	assert.Equal(t, testBodyText, string(next.body))
	assert.Equal(t, int64(len(testBodyText)), next.length)
}

func TestServeHTTPStripsForgedHeadersOnRejection(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeyIDHeader = "X-Caller"
	m, _ := newTestMiddleware(t, cfg)

	req := httptest.NewRequest(http.MethodGet, testURL, nil)
	req.Header.Set("X-Caller", "forged")
	req.Header.Set(DefaultCertificateHeader, "forged")

	rec := serve(m, req)

	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Empty(t, req.Header.Get("X-Caller"))
	assert.Empty(t, req.Header.Get(DefaultCertificateHeader))
}

// rejectionCase changes a valid signed request, or the configuration,
// so that the middleware must reject it.
type rejectionCase struct {
	name      string
	configure func(cfg *Config)
	opts      *SignOptions
	method    string
	target    string
	body      string
	prepare   func(req *http.Request)
	change    func(t *testing.T, req *http.Request)
	status    int
	reason    string
}

func rejectionCases() []rejectionCase {
	return []rejectionCase{
		{name: "no TLS", change: func(_ *testing.T, req *http.Request) { req.TLS = nil },
			status: 403, reason: "tls_required"},
		{name: "no client certificate", change: func(_ *testing.T, req *http.Request) {
			req.TLS = &tls.ConnectionState{ServerName: testHost}
		}, status: 403, reason: "client_certificate_missing"},
		{name: "unverified chain", change: func(_ *testing.T, req *http.Request) {
			req.TLS.VerifiedChains = nil
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "verified chain of another leaf", change: func(t *testing.T, req *http.Request) {
			_, other := testCertificates(t)
			req.TLS.VerifiedChains = [][]*x509.Certificate{{other}}
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "certificate not pinned", change: func(t *testing.T, req *http.Request) {
			_, other := testCertificates(t)
			req.TLS = verifiedState(other)
		}, status: 403, reason: "certificate_not_pinned"},
		{name: "pinned certificate second in chain", change: func(t *testing.T, req *http.Request) {
			pinned, other := testCertificates(t)
			req.TLS.PeerCertificates = []*x509.Certificate{other, pinned}
			req.TLS.VerifiedChains = [][]*x509.Certificate{{other, pinned}}
		}, status: 403, reason: "certificate_not_pinned"},
		{name: "SNI differs", change: func(_ *testing.T, req *http.Request) {
			req.TLS.ServerName = "portal.example.test"
		}, status: 403, reason: "server_name_mismatch"},
		{name: "SNI missing", change: func(_ *testing.T, req *http.Request) {
			req.TLS.ServerName = ""
		}, status: 403, reason: "server_name_mismatch"},
		{name: "Host differs", change: func(_ *testing.T, req *http.Request) {
			req.Host = "portal.example.test"
		}, status: 403, reason: "host_mismatch"},
		{name: "key restricted to other certificate", configure: func(cfg *Config) {
			cfg.Keys[0].Pins = []string{certificatePin(otherCert)}
		}, status: 403, reason: "key_not_allowed"},
		{name: "no signature", change: func(_ *testing.T, req *http.Request) {
			req.Header.Del("Signature")
			req.Header.Del("Signature-Input")
		}, status: 401, reason: "signature_missing"},
		{name: "no Signature field", change: func(_ *testing.T, req *http.Request) {
			req.Header.Del("Signature")
		}, status: 401, reason: "signature_missing"},
		{name: "configured label absent", configure: func(cfg *Config) { cfg.Label = "internal" },
			status: 401, reason: "signature_missing"},
		{name: "signature under another label", change: func(_ *testing.T, req *http.Request) {
			value := strings.TrimPrefix(req.Header.Get("Signature"), "sig1=")
			req.Header.Set("Signature", "sig2="+value)
		}, status: 401, reason: "signature_missing"},
		{name: "unparsable Signature-Input", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature-Input", `sig1=("@method"`)
		}, status: 401, reason: "signature_malformed"},
		{name: "non-canonical base64 signature", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature", flipPaddingBits(req.Header.Get("Signature")))
		}, status: 401, reason: "signature_malformed"},
		{name: "signature too short", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature", "sig1=:AAAA:")
		}, status: 401, reason: "signature_malformed"},
		{name: "huge Signature-Input", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature-Input", req.Header.Get("Signature-Input")+strings.Repeat(" ", 9000))
		}, status: 401, reason: "signature_malformed"},
		{name: "unknown parameter", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature-Input", req.Header.Get("Signature-Input")+`;extra="1"`)
		}, status: 401, reason: "signature_malformed"},
		{name: "created as string", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), "created=1767225600", `created="1767225600"`, 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "signature_malformed"},
		{name: "component covered twice", change: func(t *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `"@query"`, `"@query" "@method"`, 1)
			req.Header.Set("Signature-Input", input)
			resignHeaders(t, req)
		}, status: 401, reason: "signature_malformed"},
		{name: "two signatures without label", change: func(_ *testing.T, req *http.Request) {
			req.Header.Add("Signature-Input", `other=("@method");created=1`)
		}, status: 401, reason: "signature_label_ambiguous"},
		{name: "keyid missing", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `;keyid="ops-2026"`, "", 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "keyid_missing"},
		{name: "keyid unknown", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `keyid="ops-2026"`, `keyid="ops-2025"`, 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "keyid_unknown"},
		{name: "other algorithm", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `alg="hmac-sha256"`, `alg="ed25519"`, 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "algorithm_unsupported"},
		{name: "created missing", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), "created=1767225600;", "", 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "created_missing"},
		{name: "older than max age", opts: &SignOptions{Created: testNow.Add(-5*time.Minute - time.Second)},
			status: 401, reason: "signature_expired"},
		{name: "past expires", opts: &SignOptions{Created: testNow.Add(-time.Minute), Expires: testNow},
			status: 401, reason: "signature_expired"},
		{name: "created beyond skew", opts: &SignOptions{Created: testNow.Add(31 * time.Second)},
			status: 401, reason: "signature_not_yet_valid"},
		{name: "expires before created", opts: &SignOptions{Created: testNow, Expires: testNow.Add(-time.Second)},
			status: 401, reason: "signature_malformed"},
		{name: "nonce missing", change: func(_ *testing.T, req *http.Request) {
			input := req.Header.Get("Signature-Input")
			start := strings.Index(input, ";nonce=")
			end := strings.Index(input, ";keyid=")
			req.Header.Set("Signature-Input", input[:start]+input[end:])
		}, status: 401, reason: "nonce_missing"},
		{name: "required component not covered",
			opts:   &SignOptions{Components: []string{"@method", "@authority", "@path", "content-digest"}},
			status: 401, reason: "components_missing"},
		{name: "component parameter", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `"content-digest"`, `"content-digest";sf`, 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "component_unsupported"},
		{name: "unsupported derived component", change: func(_ *testing.T, req *http.Request) {
			input := strings.Replace(req.Header.Get("Signature-Input"), `"@query"`, `"@query" "@status"`, 1)
			req.Header.Set("Signature-Input", input)
		}, status: 401, reason: "component_unsupported"},
		{name: "covered field absent", opts: &SignOptions{Components: append([]string{"x-request-id"}, DefaultComponents...)},
			prepare: func(req *http.Request) { req.Header.Set("X-Request-Id", "42") },
			change:  func(_ *testing.T, req *http.Request) { req.Header.Del("X-Request-Id") },
			status:  401, reason: "component_absent"},
		{name: "tag mismatch", configure: func(cfg *Config) { cfg.Tag = "internal-api" },
			opts: &SignOptions{Tag: "other-app"}, status: 401, reason: "tag_mismatch"},
		{name: "tag missing", configure: func(cfg *Config) { cfg.Tag = "internal-api" },
			status: 401, reason: "tag_mismatch"},
		{name: "content-digest removed", change: func(_ *testing.T, req *http.Request) {
			req.Header.Del("Content-Digest")
		}, status: 401, reason: "content_digest_missing"},
		{name: "method changed", change: func(_ *testing.T, req *http.Request) { req.Method = http.MethodPut },
			status: 401, reason: "signature_mismatch"},
		{name: "path changed", change: func(_ *testing.T, req *http.Request) {
			req.URL.Path = "/api/internal/users/delete"
			req.URL.RawPath = ""
		}, status: 401, reason: "signature_mismatch"},
		{name: "query changed", change: func(_ *testing.T, req *http.Request) { req.URL.RawQuery = "user=43" },
			status: 401, reason: "signature_mismatch"},
		{name: "authority changed", configure: func(cfg *Config) { cfg.ServerName = "" },
			change: func(_ *testing.T, req *http.Request) { req.Host = "other.example.test" },
			status: 401, reason: "signature_mismatch"},
		{name: "digest changed with body", change: func(_ *testing.T, req *http.Request) {
			req.Body = http.NoBody
			req.Header.Set("Content-Digest", contentDigestSHA256(nil))
		}, status: 401, reason: "signature_mismatch"},
		{name: "signed by another key", change: func(_ *testing.T, req *http.Request) {
			other := newSignedRequestWithKey(req, []byte("another key of thirty-two bytes!"))
			req.Header.Set("Signature", other)
		}, status: 401, reason: "signature_mismatch"},
		{name: "body changed", change: func(_ *testing.T, req *http.Request) {
			req.Body = httptestBody(`{"user":43}`)
		}, status: 401, reason: "content_digest_mismatch"},
		{name: "digest malformed", configure: func(cfg *Config) {
			cfg.Components = []string{"@method", "@authority", "@path", "@query"}
		}, opts: &SignOptions{Components: []string{"@method", "@authority", "@path", "@query"}},
			change: func(_ *testing.T, req *http.Request) { req.Header.Set("Content-Digest", "sha-256=abc") },
			status: 401, reason: "content_digest_malformed"},
		{name: "digest of unsupported algorithm only", configure: func(cfg *Config) {
			cfg.Components = []string{"@method", "@authority", "@path", "@query"}
		}, opts: &SignOptions{Components: []string{"@method", "@authority", "@path", "@query"}},
			change: func(_ *testing.T, req *http.Request) { req.Header.Set("Content-Digest", "md5=:AAAA:") },
			status: 401, reason: "content_digest_malformed"},
		{name: "body over limit", configure: func(cfg *Config) { cfg.MaxBodyBytes = 4 },
			status: 413, reason: "body_too_large"},
		{name: "chunked body over limit", configure: func(cfg *Config) { cfg.MaxBodyBytes = 4 },
			change: func(_ *testing.T, req *http.Request) { req.ContentLength = -1 },
			status: 413, reason: "body_too_large"},
		{name: "body read fails", change: func(_ *testing.T, req *http.Request) {
			req.Body = &failingBody{}
			req.ContentLength = -1
		}, status: 400, reason: "body_unreadable"},
	}
}

func TestServeHTTPRejections(t *testing.T) {
	for _, tc := range rejectionCases() {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			method, target, body := tc.method, tc.target, tc.body
			if method == "" {
				method, target, body = http.MethodPost, testURL, testBodyText
			}

			m, next, req := newChangedRequest(t, tc.configure, tc.opts, tc.prepare, method, target, body)
			if tc.change != nil {
				tc.change(t, req)
			}

			rec := serve(m, req)

			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, 0, next.count(), "next must not run")
			assertProblem(t, rec, tc.status, tc.reason)
		})
	}
}

// assertProblem checks an RFC 9457 rejection body and its headers.
func assertProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, reason string) {
	t.Helper()

	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	var body map[string]interface{}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, reason, body["reason"])
	assert.Equal(t, "urn:internalauth:"+reason, body["type"])
	assert.EqualValues(t, status, body["status"])

	if status == http.StatusUnauthorized {
		assert.Contains(t, rec.Header().Get("Accept-Signature"), `"@method"`)
	} else {
		assert.Empty(t, rec.Header().Get("Accept-Signature"))
	}
}

func TestServeHTTPReplayRejected(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	opts := &SignOptions{Nonce: "fixed-nonce-1"}

	first := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))
	second := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))

	assert.Equal(t, http.StatusNoContent, first.Code)
	assert.Equal(t, http.StatusUnauthorized, second.Code)
	assertProblem(t, second, http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPNonceReplayAcrossRequests(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	opts := &SignOptions{Nonce: "shared-nonce"}

	first := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))
	other := serve(m, newSignedRequest(t, http.MethodGet, testURL, "", opts))

	assert.Equal(t, http.StatusNoContent, first.Code)
	assertProblem(t, other, http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPReplayWithoutNonce(t *testing.T) {
	cfg := testConfig(t)
	cfg.RequireNonce = false
	m, next := newTestMiddleware(t, cfg)

	req := newSignedRequest(t, http.MethodGet, testURL, "", nil)
	input := req.Header.Get("Signature-Input")
	start := strings.Index(input, ";nonce=")
	end := strings.Index(input, ";keyid=")
	req.Header.Set("Signature-Input", input[:start]+input[end:])
	resignHeaders(t, req)

	replay := req.Clone(req.Context())

	assert.Equal(t, http.StatusNoContent, serve(m, req).Code)
	assertProblem(t, serve(m, replay), http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPReplayCacheFull(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReplayCacheSize = 2
	m, next := newTestMiddleware(t, cfg)

	for i := 0; i < 2; i++ {
		assert.Equal(t, http.StatusNoContent, serve(m, newSignedRequest(t, http.MethodGet, testURL, "", nil)).Code)
	}

	rec := serve(m, newSignedRequest(t, http.MethodGet, testURL, "", nil))

	assertProblem(t, rec, http.StatusServiceUnavailable, "replay_cache_full")
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Equal(t, 2, next.count())
}

func TestServeHTTPReplayCacheFreesExpired(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReplayCacheSize = 1
	m, next := newTestMiddleware(t, cfg)

	assert.Equal(t, http.StatusNoContent, serve(m, newSignedRequest(t, http.MethodGet, testURL, "", nil)).Code)

	later := testNow.Add(6 * time.Minute)
	m.now = func() time.Time { return later }

	rec := serve(m, newSignedRequest(t, http.MethodGet, testURL, "", &SignOptions{Created: later}))

	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, 2, next.count())
}

func TestServeHTTPReplaySharedAcrossInstances(t *testing.T) {
	cfg := testConfig(t)
	next := &nextRecorder{}
	name := "shared-" + t.Name()

	first, err := New(context.Background(), next, cfg, name)
	require.NoError(t, err)

	second, err := New(context.Background(), next, cfg, name)
	require.NoError(t, err)

	for _, handler := range []http.Handler{first, second} {
		m := handler.(*Middleware)
		m.now = func() time.Time { return testNow }
		m.log.output = func(string) {}
	}

	opts := &SignOptions{Nonce: "reload-nonce"}

	assert.Equal(t, http.StatusNoContent, serve(first, newSignedRequest(t, http.MethodGet, testURL, "", opts)).Code)
	assertProblem(t, serve(second, newSignedRequest(t, http.MethodGet, testURL, "", opts)),
		http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPRejectedNonceNotConsumed(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	opts := &SignOptions{Nonce: "kept-nonce"}

	bad := newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts)
	bad.Body = httptestBody("tampered")
	assertProblem(t, serve(m, bad), http.StatusUnauthorized, "content_digest_mismatch")

	good := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))

	assert.Equal(t, http.StatusNoContent, good.Code)
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPAcceptedEdgeCases(t *testing.T) {
	tests := []struct {
		name      string
		configure func(cfg *Config)
		opts      *SignOptions
		prepare   func(req *http.Request)
		change    func(t *testing.T, req *http.Request)
	}{
		{name: "Host with port and trailing dot", prepare: func(req *http.Request) {
			req.Host = "APIINTERNAL.example.test.:443"
			req.TLS.ServerName = "apiinternal.example.test."
		}},
		{name: "created within skew", opts: &SignOptions{Created: testNow.Add(30 * time.Second)}},
		{name: "created at max age", opts: &SignOptions{Created: testNow.Add(-5 * time.Minute)}},
		{name: "expires in future", opts: &SignOptions{Created: testNow, Expires: testNow.Add(time.Minute)}},
		{name: "unverified chain allowed", configure: func(cfg *Config) { cfg.AllowUnverifiedChain = true },
			change: func(_ *testing.T, req *http.Request) { req.TLS.VerifiedChains = nil }},
		{name: "public key pin", configure: func(cfg *Config) {
			_, spki := CertificatePins(pinnedCert)
			cfg.Pins = []string{spki}
		}},
		{name: "pins only on key", configure: func(cfg *Config) {
			cfg.Keys[0].Pins = cfg.Pins
			cfg.Pins = nil
		}},
		{name: "configured label among others", configure: func(cfg *Config) { cfg.Label = "internal" },
			opts: &SignOptions{Label: "internal"}, change: func(_ *testing.T, req *http.Request) {
				req.Header.Add("Signature-Input", `proxy=("@method");created=1`)
				req.Header.Add("Signature", `proxy=:AAAA:`)
			}},
		{name: "extra covered components", opts: &SignOptions{
			Components: append([]string{"@target-uri", "@scheme", "@request-target", "content-type"}, DefaultComponents...),
		}, prepare: func(req *http.Request) { req.Header.Set("Content-Type", "application/json") }},
		{name: "sha-512 digest", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", "sha-512=:"+sha512Base64(testBodyText)+":")
			resignHeaders(t, req)
		}},
		{name: "tag expected", configure: func(cfg *Config) { cfg.Tag = "internal-api" },
			opts: &SignOptions{Tag: "internal-api"}},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			m, next, req := newChangedRequest(t, tc.configure, tc.opts, tc.prepare, http.MethodPost, testURL, testBodyText)
			if tc.change != nil {
				tc.change(t, req)
			}

			rec := serve(m, req)

			assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			assert.Equal(t, 1, next.count())
			assert.Equal(t, testBodyText, string(next.body))
		})
	}
}

func TestServeHTTPRecoversFromPanic(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	m.keys = nil
	m.pins = nil

	rec := serve(m, newSignedRequest(t, http.MethodGet, testURL, "", nil))

	assertProblem(t, rec, http.StatusInternalServerError, "internal_error")
	assert.Equal(t, 0, next.count())
}

func TestServeHTTPLogsRejection(t *testing.T) {
	m, _ := newTestMiddleware(t, testConfig(t))

	var lines []string
	m.log.output = func(line string) { lines = append(lines, line) }

	req := newSignedRequest(t, http.MethodGet, testURL, "", nil)
	req.Method = http.MethodDelete
	req.RemoteAddr = "127.0.0.1:5555"

	serve(m, req)

	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "reason=signature_mismatch")
	assert.Contains(t, lines[0], `client="127.0.0.1:5555"`)
	assert.Contains(t, lines[0], `keyid="ops-2026"`)
	assert.Contains(t, lines[0], `path="/api/internal/users/reset-otp"`)
	assert.NotContains(t, lines[0], string(testSecret))
	assert.NotContains(t, lines[0], req.Header.Get("Signature"))
}

func FuzzServeHTTP(f *testing.F) {
	seed := newSignedRequest(f, http.MethodPost, testURL, testBodyText, &SignOptions{Nonce: "seed"})
	f.Add(seed.Header.Get("Signature-Input"), seed.Header.Get("Signature"), seed.Header.Get("Content-Digest"), testBodyText)
	f.Add(`sig1=("@method");created=1`, "sig1=:AAAA:", "sha-512=:AAAA:", "")
	f.Add("", "", "", "x")

	m, next := newTestMiddleware(f, testConfig(f))

	f.Fuzz(func(t *testing.T, input, signature, digest, body string) {
		req := newSignedRequest(t, http.MethodPost, testURL, body, nil)
		req.Header.Set("Signature-Input", input)
		req.Header.Set("Signature", signature)
		req.Header.Set("Content-Digest", digest)

		before := next.count()
		rec := serve(m, req)

		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("internal error for Signature-Input %q Signature %q", input, signature)
		}

		// Only the signed seed can pass, and only once.
		if rec.Code == http.StatusNoContent && (next.count() != before+1 || input != seed.Header.Get("Signature-Input")) {
			t.Fatalf("accepted a request the fuzzer built: %q %q", input, signature)
		}

		if rec.Code != http.StatusNoContent && next.count() != before {
			t.Fatal("next ran for a rejected request")
		}
	})
}

func TestServeHTTPKeyPinnedCertificateLimitedToItsKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.Keys = append(cfg.Keys, KeyConfig{
		ID: "other-key", Secret: "another key of thirty-two bytes!", Pins: []string{certificatePin(otherCert)},
	})
	m, next := newTestMiddleware(t, cfg)

	// The other certificate is pinned only for other-key, so it may not
	// sign with the unrestricted ops-2026.
	req := newSignedRequest(t, http.MethodGet, testURL, "", nil)
	req.TLS = verifiedState(otherCert)

	assertProblem(t, serve(m, req), http.StatusForbidden, "key_not_allowed")

	// The globally pinned certificate still uses ops-2026.
	assert.Equal(t, http.StatusNoContent, serve(m, newSignedRequest(t, http.MethodGet, testURL, "", nil)).Code)
	assert.Equal(t, 1, next.count())
}
