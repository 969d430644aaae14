package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

// TestSiteFromLabelText runs labels given as KEY=VALUE lines, the way a
// render command prints them, with file-provider YAML given as text, and
// the HMAC key in an environment variable.
func TestSiteFromLabelText(t *testing.T) {
	dir := t.TempDir()
	pki, err := harness.NewPKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	api := harness.StartUpstream(t, "api", nil)

	sha256Pin, _ := internalauth.CertificatePins(pki.Pinned.Cert)
	const prefix = "traefik.http.middlewares.auth.plugin.internalauth."
	labels, err := harness.LabelsFromText(strings.Join([]string{
		"traefik.enable=true",
		"traefik.http.routers.internal.rule=Host(`" + harness.InternalHost + "`) && PathPrefix(`/api/internal`)",
		"traefik.http.routers.internal.entryPoints=websecure",
		"traefik.http.routers.internal.tls.options=dedicated@file",
		"traefik.http.routers.internal.middlewares=auth",
		prefix + "serverName=" + harness.InternalHost,
		prefix + "pins=" + sha256Pin,
		prefix + "keys[0].id=" + keyID,
		prefix + "keys[0].encoding=base64",
		prefix + "keys[0].secretEnv=E2E_INTERNAL_HMAC",
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}

	tlsYAML := "tls:\n" +
		"  certificates:\n" +
		"    - certFile: " + pki.InternalServer.CertFile + "\n" +
		"      keyFile: " + pki.InternalServer.KeyFile + "\n" +
		"  options:\n" +
		"    dedicated:\n" +
		"      clientAuth:\n" +
		"        caFiles: [" + pki.DedicatedCA.CertFile + "]\n" +
		"        clientAuthType: RequireAndVerifyClientCert\n"

	site := &harness.Site{
		Containers: []harness.Container{{Name: "api", Labels: labels, URL: api.URL}},
		Files:      map[string][]byte{"tls.yml": []byte(tlsYAML)},
		Env:        []string{"E2E_INTERNAL_HMAC=" + base64.StdEncoding.EncodeToString(key)},
	}
	opts, err := site.TraefikOptions()
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{pki: pki, api: api, key: key, traefik: harness.StartTraefik(t, opts)}

	t.Run("signed reaches API", func(t *testing.T) {
		d.resetUpstreams()
		req := d.signed(t, http.MethodGet, "/api/internal/users/reset-otp", nil, nil)
		got := do(t, d.client(pki.Pinned), req)
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		expectAPIReceived(t, d, http.MethodGet, "/api/internal/users/reset-otp")
	})

	t.Run("unsigned is rejected", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodGet, d.internalURL("/api/internal/users/reset-otp"), nil)
		if err != nil {
			t.Fatal(err)
		}
		expectRejected(t, d, do(t, d.client(pki.Pinned), req), http.StatusUnauthorized, "signature_missing")
	})
}
