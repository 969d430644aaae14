package harness

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

func TestPKIChains(t *testing.T) {
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	clients := []struct {
		name string
		cert *Certificate
		ca   *Certificate
	}{
		{"pinned", p.Pinned, p.DedicatedCA},
		{"unpinned", p.Unpinned, p.DedicatedCA},
		{"standard", p.Standard, p.StandardCA},
		{"other", p.Other, p.OtherCA},
	}
	for _, tc := range clients {
		opts := x509.VerifyOptions{Roots: tc.ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if _, err := tc.cert.Cert.Verify(opts); err != nil {
			t.Errorf("%s client certificate does not verify with its CA: %v", tc.name, err)
		}
		opts.Roots = p.DedicatedCA.Pool()
		if _, err := tc.cert.Cert.Verify(opts); (err == nil) != (tc.ca == p.DedicatedCA) {
			t.Errorf("%s client certificate: verification with the dedicated CA returned %v", tc.name, err)
		}
	}

	servers := map[string]*Certificate{InternalHost: p.InternalServer, PortalHost: p.PortalServer, APIHost: p.APIServer}
	for host, cert := range servers {
		opts := x509.VerifyOptions{DNSName: host, Roots: p.ServerCA.Pool()}
		if _, err := cert.Cert.Verify(opts); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if err := p.InternalServer.Cert.VerifyHostname(PortalHost); err == nil {
		t.Error("the dedicated server certificate also names the portal")
	}
}

func TestPKIWritesLoadableFiles(t *testing.T) {
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(p.Pinned.CertFile, p.Pinned.KeyFile); err != nil {
		t.Errorf("load pinned client files: %v", err)
	}
	if _, err := tls.LoadX509KeyPair(p.InternalServer.CertFile, p.InternalServer.KeyFile); err != nil {
		t.Errorf("load server files: %v", err)
	}
}
