package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/internalauth/internalauth"
)

// expiryWarning is how long before a certificate expires check starts
// to warn.
const expiryWarning = 30 * 24 * time.Hour

// maxPEMFileBytes bounds what is read from a certificate or key file.
const maxPEMFileBytes = 1 << 20

// checkTLSFiles checks the files that API_INTERNAL_SSL_CERT, _KEY, _CA
// and API_INTERNAL_STANDARD_CA name, at time now.
func checkTLSFiles(s settings, now time.Time) []finding {
	var findings []finding

	var server *x509.Certificate

	if s.certFile != "" && s.keyFile != "" {
		var serverFindings []finding

		server, serverFindings = checkServerCertificate(s, now)
		findings = append(findings, serverFindings...)
	}

	var clientCAs, standardCAs []*x509.Certificate

	if s.caFile != "" {
		var caFindings []finding

		clientCAs, caFindings = checkCAFile(varSSLCA, s.caFile, now)
		findings = append(findings, caFindings...)
	}

	if s.standardCAFile != "" {
		var caFindings []finding

		standardCAs, caFindings = checkCAFile(varStandardCA, s.standardCAFile, now)
		findings = append(findings, caFindings...)
	}

	findings = append(findings, comparePKIs(clientCAs, standardCAs)...)

	if server != nil {
		findings = append(findings, checkServerIssuer(server, clientCAs)...)
		findings = append(findings, checkPinsNameClients(s.pins, server)...)
	}

	return findings
}

// checkServerCertificate parses the server certificate and its key and
// checks the hostname, the key pair and the validity period. It returns
// the leaf certificate, or nil when the file cannot be used at all.
func checkServerCertificate(s settings, now time.Time) (*x509.Certificate, []finding) {
	certPEM, err := readPEMFile(s.certFile)
	if err != nil {
		findings := []finding{errorf(varSSLCert, "%v", err)}

		if _, keyErr := readPEMFile(s.keyFile); keyErr != nil {
			findings = append(findings, errorf(varSSLKey, "%v", keyErr))
		}

		return nil, findings
	}

	chain, err := parseCertificateChain(certPEM)
	if err != nil {
		return nil, []finding{errorf(varSSLCert, "%s: %v; give the PEM server certificate, "+
			"leaf first", s.certFile, err)}
	}

	leaf := chain[0]

	var findings []finding

	if s.internalHost != "" {
		if err := leaf.VerifyHostname(s.internalHost); err != nil {
			findings = append(findings, errorf(varSSLCert, "%s: not valid for %s: its subject alternative "+
				"names are %s; issue a certificate whose SAN includes %s (a wildcard covers one label only)",
				s.certFile, s.internalHost, describeNames(leaf), s.internalHost))
		}
	}

	findings = append(findings, checkValidity(varSSLCert, s.certFile, leaf, now)...)

	if leaf.IsCA {
		findings = append(findings, warningf(varSSLCert, "%s: the first certificate is a CA certificate; "+
			"put the server certificate first, then its intermediates", s.certFile))
	}

	if !allowsUsage(leaf, x509.ExtKeyUsageServerAuth) {
		findings = append(findings, errorf(varSSLCert, "%s: its extended key usage excludes serverAuth, "+
			"so TLS clients reject it; issue it for server authentication", s.certFile))
	}

	return leaf, append(findings, checkKeyPair(s, certPEM)...)
}

// checkKeyPair checks that the key file holds an unencrypted private key
// matching the certificate, with crypto/tls, as Traefik loads the pair.
func checkKeyPair(s settings, certPEM []byte) []finding {
	keyPEM, err := readPEMFile(s.keyFile)
	if err != nil {
		return []finding{errorf(varSSLKey, "%v", err)}
	}

	block, _ := pem.Decode(keyPEM)

	switch {
	case block == nil || !strings.Contains(block.Type, "PRIVATE KEY"):
		return []finding{errorf(varSSLKey, "%s: no PEM private key found; give the server certificate's "+
			"key in PEM (BEGIN PRIVATE KEY)", s.keyFile)}
	case block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "":
		return []finding{errorf(varSSLKey, "%s: the private key is encrypted, and Traefik cannot read "+
			"it; decrypt it with openssl pkey -in KEY -out KEY.plain", s.keyFile)}
	}

	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return []finding{errorf(varSSLKey, "%s: does not match %s (%v); give the key the certificate "+
			"was issued for", s.keyFile, s.certFile, err)}
	}

	return nil
}

// checkCAFile parses a CA bundle and checks that each certificate may
// sign certificates and is within its validity period.
func checkCAFile(variable, path string, now time.Time) ([]*x509.Certificate, []finding) {
	data, err := readPEMFile(path)
	if err != nil {
		return nil, []finding{errorf(variable, "%v", err)}
	}

	cas, err := parseCertificateChain(data)
	if err != nil {
		return nil, []finding{errorf(variable, "%s: %v; give the CA certificate in PEM", path, err)}
	}

	var findings []finding

	for _, ca := range cas {
		name := describeCertificate(ca)

		if !ca.BasicConstraintsValid || !ca.IsCA {
			findings = append(findings, errorf(variable, "%s: %s is not a CA certificate (basic "+
				"constraints CA:TRUE missing); give the certificate of the CA that issues the certificates",
				path, name))
		} else if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0 {
			findings = append(findings, errorf(variable, "%s: %s has a key usage without keyCertSign, "+
				"so it cannot issue certificates; give the issuing CA", path, name))
		}

		findings = append(findings, checkValidity(variable, path+": "+name, ca, now)...)
	}

	return cas, findings
}

// comparePKIs requires the dedicated client CA and the standard internal
// PKI to be independent: no certificate or key in common, and neither
// issued by the other. Otherwise a client certificate of the standard
// PKI would complete the handshake on the dedicated hostname.
func comparePKIs(clientCAs, standardCAs []*x509.Certificate) []finding {
	var findings []finding

	for _, client := range clientCAs {
		for _, standard := range standardCAs {
			switch {
			case bytes.Equal(client.Raw, standard.Raw):
				findings = append(findings, errorf(varSSLCA, "%s is also in %s; the dedicated client CA "+
					"must be a separate PKI from the standard internal one: create a new CA for the callers "+
					"of /api/internal", describeCertificate(client), varStandardCA))
			case bytes.Equal(client.RawSubjectPublicKeyInfo, standard.RawSubjectPublicKeyInfo):
				findings = append(findings, errorf(varSSLCA, "%s has the same key as %s in %s; create the "+
					"dedicated client CA with its own key", describeCertificate(client),
					describeCertificate(standard), varStandardCA))
			case standard.CheckSignatureFrom(client) == nil:
				findings = append(findings, errorf(varSSLCA, "%s issued %s of %s, so the standard PKI's "+
					"client certificates chain to it; use a CA outside the standard PKI's hierarchy",
					describeCertificate(client), describeCertificate(standard), varStandardCA))
			}
		}
	}

	return findings
}

// checkServerIssuer warns when the client CA issued the server
// certificate. The client CA should issue callers' certificates only,
// so that each certificate it issues is a caller's. A server certificate
// that may also authenticate a client is worse, because its holder could
// pass the TLS layer as a caller. Pins still stop it unless it is pinned.
func checkServerIssuer(server *x509.Certificate, clientCAs []*x509.Certificate) []finding {
	for _, ca := range clientCAs {
		if server.CheckSignatureFrom(ca) != nil {
			continue
		}

		if allowsUsage(server, x509.ExtKeyUsageClientAuth) {
			return []finding{warningf(varSSLCert, "issued by %s, the client CA, and valid for client "+
				"authentication too, so its key could pass the dedicated mTLS as a caller; issue the server "+
				"certificate for serverAuth only, or from another CA", describeCertificate(ca))}
		}

		return []finding{warningf(varSSLCA, "%s also issued the server certificate %s; keep the client "+
			"CA dedicated to callers' certificates and issue the server certificate from another CA, "+
			"the one callers pass to --cacert", describeCertificate(ca), varSSLCert)}
	}

	return nil
}

// checkPinsNameClients warns about a pin of the server certificate or of
// its key: a pin names the client certificate that a caller presents,
// and pinning the server's would let no caller in.
func checkPinsNameClients(pins []string, server *x509.Certificate) []finding {
	certificatePin, keyPin := internalauth.CertificatePins(server)
	certificateDigest := strings.ToLower(strings.ReplaceAll(certificatePin, ":", ""))

	var findings []finding

	for _, pin := range pins {
		if pinNames(pin, certificateDigest, keyPin) {
			findings = append(findings, warningf(varClientPins, "%q is a pin of the server certificate "+
				"%s; pin each caller's client certificate instead, as internalauth fingerprint client.crt "+
				"prints it", pin, varSSLCert))
		}
	}

	return findings
}

// pinNames reports whether pin, already validated, names the certificate
// whose SHA-256 is certificateDigest (lowercase hex) or the key whose pin
// is keyPin (sha256//<base64>). A certificate pin ends with its 64 hex
// digits whatever its prefix and colons, and a key pin may list several
// keys separated by ";".
func pinNames(pin, certificateDigest, keyPin string) bool {
	const prefix = "sha256//"

	if !strings.HasPrefix(strings.ToLower(pin), prefix) {
		return strings.HasSuffix(strings.ToLower(strings.ReplaceAll(pin, ":", "")), certificateDigest)
	}

	// The prefix may be in any letter case, but base64 is case-sensitive.
	keyDigest := strings.TrimPrefix(keyPin, prefix)

	for _, part := range strings.Split(pin, ";") {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(strings.ToLower(part), prefix) && part[len(prefix):] == keyDigest {
			return true
		}
	}

	return false
}

func checkValidity(variable, description string, cert *x509.Certificate, now time.Time) []finding {
	const layout = "2006-01-02 15:04 MST"

	switch {
	case now.Before(cert.NotBefore):
		return []finding{errorf(variable, "%s: not valid before %s; check the clock of the machine "+
			"that issued it, or wait", description, cert.NotBefore.UTC().Format(layout))}
	case now.After(cert.NotAfter):
		return []finding{errorf(variable, "%s: expired on %s; renew it", description, cert.NotAfter.UTC().Format(layout))}
	case cert.NotAfter.Sub(now) < expiryWarning:
		return []finding{warningf(variable, "%s: expires on %s, in less than %d days; renew it", description,
			cert.NotAfter.UTC().Format(layout), int(expiryWarning.Hours()/24))}
	}

	return nil
}

// allowsUsage reports whether cert's extended key usage permits usage.
// A certificate without the extension permits every usage.
func allowsUsage(cert *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true
	}

	for _, u := range cert.ExtKeyUsage {
		if u == usage || u == x509.ExtKeyUsageAny {
			return true
		}
	}

	return false
}

func readPEMFile(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}

		return nil, fmt.Errorf("cannot open %s: %w", path, err)
	}
	defer file.Close()

	data, err := io.ReadAll(io.LimitReader(file, maxPEMFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}

	if len(data) > maxPEMFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; give a PEM file", path, maxPEMFileBytes)
	}

	return data, nil
}

// parseCertificateChain returns every CERTIFICATE block of data, in order.
func parseCertificateChain(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate

	for {
		var block *pem.Block

		block, data = pem.Decode(data)
		if block == nil {
			break
		}

		if block.Type != "CERTIFICATE" {
			continue
		}

		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d is invalid: %w", len(certs)+1, err)
		}

		certs = append(certs, cert)
	}

	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}

	return certs, nil
}

func describeCertificate(cert *x509.Certificate) string {
	if cert.Subject.CommonName != "" {
		return fmt.Sprintf("%q", cert.Subject.CommonName)
	}

	return fmt.Sprintf("%q", cert.Subject.String())
}

func describeNames(cert *x509.Certificate) string {
	names := append([]string{}, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}

	if len(names) == 0 {
		return "none (a common name alone is not used for hostname verification)"
	}

	return strings.Join(names, ", ")
}
