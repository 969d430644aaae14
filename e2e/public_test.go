package e2e

import (
	"net/http"
	"testing"

	"github.com/internalauth/internalauth/e2e/harness"
)

// publicSpellings are request-targets that a lenient server routes to
// /api/internal. Before routing, Traefik v3.6.12 decodes percent-encoded
// unreserved characters and removes dot segments and doubled slashes
// (entry point option sanitizePath, on by default). It keeps %2F encoded
// and a backslash or a semicolon inside a segment, while an API may
// split the segment there and then remove dot segments, so the block
// rule must treat them as separators too.
var publicSpellings = []string{
	"/api/internal/users/reset-otp",
	"/api/internal",
	"/api/internal/",
	"/api/internal?x=1",
	"/API/internal/users/reset-otp",
	"/api/Internal/users/reset-otp",
	"/Api/INTERNAL",
	"/api/%69nternal/users/reset-otp",
	"/api/%49nternal/users/reset-otp",
	"/%61pi/internal",
	"/api%2Finternal/users/reset-otp",
	"/api%2finternal",
	"/api/./internal/users/reset-otp",
	"/api/x/../internal/users/reset-otp",
	"/x/../api/internal",
	"/api/internal/../internal/users/reset-otp",
	"/api/%2E/internal",
	"/api/%2e%2e/api/internal",
	"//api/internal/users/reset-otp",
	"/api//internal/users/reset-otp",
	"/api///internal",
	"/./api/internal",
	"/x%2F..%2Fapi/internal",
	"/api%5Cinternal",
	"/api%5cinternal",
	"/api\\internal",
	"/api/.%2Finternal",
	"/api%2F.%2Finternal",
	"/api/%2E%2Finternal",
	"/api/x%2F..%2Finternal",
	"/api/x/..%2Finternal",
	"/api/x%2F../internal",
	"/api%2F%2Finternal",
	"/api\\.\\internal",
	"/api\\x\\..\\internal",
	"/api;v=1/internal",
	"/api/;x/internal",
	"/api/internal;x",
}

// doubleEncodedSpellings spell /api/internal with %25, which Traefik
// v3.6.12 keeps encoded and forwards as it is. An API that decodes the
// path once gets /api%2Finternal or /%61pi/internal, which are not
// /api/internal, so the block rule may let them through.
var doubleEncodedSpellings = []string{
	"/api%252Finternal",
	"/api%255Cinternal",
	"/%2561pi/internal",
}

// TestPublicHostBlocksInternalPath checks that /api/internal, however
// spelt, returns 403 on the public hostname and never reaches an
// upstream, while other API paths there still do.
func TestPublicHostBlocksInternalPath(t *testing.T) {
	for _, top := range []harness.Example{harness.SingleSite, harness.Split} {
		t.Run(top.Name, func(t *testing.T) {
			d := deploy(t, top, nil)

			t.Run("other path reaches API", func(t *testing.T) {
				d.resetUpstreams()
				status := rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, "/api/users", d.publicHost)
				if status != http.StatusOK {
					t.Fatalf("GET /api/users on %s = %d, want 200", d.publicHost, status)
				}
				if n := len(d.api.Requests()); n != 1 {
					t.Errorf("API received %d requests, want 1", n)
				}
			})

			for _, target := range publicSpellings {
				t.Run(target, func(t *testing.T) {
					if !isInternalPath(target) {
						t.Fatalf("%s is not an internal path by isInternalPath", target)
					}
					d.resetUpstreams()

					status := rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, target, d.publicHost)
					if status != http.StatusForbidden {
						t.Errorf("GET %s on %s = %d, want 403", target, d.publicHost, status)
					}
					for _, r := range d.received() {
						if isInternalPath(r.RequestURI) {
							t.Errorf("upstream received internal path %s", r.RequestURI)
						}
					}
					if n := len(d.received()); n != 0 {
						t.Errorf("upstreams received %d requests, want 0", n)
					}
				})
			}

			for _, target := range doubleEncodedSpellings {
				t.Run(target, func(t *testing.T) {
					d.resetUpstreams()
					rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, target, d.publicHost)
					for _, r := range d.received() {
						if isInternalPath(r.RequestURI) {
							t.Errorf("upstream received internal path %s", r.RequestURI)
						}
					}
				})
			}

			t.Run("signed request", func(t *testing.T) {
				d.resetUpstreams()
				// A valid signature for the public hostname does not open
				// the path there either.
				req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
				req.URL.Host = d.publicHost + ":" + d.traefik.Port()
				req.Host = ""
				client := d.traefik.Client(d.pki, harness.ClientOptions{Cert: d.publicCert})
				got := do(t, client, req)
				if got.status != http.StatusForbidden {
					t.Errorf("status = %d, want 403", got.status)
				}
				expectNothingReceived(t, d)
			})
		})
	}
}
