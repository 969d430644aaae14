package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxRecordedBody bounds the body an upstream reads, far above any
// body the scenarios send.
const maxRecordedBody = 64 << 20

// Received is what an upstream saw of one request.
type Received struct {
	Host             string
	Method           string
	RequestURI       string
	Path             string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	BodyLength       int64
	BodySHA256       string
}

// Upstream is a loopback HTTP server standing for a container behind
// Traefik. It records every request it receives. When Relay is set, it
// forwards /api/ requests there, the way the portal relays them to the
// API, and records them too.
type Upstream struct {
	Name string
	URL  string

	relay  *httputil.ReverseProxy
	server *http.Server

	mu       sync.Mutex
	received []Received
}

// StartUpstream starts an upstream on 127.0.0.1 and stops it when the
// test ends. relayTo, when not nil, receives the /api/ requests.
func StartUpstream(t testing.TB, name string, relayTo *Upstream) *Upstream {
	t.Helper()

	u, err := NewUpstream(name, relayTo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)

	return u
}

// NewUpstream starts an upstream on 127.0.0.1. The caller must Close it.
func NewUpstream(name string, relayTo *Upstream) (*Upstream, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for upstream %s: %w", name, err)
	}

	u := &Upstream{Name: name, URL: "http://" + listener.Addr().String()}
	if relayTo != nil {
		target, err := url.Parse(relayTo.URL)
		if err != nil {
			_ = listener.Close()
			return nil, fmt.Errorf("parse relay URL %s: %w", relayTo.URL, err)
		}
		u.relay = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		}}
	}

	u.server = &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = u.server.Serve(listener) }()

	return u, nil
}

// Close stops the upstream's server.
func (u *Upstream) Close() {
	_ = u.server.Close()
}

func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	n := int64(len(body))

	u.mu.Lock()
	u.received = append(u.received, Received{
		Host:             r.Host,
		Method:           r.Method,
		RequestURI:       r.RequestURI,
		Path:             r.URL.Path,
		Header:           r.Header.Clone(),
		ContentLength:    r.ContentLength,
		TransferEncoding: r.TransferEncoding,
		BodyLength:       n,
		BodySHA256:       hex.EncodeToString(sum[:]),
	})
	u.mu.Unlock()

	if u.relay != nil && strings.HasPrefix(r.URL.Path, "/api/") {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = n
		r.TransferEncoding = nil
		u.relay.ServeHTTP(w, r)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Upstream", u.Name)
	_ = json.NewEncoder(w).Encode(map[string]any{"upstream": u.Name, "path": r.URL.Path, "bodyLength": n})
}

// Requests returns a copy of the requests received so far.
func (u *Upstream) Requests() []Received {
	u.mu.Lock()
	defer u.mu.Unlock()

	return append([]Received(nil), u.received...)
}

// Reset clears the requests received so far.
func (u *Upstream) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()

	u.received = nil
}
