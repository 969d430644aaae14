// Command verifier is a forwardAuth target that runs the plugin's checks
// compiled, for comparison with the plugin interpreted inside Traefik.
//
// Traefik's forwardAuth middleware sends the verifier a copy of the
// request: the headers, the method in X-Forwarded-Method, the Host in
// X-Forwarded-Host, the request-target in X-Forwarded-Uri and, with
// forwardBody, the body. A passTLSClientCert middleware placed before it
// puts the client's certificate in X-Forwarded-Tls-Client-Cert, replacing
// any copy the client sent. The verifier rebuilds the request from these
// and passes it to internalauth.New's handler, which checks the same
// signature, digest, nonce and pin as the plugin. It returns 200 with the
// key id and certificate headers, for authResponseHeaders, or the
// plugin's problem+json rejection, which forwardAuth returns to the client.
//
// It cannot check everything as the plugin does. It trusts that the TLS
// connection was made with the certificate in the header, so it must be
// reachable only from Traefik, through routes that run passTLSClientCert.
// It does not receive the TLS server name (SNI), so it takes the Host in
// its place. It verifies the chain against the client CA itself, because
// the TLS state does not travel with the request.
package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"crypto/tls"

	"github.com/internalauth/internalauth"
)

const clientCertHeader = "X-Forwarded-Tls-Client-Cert"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	configFile := flag.String("config", "", "plugin configuration as JSON, with the plugin's keys")
	caFile := flag.String("client-ca", "", "PEM file of the CA that issues client certificates")
	flag.Parse()

	if err := run(*listen, *configFile, *caFile); err != nil {
		log.Fatalf("verifier: %v", err)
	}
}

func run(listen, configFile, caFile string) error {
	if configFile == "" || caFile == "" {
		return errors.New("both -config and -client-ca are required")
	}

	config := internalauth.CreateConfig()
	data, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, config); err != nil {
		return fmt.Errorf("decode %s: %w", configFile, err)
	}

	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s: no PEM certificate found", caFile)
	}

	check, err := internalauth.New(context.Background(), http.HandlerFunc(allow), config, "verifier")
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	// The caller waits for this line before sending requests.
	fmt.Printf("listening on %s\n", listener.Addr())

	v := &verifier{check: check, roots: roots}
	server := &http.Server{Handler: v, ReadHeaderTimeout: 10 * time.Second}

	return server.Serve(listener)
}

// allow is the plugin's next handler: it copies the identity headers the
// plugin set into the response, for forwardAuth's authResponseHeaders.
func allow(rw http.ResponseWriter, req *http.Request) {
	for _, name := range []string{internalauth.DefaultKeyIDHeader, internalauth.DefaultCertificateHeader} {
		rw.Header().Set(name, req.Header.Get(name))
	}
	rw.WriteHeader(http.StatusOK)
}

type verifier struct {
	check http.Handler
	roots *x509.CertPool
}

func (v *verifier) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && r.Header.Get("X-Forwarded-Method") == "" {
		rw.WriteHeader(http.StatusNoContent)
		return
	}

	req, err := v.original(r)
	if err != nil {
		http.Error(rw, "invalid forwarded request", http.StatusBadRequest)
		return
	}

	v.check.ServeHTTP(rw, req)
}

// original rebuilds the client's request from forwardAuth's copy. With no
// valid certificate header, req.TLS stays nil and the plugin rejects it.
func (v *verifier) original(r *http.Request) (*http.Request, error) {
	target, err := url.ParseRequestURI(r.Header.Get("X-Forwarded-Uri"))
	if err != nil {
		return nil, err
	}
	target.Scheme = "https"
	target.Host = r.Header.Get("X-Forwarded-Host")

	req := r.Clone(r.Context())
	req.Method = r.Header.Get("X-Forwarded-Method")
	req.URL = target
	req.Host = target.Host
	req.RequestURI = target.RequestURI()
	req.Body = r.Body

	if cert := v.clientCertificate(r.Header.Get(clientCertHeader)); cert != nil {
		chains, err := cert.Verify(x509.VerifyOptions{
			Roots:     v.roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			chains = nil
		}
		host, _, splitErr := net.SplitHostPort(target.Host)
		if splitErr != nil {
			host = target.Host
		}
		req.TLS = &tls.ConnectionState{
			HandshakeComplete: true,
			ServerName:        host,
			PeerCertificates:  []*x509.Certificate{cert},
			VerifiedChains:    chains,
		}
	}

	for name := range req.Header {
		if strings.HasPrefix(name, "X-Forwarded-") {
			req.Header.Del(name)
		}
	}

	return req, nil
}

// clientCertificate decodes the first certificate of the header that
// passTLSClientCert with pem: true sets in Traefik v3.6.12: PEM bodies
// without their armour and line breaks, separated by commas.
func (v *verifier) clientCertificate(value string) *x509.Certificate {
	first, _, _ := strings.Cut(value, ",")
	der, err := base64.StdEncoding.DecodeString(first)
	if err != nil {
		return nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}

	return cert
}
