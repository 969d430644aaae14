package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

const keyID = "automation"

// deployment is one compose example running in Traefik, with its PKI,
// its upstreams and the HMAC key its plugin verifies.
type deployment struct {
	pki     *harness.PKI
	api     *harness.Upstream
	portal  *harness.Upstream // nil in the split topology
	traefik *harness.Traefik
	key     []byte

	// publicHost is the hostname on which /api/internal must return 403:
	// the portal, or the standard API host in the split topology.
	publicHost string

	// publicCert is the client certificate the public host needs: none
	// for the portal, a standard-PKI one for the standard API host.
	publicCert *harness.Certificate
}

// deploy starts an example. edit, when not nil, changes the Site before
// Traefik starts, to add labels or file-provider files.
func deploy(t *testing.T, example harness.Example, edit func(*harness.Site, *deployment)) *deployment {
	t.Helper()

	dir := t.TempDir()
	pki, err := harness.NewPKI(dir)
	if err != nil {
		t.Fatal(err)
	}

	d := &deployment{pki: pki, key: make([]byte, 32), publicHost: example.PublicHost}
	if _, err := rand.Read(d.key); err != nil {
		t.Fatal(err)
	}
	d.api = harness.StartUpstream(t, "api", nil)
	urls := map[string]string{"api": d.api.URL}
	if example == harness.SingleSite {
		d.portal = harness.StartUpstream(t, "portal", d.api)
		urls["portal"] = d.portal.URL
	} else {
		d.publicCert = pki.Standard
	}

	site, err := example.Site(dir, pki, harness.ExampleKey{ID: keyID, Value: d.key}, urls)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(site, d)
	}

	opts, err := site.TraefikOptions()
	if err != nil {
		t.Fatal(err)
	}
	d.traefik = harness.StartTraefik(t, opts)

	return d
}

// internalURL returns the URL of target on the dedicated hostname.
func (d *deployment) internalURL(target string) string {
	return "https://" + harness.InternalHost + ":" + d.traefik.Port() + target
}

// publicURL returns the URL of target on the public hostname.
func (d *deployment) publicURL(target string) string {
	return "https://" + d.publicHost + ":" + d.traefik.Port() + target
}

// signed returns a request to the dedicated hostname signed with the
// deployment's key.
func (d *deployment) signed(t *testing.T, method, target string, body []byte, opts *internalauth.SignOptions) *http.Request {
	t.Helper()

	return d.signedURL(t, method, d.internalURL(target), body, opts)
}

// signedURL returns a request to rawURL signed with the deployment's key.
func (d *deployment) signedURL(t *testing.T, method, rawURL string, body []byte, opts *internalauth.SignOptions) *http.Request {
	t.Helper()

	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := internalauth.Sign(req, keyID, d.key, opts); err != nil {
		t.Fatalf("sign %s %s: %v", method, rawURL, err)
	}

	return req
}

// client returns a client that presents cert (nil for none) and
// connects from 127.0.0.1.
func (d *deployment) client(cert *harness.Certificate) *http.Client {
	return d.traefik.Client(d.pki, harness.ClientOptions{Cert: cert})
}

// resetUpstreams clears the upstreams' records, so a subtest checks only
// its own requests.
func (d *deployment) resetUpstreams() {
	d.api.Reset()
	if d.portal != nil {
		d.portal.Reset()
	}
}

// received returns what the upstreams received, API last.
func (d *deployment) received() []harness.Received {
	var all []harness.Received
	if d.portal != nil {
		all = append(all, d.portal.Requests()...)
	}

	return append(all, d.api.Requests()...)
}

// response is a response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
	reason string // the problem+json reason, when the plugin rejected
}

func do(t *testing.T, client *http.Client, req *http.Request) response {
	t.Helper()

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", req.Method, req.URL, err)
	}

	r := response{status: resp.StatusCode, header: resp.Header, body: body}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "application/problem+json" {
		var problem struct {
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(body, &problem); err != nil {
			t.Errorf("decode problem+json %q: %v", body, err)
		}
		r.reason = problem.Reason
	}

	return r
}

// expectRejected checks a plugin rejection: its status, its reason and
// that no upstream received anything.
func expectRejected(t *testing.T, d *deployment, got response, status int, reason string) {
	t.Helper()

	if got.status != status {
		t.Errorf("status = %d, want %d (body %q)", got.status, status, got.body)
	}
	if got.reason != reason {
		t.Errorf("reason = %q, want %q", got.reason, reason)
	}
	expectNothingReceived(t, d)
}

func expectNothingReceived(t *testing.T, d *deployment) {
	t.Helper()

	for _, r := range d.received() {
		t.Errorf("upstream received %s %s (Host %s)", r.Method, r.RequestURI, r.Host)
	}
}

// expectAPIReceived checks that the API received exactly one request,
// the given one, with the headers the plugin sets on success, and
// returns it.
func expectAPIReceived(t *testing.T, d *deployment, method, requestURI string) harness.Received {
	t.Helper()

	got := d.api.Requests()
	if len(got) != 1 {
		t.Fatalf("API received %d requests, want 1: %+v", len(got), got)
	}
	r := got[0]
	if r.Method != method || r.RequestURI != requestURI {
		t.Errorf("API received %s %s, want %s %s", r.Method, r.RequestURI, method, requestURI)
	}
	if id := r.Header.Get(internalauth.DefaultKeyIDHeader); id != keyID {
		t.Errorf("API header %s = %q, want %q", internalauth.DefaultKeyIDHeader, id, keyID)
	}
	wantCert := certificateSHA256(d.pki.Pinned)
	if cert := r.Header.Get(internalauth.DefaultCertificateHeader); cert != wantCert {
		t.Errorf("API header %s = %q, want %q", internalauth.DefaultCertificateHeader, cert, wantCert)
	}

	return r
}

func certificateSHA256(c *harness.Certificate) string {
	sha256Hex, _ := internalauth.CertificatePins(c.Cert)
	return strings.ToLower(strings.ReplaceAll(sha256Hex, ":", ""))
}

// isInternalPath reports whether a lenient server would route the
// request-target to /api/internal. Such a server decodes the path once,
// ignores case and takes a backslash for a slash. It also strips path
// parameters (";" to the end of a segment) and removes dot segments and
// doubled slashes.
func isInternalPath(requestURI string) bool {
	rawPath, _, _ := strings.Cut(requestURI, "?")
	decoded, err := url.PathUnescape(rawPath)
	if err != nil {
		decoded = rawPath
	}
	segments := strings.Split(strings.ReplaceAll(decoded, "\\", "/"), "/")
	for i, segment := range segments {
		segments[i], _, _ = strings.Cut(segment, ";")
	}
	decoded = strings.Join(segments, "/")
	for strings.Contains(decoded, "//") {
		decoded = strings.ReplaceAll(decoded, "//", "/")
	}
	cleaned := strings.ToLower(path.Clean("/" + decoded))

	return cleaned == "/api/internal" || strings.HasPrefix(cleaned, "/api/internal/")
}

// rawRequest sends request-target as written, which net/http would
// normalise, over a TLS connection with the given SNI and client
// certificate, and returns the status code.
func rawRequest(t *testing.T, d *deployment, sni string, cert *harness.Certificate, method, target, host string) int {
	t.Helper()

	config := &tls.Config{RootCAs: d.pki.ServerCA.Pool(), ServerName: sni, MinVersion: tls.VersionTLS12}
	if cert != nil {
		config.Certificates = []tls.Certificate{cert.TLS()}
	}
	conn, err := tls.Dial("tcp", d.traefik.HTTPSAddr, config)
	if err != nil {
		t.Fatalf("connect with SNI %s: %v", sni, err)
	}
	defer conn.Close()

	_, err = io.WriteString(conn, method+" "+target+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	if err != nil {
		t.Fatalf("write %s %s: %v", method, target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %s %s: %v", method, target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	return resp.StatusCode
}

// loopback2 is a second loopback address, outside the allowlist.
var loopback2 = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
