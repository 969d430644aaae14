package interop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/internalauth/internalauth"
)

// The request every signer signs in these tests.
const (
	testMethod = http.MethodPost
	testTarget = "/api/internal/users/reset-otp?user=42"
	testBody   = `{"user":42,"reason":"lost phone"}`
)

// signedRequest is a request with the signature headers a signer made
// for it.
type signedRequest struct {
	method string
	url    string
	body   []byte
	header http.Header
}

func (r signedRequest) clone() signedRequest {
	c := r
	c.header = r.header.Clone()
	c.body = append([]byte(nil), r.body...)

	return c
}

// tamperCase changes one part of a signed request, and names the status
// and reason the middleware must reject the copy with.
type tamperCase struct {
	name   string
	change func(s *Server, r *signedRequest)
	status int
	reason string
}

var tamperCases = []tamperCase{
	{"method", func(_ *Server, r *signedRequest) { r.method = http.MethodPut },
		http.StatusUnauthorized, "signature_mismatch"},
	{"path", func(_ *Server, r *signedRequest) {
		r.url = strings.Replace(r.url, "/reset-otp", "/delete", 1)
	}, http.StatusUnauthorized, "signature_mismatch"},
	{"query", func(_ *Server, r *signedRequest) {
		r.url = strings.Replace(r.url, "user=42", "user=43", 1)
	}, http.StatusUnauthorized, "signature_mismatch"},
	{"query added", func(_ *Server, r *signedRequest) { r.url += "&admin=1" },
		http.StatusUnauthorized, "signature_mismatch"},
	{"body", func(_ *Server, r *signedRequest) { r.body = []byte(`{"user":1,"reason":"lost phone"}`) },
		http.StatusUnauthorized, "content_digest_mismatch"},
	{"body and digest", func(_ *Server, r *signedRequest) {
		r.body = []byte(`{"user":1}`)
		sum := sha256.Sum256(r.body)
		r.header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
	}, http.StatusUnauthorized, "signature_mismatch"},
	{"authority", func(s *Server, r *signedRequest) {
		r.url = strings.Replace(r.url, Host, OtherHost, 1)
	}, http.StatusUnauthorized, "signature_mismatch"},
	{"host header", func(_ *Server, r *signedRequest) { r.header.Set("Host", OtherHost) },
		http.StatusForbidden, "host_mismatch"},
	{"key id of another key", func(_ *Server, r *signedRequest) {
		replaceKeyID(r, OtherKeyID)
	}, http.StatusUnauthorized, "signature_mismatch"},
	{"unknown key id", func(_ *Server, r *signedRequest) {
		replaceKeyID(r, UnknownKeyID)
	}, http.StatusUnauthorized, "keyid_unknown"},
	{"signature removed", func(_ *Server, r *signedRequest) { r.header.Del("Signature") },
		http.StatusUnauthorized, "signature_missing"},
}

func replaceKeyID(r *signedRequest, keyID string) {
	input := r.header.Get("Signature-Input")
	r.header.Set("Signature-Input", strings.Replace(input, `keyid="`+KeyID+`"`, `keyid="`+keyID+`"`, 1))
}

// checkSigned sends each tampered copy of signed and expects its
// rejection, then sends signed itself and expects it to pass once and
// to be rejected as a replay after.
func checkSigned(t *testing.T, s *Server, signed signedRequest) {
	t.Helper()

	require.Contains(t, signed.header.Get("Signature-Input"), `keyid="`+KeyID+`"`,
		"the signer must send the keyid parameter")

	for _, tc := range tamperCases {
		t.Run("tampered "+tc.name, func(t *testing.T) {
			tampered := signed.clone()
			tc.change(s, &tampered)

			status, body, err := s.Send(s.PKI.Client, tampered.method, tampered.url, tampered.header, tampered.body)
			require.NoError(t, err)
			assert.Equal(t, tc.status, status, "body: %s", body)

			problem, err := ParseProblem(body)
			require.NoError(t, err)
			assert.Equal(t, tc.reason, problem.Reason)
		})
	}

	t.Run("unpinned client certificate", func(t *testing.T) {
		status, body, err := s.Send(s.PKI.Unpinned, signed.method, signed.url, signed.header, signed.body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status)

		problem, err := ParseProblem(body)
		require.NoError(t, err)
		assert.Equal(t, "certificate_not_pinned", problem.Reason)
	})

	status, body, err := s.Send(s.PKI.Client, signed.method, signed.url, signed.header, signed.body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "the untampered request must pass: %s", body)
	checkEcho(t, body, signed)

	status, body, err = s.Send(s.PKI.Client, signed.method, signed.url, signed.header, signed.body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, status)

	problem, err := ParseProblem(body)
	require.NoError(t, err)
	assert.Equal(t, "nonce_replayed", problem.Reason)
}

// checkEcho checks the upstream's echo of a request that passed.
func checkEcho(t *testing.T, body []byte, signed signedRequest) {
	t.Helper()

	var echo Received
	require.NoError(t, json.Unmarshal(body, &echo), "upstream echo: %s", body)

	assert.Equal(t, signed.method, echo.Method)
	assert.Equal(t, "/api/internal/users/reset-otp", echo.Path)
	assert.Equal(t, "user=42", echo.Query)
	assert.Equal(t, KeyID, echo.KeyID)
	assert.Len(t, echo.ClientID, 64)
	assert.Equal(t, string(signed.body), echo.Body)
}

// parseHeaderLines reads "Name: value" lines, as --print-headers and the
// examples print them.
func parseHeaderLines(t *testing.T, output []byte) http.Header {
	t.Helper()

	header := http.Header{}
	scanner := bufio.NewScanner(bytes.NewReader(output))

	for scanner.Scan() {
		line := scanner.Text()
		if line == "" {
			continue
		}

		name, value, found := strings.Cut(line, ": ")
		require.True(t, found, "not a header line: %q", line)
		header.Add(name, value)
	}

	for _, name := range []string{"Content-Digest", "Signature-Input", "Signature"} {
		require.NotEmpty(t, header.Get(name), "%s missing from the printed headers:\n%s", name, output)
	}

	return header
}

func TestGoAPISignatureAccepted(t *testing.T) {
	s := StartServer(t)

	url := s.URL(Host, testTarget)

	req, err := http.NewRequest(testMethod, url, strings.NewReader(testBody))
	require.NoError(t, err)
	require.NoError(t, internalauth.Sign(req, KeyID, s.Key, nil))

	checkSigned(t, s, signedRequest{method: testMethod, url: url, body: []byte(testBody), header: req.Header})
}

func TestGoAPIExpiresAndTagAccepted(t *testing.T) {
	s := StartServer(t)

	url := s.URL(Host, "/api/internal/health")

	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	require.NoError(t, err)

	opts := &internalauth.SignOptions{Label: "ops", Tag: "internalauth"}
	opts.Created = time.Now()
	opts.Expires = opts.Created.Add(time.Minute)
	require.NoError(t, internalauth.Sign(req, KeyID, s.Key, opts))

	status, body, err := s.Send(s.PKI.Client, http.MethodGet, url, req.Header, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "body: %s", body)
}

// repositoryRoot returns the module root, the parent of this package.
func repositoryRoot(t *testing.T) string {
	t.Helper()

	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)

	return filepath.Dir(filepath.Dir(file))
}

// commandEnv returns the environment for a subprocess, with proxy
// variables removed so every request stays on loopback.
func commandEnv(extra ...string) []string {
	var env []string

	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if strings.HasSuffix(strings.ToLower(name), "_proxy") {
			continue
		}

		env = append(env, entry)
	}

	return append(append(env, "NO_PROXY=*"), extra...)
}

// runCommand runs a subprocess and returns its exit code, stdout and
// stderr. A command that cannot start fails the test.
func runCommand(t *testing.T, cmd *exec.Cmd) (int, []byte, []byte) {
	t.Helper()

	var stdout, stderr bytes.Buffer

	cmd.Stdout = &stdout
	cmd.Stderr = &stderr

	err := cmd.Run()

	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}

	return cmd.ProcessState.ExitCode(), stdout.Bytes(), stderr.Bytes()
}
