// Package internalauth is a Traefik middleware plugin that lets a request
// through only when it comes over mutual TLS from a pinned client
// certificate and carries a valid RFC 9421 HTTP message signature made
// with a shared HMAC key.
package internalauth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config is the middleware configuration. Traefik decodes it from labels,
// the file provider or a Kubernetes Middleware, with weak typing, on top of
// the values CreateConfig returns.
type Config struct {
	// Keys are the HMAC keys that may sign requests, looked up by keyid.
	Keys []KeyConfig `json:"keys,omitempty"`

	// Pins are the accepted client certificates: the SHA-256 of the DER
	// certificate in hex, or the SHA-256 of the SubjectPublicKeyInfo in
	// curl's sha256//<base64> form.
	Pins []string `json:"pins,omitempty"`

	// AllowUnverifiedChain accepts a client certificate that no TLS option
	// verified, as long as it is pinned. Off by default.
	AllowUnverifiedChain bool `json:"allowUnverifiedChain,omitempty"`

	// ServerName, when set, must equal both the TLS server name (SNI) and
	// the request's Host, without port.
	ServerName string `json:"serverName,omitempty"`

	// MaxAge is the maximum age of a signature's created time, as a Go
	// duration ("5m").
	MaxAge string `json:"maxAge,omitempty"`

	// ClockSkew is the maximum time a created time may lie in the future.
	ClockSkew string `json:"clockSkew,omitempty"`

	// RequireNonce rejects signatures without a nonce parameter.
	RequireNonce bool `json:"requireNonce,omitempty"`

	// Components are the covered components every signature must include.
	// Empty means DefaultComponents.
	Components []string `json:"components,omitempty"`

	// Label selects the signature to verify. Empty accepts a request that
	// carries exactly one signature, whatever its label.
	Label string `json:"label,omitempty"`

	// Tag, when set, must equal the signature's tag parameter.
	Tag string `json:"tag,omitempty"`

	// MaxBodyBytes is the largest body buffered to check Content-Digest.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`

	// ReplayCacheSize is the number of nonces remembered at once.
	ReplayCacheSize int `json:"replayCacheSize,omitempty"`

	// KeyIDHeader and CertificateHeader name the request headers set for
	// the upstream after a request passes.
	KeyIDHeader       string `json:"keyIdHeader,omitempty"`
	CertificateHeader string `json:"certificateHeader,omitempty"`
}

// KeyConfig is one HMAC key. Exactly one of Secret, SecretFile and
// SecretEnv gives its value.
type KeyConfig struct {
	// ID is the keyid that signatures name.
	ID string `json:"id,omitempty"`

	// Secret is the key inline. Traefik's API and docker inspect show it,
	// so prefer SecretFile or SecretEnv.
	Secret string `json:"secret,omitempty"`

	// SecretFile is a path to a file holding the key, such as a Docker
	// secret.
	SecretFile string `json:"secretFile,omitempty"`

	// SecretEnv names an environment variable holding the key.
	SecretEnv string `json:"secretEnv,omitempty"`

	// Encoding is the key's text encoding: raw (default), base64 or hex.
	Encoding string `json:"encoding,omitempty"`

	// Pins, when set, restrict the key to these client certificates, in
	// the same forms as Config.Pins.
	Pins []string `json:"pins,omitempty"`
}

// Defaults applied by CreateConfig and New.
const (
	DefaultMaxAge            = "5m"
	DefaultClockSkew         = "30s"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultReplayCacheSize   = 100000
	DefaultKeyIDHeader       = "X-Internalauth-Key-Id"
	DefaultCertificateHeader = "X-Internalauth-Client-Cert-Sha256"
)

// DefaultComponents are the covered components required when
// Config.Components is empty.
var DefaultComponents = []string{"@method", "@authority", "@path", "@query", "content-digest"}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{
		MaxAge:            DefaultMaxAge,
		ClockSkew:         DefaultClockSkew,
		RequireNonce:      true,
		MaxBodyBytes:      DefaultMaxBodyBytes,
		ReplayCacheSize:   DefaultReplayCacheSize,
		KeyIDHeader:       DefaultKeyIDHeader,
		CertificateHeader: DefaultCertificateHeader,
	}
}

// Middleware is the http.Handler that New returns.
type Middleware struct {
	next http.Handler
	name string

	keys            map[string]*hmacKey
	pins            *pinSet
	globalPins      *pinSet
	keyPins         bool
	allowUnverified bool
	serverName      string

	maxAge       time.Duration
	clockSkew    time.Duration
	requireNonce bool
	components   []string
	required     map[string]bool
	policyList   string // components as a Signature-Input inner list writes them
	label        string
	tag          string
	maxBodyBytes int64

	keyIDHeader       string
	certificateHeader string
	acceptSignature   string

	replay *replayCache
	log    *rejectionLog
	now    func() time.Time
}

// New validates config, loads the keys and returns the middleware. It
// returns an error for any configuration that would not protect the
// route, naming the field and the fix; Traefik then disables the router.
func New(_ context.Context, next http.Handler, config *Config, name string) (handler http.Handler, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			handler = nil
			err = fmt.Errorf("internalauth: %s: configuration rejected after an internal error: %v", name, recovered)
		}
	}()

	if next == nil {
		return nil, fmt.Errorf("internalauth: %s: no next handler", name)
	}

	m, warnings, err := buildMiddleware(config, name)
	if err != nil {
		return nil, fmt.Errorf("internalauth: %s: %w", name, err)
	}

	m.next = next

	for _, warning := range warnings {
		logger.Printf("internalauth: %s: warning: %s", name, warning)
	}

	logger.Printf("internalauth: %s: %s", name, m.summary())

	return m, nil
}

func (m *Middleware) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	m.stripUpstreamHeaders(req.Header)

	keyID, reason := m.authorize(req)
	if reason != "" {
		status := writeProblem(rw, reason, m.acceptSignature)
		m.log.record(m.now(), status, reason, req.RemoteAddr, keyID, req.URL.Path)

		return
	}

	m.next.ServeHTTP(rw, req)
}

// stripUpstreamHeaders deletes inbound copies of the headers set for the
// upstream. That includes names spelled with underscores for dashes, such
// as X_Internalauth_Key_Id, because RFC 3875 (CGI) names both spellings
// HTTP_X_INTERNALAUTH_KEY_ID, and PHP and WSGI servers that keep such
// names do the same.
func (m *Middleware) stripUpstreamHeaders(header http.Header) {
	header.Del(m.keyIDHeader)
	header.Del(m.certificateHeader)

	var copies []string

	for name := range header {
		if strings.IndexByte(name, '_') < 0 {
			continue
		}

		dashed := strings.ReplaceAll(name, "_", "-")
		if strings.EqualFold(dashed, m.keyIDHeader) || strings.EqualFold(dashed, m.certificateHeader) {
			copies = append(copies, name)
		}
	}

	for _, name := range copies {
		delete(header, name)
	}
}

// authorize runs every check on req. It returns the key id seen, for
// logging, and the rejection reason, empty when the request may pass.
// On success it sets the upstream headers and replaces the body with the
// buffered copy.
func (m *Middleware) authorize(req *http.Request) (keyID, reason string) {
	defer func() {
		if recovered := recover(); recovered != nil {
			reason = reasonInternalError
		}
	}()

	if reason := m.checkClient(req); reason != "" {
		return "", reason
	}

	now := m.now()

	sig, reason := m.selectSignature(req)
	if reason != "" {
		return "", reason
	}

	keyID = sig.keyID

	result, reason := m.checkSignature(req, sig, now)
	if reason != "" {
		return keyID, reason
	}

	leaf := req.TLS.PeerCertificates[0]

	// Without key pins every pinned certificate may use every key, and the
	// check is skipped: each call costs under yaegi.
	if (result.key.pins != nil || m.keyPins) && !m.keyAllowed(result.key, leaf) {
		return keyID, reasonKeyNotAllowed
	}

	if reason := m.checkBody(req); reason != "" {
		return keyID, reason
	}

	switch m.replay.insertSignature(result, now, m.maxAge, m.clockSkew) {
	case replayed:
		return keyID, reasonNonceReplayed
	case cacheFull:
		return keyID, reasonReplayCacheFull
	}

	sum := sha256.Sum256(leaf.Raw)
	req.Header.Set(m.keyIDHeader, keyID)
	req.Header.Set(m.certificateHeader, hex.EncodeToString(sum[:]))

	return keyID, ""
}

// keyAllowed reports whether key may sign for the client certificate
// leaf. A key with pins accepts only those certificates, and a
// certificate pinned only on some keys may use only those keys.
func (m *Middleware) keyAllowed(key *hmacKey, leaf *x509.Certificate) bool {
	if key.pins != nil {
		return key.pins.match(leaf)
	}

	return !m.keyPins || m.globalPins.match(leaf)
}
