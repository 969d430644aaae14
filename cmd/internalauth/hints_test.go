package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/internalauth/internalauth/interop"
)

// clientAuthServer is a TLS server on loopback for testInternalHost
// that requires a client certificate. The files are PEM, as sign reads
// them.
type clientAuthServer struct {
	port         string
	serverCAFile string
	trustedCA    *testCertificate
	dir          string
}

// startClientAuthServer starts a server that verifies client
// certificates against trustedCA, or, when trustedCA is nil, requests
// any certificate and rejects every one it receives. maxVersion 0 lets
// TLS 1.3 be negotiated.
func startClientAuthServer(t *testing.T, trustedCA *testCertificate, maxVersion uint16) *clientAuthServer {
	t.Helper()

	s := &clientAuthServer{dir: t.TempDir(), trustedCA: trustedCA}
	serverCA := newTestCA(t, "server CA")
	server := newServerCertificate(t, serverCA, testInternalHost)
	s.serverCAFile = writeCertificates(t, s.dir, "server_ca.crt", serverCA)

	config := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{server.cert.Raw}, PrivateKey: server.key}},
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   maxVersion,
	}

	if trustedCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(trustedCA.cert)
		config.ClientAuth = tls.RequireAndVerifyClientCert
		config.ClientCAs = pool
	} else {
		config.ClientAuth = tls.RequireAnyClientCert
		config.VerifyPeerCertificate = func([][]byte, [][]*x509.Certificate) error {
			return errRejectedForTest
		}
	}

	httpServer := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.WriteHeader(http.StatusNoContent)
	}))
	httpServer.TLS = config
	httpServer.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	httpServer.StartTLS()
	t.Cleanup(httpServer.Close)

	_, port, err := net.SplitHostPort(httpServer.Listener.Addr().String())
	require.NoError(t, err)

	s.port = port

	return s
}

var errRejectedForTest = errors.New("rejected by the test server")

// signTo runs sign against the server with the given client
// certificate, or none when client is nil.
func (s *clientAuthServer) signTo(t *testing.T, client *testCertificate) (int, string) {
	t.Helper()

	args := []string{
		"--key-id", "ops", "--key-file", writeKeyFile(t, strings.Repeat("k", 32)),
		"--cacert", s.serverCAFile, "--resolve", testInternalHost + ":" + s.port + ":127.0.0.1",
	}

	if client != nil {
		args = append(args, "--cert", writeCertificates(t, s.dir, "client.crt", client),
			"--key", writeKey(t, s.dir, "client.key", client.key))
	}

	code, stdout, stderr := runSignArgs(append(args, "https://"+testInternalHost+":"+s.port+"/api/internal/x"), "")
	assert.Empty(t, stdout)

	return code, stderr
}

func newClientCertificate(t *testing.T, ca *testCertificate) *testCertificate {
	t.Helper()

	return issue(t, certificateSpec{
		commonName: "automation",
		extUsage:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca)
}

func TestSignHintClientCertificateFromOtherCA(t *testing.T) {
	for name, version := range map[string]uint16{"tls 1.3": 0, "tls 1.2": tls.VersionTLS12} {
		t.Run(name, func(t *testing.T) {
			s := startClientAuthServer(t, newTestCA(t, "dedicated client CA"), version)

			code, stderr := s.signTo(t, newClientCertificate(t, newTestCA(t, "standard internal CA")))

			assert.Equal(t, exitFailure, code)
			assert.Contains(t, stderr, "/api/internal/x failed: ", "the original error stays")
			assert.Contains(t, stderr, `the server accepts client certificates issued by "dedicated client CA", `+
				`but --cert `+s.dir+`/client.crt is issued by "standard internal CA", so none was sent`)
			assert.Contains(t, stderr, "the CA that the server trusts for "+testInternalHost)
		})
	}
}

func TestSignHintClientCertificateMissing(t *testing.T) {
	s := startClientAuthServer(t, newTestCA(t, "dedicated client CA"), 0)

	code, stderr := s.signTo(t, nil)

	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "/api/internal/x failed: ")
	assert.Contains(t, stderr, "the server requires a client certificate: pass --cert and --key\n")
}

func TestSignHintClientCertificateRejected(t *testing.T) {
	s := startClientAuthServer(t, nil, 0)

	code, stderr := s.signTo(t, newClientCertificate(t, newTestCA(t, "some CA")))

	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "/api/internal/x failed: ")
	assert.Contains(t, stderr, "the server closed the connection after it received the client certificate")
	assert.Contains(t, stderr, "within its validity period")
}

func TestSignHintServerNotVerified(t *testing.T) {
	trusted := newTestCA(t, "dedicated client CA")
	s := startClientAuthServer(t, trusted, 0)
	s.serverCAFile = writeCertificates(t, s.dir, "wrong_ca.crt", newTestCA(t, "unrelated CA"))

	code, stderr := s.signTo(t, newClientCertificate(t, trusted))

	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "certificate signed by unknown authority", "the original error stays")
	assert.Contains(t, stderr, "did not verify the server certificate: give the CA that issued it")
}

func TestConnectionHintAfterReset(t *testing.T) {
	opts := &signOptions{clientCert: "client.crt", caCert: "ca.pem"}
	reset := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}

	hint := connectionHint(fmt.Errorf("request failed: %w", reset), opts, testInternalHost,
		certificateRequestState{}, nil)

	assert.Contains(t, hint, "the server closed the connection during or just after the TLS handshake")
	assert.Contains(t, hint, "check that --cert and --key are given")
	assert.Contains(t, hint, "issued by the CA that the server trusts for "+testInternalHost)
	assert.Contains(t, hint, "--cacert names the CA of the server certificate")

	assert.Empty(t, connectionHint(errors.New("dial tcp: connection refused"), opts, testInternalHost,
		certificateRequestState{}, nil), "no hint when the server was never reached")
}

// TestSignRawKeyMismatchHint reads a base64 key file without
// --key-encoding: the signature is rejected and the hint names the flag.
func TestSignRawKeyMismatchHint(t *testing.T) {
	s := interop.StartServer(t)

	send := func(extra ...string) (int, string) {
		args := []string{
			"--key-id", interop.KeyID, "--cacert", s.PKI.CAFile,
			"--cert", s.PKI.ClientCertFile, "--key", s.PKI.ClientKeyFile, "--resolve", s.Resolve(interop.Host),
		}
		code, _, stderr := runSignArgs(append(append(args, extra...), s.URL(interop.Host, "/api/internal/health")), "")

		return code, stderr
	}

	code, stderr := send("--key-file", s.KeyFiles["base64"])
	assert.Equal(t, exitRejected, code, stderr)
	assert.Contains(t, stderr, "rejected with reason signature_mismatch")
	assert.Contains(t, stderr, "if the key file is base64 or hex, pass --key-encoding base64")

	code, stderr = send("--key-file", s.KeyFiles["hex"])
	assert.Equal(t, exitRejected, code, stderr)
	assert.Contains(t, stderr, "pass --key-encoding hex")

	code, stderr = send("--key-file", writeKeyFile(t, strings.Repeat("w", 40)))
	assert.Equal(t, exitRejected, code, stderr)
	assert.NotContains(t, stderr, "--key-encoding", "a raw key that looks like no encoding gets no hint")

	code, stderr = send("--key-file", s.KeyFiles["base64"], "--key-encoding", "base64")
	assert.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "--key-encoding")
}
