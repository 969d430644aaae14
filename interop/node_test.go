package interop

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/internalauth/internalauth"
)

// nodePackageVersion is the exact version of http-message-signatures
// pinned in node/package.json and node/package-lock.json.
const nodePackageVersion = "1.0.6"

var (
	nodeOnce   sync.Once
	nodeScript string
	nodeErr    error
)

// nodeFiles are copied from node/ into the install directory, so the
// script resolves the package from the node_modules beside it.
var nodeFiles = []string{"package.json", "package-lock.json", "interop.mjs"}

// installNodePackage installs node/package-lock.json with npm ci into
// .build/interop-node, unless the pinned version is already there, and
// returns the path of the script. The Makefile's interop-deps target does
// the same install. Without the registry the test fails.
func installNodePackage(t *testing.T) string {
	t.Helper()

	nodeOnce.Do(func() {
		root := repositoryRoot(t)
		dir := filepath.Join(root, ".build", "interop-node")

		if nodeErr = os.MkdirAll(dir, 0o755); nodeErr != nil {
			return
		}

		lockChanged := false

		for _, name := range nodeFiles {
			content, err := os.ReadFile(filepath.Join(root, "interop", "node", name))
			if err != nil {
				nodeErr = err

				return
			}

			installed, _ := os.ReadFile(filepath.Join(dir, name))
			if name != "interop.mjs" && !bytes.Equal(installed, content) {
				lockChanged = true
			}

			if nodeErr = os.WriteFile(filepath.Join(dir, name), content, 0o644); nodeErr != nil {
				return
			}
		}

		nodeScript = filepath.Join(dir, "interop.mjs")

		if !lockChanged && installedNodeVersion(dir) == nodePackageVersion {
			return
		}

		install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		install.Dir = dir

		if output, err := install.CombinedOutput(); err != nil {
			nodeErr = &installError{err: err, output: string(output)}
		}
	})

	require.NoError(t, nodeErr, "install http-message-signatures with npm ci into .build/interop-node")

	return nodeScript
}

type installError struct {
	err    error
	output string
}

func (e *installError) Error() string {
	return "npm ci failed: " + e.err.Error() + "\n" + e.output
}

func installedNodeVersion(dir string) string {
	content, err := os.ReadFile(filepath.Join(dir, "node_modules", "http-message-signatures", "package.json"))
	if err != nil {
		return ""
	}

	var manifest struct {
		Version string `json:"version"`
	}

	if json.Unmarshal(content, &manifest) != nil {
		return ""
	}

	return manifest.Version
}

// nodeRequest is the JSON input of interop.mjs.
type nodeRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Body    string            `json:"body"`
	KeyID   string            `json:"keyId"`
	KeyFile string            `json:"keyFile"`
	Headers map[string]string `json:"headers,omitempty"`
}

func runNode(t *testing.T, mode string, request nodeRequest) (int, []byte, []byte) {
	t.Helper()

	script := installNodePackage(t)

	input, err := json.Marshal(request)
	require.NoError(t, err)

	cmd := exec.Command("node", script, mode)
	cmd.Env = commandEnv()
	cmd.Stdin = bytes.NewReader(input)

	return runCommand(t, cmd)
}

func TestNodeLibrarySignatureAccepted(t *testing.T) {
	s := StartServer(t)
	url := s.URL(Host, testTarget)

	code, stdout, stderr := runNode(t, "sign", nodeRequest{
		Method: testMethod, URL: url, Body: testBody, KeyID: KeyID, KeyFile: s.KeyFiles["base64"],
	})
	require.Equal(t, 0, code, "stderr: %s", stderr)

	header := parseHeaderLines(t, stdout)
	checkSigned(t, s, signedRequest{method: testMethod, url: url, body: []byte(testBody), header: header})
}

func TestNodeLibraryVerifiesGoSignature(t *testing.T) {
	s := StartServer(t)
	url := s.URL(Host, testTarget)

	req, err := http.NewRequest(testMethod, url, strings.NewReader(testBody))
	require.NoError(t, err)
	require.NoError(t, internalauth.Sign(req, KeyID, s.Key, nil))

	signed := nodeRequest{
		Method: testMethod, URL: url, Body: testBody, KeyID: KeyID, KeyFile: s.KeyFiles["base64"],
		Headers: map[string]string{
			"Content-Digest":  req.Header.Get("Content-Digest"),
			"Signature-Input": req.Header.Get("Signature-Input"),
			"Signature":       req.Header.Get("Signature"),
		},
	}

	code, stdout, stderr := runNode(t, "verify", signed)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.JSONEq(t, `{"verified":true,"error":null}`, string(stdout))

	// verifyMessage of http-message-signatures 1.0.6 returns false for a
	// MAC that does not match, which interop.mjs reports as below.
	const mismatch = "no signature verified"

	tampered := []struct {
		name   string
		change func(r *nodeRequest)
		reason string
	}{
		{"method", func(r *nodeRequest) { r.Method = http.MethodPut }, mismatch},
		{"path", func(r *nodeRequest) { r.URL = strings.Replace(r.URL, "/reset-otp", "/delete", 1) }, mismatch},
		{"query", func(r *nodeRequest) { r.URL = strings.Replace(r.URL, "user=42", "user=43", 1) }, mismatch},
		{"authority", func(r *nodeRequest) { r.URL = strings.Replace(r.URL, Host, OtherHost, 1) }, mismatch},
		{"body", func(r *nodeRequest) { r.Body = `{"user":1}` }, "Content-Digest does not match the body"},
		{"key id", func(r *nodeRequest) {
			r.Headers["Signature-Input"] = strings.Replace(r.Headers["Signature-Input"],
				`keyid="`+KeyID+`"`, `keyid="`+OtherKeyID+`"`, 1)
			r.KeyID = OtherKeyID
		}, mismatch},
	}

	for _, tc := range tampered {
		t.Run("tampered "+tc.name, func(t *testing.T) {
			request := signed
			request.Headers = map[string]string{}

			for name, value := range signed.Headers {
				request.Headers[name] = value
			}

			tc.change(&request)

			code, stdout, stderr := runNode(t, "verify", request)
			assert.Equal(t, 1, code, "stderr: %s", stderr)
			assert.JSONEq(t, `{"verified":false,"error":"`+tc.reason+`"}`, string(stdout))
		})
	}
}
