package internalauth

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStripPort(t *testing.T) {
	tests := map[string]string{
		"api.example.com":      "api.example.com",
		"api.example.com:8443": "api.example.com",
		"[::1]:443":            "::1",
		"[::1]":                "::1",
		"10.0.0.1:80":          "10.0.0.1",
		"":                     "",
	}

	for input, expected := range tests {
		assert.Equal(t, expected, stripPort(input), input)
	}
}

func TestNormalizeHost(t *testing.T) {
	assert.Equal(t, "api.example.com", normalizeHost("API.Example.com."))
	assert.Equal(t, "api.example.com", normalizeHost("api.example.com"))
}

func TestCheckClientWithoutServerName(t *testing.T) {
	cfg := testConfig(t)
	cfg.ServerName = ""
	m, _ := newTestMiddleware(t, cfg)

	req := newSignedRequest(t, http.MethodGet, testURL, "", nil)
	req.TLS.ServerName = "anything.example.test"

	assert.Empty(t, m.checkClient(req))
}

func TestCheckClientIgnoresForwardedCertificateHeaders(t *testing.T) {
	m, _ := newTestMiddleware(t, testConfig(t))
	pinned, _ := testCertificates(t)

	req := newSignedRequest(t, http.MethodGet, testURL, "", nil)
	req.TLS.PeerCertificates = nil
	req.Header.Set("X-Forwarded-Tls-Client-Cert", "MIIB"+string(pinned.Raw[:8]))
	req.Header.Set("X-Forwarded-Tls-Client-Cert-Info", `Subject="CN=pinned-client"`)

	assert.Equal(t, "client_certificate_missing", m.checkClient(req))
}

func TestIsHostname(t *testing.T) {
	valid := []string{"apiinternal.example.com", "localhost", "10.0.0.1", "::1", "a-b.example", "x_y.example"}
	invalid := []string{"", "-a.example", "a-.example", "a..b", "*.example.com", "a b", "a:1", "a/b",
		"https://a", string(make([]byte, 300))}

	for _, name := range valid {
		assert.True(t, isHostname(name), name)
	}

	for _, name := range invalid {
		assert.False(t, isHostname(name), name)
	}
}
