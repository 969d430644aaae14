package internalauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testKeyID    = "ops-2026"
	testHost     = "apiinternal.example.test"
	testURL      = "https://apiinternal.example.test/api/internal/users/reset-otp?user=42"
	testBodyText = `{"user":42}`
)

func init() {
	// Start-up summaries would fill the test output; tests that check
	// log lines replace the rejection log's output instead.
	logger.SetOutput(io.Discard)
}

// testSecret is a 32-byte key used only by tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testNow is the fixed clock of the middleware under test.
var testNow = time.Unix(1767225600, 0)

// certificates made once per test binary.
var (
	certsOnce   sync.Once
	pinnedCert  *x509.Certificate
	otherCert   *x509.Certificate
	certsFailed error
)

func testCertificates(t testing.TB) (*x509.Certificate, *x509.Certificate) {
	t.Helper()

	certsOnce.Do(func() {
		pinnedCert, certsFailed = makeCertificate("pinned-client")
		if certsFailed == nil {
			otherCert, certsFailed = makeCertificate("other-client")
		}
	})
	require.NoError(t, certsFailed)

	return pinnedCert, otherCert
}

// makeCertificate creates a self-signed client certificate.
func makeCertificate(commonName string) (*x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}

	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}

	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}

	return x509.ParseCertificate(der)
}

// verifiedState is the TLS state of a connection whose client presented
// cert and whose TLS option verified it.
func verifiedState(cert *x509.Certificate) *tls.ConnectionState {
	return &tls.ConnectionState{
		HandshakeComplete: true,
		ServerName:        testHost,
		PeerCertificates:  []*x509.Certificate{cert},
		VerifiedChains:    [][]*x509.Certificate{{cert}},
	}
}

func certificatePin(cert *x509.Certificate) string {
	pin, _ := CertificatePins(cert)

	return pin
}

// testConfig returns a valid configuration that pins the pinned test
// certificate and holds testSecret inline.
func testConfig(t testing.TB) *Config {
	t.Helper()

	pinned, _ := testCertificates(t)

	cfg := CreateConfig()
	cfg.Keys = []KeyConfig{{ID: testKeyID, Secret: string(testSecret)}}
	cfg.Pins = []string{certificatePin(pinned)}
	cfg.ServerName = testHost

	return cfg
}

// nextRecorder is the next handler: it records whether it ran and what
// it received.
type nextRecorder struct {
	mu      sync.Mutex
	calls   int
	headers http.Header
	body    []byte
	length  int64
}

func (n *nextRecorder) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	body := make([]byte, 0)
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}

	n.mu.Lock()
	n.calls++
	n.headers = req.Header.Clone()
	n.body = body
	n.length = req.ContentLength
	n.mu.Unlock()

	rw.WriteHeader(http.StatusNoContent)
}

func (n *nextRecorder) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()

	return n.calls
}

// newTestMiddleware builds the middleware from cfg with the clock fixed
// at testNow. The name is unique per test so replay caches are not
// shared between tests.
func newTestMiddleware(t testing.TB, cfg *Config) (*Middleware, *nextRecorder) {
	t.Helper()

	next := &nextRecorder{}

	handler, err := New(context.Background(), next, cfg, "test-"+t.Name()+"-"+time.Now().Format("150405.000000000"))
	require.NoError(t, err)

	m := handler.(*Middleware)
	m.now = func() time.Time { return testNow }
	m.log.output = func(string) {}

	return m, next
}

// newSignedRequest returns a request to testURL with body, signed at
// testNow by testKeyID, arriving over TLS from the pinned certificate.
// prepare, when given, changes the request before it is signed.
func newSignedRequest(t testing.TB, method, target, body string, opts *SignOptions,
	prepare ...func(*http.Request),
) *http.Request {
	t.Helper()

	pinned, _ := testCertificates(t)

	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.TLS = verifiedState(pinned)

	for _, change := range prepare {
		change(req)
	}

	if opts == nil {
		opts = &SignOptions{}
	}

	if opts.Created.IsZero() {
		opts.Created = testNow
	}

	signed := req.Clone(req.Context())
	signed.URL.Scheme = "https"
	signed.Body = req.Body

	require.NoError(t, Sign(signed, testKeyID, testSecret, opts))

	req.Header = signed.Header
	req.Body = signed.Body
	req.ContentLength = signed.ContentLength

	return req
}

// serve runs req through m and returns the recorded response.
func serve(m http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)

	return rec
}

// flipPaddingBits rewrites the base64 of a "label=:...=:" field so that
// the unused bits of its last character are set: the same bytes in a
// non-canonical spelling.
func flipPaddingBits(field string) string {
	end := strings.LastIndex(field, "=:")
	last := field[end-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	index := strings.IndexByte(alphabet, last)

	return field[:end-1] + string(alphabet[index|1]) + field[end:]
}

// newSignedRequestWithKey returns the Signature field that key would give
// req's current Signature-Input.
func newSignedRequestWithKey(req *http.Request, key []byte) string {
	input := req.Header.Get("Signature-Input")
	members, _ := parseDictionary(input)
	sig, _ := parseSignatureInput(members[0])
	base, _ := signatureBase(req, "https", sig.components, sig.serialized)

	return "sig1=:" + base64.StdEncoding.EncodeToString(computeMAC(key, base)) + ":"
}

// resignHeaders recomputes the Signature field after a test changed the
// Signature-Input or a covered field, so only the intended change remains.
func resignHeaders(t testing.TB, req *http.Request) {
	t.Helper()

	req.Header.Set("Signature", newSignedRequestWithKey(req, testSecret))
}

func httptestBody(text string) io.ReadCloser {
	return io.NopCloser(strings.NewReader(text))
}

func sha512Base64(text string) string {
	sum := sha512.Sum512([]byte(text))

	return base64.StdEncoding.EncodeToString(sum[:])
}

// failingBody is a request body whose reads fail. Its methods name their
// receiver and parameters: yaegi v0.16.1 mis-assigns methods that do not.
type failingBody struct{ closed bool }

func (b *failingBody) Read(p []byte) (int, error) { return 0, errors.New("connection reset") }

func (b *failingBody) Close() error {
	b.closed = true

	return nil
}

// newChangedRequest builds the middleware from testConfig changed by
// configure, and a request signed with opts after prepare ran on it. A
// table case then applies its own change to the request.
func newChangedRequest(t *testing.T, configure func(cfg *Config), opts *SignOptions,
	prepare func(req *http.Request), method, target, body string,
) (*Middleware, *nextRecorder, *http.Request) {
	t.Helper()

	cfg := testConfig(t)
	if configure != nil {
		configure(cfg)
	}

	m, next := newTestMiddleware(t, cfg)

	var changes []func(*http.Request)
	if prepare != nil {
		changes = append(changes, prepare)
	}

	return m, next, newSignedRequest(t, method, target, body, opts, changes...)
}
