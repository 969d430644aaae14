package main

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"

	"github.com/internalauth/internalauth"
)

// maxNamedCAs bounds how many of the server's acceptable CAs a hint
// names.
const maxNamedCAs = 5

// certificateRequest records the client certificate request of the TLS
// handshake, so that a failed request can tell why the server did not
// accept the client certificate. A handshake runs on the transport's
// goroutine, hence the lock.
type certificateRequest struct {
	mu            sync.Mutex
	requested     bool
	acceptableCAs [][]byte
	sent          bool
}

// certificateRequestState is a copy of what certificateRequest recorded.
type certificateRequestState struct {
	requested     bool
	acceptableCAs [][]byte
	sent          bool
}

// selectCertificate returns a tls.Config.GetClientCertificate function
// that records the request and makes Go's default choice: cert when the
// server accepts its issuer and key, and no certificate otherwise. cert
// is nil without --cert.
func (r *certificateRequest) selectCertificate(cert *tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		selected := &tls.Certificate{}
		if cert != nil && info.SupportsCertificate(cert) == nil {
			selected = cert
		}

		r.mu.Lock()
		defer r.mu.Unlock()

		r.requested = true
		r.acceptableCAs = info.AcceptableCAs
		r.sent = len(selected.Certificate) > 0

		return selected, nil
	}
}

func (r *certificateRequest) state() certificateRequestState {
	r.mu.Lock()
	defer r.mu.Unlock()

	return certificateRequestState{requested: r.requested, acceptableCAs: r.acceptableCAs, sent: r.sent}
}

// connectionHint returns what to check after a request failed with err,
// or "" when err is not a TLS verification failure or a connection that
// the server closed. client is the certificate loaded from --cert, or
// nil.
func connectionHint(err error, opts *signOptions, host string, request certificateRequestState,
	client *x509.Certificate,
) string {
	var verification *tls.CertificateVerificationError
	if errors.As(err, &verification) {
		if opts.caCert == "" {
			return "the system's trusted CAs did not verify the server certificate: pass --cacert " +
				"with the CA that issued it"
		}

		return fmt.Sprintf("--cacert %s did not verify the server certificate: give the CA that issued it, "+
			"and check that its SAN includes %s", opts.caCert, host)
	}

	if !closedByServer(err) {
		return ""
	}

	switch {
	case request.requested && opts.clientCert == "":
		return "the server requires a client certificate: pass --cert and --key"
	case request.requested && !request.sent && client != nil && len(request.acceptableCAs) > 0:
		return fmt.Sprintf("the server accepts client certificates issued by %s, but --cert %s is issued by "+
			"%s, so none was sent: use a certificate issued by the CA that the server trusts for %s",
			describeDistinguishedNames(request.acceptableCAs), opts.clientCert, describeIssuer(client), host)
	case request.requested && !request.sent:
		return fmt.Sprintf("the server supports none of the signature algorithms of the key in --cert %s, "+
			"so no client certificate was sent: use an ECDSA or RSA certificate", opts.clientCert)
	case request.requested:
		return fmt.Sprintf("the server closed the connection after it received the client certificate "+
			"of --cert %s, which usually means it rejected it: check that the certificate was issued by the "+
			"CA that the server trusts for %s, is within its validity period and allows client "+
			"authentication", opts.clientCert, host)
	}

	return fmt.Sprintf("the server closed the connection during or just after the TLS handshake, which is "+
		"how a server rejects a client certificate: check that --cert and --key are given, that the "+
		"certificate was issued by the CA that the server trusts for %s, and that --cacert names the CA of "+
		"the server certificate", host)
}

// closedByServer reports whether err shows that the server ended the
// connection: a TLS alert, a reset, or an early end of stream.
func closedByServer(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "remote error" {
		return true
	}

	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// describeDistinguishedNames names the CAs of a certificate request, by
// common name when there is one. The names come DER-encoded.
func describeDistinguishedNames(names [][]byte) string {
	described := make([]string, 0, len(names))

	for i, der := range names {
		if i == maxNamedCAs {
			described = append(described, fmt.Sprintf("%d more", len(names)-maxNamedCAs))

			break
		}

		var sequence pkix.RDNSequence

		if rest, err := asn1.Unmarshal(der, &sequence); err != nil || len(rest) > 0 {
			described = append(described, "an unreadable name")

			continue
		}

		var name pkix.Name

		name.FillFromRDNSequence(&sequence)
		described = append(described, describeName(name))
	}

	return strings.Join(described, ", ")
}

func describeIssuer(cert *x509.Certificate) string {
	return describeName(cert.Issuer)
}

func describeName(name pkix.Name) string {
	if name.CommonName != "" {
		return fmt.Sprintf("%q", name.CommonName)
	}

	return fmt.Sprintf("%q", name.String())
}

// keyEncodingHint returns advice for a signature_mismatch when the key was
// read as raw but is written like base64 or hex, which the middleware
// may decode: its keys[].encoding then differs from --key-encoding. The
// raw key is the text that was read, so it shows how the key is written.
func keyEncodingHint(opts *signOptions, key []byte) string {
	if !strings.EqualFold(opts.keyEncoding, "raw") {
		return ""
	}

	for _, encoding := range []string{"hex", "base64"} {
		decoded, err := internalauth.DecodeKey(key, encoding)
		if err == nil && len(decoded) >= internalauth.MinKeyBytes {
			return fmt.Sprintf("the HMAC key was read as raw, the default, but it looks %s-encoded; "+
				"if the key file is base64 or hex, pass --key-encoding %s, the middleware's keys[].encoding",
				encoding, encoding)
		}
	}

	return ""
}
