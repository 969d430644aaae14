package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxProblemBytes bounds the rejection body decoded for its reason.
const maxProblemBytes = 64 << 10

// sendSignedRequest sends req over mutual TLS, copies the response body
// to stdout and returns the exit code for the response status.
// key is the decoded HMAC key, for a hint when the signature is rejected.
func sendSignedRequest(opts *signOptions, key []byte, req *http.Request, stdout, stderr io.Writer) int {
	client, err := newClient(opts)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: %v\n", err)

		return exitUsage
	}

	resp, err := client.Do(req) //nolint:gosec // G704: sending to the URL the operator gives is the purpose of sign.
	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: %s %s failed: %v\n", req.Method, req.URL.Redacted(), err)

		hint := connectionHint(err, opts, req.URL.Hostname(), client.certificateRequest.state(), client.certificate)
		if hint != "" {
			fmt.Fprintf(stderr, "internalauth sign: %s\n", hint)
		}

		return exitFailure
	}
	defer resp.Body.Close()

	fmt.Fprintf(stderr, "%s %s\n", resp.Proto, resp.Status)

	if opts.verbose {
		_ = resp.Header.Write(stderr)
	}

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth sign: reading the response body failed: %v\n", err)

		return exitFailure
	}

	if _, err := stdout.Write(body); err != nil {
		return exitFailure
	}

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return exitOK
	case resp.StatusCode >= 400:
		reason := reportRejection(resp, body, stderr)

		if hint := keyEncodingHint(opts, key); reason == "signature_mismatch" && hint != "" {
			fmt.Fprintf(stderr, "internalauth sign: %s\n", hint)
		}

		return exitRejected
	default:
		fmt.Fprintf(stderr, "internalauth sign: the server responded with %s, which sign does not follow: "+
			"the signature covers the URL it was made for\n", resp.Status)

		return exitFailure
	}
}

// reportRejection prints the middleware's reason code from a problem
// details body, so the operator sees why without reading JSON. It
// returns the reason code, or "" when the body has none.
func reportRejection(resp *http.Response, body []byte, stderr io.Writer) string {
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") || len(body) > maxProblemBytes {
		return ""
	}

	var problem struct {
		Reason string `json:"reason"`
		Detail string `json:"detail"`
	}

	if err := json.Unmarshal(body, &problem); err != nil || problem.Reason == "" {
		return ""
	}

	fmt.Fprintf(stderr, "internalauth sign: rejected with reason %s: %s\n", problem.Reason, problem.Detail)

	return problem.Reason
}

// signClient is the HTTP client of sign, with what a failed request
// needs to explain itself.
type signClient struct {
	*http.Client

	certificate        *x509.Certificate // the leaf of --cert, or nil
	certificateRequest *certificateRequest
}

// newClient builds the HTTP client for the TLS and --resolve flags. It
// follows no redirect, because a signature covers one URL.
func newClient(opts *signOptions) (*signClient, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	result := &signClient{certificateRequest: &certificateRequest{}}

	if opts.caCert != "" {
		pem, err := os.ReadFile(opts.caCert) //nolint:gosec // G703: the operator names the file.
		if err != nil {
			return nil, fmt.Errorf("cannot read --cacert: %w", err)
		}

		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s has no PEM certificate; give the CA that issued "+
				"the server certificate", opts.caCert)
		}

		tlsConfig.RootCAs = roots
	}

	clientCertificate, leaf, err := loadClientCertificate(opts)
	if err != nil {
		return nil, err
	}

	result.certificate = leaf

	tlsConfig.GetClientCertificate = result.certificateRequest.selectCertificate(clientCertificate)

	dial, err := resolvingDialer(opts.resolve)
	if err != nil {
		return nil, err
	}

	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dial,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}

	result.Client = &http.Client{
		Transport: transport,
		Timeout:   opts.maxTime,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	return result, nil
}

// loadClientCertificate loads --cert and --key. It returns nil values
// without --cert.
func loadClientCertificate(opts *signOptions) (*tls.Certificate, *x509.Certificate, error) {
	if opts.clientCert == "" {
		return nil, nil, nil
	}

	keyFile := opts.clientKey
	if keyFile == "" {
		keyFile = opts.clientCert
	}

	cert, err := tls.LoadX509KeyPair(opts.clientCert, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load the client certificate from --cert %s and --key %s: %w",
			opts.clientCert, keyFile, err)
	}

	// Leaf stays nil under the go 1.22 semantics that go.mod selects.
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("cannot parse the client certificate in --cert %s: %w", opts.clientCert, err)
	}

	return &cert, leaf, nil
}

// resolvingDialer returns a dial function that connects to the address
// of a --resolve entry when its host and port match, as curl does.
func resolvingDialer(entries []string) (func(ctx context.Context, network, address string) (net.Conn, error), error) {
	overrides := make(map[string]string, len(entries))

	for _, entry := range entries {
		host, port, address, err := parseResolve(entry)
		if err != nil {
			return nil, err
		}

		overrides[net.JoinHostPort(strings.ToLower(host), port)] = net.JoinHostPort(address, port)
	}

	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if override, ok := overrides[strings.ToLower(address)]; ok {
			address = override
		}

		return dialer.DialContext(ctx, network, address)
	}, nil
}

// parseResolve splits curl's HOST:PORT:ADDRESS. ADDRESS may be an IPv6
// literal, with or without brackets.
func parseResolve(entry string) (host, port, address string, err error) {
	parts := strings.SplitN(entry, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("invalid --resolve %q: write HOST:PORT:ADDRESS, "+
			"such as apiinternal.example.com:443:10.0.0.5", entry)
	}

	host, port, address = parts[0], parts[1], strings.TrimSuffix(strings.TrimPrefix(parts[2], "["), "]")

	if net.ParseIP(address) == nil {
		return "", "", "", fmt.Errorf("invalid --resolve %q: %q is not an IP address", entry, address)
	}

	if number, err := strconv.Atoi(port); err != nil || number < 1 || number > 65535 {
		return "", "", "", fmt.Errorf("invalid --resolve %q: invalid port %q, give a number from 1 to 65535", entry, port)
	}

	return host, port, address, nil
}
