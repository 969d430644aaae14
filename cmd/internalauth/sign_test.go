package main

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/interop"
)

const testURL = "https://apiinternal.example.test/api/internal/users/reset-otp?user=42"

func runSignArgs(args []string, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer

	code := run(append([]string{"sign"}, args...), strings.NewReader(stdin), &stdout, &stderr)

	return code, stdout.String(), stderr.String()
}

func writeKeyFile(t *testing.T, content string) string {
	t.Helper()

	path := filepath.Join(t.TempDir(), "hmac.key")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

	return path
}

func TestSignHelpNamesEveryFlag(t *testing.T) {
	flags := newSignFlagSet(&signOptions{}, io.Discard)

	flags.VisitAll(func(f *flag.Flag) {
		prefix := "--"
		if len(f.Name) == 1 {
			prefix = "-"
		}

		assert.Contains(t, signHelp, prefix+f.Name, "the help text does not name flag %s", f.Name)
	})

	code, _, stderr := runSignArgs([]string{"--help"}, "")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "Exit codes:")
}

func TestSignHelpKeyFileNamesEncoding(t *testing.T) {
	start := strings.Index(signHelp, "  --key-file FILE")
	require.GreaterOrEqual(t, start, 0)

	end := strings.Index(signHelp[start:], "\n  --key-env")
	require.Greater(t, end, 0)
	assert.Contains(t, signHelp[start:start+end], "--key-encoding", "the --key-file entry names --key-encoding")

	flags := newSignFlagSet(&signOptions{}, io.Discard)
	assert.Contains(t, flags.Lookup("key-file").Usage, "--key-encoding")
}

func TestSignUsageErrors(t *testing.T) {
	keyFile := writeKeyFile(t, strings.Repeat("k", 32))

	cases := []struct {
		name    string
		args    []string
		message string
	}{
		{"missing URL", []string{"--key-id", "a", "--key-file", keyFile}, "missing URL"},
		{"two URLs", []string{"--key-id", "a", "--key-file", keyFile, testURL, testURL}, "2 URLs given"},
		{"plain http", []string{"--key-id", "a", "--key-file", keyFile, "http://apiinternal.example.test/"},
			"use an https URL"},
		{"fragment", []string{"--key-id", "a", "--key-file", keyFile, testURL + "#x"}, "remove the #fragment"},
		{"missing key id", []string{"--key-file", keyFile, testURL}, "missing --key-id"},
		{"no key source", []string{"--key-id", "a", testURL}, "exactly one of --key-file, --key-env or --key-stdin, found 0"},
		{"two key sources", []string{"--key-id", "a", "--key-file", keyFile, "--key-stdin", testURL},
			"found 2"},
		{"key and body on stdin", []string{"--key-id", "a", "--key-stdin", "--data-file", "-", testURL},
			"cannot both read it"},
		{"unknown encoding", []string{"--key-id", "a", "--key-file", keyFile, "--key-encoding", "base32", testURL},
			`invalid --key-encoding "base32"`},
		{"body twice", []string{"--key-id", "a", "--key-file", keyFile, "-d", "x", "-d", "y", testURL},
			"the body is given twice"},
		{"empty @", []string{"--key-id", "a", "--key-file", keyFile, "-d", "@", testURL}, "missing file name after @"},
		{"bad method", []string{"--key-id", "a", "--key-file", keyFile, "-X", "GET /", testURL}, "invalid method"},
		{"bad header", []string{"--key-id", "a", "--key-file", keyFile, "-H", "NoColon", testURL}, "invalid header"},
		{"signature header", []string{"--key-id", "a", "--key-file", keyFile, "-H", "signature: x", testURL},
			"header Signature cannot be set"},
		{"host header", []string{"--key-id", "a", "--key-file", keyFile, "-H", "Host: other", testURL},
			"use --resolve"},
		{"bad resolve", []string{"--key-id", "a", "--key-file", keyFile, "--resolve", "host:443", testURL},
			"write HOST:PORT:ADDRESS"},
		{"resolve to a name", []string{"--key-id", "a", "--key-file", keyFile, "--resolve", "a:443:b.example", testURL},
			"is not an IP address"},
		{"client key without cert", []string{"--key-id", "a", "--key-file", keyFile, "--key", "client.key", testURL},
			"--cert is missing"},
		{"negative expiry", []string{"--key-id", "a", "--key-file", keyFile, "--expires-in", "-1s", testURL},
			"give a positive duration"},
		{"unknown flag", []string{"--insecure", testURL}, "flag provided but not defined: -insecure"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runSignArgs(tc.args, "")

			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.message)
			assert.Empty(t, stdout)
		})
	}
}

func TestSignKeyErrors(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		stdin   string
		message string
	}{
		{"missing key file", []string{"--key-file", filepath.Join(t.TempDir(), "absent")}, nil, "",
			"cannot read --key-file"},
		{"empty key file", []string{"--key-file", writeKeyFile(t, "\n")}, nil, "", "is empty"},
		{"short raw key", []string{"--key-file", writeKeyFile(t, "short\n")}, nil, "",
			"is 5 bytes after raw decoding, the middleware requires at least 32"},
		{"invalid hex", []string{"--key-file", writeKeyFile(t, "zz"), "--key-encoding", "hex"}, nil, "",
			"is not valid hex"},
		{"unset variable", []string{"--key-env", "INTERNALAUTH_TEST_UNSET"}, nil, "", "is not set or empty"},
		{"short base64 on stdin", []string{"--key-stdin", "--key-encoding", "base64"}, nil, "c2hvcnQ=\n",
			"from standard input is 5 bytes"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--key-id", "ops"}, tc.args...)
			code, _, stderr := runSignArgs(append(args, testURL), tc.stdin)

			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.message)
		})
	}
}

// TestSignPrintHeadersPass prints the headers in process and sends them
// through the middleware, with each key encoding and the line break
// rule for key files.
func TestSignPrintHeadersPass(t *testing.T) {
	s := interop.StartServer(t)

	cases := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"raw file", []string{"--key-file", s.KeyFiles["raw"]}, ""},
		{"raw file with CRLF", []string{"--key-file", writeKeyFile(t, string(s.Key)+"\r\n")}, ""},
		{"base64 file", []string{"--key-file", s.KeyFiles["base64"], "--key-encoding", "base64"}, ""},
		{"hex stdin", []string{"--key-stdin", "--key-encoding", "HEX"}, readTestFile(t, s.KeyFiles["hex"])},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := s.URL(interop.Host, "/api/internal/users/reset-otp?user=42")
			args := append([]string{"--print-headers", "--key-id", interop.KeyID, "-d", `{"user":42}`}, tc.args...)

			code, stdout, stderr := runSignArgs(append(args, url), tc.stdin)
			require.Equal(t, exitOK, code, stderr)

			header := http.Header{}
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				name, value, _ := strings.Cut(line, ": ")
				header.Set(name, value)
			}

			assert.Len(t, header, 3)

			status, body, err := s.Send(s.PKI.Client, http.MethodPost, url, header, []byte(`{"user":42}`))
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, status, "body: %s", body)
		})
	}
}

func TestSignComponentsOverride(t *testing.T) {
	keyFile := writeKeyFile(t, strings.Repeat("k", 32))

	code, stdout, stderr := runSignArgs([]string{
		"--print-headers", "--key-id", "ops", "--key-file", keyFile, "--label", "ops",
		"--components", "@method,@authority @path", "-H", "Content-Type: application/json", testURL,
	}, "")

	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `Signature-Input: ops=("@method" "@authority" "@path");created=`)
	assert.NotContains(t, stdout, "Content-Digest")
}

func TestSignDefaultComponentsCoverHeaders(t *testing.T) {
	keyFile := writeKeyFile(t, strings.Repeat("k", 32))

	code, stdout, stderr := runSignArgs([]string{
		"--print-headers", "--key-id", "ops", "--key-file", keyFile,
		"-H", "Content-Type: application/json", "-H", "X-Request-Id: 1", testURL,
	}, "")

	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `("@method" "@authority" "@path" "@query" "content-digest" "content-type" "x-request-id")`)
	assert.Contains(t, stdout, "Content-Digest: sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
}

func TestSignUnknownComponentFails(t *testing.T) {
	keyFile := writeKeyFile(t, strings.Repeat("k", 32))

	code, _, stderr := runSignArgs([]string{
		"--print-headers", "--key-id", "ops", "--key-file", keyFile, "--components", "@status", testURL,
	}, "")

	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, `component "@status"`)
}

func TestSignMethodDefaults(t *testing.T) {
	keyFile := writeKeyFile(t, strings.Repeat("k", 32))

	opts, err := parseSignArgs([]string{"--key-id", "a", "--key-file", keyFile, testURL, "-d", "x"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, opts.method, "a body makes the default method POST")
	assert.Equal(t, testURL, opts.target, "flags may follow the URL")

	opts, err = parseSignArgs([]string{"--key-id", "a", "--key-file", keyFile, testURL}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, http.MethodGet, opts.method)
}

func TestParseResolve(t *testing.T) {
	host, port, address, err := parseResolve("apiinternal.example.com:8443:[::1]")
	require.NoError(t, err)
	assert.Equal(t, "apiinternal.example.com", host)
	assert.Equal(t, "8443", port)
	assert.Equal(t, "::1", address)

	_, _, _, err = parseResolve("apiinternal.example.com:https:127.0.0.1")
	assert.ErrorContains(t, err, "invalid port", "curl takes only a port number")

	_, _, _, err = parseResolve("apiinternal.example.com:99999:127.0.0.1")
	assert.ErrorContains(t, err, "invalid port")
}

func TestSignKeyCheckValueMatchesLibrary(t *testing.T) {
	key := strings.Repeat("k", 32)
	keyFile := writeKeyFile(t, key+"\n")

	code, _, stderr := runSignArgs([]string{
		"-v", "--print-headers", "--key-id", "ops", "--key-file", keyFile, testURL,
	}, "")

	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "check value "+internalauth.KeyCheckValue([]byte(key)))
	assert.NotContains(t, stderr, key)
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()

	content, err := os.ReadFile(path)
	require.NoError(t, err)

	return string(content)
}
