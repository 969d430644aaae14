package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/interop"
)

func newTestPKI(t *testing.T) *interop.PKI {
	t.Helper()

	pki, err := interop.NewPKI(t.TempDir(), []string{"apiinternal.example.test"})
	require.NoError(t, err)

	return pki
}

func runFingerprintArgs(args []string, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer

	code := run(append([]string{"fingerprint"}, args...), strings.NewReader(stdin), &stdout, &stderr)

	return code, stdout.String(), stderr.String()
}

func TestFingerprintPrintsBothPins(t *testing.T) {
	pki := newTestPKI(t)
	certificatePin, publicKeyPin := internalauth.CertificatePins(pki.ClientLeaf)

	code, stdout, stderr := runFingerprintArgs([]string{pki.ClientCertFile}, "")

	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `- "`+certificatePin+`"`)
	assert.Contains(t, stdout, `- "`+publicKeyPin+`"`)
	assert.Contains(t, stdout, `subject "CN=ops-automation"`)
	assert.Empty(t, stderr)
	assert.NoError(t, internalauth.ValidatePin(certificatePin))
	assert.NoError(t, internalauth.ValidatePin(publicKeyPin))
}

func TestFingerprintPlainBundle(t *testing.T) {
	pki := newTestPKI(t)

	clientPEM, err := os.ReadFile(pki.ClientCertFile)
	require.NoError(t, err)

	caPEM, err := os.ReadFile(pki.CAFile)
	require.NoError(t, err)

	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	require.NoError(t, os.WriteFile(bundle, append(clientPEM, caPEM...), 0o600))

	code, stdout, stderr := runFingerprintArgs([]string{"--plain", bundle}, "")

	require.Equal(t, exitOK, code, stderr)

	clientHex, clientSPKI := internalauth.CertificatePins(pki.ClientLeaf)
	caHex, caSPKI := internalauth.CertificatePins(pki.CA)
	assert.Equal(t, clientHex+"\n"+clientSPKI+"\n"+caHex+"\n"+caSPKI+"\n", stdout)
	assert.Contains(t, stderr, "certificate 2: warning: this is a CA certificate")
}

func TestFingerprintDERFromStdin(t *testing.T) {
	pki := newTestPKI(t)
	certificatePin, _ := internalauth.CertificatePins(pki.ClientLeaf)

	code, stdout, stderr := runFingerprintArgs([]string{"--plain", "-"}, string(pki.ClientLeaf.Raw))

	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, certificatePin+"\n"), stdout)
}

func TestFingerprintErrors(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()

	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

		return path
	}

	clientPEM, err := os.ReadFile(pki.ClientCertFile)
	require.NoError(t, err)

	keyPEM, err := os.ReadFile(pki.ClientKeyFile)
	require.NoError(t, err)

	cases := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"no argument", nil, exitUsage, "missing certificate file"},
		{"missing file", []string{filepath.Join(dir, "absent.crt")}, exitFailure, "no such file"},
		{"empty file", []string{write("empty.pem", "\n")}, exitFailure, "is empty"},
		{"private key only", []string{pki.ClientKeyFile}, exitFailure, "contains a private key"},
		{"certificate and key", []string{write("both.pem", string(clientPEM)+string(keyPEM))},
			exitFailure, "contains a private key"},
		{"no certificate block", []string{write("csr.pem", string(pem.EncodeToMemory(
			&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}})))}, exitFailure, "no CERTIFICATE block"},
		{"broken certificate", []string{write("broken.pem", string(pem.EncodeToMemory(
			&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}})))}, exitFailure, "certificate 1 is invalid"},
		{"not a certificate", []string{write("notes.txt", "hello")}, exitFailure, "neither PEM nor a DER certificate"},
		{"unknown flag", []string{"--sha1", pki.ClientCertFile}, exitUsage, "flag provided but not defined"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runFingerprintArgs(tc.args, "")

			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr, tc.message)
			assert.Empty(t, stdout)
		})
	}
}

func TestFingerprintHelp(t *testing.T) {
	code, _, stderr := runFingerprintArgs([]string{"-h"}, "")

	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "sha256//<base64>")
	assert.Contains(t, stderr, "-plain")
}
