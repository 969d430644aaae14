package interop

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shellCommand runs examples/shell/sign.sh with real bash, openssl and
// curl, signing with the key file of the given encoding.
func shellCommand(t *testing.T, s *Server, encoding string, args ...string) *exec.Cmd {
	t.Helper()

	script := filepath.Join(repositoryRoot(t), "examples", "shell", "sign.sh")
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = commandEnv(
		"INTERNALAUTH_KEY_ID="+KeyID,
		"INTERNALAUTH_KEY_FILE="+s.KeyFiles[encoding],
		"INTERNALAUTH_KEY_ENCODING="+encoding,
		"INTERNALAUTH_CACERT="+s.PKI.CAFile,
		"INTERNALAUTH_CERT="+s.PKI.ClientCertFile,
		"INTERNALAUTH_KEY="+s.PKI.ClientKeyFile,
	)

	return cmd
}

func TestShellRecipeSendsRequest(t *testing.T) {
	s := StartServer(t)
	bodyFile := writeBody(t)

	for _, encoding := range []string{"raw", "base64", "hex"} {
		t.Run(encoding+" key", func(t *testing.T) {
			cmd := shellCommand(t, s, encoding, testMethod, s.URL(Host, testTarget), bodyFile,
				"--", "--resolve", s.Resolve(Host))

			code, stdout, stderr := runCommand(t, cmd)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			checkEcho(t, stdout, signedRequest{method: testMethod, body: []byte(testBody)})
		})
	}

	t.Run("GET without body", func(t *testing.T) {
		cmd := shellCommand(t, s, "raw", "GET", s.URL(Host, "/api/internal/health"),
			"--", "--resolve", s.Resolve(Host))

		code, stdout, stderr := runCommand(t, cmd)
		require.Equal(t, 0, code, "stderr: %s", stderr)
		assert.Contains(t, string(stdout), `"method":"GET"`)
	})
}

func TestShellRecipePrintedHeadersAccepted(t *testing.T) {
	s := StartServer(t)
	url := s.URL(Host, testTarget)

	code, stdout, stderr := runCommand(t, shellCommand(t, s, "raw", "-p", testMethod, url, writeBody(t)))
	require.Equal(t, 0, code, "stderr: %s", stderr)

	header := parseHeaderLines(t, stdout)
	checkSigned(t, s, signedRequest{method: testMethod, url: url, body: []byte(testBody), header: header})
}

func TestShellRecipeRejectionFailsCurl(t *testing.T) {
	s := StartServer(t)

	cmd := shellCommand(t, s, "raw", testMethod, s.URL(Host, testTarget), writeBody(t),
		"--", "--resolve", s.Resolve(Host))
	cmd.Env = append(cmd.Env, "INTERNALAUTH_KEY_ID="+OtherKeyID)

	code, stdout, _ := runCommand(t, cmd)
	assert.Equal(t, 22, code, "curl --fail-with-body exits 22 on a 4xx status")
	assert.Contains(t, string(stdout), `"reason":"signature_mismatch"`)
}

func TestShellRecipeErrors(t *testing.T) {
	s := StartServer(t)

	shortKey := filepath.Join(t.TempDir(), "short.key")
	require.NoError(t, os.WriteFile(shortKey, []byte("short"), 0o600))

	cases := []struct {
		name    string
		args    []string
		env     string
		message string
	}{
		{"plain http", []string{"GET", "http://" + Host + "/"}, "", "use https"},
		{"short key", []string{"GET", s.URL(Host, "/")}, "INTERNALAUTH_KEY_FILE=" + shortKey, "the key is 5 bytes"},
		{"bad encoding", []string{"GET", s.URL(Host, "/")}, "INTERNALAUTH_KEY_ENCODING=base32", "invalid INTERNALAUTH_KEY_ENCODING"},
		{"missing body file", []string{"POST", s.URL(Host, "/"), "/nonexistent/body.json"}, "", "cannot read the body file"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := shellCommand(t, s, "raw", tc.args...)
			if tc.env != "" {
				cmd.Env = append(cmd.Env, tc.env)
			}

			code, _, stderr := runCommand(t, cmd)
			assert.Equal(t, 2, code)
			assert.Contains(t, string(stderr), tc.message)
		})
	}
}

// pythonCommand runs examples/python/sign.py with python3.
func pythonCommand(t *testing.T, s *Server, encoding string, args ...string) *exec.Cmd {
	t.Helper()

	script := filepath.Join(repositoryRoot(t), "examples", "python", "sign.py")
	base := []string{script, "--key-id", KeyID, "--key-file", s.KeyFiles[encoding], "--key-encoding", encoding}

	cmd := exec.Command("python3", append(base, args...)...)
	cmd.Env = commandEnv()

	return cmd
}

func TestPythonExampleSendsRequest(t *testing.T) {
	s := StartServer(t)
	bodyFile := writeBody(t)

	for _, encoding := range []string{"raw", "base64", "hex"} {
		t.Run(encoding+" key", func(t *testing.T) {
			cmd := pythonCommand(t, s, encoding,
				"--cacert", s.PKI.CAFile, "--cert", s.PKI.ClientCertFile, "--key", s.PKI.ClientKeyFile,
				"--resolve", s.Resolve(Host), "--data-file", bodyFile, testMethod, s.URL(Host, testTarget))

			code, stdout, stderr := runCommand(t, cmd)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			assert.Contains(t, string(stderr), "200 OK")
			checkEcho(t, stdout, signedRequest{method: testMethod, body: []byte(testBody)})
		})
	}
}

func TestPythonExamplePrintedHeadersAccepted(t *testing.T) {
	s := StartServer(t)
	url := s.URL(Host, testTarget)

	code, stdout, stderr := runCommand(t, pythonCommand(t, s, "raw",
		"--print-headers", "--data-file", writeBody(t), testMethod, url))
	require.Equal(t, 0, code, "stderr: %s", stderr)

	header := parseHeaderLines(t, stdout)
	checkSigned(t, s, signedRequest{method: testMethod, url: url, body: []byte(testBody), header: header})
}

func TestPythonExampleRejectedExitCode(t *testing.T) {
	s := StartServer(t)

	// The key of KeyID under the id of another key: signature_mismatch.
	cmd := pythonCommand(t, s, "raw", "--key-id", OtherKeyID,
		"--cacert", s.PKI.CAFile, "--cert", s.PKI.ClientCertFile, "--key", s.PKI.ClientKeyFile,
		"--resolve", s.Resolve(Host), http.MethodGet, s.URL(Host, "/api/internal/health"))

	code, stdout, stderr := runCommand(t, cmd)
	assert.Equal(t, 3, code, "stderr: %s", stderr)
	assert.Contains(t, string(stderr), "401 Unauthorized")
	assert.Contains(t, string(stdout), `"reason":"signature_mismatch"`)
}

func TestPythonExampleConnectionFailure(t *testing.T) {
	s := StartServer(t)

	// Without a client certificate the TLS handshake fails.
	cmd := pythonCommand(t, s, "raw", "--cacert", s.PKI.CAFile,
		"--resolve", s.Resolve(Host), http.MethodGet, s.URL(Host, "/api/internal/health"))

	code, _, stderr := runCommand(t, cmd)
	assert.Equal(t, 1, code)
	assert.Contains(t, string(stderr), "failed")
}
