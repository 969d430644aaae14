package internalauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file holds requests and configurations built by a hostile caller
// or a careless operator. Each rejection asserts the status, the reason
// and that next did not run.

// replaceInput rewrites the Signature-Input field of req with the first
// old replaced by replacement.
func replaceInput(req *http.Request, old, replacement string) {
	input := req.Header.Get("Signature-Input")
	req.Header.Set("Signature-Input", strings.Replace(input, old, replacement, 1))
}

// createdParam is the created parameter that newSignedRequest signs.
var createdParam = fmt.Sprintf("created=%d", testNow.Unix())

func hostileSignatureCases() []rejectionCase {
	return []rejectionCase{
		{name: "Signature-Input label repeated on second line", change: func(_ *testing.T, req *http.Request) {
			req.Header.Add("Signature-Input", req.Header.Get("Signature-Input"))
		}, status: 401, reason: "signature_malformed"},
		{name: "Signature label repeated on second line", change: func(_ *testing.T, req *http.Request) {
			req.Header.Add("Signature", "sig1=:"+strings.Repeat("A", 43)+"=:")
		}, status: 401, reason: "signature_malformed"},
		{name: "empty Signature-Input line first", change: func(_ *testing.T, req *http.Request) {
			req.Header["Signature-Input"] = append([]string{""}, req.Header["Signature-Input"]...)
		}, status: 401, reason: "signature_malformed"},
		{name: "valid signature under unselected label", change: func(_ *testing.T, req *http.Request) {
			valid := strings.TrimPrefix(req.Header.Get("Signature"), "sig1=")
			req.Header.Set("Signature", "sig2="+valid+", sig1=:"+strings.Repeat("A", 43)+"=:")
		}, status: 401, reason: "signature_mismatch"},
		{name: "configured label points at other input", configure: func(cfg *Config) { cfg.Label = "proxy" },
			change: func(_ *testing.T, req *http.Request) {
				input := req.Header.Get("Signature-Input")
				proxy := strings.Replace(strings.Replace(input, "sig1=", "proxy=", 1), `nonce="`, `nonce="proxy-`, 1)
				req.Header.Add("Signature-Input", proxy)
				req.Header.Set("Signature", strings.Replace(req.Header.Get("Signature"), "sig1=", "proxy=", 1))
			}, status: 401, reason: "signature_mismatch"},
		{name: "uppercase label", change: func(_ *testing.T, req *http.Request) {
			req.Header.Set("Signature-Input", "SIG1="+strings.TrimPrefix(req.Header.Get("Signature-Input"), "sig1="))
		}, status: 401, reason: "signature_malformed"},
		{name: "tab inside inner list", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@method" `, "\"@method\"\t")
		}, status: 401, reason: "signature_malformed"},
		{name: "non-ASCII nonce", opts: &SignOptions{Nonce: "plain"}, change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `nonce="plain"`, "nonce=\"pl\u00e4in\"")
		}, status: 401, reason: "signature_malformed"},
		{name: "invalid UTF-8 in keyid", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `keyid="ops-2026"`, "keyid=\"ops-\xff2026\"")
		}, status: 401, reason: "signature_malformed"},
		{name: "keyid as token", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `keyid="ops-2026"`, "keyid=ops-2026")
		}, status: 401, reason: "signature_malformed"},
		{name: "keyid as byte sequence", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `keyid="ops-2026"`, "keyid=:b3BzLTIwMjY=:")
		}, status: 401, reason: "signature_malformed"},
		{name: "created as decimal", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, createdParam+".0")
		}, status: 401, reason: "signature_malformed"},
		{name: "created as boolean", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created")
		}, status: 401, reason: "signature_malformed"},
		{name: "created negative", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created=-1")
		}, status: 401, reason: "signature_malformed"},
		{name: "created of 16 digits", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created=1000000000000000")
		}, status: 401, reason: "signature_malformed"},
		{name: "created of 15 digits", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created=999999999999999")
		}, status: 401, reason: "signature_not_yet_valid"},
		{name: "created zero", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created=0")
		}, status: 401, reason: "signature_expired"},
		{name: "created repeated", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, createdParam+";"+createdParam)
		}, status: 401, reason: "signature_malformed"},
		{name: "expires equal to created", opts: &SignOptions{Expires: testNow},
			status: 401, reason: "signature_malformed"},
		{name: "expires as string", opts: &SignOptions{Expires: testNow.Add(time.Minute)},
			change: func(_ *testing.T, req *http.Request) {
				expires := fmt.Sprintf("expires=%d", testNow.Add(time.Minute).Unix())
				replaceInput(req, expires, `expires="`+expires[len("expires="):]+`"`)
			}, status: 401, reason: "signature_malformed"},
		{name: "alg as token", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `alg="hmac-sha256"`, "alg=hmac-sha256")
		}, status: 401, reason: "signature_malformed"},
		{name: "alg in uppercase", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `alg="hmac-sha256"`, `alg="HMAC-SHA256"`)
		}, status: 401, reason: "algorithm_unsupported"},
		{name: "nonce empty", opts: &SignOptions{Nonce: "n"}, change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `nonce="n"`, `nonce=""`)
		}, status: 401, reason: "signature_malformed"},
		{name: "nonce over 256 bytes", opts: &SignOptions{Nonce: strings.Repeat("n", 257)},
			status: 401, reason: "signature_malformed"},
		{name: "nonce as integer", opts: &SignOptions{Nonce: "n"}, change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `nonce="n"`, "nonce=7")
		}, status: 401, reason: "signature_malformed"},
		{name: "tag as token", configure: func(cfg *Config) { cfg.Tag = "app" }, opts: &SignOptions{Tag: "app"},
			change: func(_ *testing.T, req *http.Request) { replaceInput(req, `tag="app"`, "tag=app") },
			status: 401, reason: "signature_malformed"},
		{name: "tag in other case", configure: func(cfg *Config) { cfg.Tag = "app" }, opts: &SignOptions{Tag: "App"},
			status: 401, reason: "tag_mismatch"},
		{name: "component as token", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@method"`, "@method")
		}, status: 401, reason: "signature_malformed"},
		{name: "component in uppercase", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@method"`, `"@METHOD"`)
		}, status: 401, reason: "component_unsupported"},
		{name: "component with trailing space", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@method"`, `"@method "`)
		}, status: 401, reason: "component_unsupported"},
		{name: "component percent-encoded", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"content-digest"`, `"content%2ddigest"`)
		}, status: 401, reason: "components_missing"},
		{name: "component signature-params", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@query"`, `"@query" "@signature-params"`)
		}, status: 401, reason: "component_unsupported"},
		{name: "component query-param", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `"@query"`, `"@query" "@query-param";name="user"`)
		}, status: 401, reason: "component_unsupported"},
		{name: "target-uri in place of required parts",
			opts:   &SignOptions{Components: []string{"@method", "@target-uri", "content-digest"}},
			status: 401, reason: "components_missing"},
	}
}

func hostileTransportCases() []rejectionCase {
	return []rejectionCase{
		{name: "nil leaf certificate", change: func(_ *testing.T, req *http.Request) {
			req.TLS.PeerCertificates = []*x509.Certificate{nil}
		}, status: 403, reason: "client_certificate_missing"},
		{name: "empty verified chain list", change: func(_ *testing.T, req *http.Request) {
			req.TLS.VerifiedChains = [][]*x509.Certificate{}
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "empty verified chain", change: func(_ *testing.T, req *http.Request) {
			req.TLS.VerifiedChains = [][]*x509.Certificate{{}}
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "nil certificate in verified chain", change: func(_ *testing.T, req *http.Request) {
			req.TLS.VerifiedChains = [][]*x509.Certificate{{nil}}
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "pinned leaf verified only as root", change: func(t *testing.T, req *http.Request) {
			pinned, other := testCertificates(t)
			req.TLS.VerifiedChains = [][]*x509.Certificate{{other, pinned}}
		}, status: 403, reason: "client_certificate_unverified"},
		{name: "handshake state without certificates", change: func(_ *testing.T, req *http.Request) {
			req.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: testHost}
		}, status: 403, reason: "client_certificate_missing"},
		{name: "SNI as suffix of server name", change: func(_ *testing.T, req *http.Request) {
			req.TLS.ServerName = "example.test"
		}, status: 403, reason: "server_name_mismatch"},
		{name: "SNI with server name as prefix", change: func(_ *testing.T, req *http.Request) {
			req.TLS.ServerName = testHost + ".evil.test"
		}, status: 403, reason: "server_name_mismatch"},
		{name: "empty Host", prepare: func(req *http.Request) { req.Host = "" },
			status: 403, reason: "host_mismatch"},
		{name: "Host of absolute-form target", change: func(_ *testing.T, req *http.Request) {
			req.Host = "portal.example.test"
			req.URL.Host = "portal.example.test"
		}, status: 403, reason: "host_mismatch"},
		{name: "Host with userinfo", prepare: func(req *http.Request) { req.Host = "user@" + testHost },
			status: 403, reason: "host_mismatch"},
		{name: "Host with two ports", prepare: func(req *http.Request) { req.Host = testHost + ":443:443" },
			status: 403, reason: "host_mismatch"},
		{name: "Host as IPv6 literal", prepare: func(req *http.Request) { req.Host = "[::1]:443" },
			status: 403, reason: "host_mismatch"},
		{name: "Host with server name as prefix", prepare: func(req *http.Request) {
			req.Host = testHost + ".evil.test"
		}, status: 403, reason: "host_mismatch"},
		{name: "Host port changed after signing", change: func(_ *testing.T, req *http.Request) {
			req.Host = testHost + ":8443"
		}, status: 401, reason: "signature_mismatch"},
		{name: "authority IPv6 literal changed", configure: func(cfg *Config) { cfg.ServerName = "" },
			prepare: func(req *http.Request) { req.Host = "[::1]:8443" },
			change:  func(_ *testing.T, req *http.Request) { req.Host = "[::1]:9443" },
			status:  401, reason: "signature_mismatch"},
	}
}

func hostileTargetCases() []rejectionCase {
	return []rejectionCase{
		{name: "encoded slash in place of slash", change: func(_ *testing.T, req *http.Request) {
			req.URL.RawPath = "/api%2Finternal/users/reset-otp"
		}, status: 401, reason: "signature_mismatch"},
		{name: "encoded letter in path", change: func(_ *testing.T, req *http.Request) {
			req.URL.RawPath = "/api/internal/users/reset%2Dotp"
		}, status: 401, reason: "signature_mismatch"},
		{name: "dot segment added to path", change: func(_ *testing.T, req *http.Request) {
			req.URL.Path = "/api/internal/users/x/../reset-otp"
			req.URL.RawPath = ""
		}, status: 401, reason: "signature_mismatch"},
		{name: "query emptied", change: func(_ *testing.T, req *http.Request) {
			req.URL.RawQuery = ""
			req.URL.ForceQuery = true
		}, status: 401, reason: "signature_mismatch"},
		{name: "query parameter repeated", change: func(_ *testing.T, req *http.Request) {
			req.URL.RawQuery = "user=42&user=1"
		}, status: 401, reason: "signature_mismatch"},
		{name: "query encoding changed", change: func(_ *testing.T, req *http.Request) {
			req.URL.RawQuery = "user=%342"
		}, status: 401, reason: "signature_mismatch"},
		{name: "method in other case", change: func(_ *testing.T, req *http.Request) { req.Method = "post" },
			status: 401, reason: "signature_mismatch"},
	}
}

func hostileBodyCases() []rejectionCase {
	sha256Good := contentDigestSHA256([]byte(testBodyText))

	return []rejectionCase{
		{name: "sha-512 member wrong beside good sha-256", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", sha256Good+", sha-512=:"+sha512Base64("other")+":")
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_mismatch"},
		{name: "sha-256 member repeated on second line", change: func(t *testing.T, req *http.Request) {
			req.Header.Add("Content-Digest", sha256Good)
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "sha-256 member with sha-512 length", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", "sha-256=:"+sha512Base64(testBodyText)+":")
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_mismatch"},
		{name: "algorithm in uppercase", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", strings.Replace(sha256Good, "sha-256", "SHA-256", 1))
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "digest as string", change: func(t *testing.T, req *http.Request) {
			value := strings.TrimSuffix(strings.TrimPrefix(sha256Good, "sha-256=:"), ":")
			req.Header.Set("Content-Digest", `sha-256="`+value+`"`)
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "digest without padding", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", strings.Replace(sha256Good, "=:", ":", 1))
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "digest field over 1024 bytes", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", sha256Good+", x="+strings.Repeat("a", 1024))
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "unknown algorithms only", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", "sha-384=:AAAA:, crc32c=:AAAAAA==:")
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "empty Content-Digest", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", "")
			resignHeaders(t, req)
		}, status: 401, reason: "content_digest_malformed"},
		{name: "body one byte over limit", configure: func(cfg *Config) {
			cfg.MaxBodyBytes = int64(len(testBodyText)) - 1
		}, change: func(_ *testing.T, req *http.Request) { req.ContentLength = -1 },
			status: 413, reason: "body_too_large"},
		{name: "declared length over limit with short body", configure: func(cfg *Config) {
			cfg.MaxBodyBytes = int64(len(testBodyText))
		}, change: func(_ *testing.T, req *http.Request) { req.ContentLength = 1 << 40 },
			status: 413, reason: "body_too_large"},
		{name: "body replaced by NoBody", change: func(_ *testing.T, req *http.Request) {
			req.Body = http.NoBody
			req.ContentLength = 0
		}, status: 401, reason: "content_digest_mismatch"},
		{name: "body read fails with declared length", change: func(_ *testing.T, req *http.Request) {
			req.Body = &failingBody{}
		}, status: 400, reason: "body_unreadable"},
	}
}

func TestServeHTTPHostileRejections(t *testing.T) {
	groups := map[string][]rejectionCase{
		"signature": hostileSignatureCases(),
		"transport": hostileTransportCases(),
		"target":    hostileTargetCases(),
		"body":      hostileBodyCases(),
	}

	for group, cases := range groups {
		for _, tc := range cases {
			tc := tc

			t.Run(group+"/"+tc.name, func(t *testing.T) {
				runHostileRejection(t, tc)
			})
		}
	}
}

// runHostileRejection signs a valid request, applies the case and checks
// the rejection, that next did not run and that the response carries no
// request data.
func runHostileRejection(t *testing.T, tc rejectionCase) {
	t.Helper()

	m, next, req := newChangedRequest(t, tc.configure, tc.opts, tc.prepare, http.MethodPost, testURL, testBodyText)

	var lines []string

	m.log.output = func(line string) { lines = append(lines, line) }
	signatureField := req.Header.Get("Signature")

	if tc.change != nil {
		tc.change(t, req)
	}

	rec := serve(m, req)

	assert.Equal(t, tc.status, rec.Code, rec.Body.String())
	assert.Equal(t, 0, next.count(), "next must not run")
	assertProblem(t, rec, tc.status, tc.reason)
	assertNoRequestData(t, rec.Body.String(), signatureField)

	for _, line := range lines {
		assertNoRequestData(t, line, signatureField)
	}
}

// assertNoRequestData checks that text contains neither the key, the
// signature nor the body.
func assertNoRequestData(t *testing.T, text, signatureField string) {
	t.Helper()

	mac := strings.TrimSuffix(strings.TrimPrefix(signatureField, "sig1=:"), ":")

	assert.NotContains(t, text, string(testSecret))
	assert.NotContains(t, text, mac)
	assert.NotContains(t, text, testBodyText)
	assert.NotContains(t, text, "@signature-params")
}

func TestServeHTTPHostileAccepted(t *testing.T) {
	tests := []struct {
		name      string
		configure func(cfg *Config)
		opts      *SignOptions
		prepare   func(req *http.Request)
		change    func(t *testing.T, req *http.Request)
	}{
		{name: "lone question mark as empty query", opts: &SignOptions{
			Components: []string{"@method", "@authority", "@path", "@query", "content-digest"},
		}, prepare: func(req *http.Request) {
			req.URL.RawQuery = ""
		}, change: func(_ *testing.T, req *http.Request) { req.URL.ForceQuery = true }},
		{name: "uppercase Host equals signed authority", change: func(_ *testing.T, req *http.Request) {
			req.Host = strings.ToUpper(testHost)
		}},
		{name: "default port added to Host", change: func(_ *testing.T, req *http.Request) {
			req.Host = testHost + ":443"
		}},
		{name: "IPv6 SNI and Host", configure: func(cfg *Config) { cfg.ServerName = "::1" },
			prepare: func(req *http.Request) {
				req.Host = "[::1]:8443"
				req.TLS.ServerName = "::1"
			}},
		{name: "unknown digest algorithm beside sha-256", change: func(t *testing.T, req *http.Request) {
			req.Header.Set("Content-Digest", "unixsum=:AAAA:, "+req.Header.Get("Content-Digest"))
			resignHeaders(t, req)
		}},
		{name: "digest members on two lines", change: func(t *testing.T, req *http.Request) {
			req.Header.Add("Content-Digest", "sha-512=:"+sha512Base64(testBodyText)+":")
			resignHeaders(t, req)
		}},
		{name: "body at limit sent chunked", configure: func(cfg *Config) {
			cfg.MaxBodyBytes = int64(len(testBodyText))
		}, change: func(_ *testing.T, req *http.Request) {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		}},
		// The general parser reads these spellings and the MAC covers the
		// canonical serialization, so they verify like the signed form.
		{name: "created with leading zero", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, createdParam, "created=0"+createdParam[len("created="):])
		}},
		{name: "extra spaces in inner list", change: func(_ *testing.T, req *http.Request) {
			replaceInput(req, `("@method" `, `(  "@method"   `)
		}},
		{name: "created at zero skew", configure: func(cfg *Config) { cfg.ClockSkew = "0s" },
			opts: &SignOptions{Created: testNow}},
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
			assert.Equal(t, int64(len(testBodyText)), next.length)
		})
	}
}

func TestServeHTTPNonceReusedUnderOtherLabel(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))

	first := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText,
		&SignOptions{Nonce: "label-nonce", Label: "sig1"}))
	second := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText,
		&SignOptions{Nonce: "label-nonce", Label: "other"}))

	assert.Equal(t, http.StatusNoContent, first.Code)
	assertProblem(t, second, http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPReplayDetectedWhenCacheFull(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReplayCacheSize = 1
	m, next := newTestMiddleware(t, cfg)
	opts := &SignOptions{Nonce: "full-nonce"}

	first := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))
	replay := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, &SignOptions{Nonce: "full-nonce"}))
	fresh := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil))

	assert.Equal(t, http.StatusNoContent, first.Code)
	assertProblem(t, replay, http.StatusUnauthorized, "nonce_replayed")
	assertProblem(t, fresh, http.StatusServiceUnavailable, "replay_cache_full")
	assert.Equal(t, 1, next.count())
}

func TestServeHTTPConcurrentReplayPassesOnce(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))

	const callers = 16

	requests := make([]*http.Request, callers)
	for i := range requests {
		requests[i] = newSignedRequest(t, http.MethodPost, testURL, testBodyText, &SignOptions{Nonce: "race-nonce"})
	}

	codes := make(chan int, callers)

	var wg sync.WaitGroup

	for i := 0; i < callers; i++ {
		req := requests[i]

		wg.Add(1)

		go func() {
			defer wg.Done()
			codes <- serve(m, req).Code
		}()
	}

	wg.Wait()
	close(codes)

	passed := 0
	replayed := 0

	for code := range codes {
		switch code {
		case http.StatusNoContent:
			passed++
		case http.StatusUnauthorized:
			replayed++
		}
	}

	assert.Equal(t, 1, passed)
	assert.Equal(t, callers-1, replayed)
	assert.Equal(t, 1, next.count())
}

func TestNewHostileConfigurations(t *testing.T) {
	tests := []struct {
		name      string
		configure func(cfg *Config)
		field     string
	}{
		{name: "empty pin between commas", configure: func(cfg *Config) {
			cfg.Pins = append(cfg.Pins, " ")
		}, field: "pins[1]"},
		{name: "pin truncated", configure: func(cfg *Config) {
			cfg.Pins = []string{cfg.Pins[0][:len(cfg.Pins[0])-3]}
		}, field: "pins[0]"},
		{name: "empty component item", configure: func(cfg *Config) {
			cfg.Components = []string{"@method", ""}
		}, field: "components[1]"},
		{name: "component in uppercase", configure: func(cfg *Config) {
			cfg.Components = []string{"Content-Digest"}
		}, field: "components[0]"},
		{name: "component repeated after trimming", configure: func(cfg *Config) {
			cfg.Components = []string{"@method", " @method"}
		}, field: "components[1]"},
		{name: "max age without unit", configure: func(cfg *Config) { cfg.MaxAge = "300" }, field: "maxAge"},
		{name: "max age zero", configure: func(cfg *Config) { cfg.MaxAge = "0s" }, field: "maxAge"},
		{name: "max age negative", configure: func(cfg *Config) { cfg.MaxAge = "-5m" }, field: "maxAge"},
		{name: "clock skew of a day", configure: func(cfg *Config) { cfg.ClockSkew = "24h" }, field: "clockSkew"},
		{name: "replay cache size zero", configure: func(cfg *Config) { cfg.ReplayCacheSize = 0 },
			field: "replayCacheSize"},
		{name: "body limit negative", configure: func(cfg *Config) { cfg.MaxBodyBytes = -1 }, field: "maxBodyBytes"},
		{name: "key id header reserved", configure: func(cfg *Config) { cfg.KeyIDHeader = "signature" },
			field: "keyIdHeader"},
		{name: "headers equal but for case", configure: func(cfg *Config) {
			cfg.KeyIDHeader = "x-caller"
			cfg.CertificateHeader = "X-CALLER"
		}, field: "certificateHeader"},
		{name: "header name with colon", configure: func(cfg *Config) { cfg.CertificateHeader = "X-A:b" },
			field: "certificateHeader"},
		{name: "label in uppercase", configure: func(cfg *Config) { cfg.Label = "Sig1" }, field: "label"},
		{name: "server name with port", configure: func(cfg *Config) { cfg.ServerName = testHost + ":443" },
			field: "serverName"},
		{name: "server name as URL", configure: func(cfg *Config) { cfg.ServerName = "https://" + testHost },
			field: "serverName"},
		{name: "key shorter than 32 bytes", configure: func(cfg *Config) {
			cfg.Keys[0].Secret = "short"
		}, field: "keys[0]"},
		{name: "key encoding with space", configure: func(cfg *Config) {
			cfg.Keys[0].Encoding = " base64"
		}, field: "keys[0]"},
		{name: "two key sources", configure: func(cfg *Config) {
			cfg.Keys[0].SecretEnv = "INTERNALAUTH_HOSTILE_UNSET"
		}, field: "keys[0]"},
		{name: "key without pins and no global pins", configure: func(cfg *Config) {
			cfg.Keys = append(cfg.Keys, KeyConfig{ID: "restricted", Secret: string(testSecret), Pins: cfg.Pins})
			cfg.Pins = nil
		}, field: "pins"},
		{name: "key id with newline", configure: func(cfg *Config) { cfg.Keys[0].ID = "ops\n2026" },
			field: "keys[0].id"},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.configure(cfg)

			handler, err := New(context.Background(), &nextRecorder{}, cfg, "hostile")

			require.Error(t, err)
			assert.True(t, handler == nil)
			assert.Contains(t, err.Error(), tc.field)
			assert.NotContains(t, err.Error(), string(testSecret))
			assert.NotContains(t, err.Error(), "internal error")
		})
	}
}

func TestNewTrimsLabelTypedLists(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pins = []string{" " + cfg.Pins[0] + " "}
	cfg.Components = []string{"@method", " @authority", " @path ", "@query", " content-digest"}
	cfg.Label = " sig1 "
	cfg.MaxAge = " 5m "

	m, next := newTestMiddleware(t, cfg)

	rec := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil))

	assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, 1, next.count())
	assert.Equal(t, DefaultComponents, m.components)
}

func TestNewNilConfigDoesNotPanic(t *testing.T) {
	handler, err := New(context.Background(), &nextRecorder{}, nil, "hostile")

	assert.Error(t, err)
	assert.True(t, handler == nil)
}

func TestServeHTTPReplayAtMaxAgeBoundary(t *testing.T) {
	tests := []struct {
		name    string
		created time.Time
		first   time.Time
	}{
		{name: "first use at created", created: testNow, first: testNow},
		{name: "created at clock skew", created: testNow.Add(30 * time.Second), first: testNow},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			m, next := newTestMiddleware(t, testConfig(t))
			opts := &SignOptions{Nonce: "boundary-nonce", Created: tc.created}

			m.now = func() time.Time { return tc.first }
			first := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, opts))

			// The last instant at which checkTimes still accepts created.
			last := tc.created.Add(5 * time.Minute)
			m.now = func() time.Time { return last }
			replay := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText,
				&SignOptions{Nonce: "boundary-nonce", Created: tc.created}))

			assert.Equal(t, http.StatusNoContent, first.Code)
			assertProblem(t, replay, http.StatusUnauthorized, "nonce_replayed")
			assert.Equal(t, 1, next.count())
		})
	}
}

func TestReplayCacheHoldsThroughExpiry(t *testing.T) {
	cache := newReplayCache(10)
	now := time.Unix(1000, 0).UnixNano()
	expiry := now + int64(time.Minute)

	assert.Equal(t, inserted, cache.insert("a", expiry, now, expiry))
	assert.Equal(t, replayed, cache.insert("a", expiry, expiry, expiry+int64(time.Minute)))
	assert.Equal(t, inserted, cache.insert("a", expiry+2, expiry+1, expiry+int64(time.Minute)))
}

// distinctKeys returns n different three-letter dictionary keys.
func distinctKeys(n int) []string {
	const letters = "abcdefghijklmnopqrstuvwxyz"

	keys := make([]string, n)
	for i := range keys {
		keys[i] = string([]byte{letters[i/676%26], letters[i/26%26], letters[i%26]})
	}

	return keys
}

func TestParseDictionaryManyMembers(t *testing.T) {
	keys := distinctKeys(2000)

	members, err := parseDictionary(strings.Join(keys, ", "))
	require.NoError(t, err)
	assert.Len(t, members, len(keys))

	_, err = parseDictionary(strings.Join(keys, ", ") + ", " + keys[0])
	assert.ErrorIs(t, err, errStructuredField, "a key repeated far from its first use")

	list, err := parseDictionary("sig1=();" + strings.Join(keys, ";"))
	require.NoError(t, err)
	assert.Len(t, list[0].params, len(keys))

	_, err = parseDictionary("sig1=();" + strings.Join(keys, ";") + ";" + keys[0])
	assert.ErrorIs(t, err, errStructuredField, "a parameter repeated far from its first use")
}

func TestServeHTTPSignatureInputOfManyMembers(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))

	tests := []struct {
		separator string
		reason    string
	}{
		{separator: ",", reason: "signature_malformed"},
		{separator: ";", reason: "signature_missing"},
	}

	for _, tc := range tests {
		prefix := "sig1=()" + tc.separator
		field := strings.Join(distinctKeys(2700), tc.separator)
		field = field[:strings.LastIndex(field[:maxSignatureFieldBytes-len(prefix)], tc.separator)]

		req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
		req.Header.Set("Signature-Input", prefix+field)
		req.Header.Set("Signature", field)

		rec := serve(m, req)

		assert.Equal(t, http.StatusUnauthorized, rec.Code, tc.separator)
		assertProblem(t, rec, http.StatusUnauthorized, tc.reason)
		assert.Equal(t, 0, next.count())
	}
}

// BenchmarkParseDictionaryManyMembers measures the largest Signature-Input
// a caller can send, made of distinct three-letter members.
func BenchmarkParseDictionaryManyMembers(b *testing.B) {
	field := strings.Join(distinctKeys(2700), ",")
	field = field[:strings.LastIndex(field[:maxSignatureFieldBytes], ",")]

	b.ReportAllocs()

	for i := 0; i < b.N; i++ {
		if _, err := parseDictionary(field); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseDictionaryUniqueKeys checks that every dictionary the parser
// accepts has distinct member keys and distinct parameter keys.
func FuzzParseDictionaryUniqueKeys(f *testing.F) {
	f.Add("a, b;x;y=1, c=(1 2);z")
	f.Add("a, b, a")
	f.Add("a=();p;q;p")

	f.Fuzz(func(t *testing.T, field string) {
		members, err := parseDictionary(field)
		if err != nil {
			return
		}

		memberKeys := make(map[string]bool)

		for _, member := range members {
			if memberKeys[member.key] {
				t.Fatalf("member %q repeated in %q", member.key, field)
			}

			memberKeys[member.key] = true

			assertUniqueParams(t, field, member.params)

			for _, item := range member.list {
				assertUniqueParams(t, field, item.params)
			}
		}
	})
}

func assertUniqueParams(t *testing.T, field string, params []sfParam) {
	t.Helper()

	keys := make(map[string]bool)

	for _, param := range params {
		if keys[param.key] {
			t.Fatalf("parameter %q repeated in %q", param.key, field)
		}

		keys[param.key] = true
	}
}

func TestServeHTTPStripsUnderscoreHeaderCopies(t *testing.T) {
	forged := []string{
		"X_internalauth_key_id",
		"X-internalauth_key-id",
		"X_INTERNALAUTH_CLIENT_CERT_SHA256",
	}

	m, next := newTestMiddleware(t, testConfig(t))
	req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)

	for _, name := range forged {
		req.Header[name] = []string{"admin"}
	}

	req.Header.Set("X_request_id", "kept")

	rec := serve(m, req)

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())

	for _, name := range forged {
		assert.NotContains(t, next.headers, name)
	}

	assert.Equal(t, testKeyID, next.headers.Get(DefaultKeyIDHeader))
	assert.Equal(t, "kept", next.headers.Get("X_request_id"))
}

func TestServeHTTPStripsUnderscoreCopiesOnRejection(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeyIDHeader = "X-Caller-Id"
	m, next := newTestMiddleware(t, cfg)

	req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
	req.Header["X_caller_id"] = []string{"admin"}
	req.TLS = nil

	rec := serve(m, req)

	assertProblem(t, rec, http.StatusForbidden, "tls_required")
	assert.Equal(t, 0, next.count())
	assert.NotContains(t, req.Header, "X_caller_id")
}

func TestServeHTTPUnsupportedComponentSameOnBothParsers(t *testing.T) {
	spellings := map[string]func(input string) string{
		"canonical": func(input string) string { return input },
		"spaced":    func(input string) string { return strings.Replace(input, "(", "( ", 1) },
	}

	for _, component := range []string{`"@status"`, `"@"`, `"x@y"`} {
		for name, spell := range spellings {
			m, next := newTestMiddleware(t, testConfig(t))
			req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
			replaceInput(req, `"@query"`, `"@query" `+component)
			replaceInput(req, `keyid="ops-2026"`, `keyid="unknown"`)
			req.Header.Set("Signature-Input", spell(req.Header.Get("Signature-Input")))

			rec := serve(m, req)

			assertProblem(t, rec, http.StatusUnauthorized, "component_unsupported")
			assert.Equal(t, 0, next.count(), "%s %s", component, name)
		}
	}
}

func TestFastSignatureMatchesDerivedComponents(t *testing.T) {
	const signatureField = "sig1=:EyJCKRV/qsdNRw+w1m8oo+HiXQdQoTrNeq2buQDlQdY=:"

	for name := range derivedComponents {
		_, ok := fastSignature(`sig1=("`+name+`");created=1`, signatureField, "")
		assert.True(t, ok, name)
	}

	for _, name := range []string{"@status", "@", "@method@", "x@y", "@query-param"} {
		_, ok := fastSignature(`sig1=("`+name+`");created=1`, signatureField, "")
		assert.False(t, ok, name)
	}
}
