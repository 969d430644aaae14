package harness

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
	"os"
	"path/filepath"
	"time"
)

// Hostnames used by every scenario. The .test top-level domain is
// reserved (RFC 2606), and clients resolve these names to loopback.
const (
	InternalHost = "apiinternal.example.test"
	PortalHost   = "portal.example.test"
	APIHost      = "api.example.test"
)

// Certificate is a certificate, its private key and the paths of their
// PEM files.
type Certificate struct {
	Cert     *x509.Certificate
	Key      *ecdsa.PrivateKey
	CertFile string
	KeyFile  string
}

// TLS returns the certificate as a tls.Certificate for a Go client or
// server.
func (c *Certificate) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// PKI is a throwaway set of authorities and certificates, written as PEM
// files into one directory.
type PKI struct {
	Dir string

	// ServerCA issues the server certificates that clients verify with
	// --cacert.
	ServerCA *Certificate

	// DedicatedCA is the client CA of the dedicated hostname, StandardCA
	// the standard internal PKI and OtherCA an authority no TLS option
	// trusts.
	DedicatedCA *Certificate
	StandardCA  *Certificate
	OtherCA     *Certificate

	// Server certificates, one per hostname.
	InternalServer *Certificate
	PortalServer   *Certificate
	APIServer      *Certificate

	// Client certificates: Pinned is issued by DedicatedCA and pinned in
	// the plugin, Unpinned is issued by DedicatedCA but not pinned,
	// Standard by StandardCA and Other by OtherCA.
	Pinned   *Certificate
	Unpinned *Certificate
	Standard *Certificate
	Other    *Certificate
}

// NewPKI creates every authority and certificate and writes them into dir
// as <name>.crt and <name>.key.
func NewPKI(dir string) (*PKI, error) {
	p := &PKI{Dir: dir}
	var err error
	issue := func(name string, tmpl *x509.Certificate, parent *Certificate) *Certificate {
		if err != nil {
			return nil
		}
		var c *Certificate
		c, err = p.issue(name, tmpl, parent)
		return c
	}

	p.ServerCA = issue("server_ca", caTemplate("internalauth e2e server CA"), nil)
	p.DedicatedCA = issue("dedicated_ca", caTemplate("internalauth e2e dedicated client CA"), nil)
	p.StandardCA = issue("standard_ca", caTemplate("internalauth e2e standard internal CA"), nil)
	p.OtherCA = issue("other_ca", caTemplate("internalauth e2e unrelated CA"), nil)

	p.InternalServer = issue("server_internal", serverTemplate(InternalHost), p.ServerCA)
	p.PortalServer = issue("server_portal", serverTemplate(PortalHost), p.ServerCA)
	p.APIServer = issue("server_api", serverTemplate(APIHost), p.ServerCA)

	p.Pinned = issue("client_pinned", clientTemplate("automation-pinned"), p.DedicatedCA)
	p.Unpinned = issue("client_unpinned", clientTemplate("automation-unpinned"), p.DedicatedCA)
	p.Standard = issue("client_standard", clientTemplate("automation-standard"), p.StandardCA)
	p.Other = issue("client_other", clientTemplate("automation-other"), p.OtherCA)

	if err != nil {
		return nil, err
	}

	return p, nil
}

// IssueServer issues a server certificate for host from ServerCA and
// writes it as <name>.crt and <name>.key.
func (p *PKI) IssueServer(name, host string) (*Certificate, error) {
	return p.issue(name, serverTemplate(host), p.ServerCA)
}

// issue signs tmpl with parent, or self-signs it when parent is nil, and
// writes the PEM files.
func (p *PKI) issue(name string, tmpl *x509.Certificate, parent *Certificate) (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key for %s: %w", name, err)
	}

	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("generate serial for %s: %w", name, err)
	}
	tmpl.SerialNumber = serial

	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", name, err)
	}

	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key of %s: %w", name, err)
	}

	c := &Certificate{
		Cert:     cert,
		Key:      key,
		CertFile: filepath.Join(p.Dir, name+".crt"),
		KeyFile:  filepath.Join(p.Dir, name+".key"),
	}
	if err := writePEM(c.CertFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writePEM(c.KeyFile, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return nil, err
	}

	return c, nil
}

// Pool returns a certificate pool that contains only c.
func (c *Certificate) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.Cert)

	return pool
}

func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	return nil
}

func caTemplate(commonName string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"internalauth e2e"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
}

func serverTemplate(host string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: host},
		DNSNames:    []string{host},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

func clientTemplate(commonName string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}
