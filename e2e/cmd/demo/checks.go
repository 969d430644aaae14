package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

const target = "/api/internal/users/reset-otp"

// checkAll runs every checkpoint in order and returns the number that
// failed.
func (d *demo) checkAll() int {
	args := d.curlArgs(nil)
	fmt.Printf("the documented verification:\n  curl %s\n\n", strings.Join(args, " "))

	verbose, status, body, err := d.curl(args)
	if err != nil {
		d.report("curl completes the handshake and the request", err)
	} else {
		d.report("mTLS is active: the server sends a CertificateRequest (curl: Request CERT)",
			expect(strings.Contains(verbose, "Request CERT"), "curl -v shows no CertificateRequest"))
		d.report("the server certificate names "+harness.InternalHost,
			expect(strings.Contains(verbose, "subject: CN="+harness.InternalHost), "curl -v shows another subject"))
		d.report("the server certificate verifies with --cacert, without -k",
			expect(strings.Contains(verbose, "SSL certificate verify ok") &&
				!strings.Contains(verbose, "self-signed certificate"), "curl did not verify the certificate"))
		d.report("without a signature the plugin answers 401 signature_missing",
			expectProblem(status, body, http.StatusUnauthorized, "signature_missing"))
	}

	d.report("a signed request reaches the API with the key id and certificate headers", d.checkSigned())
	d.report("without a client certificate the handshake fails", d.checkHandshakeFails(nil))
	d.report("a standard-PKI client certificate fails the handshake", d.checkHandshakeFails(d.pki.Standard))
	d.report("an unrelated CA's client certificate fails the handshake", d.checkHandshakeFails(d.pki.Other))
	d.report("a dedicated-CA certificate that is not pinned gets 403 certificate_not_pinned", d.checkUnpinned())
	d.report("a caller outside the allowlist (127.0.0.2) gets 403", d.checkOutsideAllowlist())
	d.report("/api/internal on "+d.example.PublicHost+" gets 403", d.checkPublicHost())

	return d.failures
}

// curlArgs returns the documented curl command's arguments, with extra
// headers.
func (d *demo) curlArgs(headers []string) []string {
	args := []string{
		"-v",
		"--cacert", d.pki.ServerCA.CertFile,
		"--cert", d.pki.Pinned.CertFile,
		"--key", d.pki.Pinned.KeyFile,
		"--resolve", harness.InternalHost + ":" + d.traefik.Port() + ":127.0.0.1",
	}
	for _, header := range headers {
		args = append(args, "-H", "'"+header+"'")
	}

	return append(args, d.internalURL(target))
}

// curl runs curl with args and returns its verbose output, the status
// and the body.
func (d *demo) curl(args []string) (verbose string, status int, body []byte, err error) {
	path, err := exec.LookPath("curl")
	if err != nil {
		return "", 0, nil, errors.New("curl not found: install it (apt-get install -y curl)")
	}

	full := append([]string{"--silent", "--show-error", "--write-out", "\n%{http_code}"}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, full...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stderr.String(), 0, nil, fmt.Errorf("curl: %v: %s", err, lastLine(stderr.String()))
	}

	out := stdout.String()
	cut := strings.LastIndex(out, "\n")
	if _, err := fmt.Sscan(out[cut+1:], &status); err != nil {
		return stderr.String(), 0, nil, fmt.Errorf("read curl status from %q: %w", out[cut+1:], err)
	}

	return stderr.String(), status, []byte(out[:cut]), nil
}

func (d *demo) checkSigned() error {
	req, err := d.signedRequest()
	if err != nil {
		return err
	}
	d.api.Reset()

	resp, err := d.client(d.pki.Pinned, nil).Do(req)
	if err != nil {
		return err
	}
	body := readBody(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d, want 200: %s", resp.StatusCode, body)
	}

	received := d.api.Requests()
	if len(received) != 1 || received[0].Path != target {
		return fmt.Errorf("API received %d requests, want 1 for %s", len(received), target)
	}
	if got := received[0].Header.Get(internalauth.DefaultKeyIDHeader); got != keyID {
		return fmt.Errorf("API header %s = %q, want %q", internalauth.DefaultKeyIDHeader, got, keyID)
	}
	sum := sha256.Sum256(d.pki.Pinned.Cert.Raw)
	if got := received[0].Header.Get(internalauth.DefaultCertificateHeader); got != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("API header %s = %q, want the pinned certificate's SHA-256", internalauth.DefaultCertificateHeader, got)
	}

	return nil
}

func (d *demo) checkHandshakeFails(cert *harness.Certificate) error {
	req, err := d.signedRequest()
	if err != nil {
		return err
	}
	resp, err := d.client(cert, nil).Do(req)
	if err == nil {
		return fmt.Errorf("request completed with status %d", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "tls:") {
		return fmt.Errorf("failed, but not in the handshake: %w", err)
	}

	return nil
}

func (d *demo) checkUnpinned() error {
	req, err := d.signedRequest()
	if err != nil {
		return err
	}
	resp, err := d.client(d.pki.Unpinned, nil).Do(req)
	if err != nil {
		return err
	}

	return expectProblem(resp.StatusCode, []byte(readBody(resp)), http.StatusForbidden, "certificate_not_pinned")
}

func (d *demo) checkOutsideAllowlist() error {
	req, err := d.signedRequest()
	if err != nil {
		return err
	}
	resp, err := d.client(d.pki.Pinned, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}).Do(req)
	if err != nil {
		return err
	}
	body := readBody(resp)

	return expect(resp.StatusCode == http.StatusForbidden, fmt.Sprintf("status %d, want 403: %s", resp.StatusCode, body))
}

func (d *demo) checkPublicHost() error {
	url := "https://" + d.example.PublicHost + ":" + d.traefik.Port() + target
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	var cert *harness.Certificate
	if d.example == harness.Split {
		cert = d.pki.Standard
	}
	resp, err := d.client(cert, nil).Do(req)
	if err != nil {
		return err
	}
	body := readBody(resp)

	return expect(resp.StatusCode == http.StatusForbidden, fmt.Sprintf("status %d, want 403: %s", resp.StatusCode, body))
}

func (d *demo) signedRequest() (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, d.internalURL(target), nil)
	if err != nil {
		return nil, err
	}

	return req, internalauth.Sign(req, keyID, d.key, nil)
}

func (d *demo) client(cert *harness.Certificate, local net.Addr) *http.Client {
	return d.traefik.Client(d.pki, harness.ClientOptions{Cert: cert, LocalAddr: local})
}

func expect(ok bool, message string) error {
	if ok {
		return nil
	}

	return errors.New(message)
}

// expectProblem checks a problem+json rejection's status and reason.
func expectProblem(status int, body []byte, wantStatus int, wantReason string) error {
	var problem struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(body, &problem)
	if status != wantStatus || problem.Reason != wantReason {
		return fmt.Errorf("got %d %q, want %d %q: %s", status, problem.Reason, wantStatus, wantReason, body)
	}

	return nil
}

func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[len(lines)-1]
}

// printRecipes prints the commands to try by hand while the demo keeps
// running.
func (d *demo) printRecipes() {
	fmt.Printf("\nTry it by hand. Files are in %s.\n", d.dir)
	fmt.Printf("\nUnsigned, answered 401 signature_missing by the plugin:\n  curl %s\n",
		strings.Join(d.curlArgs(nil), " "))

	req, err := d.signedRequest()
	if err == nil {
		var headers []string
		for _, name := range []string{"Content-Digest", "Signature-Input", "Signature"} {
			headers = append(headers, name+": "+req.Header.Get(name))
		}
		fmt.Printf("\nSigned, accepted once within 5 minutes (each nonce is single-use):\n  curl %s\n",
			strings.Join(d.curlArgs(headers), " "))
	}

	// TODO: print an `internalauth sign` command here once
	// cmd/internalauth implements it; it reports "not implemented yet".
	fmt.Printf(`
Sign your own requests from Go, with the key id %q and the hex key in
%s:

  key, _ := internalauth.DecodeKey(fileContent, "hex")
  req, _ := http.NewRequest("GET", %q, nil)
  // Sign sets Content-Digest, Signature-Input and Signature.
  err := internalauth.Sign(req, %q, key, nil)
`, keyID, d.keyFile, d.internalURL(target), keyID)
}
