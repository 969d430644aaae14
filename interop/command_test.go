package interop

import (
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

// The internalauth binary, built once per test binary.
var (
	commandOnce sync.Once
	commandPath string
	commandErr  error
	commandLog  []byte
)

// buildCommand builds cmd/internalauth into a temporary directory that
// lives as long as the test binary.
func buildCommand(t *testing.T) string {
	t.Helper()

	commandOnce.Do(func() {
		dir, err := os.MkdirTemp("", "internalauth-command-")
		if err != nil {
			commandErr = err

			return
		}

		commandPath = filepath.Join(dir, "internalauth")
		build := exec.Command("go", "build", "-o", commandPath, "./cmd/internalauth")
		build.Dir = repositoryRoot(t)
		commandLog, commandErr = build.CombinedOutput()
	})

	require.NoError(t, commandErr, "go build ./cmd/internalauth:\n%s", commandLog)

	return commandPath
}

func TestMain(m *testing.M) {
	code := m.Run()

	if commandPath != "" {
		_ = os.RemoveAll(filepath.Dir(commandPath))
	}

	os.Exit(code)
}

// signArgs returns the sign flags for the test server, followed by extra.
func signArgs(s *Server, extra ...string) []string {
	args := []string{
		"sign", "--key-id", KeyID,
		"--cacert", s.PKI.CAFile, "--cert", s.PKI.ClientCertFile, "--key", s.PKI.ClientKeyFile,
		"--resolve", s.Resolve(Host), "--resolve", s.Resolve(OtherHost),
	}

	return append(args, extra...)
}

func writeBody(t *testing.T) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(path, []byte(testBody), 0o600))

	return path
}

func TestCommandSignSendsRequest(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)
	bodyFile := writeBody(t)
	url := s.URL(Host, testTarget)

	cases := []struct {
		name  string
		args  []string
		env   []string
		stdin string
	}{
		{"raw key file", []string{"--key-file", s.KeyFiles["raw"], "-X", "POST", "--data-file", bodyFile}, nil, ""},
		{"base64 key in environment", []string{"--key-env", "OPS_HMAC_KEY", "--key-encoding", "base64",
			"-d", "@" + bodyFile}, []string{"OPS_HMAC_KEY=" + readFile(t, s.KeyFiles["base64"])}, ""},
		{"hex key on stdin", []string{"--key-stdin", "--key-encoding", "hex", "-d", testBody},
			nil, readFile(t, s.KeyFiles["hex"])},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, append(signArgs(s, tc.args...), url)...)
			cmd.Env = commandEnv(tc.env...)
			cmd.Stdin = strings.NewReader(tc.stdin)

			code, stdout, stderr := runCommand(t, cmd)
			require.Equal(t, 0, code, "stderr: %s", stderr)
			assert.Contains(t, string(stderr), "200 OK")
			checkEcho(t, stdout, signedRequest{method: http.MethodPost, body: []byte(testBody)})
		})
	}
}

func TestCommandPrintHeadersAccepted(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)
	url := s.URL(Host, testTarget)

	cmd := exec.Command(binary, "sign", "--print-headers", "--key-id", KeyID, "--key-file", s.KeyFiles["raw"],
		"-X", testMethod, "--data-file", "-", url)
	cmd.Env = commandEnv()
	cmd.Stdin = strings.NewReader(testBody)

	code, stdout, stderr := runCommand(t, cmd)
	require.Equal(t, 0, code, "stderr: %s", stderr)

	header := parseHeaderLines(t, stdout)
	checkSigned(t, s, signedRequest{method: testMethod, url: url, body: []byte(testBody), header: header})
}

func TestCommandSignVerboseCheckValue(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)

	cmd := exec.Command(binary, signArgs(s, "-v", "--key-file", s.KeyFiles["hex"], "--key-encoding", "hex",
		"-H", "X-Request-Id: 7f3a", "--expires-in", "1m", "--tag", "ops", s.URL(Host, "/api/internal/health"))...)
	cmd.Env = commandEnv()

	code, stdout, stderr := runCommand(t, cmd)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	assert.Contains(t, string(stderr), "check value "+internalauth.KeyCheckValue(s.Key))
	assert.Contains(t, string(stderr), `"x-request-id");created=`)
	assert.Contains(t, string(stderr), `;tag="ops"`)
	assert.Contains(t, string(stdout), `"method":"GET"`)
}

func TestCommandSignRejectedExitCode(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)

	wrongKey := filepath.Join(t.TempDir(), "wrong.key")
	require.NoError(t, os.WriteFile(wrongKey, []byte(strings.Repeat("w", 40)), 0o600))

	cases := []struct {
		name   string
		args   []string
		reason string
	}{
		{"wrong key", []string{"--key-file", wrongKey, s.URL(Host, testTarget)}, "signature_mismatch"},
		{"components missing", []string{"--key-file", s.KeyFiles["raw"], "--components", "@method @path",
			s.URL(Host, testTarget)}, "components_missing"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, signArgs(s, tc.args...)...)
			cmd.Env = commandEnv()

			code, stdout, stderr := runCommand(t, cmd)
			assert.Equal(t, 3, code, "stderr: %s", stderr)
			assert.Contains(t, string(stderr), "401 Unauthorized")
			assert.Contains(t, string(stderr), "rejected with reason "+tc.reason)
			assert.Contains(t, string(stdout), `"reason":"`+tc.reason+`"`)
		})
	}
}

func TestCommandSignConnectionFailure(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)

	// The server requires a client certificate, so the handshake fails.
	cmd := exec.Command(binary, "sign", "--key-id", KeyID, "--key-file", s.KeyFiles["raw"],
		"--cacert", s.PKI.CAFile, "--resolve", s.Resolve(Host), s.URL(Host, testTarget))
	cmd.Env = commandEnv()

	code, _, stderr := runCommand(t, cmd)
	assert.Equal(t, 1, code)
	assert.Contains(t, string(stderr), "failed")
}

func readFile(t *testing.T, path string) string {
	t.Helper()

	content, err := os.ReadFile(path)
	require.NoError(t, err)

	return string(content)
}

// TestCommandHeadersWithCurl follows the README: sign --print-headers
// writes the headers to a file and curl sends them with -H @FILE.
func TestCommandHeadersWithCurl(t *testing.T) {
	binary := buildCommand(t)
	s := StartServer(t)
	bodyFile := writeBody(t)
	url := s.URL(Host, testTarget)

	sign := exec.Command(binary, "sign", "--print-headers", "--key-id", KeyID, "--key-file", s.KeyFiles["raw"],
		"-X", testMethod, "-d", "@"+bodyFile, url)
	sign.Env = commandEnv()

	code, headers, stderr := runCommand(t, sign)
	require.Equal(t, 0, code, "stderr: %s", stderr)

	headerFile := filepath.Join(t.TempDir(), "signature.txt")
	require.NoError(t, os.WriteFile(headerFile, headers, 0o600))

	curl := exec.Command("curl", "--silent", "--show-error", "--fail-with-body",
		"--cacert", s.PKI.CAFile, "--cert", s.PKI.ClientCertFile, "--key", s.PKI.ClientKeyFile,
		"--resolve", s.Resolve(Host), "-H", "@"+headerFile, "--data-binary", "@"+bodyFile, url)
	curl.Env = commandEnv()

	code, stdout, stderr := runCommand(t, curl)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	checkEcho(t, stdout, signedRequest{method: testMethod, body: []byte(testBody)})
}
