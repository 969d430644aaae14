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
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

const target = "/api/internal/users/reset-otp"

// checkAll runs every checkpoint in order and returns the number that
// failed.
func (d *demo) checkAll() int {
	args := d.curlArgs()
	fmt.Printf("the documented verification:\n  curl %s\n\n", shellJoin(args))

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
	d.report("internalauth sign, as make demo KEEP=1 prints it, gets 200 for a GET and a POST", d.checkSignCommand())
	d.report("internalauth sign --print-headers and curl -H @FILE, as make demo KEEP=1 prints it, get 200",
		d.checkSignedCurl())
	d.report("without a client certificate the handshake fails", d.checkHandshakeFails(nil))
	d.report("a standard-PKI client certificate fails the handshake", d.checkHandshakeFails(d.pki.Standard))
	d.report("an unrelated CA's client certificate fails the handshake", d.checkHandshakeFails(d.pki.Other))
	d.report("a dedicated-CA certificate that is not pinned gets 403 certificate_not_pinned", d.checkUnpinned())
	d.report("a caller outside the allowlist (127.0.0.2) gets 403", d.checkOutsideAllowlist())
	d.report("/api/internal on "+d.example.PublicHost+" gets 403", d.checkPublicHost())

	return d.failures
}

// curlArgs returns the documented curl command's arguments, with extra
// arguments before the URL.
func (d *demo) curlArgs(extra ...string) []string {
	args := []string{
		"-v",
		"--cacert", d.pki.ServerCA.CertFile,
		"--cert", d.pki.Pinned.CertFile,
		"--key", d.pki.Pinned.KeyFile,
		"--resolve", harness.InternalHost + ":" + d.traefik.Port() + ":127.0.0.1",
	}
	args = append(args, extra...)

	return append(args, d.targetURL())
}

// signArgs returns the arguments of internalauth sign that send a
// request to the demo's route, with extra arguments before the URL.
func (d *demo) signArgs(extra ...string) []string {
	args := append(d.signKeyArgs(),
		"--cacert", d.pki.ServerCA.CertFile,
		"--cert", d.pki.Pinned.CertFile,
		"--key", d.pki.Pinned.KeyFile,
		"--resolve", harness.InternalHost+":"+d.traefik.Port()+":127.0.0.1")
	args = append(args, extra...)

	return append(args, d.targetURL())
}

// printHeadersArgs returns the arguments of internalauth sign that print
// the signature headers for curl, which then sends the request itself.
func (d *demo) printHeadersArgs() []string {
	return append(d.signKeyArgs(), "--print-headers", d.targetURL())
}

// signKeyArgs returns the subcommand and the HMAC key's flags. The key
// file holds the key in hex, matching keys[0].encoding in the examples.
func (d *demo) signKeyArgs() []string {
	return []string{"sign", "--key-id", keyID, "--key-file", d.keyFile, "--key-encoding", "hex"}
}

// signatureFile is where the printed recipe saves the headers of
// internalauth sign --print-headers for curl.
func (d *demo) signatureFile() string {
	return filepath.Join(d.dir, "signature.txt")
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
		return stderr.String(), 0, nil, fmt.Errorf("curl: %w: %s", err, lastLine(stderr.String()))
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

// postArgs make internalauth sign send a POST with a JSON body, which
// the signature covers through Content-Digest.
var postArgs = []string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"user":42}`}

// checkSignCommand sends a GET and a POST with the built internalauth
// sign, as the printed recipes do, and checks that the API received
// each.
func (d *demo) checkSignCommand() error {
	for _, extra := range [][]string{nil, postArgs} {
		d.api.Reset()

		var stdout, stderr bytes.Buffer
		cmd := exec.Command(d.command, d.signArgs(extra...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("internalauth sign %s: %w: %s", strings.Join(extra, " "), err,
				strings.TrimSpace(stderr.String()))
		}

		if err := d.expectAPIReceivedSigned(); err != nil {
			return err
		}
	}

	return nil
}

// checkSignedCurl runs the printed two-step recipe: internalauth sign
// --print-headers writes the headers to a file, and curl sends them.
func (d *demo) checkSignedCurl() error {
	d.api.Reset()

	headers, err := exec.Command(d.command, d.printHeadersArgs()...).Output()
	if err != nil {
		return fmt.Errorf("internalauth sign --print-headers: %w", err)
	}
	if err := os.WriteFile(d.signatureFile(), headers, 0o600); err != nil {
		return err
	}

	_, status, body, err := d.curl(d.curlArgs("-H", "@"+d.signatureFile()))
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d, want 200: %s", status, body)
	}

	return d.expectAPIReceivedSigned()
}

// expectAPIReceivedSigned checks that the API received one request for
// the target, with the key id the plugin sets.
func (d *demo) expectAPIReceivedSigned() error {
	received := d.api.Requests()
	if len(received) != 1 || received[0].Path != target {
		return fmt.Errorf("API received %d requests, want 1 for %s", len(received), target)
	}
	if got := received[0].Header.Get(internalauth.DefaultKeyIDHeader); got != keyID {
		return fmt.Errorf("API header %s = %q, want %q", internalauth.DefaultKeyIDHeader, got, keyID)
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
		_ = resp.Body.Close()

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
	req, err := http.NewRequest(http.MethodGet, d.targetURL(), nil)
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
// running. The signing commands are those that checkSignCommand and
// checkSignedCurl ran.
func (d *demo) printRecipes() {
	fmt.Printf("\nTry it by hand. Files are in %s.\n", d.dir)
	fmt.Printf("\nUnsigned, answered 401 signature_missing by the plugin:\n  curl %s\n", shellJoin(d.curlArgs()))

	fmt.Printf("\nSigned and sent by internalauth sign (-v also prints the key's check value):\n  %s\n",
		shellJoin(append([]string{d.command}, d.signArgs()...)))

	fmt.Printf("\nA POST with a JSON body, covered by Content-Digest:\n  %s\n",
		shellJoin(append([]string{d.command}, d.signArgs(postArgs...)...)))

	fmt.Printf("\nSigned by internalauth sign --print-headers and sent by curl. Each signature\n"+
		"passes once, since the plugin remembers its nonce:\n  %s > %s\n  curl %s\n",
		shellJoin(append([]string{d.command}, d.printHeadersArgs()...)),
		shellQuote(d.signatureFile()),
		shellJoin(d.curlArgs("-H", "@"+d.signatureFile())))
}

// shellJoin quotes each argument for a POSIX shell and joins them.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, arg := range args {
		quoted[i] = shellQuote(arg)
	}

	return strings.Join(quoted, " ")
}

// shellQuote returns arg as is when a POSIX shell would read it back
// unchanged, and in single quotes otherwise.
func shellQuote(arg string) string {
	safe := arg != ""
	for _, c := range arg {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_", c) {
			safe = false
			break
		}
	}
	if safe {
		return arg
	}

	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}
