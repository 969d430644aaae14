package internalauth

import (
	"crypto/x509"
	"net"
	"net/http"
	"strings"
)

// checkClient applies the transport layer checks: TLS, a verified and
// pinned client certificate, and the server name. It trusts only the
// connection state, never a forwarded header, and does not assume that a
// TLS option with client authentication applied: Traefik falls back to
// its default option when two routers give one host different options.
func (m *Middleware) checkClient(req *http.Request) string {
	state := req.TLS
	if state == nil {
		return reasonTLSRequired
	}

	if len(state.PeerCertificates) == 0 || state.PeerCertificates[0] == nil {
		return reasonCertificateMissing
	}

	leaf := state.PeerCertificates[0]

	// Go's TLS stack puts the peer's leaf, the same pointer, first in each
	// verified chain; the pointer test spares a call under yaegi.
	chains := state.VerifiedChains
	verified := len(chains) > 0 && len(chains[0]) > 0 && chains[0][0] == leaf

	if !m.allowUnverified && !verified && !chainStartsWith(chains, leaf.Raw) {
		return reasonCertificateUnverfied
	}

	if !m.pins.match(leaf) {
		return reasonNotPinned
	}

	if m.serverName == "" {
		return ""
	}

	if state.ServerName != m.serverName && normalizeHost(state.ServerName) != m.serverName {
		return reasonServerName
	}

	if req.Host != m.serverName && normalizeHost(stripPort(req.Host)) != m.serverName {
		return reasonHost
	}

	return ""
}

// chainStartsWith reports whether a verified chain exists whose leaf is
// the certificate with DER encoding leaf.
func chainStartsWith(chains [][]*x509.Certificate, leaf []byte) bool {
	for _, chain := range chains {
		if len(chain) > 0 && chain[0] != nil && string(chain[0].Raw) == string(leaf) {
			return true
		}
	}

	return false
}

func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// stripPort removes a port from a Host header value, including from a
// bracketed IPv6 literal.
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}

	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
