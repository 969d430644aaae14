package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/internalauth/internalauth/e2e/harness"
)

// curlResult is what one curl -v run printed.
type curlResult struct {
	status  int
	body    []byte
	verbose string
}

// runCurl runs the documented verification command against the
// deployment: the dedicated CA's server trust, the client certificate,
// no -k, and the hostname resolved to loopback.
func runCurl(t *testing.T, d *deployment, cert *harness.Certificate, target string, headers ...string) curlResult {
	t.Helper()

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: install it (apt-get install -y curl); make e2e does")
	}

	args := []string{
		"-v", "--silent", "--show-error",
		"--cacert", d.pki.ServerCA.CertFile,
		"--resolve", harness.InternalHost + ":" + d.traefik.Port() + ":127.0.0.1",
		"--write-out", "\n%{http_code}",
	}
	if cert != nil {
		args = append(args, "--cert", cert.CertFile, "--key", cert.KeyFile)
	}
	for _, header := range headers {
		args = append(args, "-H", header)
	}
	args = append(args, d.internalURL(target))

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(curl, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}

	out := stdout.String()
	cut := strings.LastIndex(out, "\n")
	var status int
	if err := json.Unmarshal([]byte(out[cut+1:]), &status); err != nil {
		t.Fatalf("read curl status from %q: %v", out[cut+1:], err)
	}

	return curlResult{status: status, body: []byte(out[:cut]), verbose: stderr.String()}
}

// TestDocumentedVerification runs the deployment document's curl
// command and checks each of its checkpoints, then sends the same
// request signed.
func TestDocumentedVerification(t *testing.T) {
	d := deploy(t, harness.SingleSite, nil)
	const target = "/api/internal/users/reset-otp"

	t.Run("unsigned", func(t *testing.T) {
		d.resetUpstreams()
		got := runCurl(t, d, d.pki.Pinned, target)

		// OpenSSL builds of curl print each handshake message, and the
		// server's CertificateRequest reads "Request CERT".
		if !strings.Contains(got.verbose, "Request CERT") {
			t.Errorf("curl -v shows no CertificateRequest:\n%s", got.verbose)
		}
		if !strings.Contains(got.verbose, "subject: CN="+harness.InternalHost) {
			t.Errorf("server certificate subject is not %s:\n%s", harness.InternalHost, got.verbose)
		}
		if !strings.Contains(got.verbose, "SSL certificate verify ok") {
			t.Errorf("server certificate not verified by --cacert:\n%s", got.verbose)
		}
		if strings.Contains(got.verbose, "self-signed certificate") {
			t.Errorf("curl reports a self-signed certificate:\n%s", got.verbose)
		}

		var problem struct {
			Reason string `json:"reason"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(got.body, &problem); err != nil {
			t.Fatalf("body %q is not problem+json: %v", got.body, err)
		}
		if got.status != http.StatusUnauthorized || problem.Reason != "signature_missing" {
			t.Errorf("got %d %q, want 401 signature_missing", got.status, problem.Reason)
		}
		if !strings.Contains(got.verbose, "< content-type: application/problem+json") &&
			!strings.Contains(got.verbose, "< Content-Type: application/problem+json") {
			t.Errorf("response is not application/problem+json:\n%s", got.verbose)
		}
		expectNothingReceived(t, d)
	})

	t.Run("signed", func(t *testing.T) {
		d.resetUpstreams()

		// Sign the request curl will send: same method, authority, path
		// and query, and no body.
		req := d.signed(t, http.MethodGet, target, nil, nil)
		var headers []string
		for _, name := range []string{"Signature-Input", "Signature", "Content-Digest"} {
			if value := req.Header.Get(name); value != "" {
				headers = append(headers, name+": "+value)
			}
		}

		got := runCurl(t, d, d.pki.Pinned, target, headers...)
		if got.status != http.StatusOK {
			t.Fatalf("signed curl status = %d, want 200 (body %q)", got.status, got.body)
		}
		expectAPIReceived(t, d, http.MethodGet, target)
	})

	t.Run("without client certificate", func(t *testing.T) {
		d.resetUpstreams()

		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Fatal("curl not found")
		}
		cmd := exec.Command(curl, "-sS", "--cacert", d.pki.ServerCA.CertFile,
			"--resolve", harness.InternalHost+":"+d.traefik.Port()+":127.0.0.1",
			d.internalURL(target))
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("curl without --cert succeeded: %s", out)
		}
		expectNothingReceived(t, d)
	})
}
