package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/internalauth/internalauth/e2e/harness"
)

// TestDefaultTLSOptionFallback adds a second router on the dedicated
// hostname without a TLS option. Traefik v3.6.12 then uses its default
// TLS option, which requests no client certificate, for every router of
// that host. The plugin must still keep the API out of reach.
func TestDefaultTLSOptionFallback(t *testing.T) {
	for _, top := range []harness.Example{harness.SingleSite, harness.Split} {
		t.Run(top.Name, func(t *testing.T) {
			d := deploy(t, top, func(site *harness.Site, _ *deployment) {
				routed := site.Container(top.RoutedService)
				routed.Labels["traefik.http.routers.apiinternal-health.rule"] =
					"Host(`" + harness.InternalHost + "`) && Path(`/healthz`)"
				routed.Labels["traefik.http.routers.apiinternal-health.entryPoints"] = "websecure"
				routed.Labels["traefik.http.routers.apiinternal-health.tls"] = "true"
				routed.Labels["traefik.http.routers.apiinternal-health.service"] = top.RoutedService
			})

			if !strings.Contains(d.traefik.Log(), "different TLS options for routers on the same host") {
				t.Fatalf("Traefik did not fall back to the default TLS option:\n%s", d.traefik.LogTail(40))
			}

			t.Run("second router works", func(t *testing.T) {
				d.resetUpstreams()
				req, err := http.NewRequest(http.MethodGet, d.internalURL("/healthz"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := do(t, d.client(nil), req); got.status != http.StatusOK {
					t.Fatalf("GET /healthz = %d, want 200 (body %q)", got.status, got.body)
				}
			})

			t.Run("pinned and signed is rejected", func(t *testing.T) {
				d.resetUpstreams()
				var requested atomic.Bool
				client := d.traefik.Client(d.pki, harness.ClientOptions{
					Cert:                 d.pki.Pinned,
					CertificateRequested: func() { requested.Store(true) },
				})
				req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
				got := do(t, client, req)
				if requested.Load() {
					t.Error("server requested a client certificate, so the fallback did not happen")
				}
				expectRejected(t, d, got, http.StatusForbidden, "client_certificate_missing")
			})
		})
	}
}

// TestInvalidPluginConfiguration checks that a configuration New rejects
// disables the dedicated route: Traefik returns 404, the API is never
// called, and the rest of the site keeps working.
func TestInvalidPluginConfiguration(t *testing.T) {
	const prefix = "traefik.http.middlewares.apiinternal-auth.plugin.internalauth."
	cases := []struct {
		name  string
		key   string
		value string
	}{
		{"invalid pin", "pins", "not-a-pin"},
		{"invalid maxAge", "maxAge", "five minutes"},
		{"missing secret file", "keys[0].secretFile", "/nonexistent/api_internal_hmac"},
		{"unknown key encoding", "keys[0].encoding", "rot13"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deploy(t, harness.SingleSite, func(site *harness.Site, _ *deployment) {
				site.Container(harness.SingleSite.RoutedService).Labels[prefix+tc.key] = tc.value
			})

			d.resetUpstreams()
			req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
			got := do(t, d.client(d.pki.Pinned), req)
			if got.status != http.StatusNotFound {
				t.Errorf("status = %d, want 404 (body %q)", got.status, got.body)
			}
			expectNothingReceived(t, d)

			d.resetUpstreams()
			status := rawRequest(t, d, d.publicHost, nil, http.MethodGet, "/", d.publicHost)
			if status != http.StatusOK {
				t.Errorf("portal status = %d, want 200", status)
			}
			if n := len(d.portal.Requests()); n != 1 {
				t.Errorf("portal received %d requests, want 1", n)
			}
		})
	}
}

// TestStandardHostKeepsStandardPKI checks, in the split topology, that
// each hostname accepts only its own PKI: the standard API host the
// standard internal CA, the dedicated host the dedicated CA.
func TestStandardHostKeepsStandardPKI(t *testing.T) {
	d := deploy(t, harness.Split, nil)

	t.Run("standard certificate", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodGet, d.publicURL("/api/users"), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := do(t, d.client(d.pki.Standard), req)
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		if n := len(d.api.Requests()); n != 1 {
			t.Errorf("API received %d requests, want 1", n)
		}
	})

	rejected := []struct {
		name string
		cert *harness.Certificate
	}{
		{"no certificate", nil},
		{"dedicated pinned certificate", d.pki.Pinned},
		{"unrelated CA certificate", d.pki.Other},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			d.resetUpstreams()
			req, err := http.NewRequest(http.MethodGet, d.publicURL("/api/users"), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := d.client(tc.cert).Do(req)
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("handshake succeeded with status %d, want a TLS error", resp.StatusCode)
			}
			expectNothingReceived(t, d)
		})
	}
}

// TestServerNameBehindSharedTLSOption adds a second hostname that uses
// the dedicated TLS option. Traefik then accepts a connection whose SNI
// is that hostname and whose Host is the dedicated one, because both
// select the same option. Only the plugin's serverName check then keeps
// that request from the API.
func TestServerNameBehindSharedTLSOption(t *testing.T) {
	const aliasHost = "apiinternal-alias.example.test"
	d := deploy(t, harness.SingleSite, func(site *harness.Site, d *deployment) {
		alias, err := d.pki.IssueServer("server_alias", aliasHost)
		if err != nil {
			t.Fatal(err)
		}
		site.Files["alias.yml"] = []byte("tls:\n  certificates:\n" +
			"    - certFile: " + alias.CertFile + "\n      keyFile: " + alias.KeyFile + "\n")

		routed := site.Container(harness.SingleSite.RoutedService)
		routed.Labels["traefik.http.routers.apiinternal-alias.rule"] = "Host(`" + aliasHost + "`)"
		routed.Labels["traefik.http.routers.apiinternal-alias.entryPoints"] = "websecure"
		routed.Labels["traefik.http.routers.apiinternal-alias.tls.options"] = "apiinternal@file"
		routed.Labels["traefik.http.routers.apiinternal-alias.service"] = harness.SingleSite.RoutedService
	})
	const target = "/api/internal/users/reset-otp"

	t.Run("matching SNI", func(t *testing.T) {
		d.resetUpstreams()
		client := d.traefik.Client(d.pki, harness.ClientOptions{Cert: d.pki.Pinned, ServerName: harness.InternalHost})
		got := do(t, client, d.signed(t, http.MethodGet, target, nil, nil))
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		expectAPIReceived(t, d, http.MethodGet, target)
	})

	t.Run("alias SNI", func(t *testing.T) {
		d.resetUpstreams()
		client := d.traefik.Client(d.pki, harness.ClientOptions{Cert: d.pki.Pinned, ServerName: aliasHost})
		got := do(t, client, d.signed(t, http.MethodGet, target, nil, nil))
		expectRejected(t, d, got, http.StatusForbidden, "server_name_mismatch")
	})
}
