package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/internalauth/internalauth"
)

// Host names served by the test server. Host is the dedicated hostname the
// middleware's serverName names. OtherHost is a second hostname with its
// own middleware and the same keys, so a signature moved from one host to
// the other must fail on @authority.
const (
	Host      = "apiinternal.example.test"
	OtherHost = "apiinternal-staging.example.test"
)

// Key ids configured in the middleware. KeyID is the key callers sign
// with. OtherKeyID is a second valid key with a different secret, and
// UnknownKeyID is not configured.
const (
	KeyID        = "ops-2026"
	OtherKeyID   = "ops-2025"
	UnknownKeyID = "ops-unknown"
)

// Server is the middleware behind an httptest TLS server that requires
// and verifies client certificates, listening on 127.0.0.1.
type Server struct {
	PKI  *PKI
	Port string

	// Key is the secret of KeyID: 40 printable ASCII characters, so its
	// raw, base64 and hex forms are all valid key files.
	Key []byte

	// KeyFiles maps an encoding (raw, base64, hex) to a file holding Key
	// in that encoding.
	KeyFiles map[string]string

	httpServer *httptest.Server
	upstream   *Upstream
}

// Upstream is the next handler behind the middleware. It records the
// requests that passed and returns a JSON echo of each.
type Upstream struct {
	mu       sync.Mutex
	requests []Received
}

// Received is the upstream's record of one request that passed.
type Received struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Query    string `json:"query"`
	KeyID    string `json:"keyId"`
	ClientID string `json:"clientCertSha256"`
	Body     string `json:"body"`
}

// Problem is the problem details body of a rejection.
type Problem struct {
	Status int    `json:"status"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// StartServer starts the server and stops it when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()

	dir := t.TempDir()

	pki, err := NewPKI(dir, []string{Host, OtherHost})
	if err != nil {
		t.Fatalf("create test PKI: %v", err)
	}

	s := &Server{PKI: pki, Key: []byte(randomText(40)), upstream: &Upstream{}}

	if err := s.writeKeyFiles(dir); err != nil {
		t.Fatal(err)
	}

	primary := s.newMiddleware(t, Host)
	secondary := s.newMiddleware(t, OtherHost)

	handler := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if req.TLS != nil && req.TLS.ServerName == OtherHost {
			secondary.ServeHTTP(rw, req)

			return
		}

		primary.ServeHTTP(rw, req)
	})

	roots := x509.NewCertPool()
	roots.AddCert(pki.CA)

	s.httpServer = httptest.NewUnstartedServer(handler)
	s.httpServer.TLS = &tls.Config{
		Certificates: []tls.Certificate{pki.Server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
		MinVersion:   tls.VersionTLS12,
	}
	s.httpServer.StartTLS()
	t.Cleanup(s.httpServer.Close)

	_, s.Port, err = net.SplitHostPort(s.httpServer.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	return s
}

func (s *Server) writeKeyFiles(dir string) error {
	s.KeyFiles = map[string]string{
		"raw":    filepath.Join(dir, "key.raw"),
		"base64": filepath.Join(dir, "key.b64"),
		"hex":    filepath.Join(dir, "key.hex"),
	}

	contents := map[string]string{
		"raw":    string(s.Key),
		"base64": base64.StdEncoding.EncodeToString(s.Key) + "\n",
		"hex":    hex.EncodeToString(s.Key) + "\n",
	}

	for encoding, path := range s.KeyFiles {
		if err := os.WriteFile(path, []byte(contents[encoding]), 0o600); err != nil {
			return err
		}
	}

	return nil
}

// newMiddleware builds the middleware for one dedicated hostname through
// internalauth.New, with keys read from files as in a deployment.
func (s *Server) newMiddleware(t testing.TB, serverName string) http.Handler {
	t.Helper()

	otherKeyFile := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(otherKeyFile, []byte(randomText(40)), 0o600); err != nil {
		t.Fatal(err)
	}

	certificatePin, _ := internalauth.CertificatePins(s.PKI.ClientLeaf)

	cfg := internalauth.CreateConfig()
	cfg.Keys = []internalauth.KeyConfig{
		{ID: KeyID, SecretFile: s.KeyFiles["base64"], Encoding: "base64"},
		{ID: OtherKeyID, SecretFile: otherKeyFile},
	}
	cfg.Pins = []string{certificatePin}
	cfg.ServerName = serverName

	// The name keeps each server's replay cache apart from other tests.
	name := "interop-" + serverName + "-" + randomText(8)

	handler, err := internalauth.New(context.Background(), s.upstream, cfg, name)
	if err != nil {
		t.Fatalf("internalauth.New for %s: %v", serverName, err)
	}

	return handler
}

// URL returns the https URL of target on host, with the server's port.
func (s *Server) URL(host, target string) string {
	return "https://" + net.JoinHostPort(host, s.Port) + target
}

// Resolve returns curl's --resolve value that sends host to the server.
func (s *Server) Resolve(host string) string {
	return host + ":" + s.Port + ":127.0.0.1"
}

// Client returns an HTTP client that presents cert, trusts the test CA
// and connects to the server whatever host a URL names.
func (s *Server) Client(cert tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(s.PKI.CA)

	address := s.httpServer.Listener.Addr().String()
	dialer := &net.Dialer{Timeout: 10 * time.Second}

	transport := &http.Transport{
		TLSClientConfig: &tls.Config{
			RootCAs:      roots,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, address)
		},
		DisableKeepAlives: true,
	}

	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// Passed returns the requests that reached the upstream, in order.
func (s *Server) Passed() []Received {
	s.upstream.mu.Lock()
	defer s.upstream.mu.Unlock()

	return append([]Received(nil), s.upstream.requests...)
}

func (u *Upstream) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(rw, "read body: "+err.Error(), http.StatusInternalServerError)

		return
	}

	received := Received{
		Method:   req.Method,
		Path:     req.URL.EscapedPath(),
		Query:    req.URL.RawQuery,
		KeyID:    req.Header.Get(internalauth.DefaultKeyIDHeader),
		ClientID: req.Header.Get(internalauth.DefaultCertificateHeader),
		Body:     string(body),
	}

	u.mu.Lock()
	u.requests = append(u.requests, received)
	u.mu.Unlock()

	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(received)
}

// Send sends a request built from the given parts with the client
// certificate, and returns the status and the response body.
func (s *Server) Send(cert tls.Certificate, method, url string, header http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}

	for name, values := range header {
		req.Header[name] = append([]string(nil), values...)
	}

	if host := header.Get("Host"); host != "" {
		req.Host = host
		req.Header.Del("Host")
	}

	resp, err := s.Client(cert).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()

	respBody, err := io.ReadAll(resp.Body)

	return resp.StatusCode, respBody, err
}

// ParseProblem decodes a rejection body.
func ParseProblem(body []byte) (Problem, error) {
	var problem Problem

	if err := json.Unmarshal(body, &problem); err != nil {
		return Problem{}, fmt.Errorf("rejection body is not problem details JSON: %w: %q", err, body)
	}

	return problem, nil
}

// randomText returns n random characters from [A-Za-z0-9].
func randomText(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

	random := make([]byte, n)
	if _, err := rand.Read(random); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}

	for i, b := range random {
		random[i] = alphabet[int(b)%len(alphabet)]
	}

	return string(random)
}
