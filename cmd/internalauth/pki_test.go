package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCertificate is a certificate made by a test, with its key.
type testCertificate struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// certificateSpec describes a certificate to issue. Zero values give a
// leaf with common name testInternalHost, no SAN and no extended key
// usage, valid from an hour ago for a year, with an ECDSA P-256 key.
type certificateSpec struct {
	commonName string
	dnsNames   []string
	isCA       bool
	keyUsage   x509.KeyUsage
	extUsage   []x509.ExtKeyUsage
	notBefore  time.Time
	notAfter   time.Time
	key        crypto.Signer
}

const (
	testInternalHost = "apiinternal.example.test"
	testPortalHost   = "portal.example.test"
	testAPIHost      = "api.example.test"
)

var testSerial int64

func newTestKey(t *testing.T) crypto.Signer {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	return key
}

// issue makes a certificate from spec, signed by parent, or self-signed
// when parent is nil.
func issue(t *testing.T, spec certificateSpec, parent *testCertificate) *testCertificate {
	t.Helper()

	now := time.Now()
	if spec.notBefore.IsZero() {
		spec.notBefore = now.Add(-time.Hour)
	}

	if spec.notAfter.IsZero() {
		spec.notAfter = now.Add(365 * 24 * time.Hour)
	}

	if spec.key == nil {
		spec.key = newTestKey(t)
	}

	if spec.commonName == "" {
		spec.commonName = testInternalHost
	}

	testSerial++
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(testSerial),
		Subject:               pkix.Name{CommonName: spec.commonName},
		DNSNames:              spec.dnsNames,
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		IsCA:                  spec.isCA,
		BasicConstraintsValid: true,
		KeyUsage:              spec.keyUsage,
		ExtKeyUsage:           spec.extUsage,
	}

	signerCert, signerKey := template, spec.key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}

	der, err := x509.CreateCertificate(rand.Reader, template, signerCert, spec.key.Public(), signerKey)
	require.NoError(t, err)

	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)

	return &testCertificate{cert: cert, key: spec.key}
}

func newTestCA(t *testing.T, name string) *testCertificate {
	t.Helper()

	return issue(t, certificateSpec{
		commonName: name,
		isCA:       true,
		keyUsage:   x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil)
}

func newServerCertificate(t *testing.T, ca *testCertificate, dnsNames ...string) *testCertificate {
	t.Helper()

	return issue(t, certificateSpec{
		dnsNames: dnsNames,
		keyUsage: x509.KeyUsageDigitalSignature,
		extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
}

func writeCertificates(t *testing.T, dir, name string, certs ...*testCertificate) string {
	t.Helper()

	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})...)
	}

	return writeTestFile(t, dir, name, data)
}

func writeKey(t *testing.T, dir, name string, key crypto.Signer) string {
	t.Helper()

	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	return writeTestFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()

	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))

	return path
}

func newRSAKey(t *testing.T) crypto.Signer {
	t.Helper()

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	return key
}

func newEd25519Key(t *testing.T) crypto.Signer {
	t.Helper()

	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	return key
}
