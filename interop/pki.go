// Package interop runs the internalauth middleware behind a real mutual
// TLS server on loopback. Its tests check that each way of signing a
// request is accepted, and that tampered copies are rejected for the
// right reason. The signers are the Go API, the internalauth command, the
// shell and Python examples, and an independent RFC 9421 library. Only
// tests import this package.
package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is a throwaway certificate authority with a server certificate and
// two client certificates, written as PEM files under Dir.
type PKI struct {
	Dir string

	CA     *x509.Certificate
	Server tls.Certificate

	// Client is the pinned client certificate, Unpinned a second client
	// certificate from the same CA that no pin names.
	Client     tls.Certificate
	ClientLeaf *x509.Certificate
	Unpinned   tls.Certificate

	// Paths of the PEM files, as curl's --cacert, --cert and --key take
	// them.
	CAFile         string
	ClientCertFile string
	ClientKeyFile  string
}

// NewPKI creates the CA and certificates, with hosts as the server
// certificate's DNS names, and writes the PEM files to dir.
func NewPKI(dir string, hosts []string) (*PKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}

	caTemplate := certificateTemplate("internalauth test CA")
	caTemplate.IsCA = true
	caTemplate.BasicConstraintsValid = true
	caTemplate.KeyUsage = x509.KeyUsageCertSign

	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}

	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	p := &PKI{Dir: dir, CA: ca}

	serverTemplate := certificateTemplate(hosts[0])
	serverTemplate.DNSNames = hosts
	serverTemplate.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	serverTemplate.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}

	if p.Server, _, err = issue(serverTemplate, ca, caKey); err != nil {
		return nil, err
	}

	clientTemplate := certificateTemplate("ops-automation")
	clientTemplate.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

	var clientKeyPEM, clientCertPEM []byte

	if p.Client, clientKeyPEM, err = issue(clientTemplate, ca, caKey); err != nil {
		return nil, err
	}

	p.ClientLeaf = p.Client.Leaf
	clientCertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Client.Certificate[0]})

	unpinnedTemplate := certificateTemplate("unpinned-client")
	unpinnedTemplate.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

	if p.Unpinned, _, err = issue(unpinnedTemplate, ca, caKey); err != nil {
		return nil, err
	}

	p.CAFile = filepath.Join(dir, "ca.pem")
	p.ClientCertFile = filepath.Join(dir, "client.crt")
	p.ClientKeyFile = filepath.Join(dir, "client.key")

	files := map[string][]byte{
		p.CAFile:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		p.ClientCertFile: clientCertPEM,
		p.ClientKeyFile:  clientKeyPEM,
	}

	for path, content := range files {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			return nil, err
		}
	}

	return p, nil
}

func certificateTemplate(commonName string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))

	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

// issue signs template with the CA and returns the certificate with its
// key, and the key in PEM.
func issue(template, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}

	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("issue %s: %w", template.Subject.CommonName, err)
	}

	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}

	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, keyPEM, nil
}
