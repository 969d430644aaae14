package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

// renderedRole is a deployment whose dedicated route, block router, TLS
// option and plugin declaration all come from internalauth render. The
// public host's own router and certificate stand for what the
// deployment already has before the feature is enabled.
type renderedRole struct {
	role       string
	service    string // the container that carries the rendered labels
	publicHost string
	renderArgs []string

	// publicTLSOption is the public host's TLS option, or empty for
	// Traefik's default option.
	publicTLSOption string
}

var renderedRoles = []renderedRole{
	{role: "infra_manager", service: "portal", publicHost: harness.PortalHost},
	{
		role: "api_manager", service: "api", publicHost: harness.APIHost,
		renderArgs:      []string{"--hmac-secret-env", "API_INTERNAL_HMAC"},
		publicTLSOption: "internal",
	},
}

// TestRenderedConfiguration runs Traefik with the files internalauth
// render writes for each role and checks the documented behaviour.
func TestRenderedConfiguration(t *testing.T) {
	binary, err := harness.BuildCommand(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	for _, role := range renderedRoles {
		t.Run(role.role, func(t *testing.T) {
			d := deployRendered(t, binary, role)

			t.Run("transport", func(t *testing.T) { testRenderedTransport(t, d) })
			t.Run("public host", func(t *testing.T) { testRenderedPublicHost(t, d) })
			if role.publicTLSOption != "" {
				t.Run("public host PKI", func(t *testing.T) { testPublicHostPKI(t, d) })
			}
		})
	}
}

func testRenderedTransport(t *testing.T, d *deployment) {
	const target = "/api/internal/users/reset-otp"

	t.Run("signed reaches API", func(t *testing.T) {
		d.resetUpstreams()
		got := do(t, d.client(d.pki.Pinned), d.signed(t, http.MethodGet, target, nil, nil))
		if got.status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
		}
		expectAPIReceived(t, d, http.MethodGet, target)
	})

	t.Run("unsigned", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodGet, d.internalURL(target), nil)
		if err != nil {
			t.Fatal(err)
		}
		expectRejected(t, d, do(t, d.client(d.pki.Pinned), req), http.StatusUnauthorized, "signature_missing")
	})

	t.Run("unpinned certificate", func(t *testing.T) {
		d.resetUpstreams()
		got := do(t, d.client(d.pki.Unpinned), d.signed(t, http.MethodGet, target, nil, nil))
		expectRejected(t, d, got, http.StatusForbidden, "certificate_not_pinned")
	})

	for name, cert := range map[string]*harness.Certificate{
		"no certificate":           nil,
		"standard PKI certificate": d.pki.Standard,
		"other CA certificate":     d.pki.Other,
	} {
		t.Run(name, func(t *testing.T) {
			d.resetUpstreams()
			expectHandshakeFailure(t, d.client(cert), d.signed(t, http.MethodGet, target, nil, nil))
			expectNothingReceived(t, d)
		})
	}

	t.Run("outside allowlist", func(t *testing.T) {
		d.resetUpstreams()
		client := d.traefik.Client(d.pki, harness.ClientOptions{Cert: d.pki.Pinned, LocalAddr: loopback2})
		got := do(t, client, d.signed(t, http.MethodGet, target, nil, nil))
		if got.status != http.StatusForbidden {
			t.Errorf("status from 127.0.0.2 = %d, want 403 (body %q)", got.status, got.body)
		}
		if got.reason != "" {
			t.Errorf("reason = %q, want the allowlist's plain 403", got.reason)
		}
		expectNothingReceived(t, d)
	})
}

func testRenderedPublicHost(t *testing.T, d *deployment) {
	t.Run("other path reaches API", func(t *testing.T) {
		d.resetUpstreams()
		status := rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, "/api/users", d.publicHost)
		if status != http.StatusOK {
			t.Fatalf("GET /api/users on %s = %d, want 200", d.publicHost, status)
		}
		if n := len(d.api.Requests()); n != 1 {
			t.Errorf("API received %d requests, want 1", n)
		}
	})

	for _, target := range publicSpellings {
		t.Run(target, func(t *testing.T) {
			d.resetUpstreams()
			status := rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, target, d.publicHost)
			if status != http.StatusForbidden {
				t.Errorf("GET %s on %s = %d, want 403", target, d.publicHost, status)
			}
			expectNothingReceived(t, d)
		})
	}

	for _, target := range doubleEncodedSpellings {
		t.Run(target, func(t *testing.T) {
			d.resetUpstreams()
			rawRequest(t, d, d.publicHost, d.publicCert, http.MethodGet, target, d.publicHost)
			for _, r := range d.received() {
				if isInternalPath(r.RequestURI) {
					t.Errorf("upstream received internal path %s", r.RequestURI)
				}
			}
		})
	}
}

// testPublicHostPKI checks that the rendered block router kept the
// public host's TLS option: the standard PKI's client authentication.
func testPublicHostPKI(t *testing.T, d *deployment) {
	for name, cert := range map[string]*harness.Certificate{
		"no certificate":        nil,
		"dedicated certificate": d.pki.Pinned,
	} {
		t.Run(name, func(t *testing.T) {
			d.resetUpstreams()
			req, err := http.NewRequest(http.MethodGet, d.publicURL("/api/users"), nil)
			if err != nil {
				t.Fatal(err)
			}
			expectHandshakeFailure(t, d.client(cert), req)
			expectNothingReceived(t, d)
		})
	}

	t.Run("standard certificate", func(t *testing.T) {
		d.resetUpstreams()
		req, err := http.NewRequest(http.MethodGet, d.publicURL("/api/users"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := do(t, d.client(d.pki.Standard), req); got.status != http.StatusOK {
			t.Errorf("status = %d, want 200 (body %q)", got.status, got.body)
		}
	})
}

func expectHandshakeFailure(t *testing.T, client *http.Client, req *http.Request) {
	t.Helper()

	resp, err := client.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("handshake succeeded with status %d, want a TLS error", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "tls") {
		t.Errorf("error %q is not a TLS error", err)
	}
}

// deployRendered runs check and render for role with an env file that
// names the harness PKI's files, applies the rendered compose override
// the way docker compose would, and starts Traefik with the rendered
// labels, file-provider file and static configuration.
func deployRendered(t *testing.T, binary string, role renderedRole) *deployment {
	t.Helper()

	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pki, err := harness.NewPKI(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	d := &deployment{pki: pki, key: make([]byte, 32), publicHost: role.publicHost}
	if _, err := rand.Read(d.key); err != nil {
		t.Fatal(err)
	}
	d.api = harness.StartUpstream(t, "api", nil)
	url := d.api.URL
	if role.service == "portal" {
		d.portal = harness.StartUpstream(t, "portal", d.api)
		url = d.portal.URL
	}
	if role.publicTLSOption != "" {
		d.publicCert = pki.Standard
	}

	// The shell that runs docker compose holds the key, never the env file.
	hmacVariable := "API_INTERNAL_HMAC=" + hex.EncodeToString(d.key)
	envFile := filepath.Join(dir, "deploy.env")
	if err := os.WriteFile(envFile, []byte(renderedEnvFile(pki, role)), 0o600); err != nil {
		t.Fatal(err)
	}

	check := runInternalauth(t, binary, hmacVariable, "check", "--role", role.role, "--env-file", envFile)
	if check.code != 0 {
		t.Fatalf("internalauth check exited with %d:\n%s%s", check.code, check.stdout, check.stderr)
	}

	outDir := filepath.Join(dir, "rendered")
	args := append([]string{
		"render", "--role", role.role, "--env-file", envFile, "--output-dir", outDir,
		"--certs-dir", filepath.Join(dir, "traefik", "certs"),
		"--hmac-secret-file", filepath.Join(dir, "traefik", "secrets", "api_internal_hmac"),
	}, role.renderArgs...)
	if render := runInternalauth(t, binary, "", args...); render.code != 0 {
		t.Fatalf("internalauth render exited with %d:\n%s", render.code, render.stderr)
	}

	labels, err := harness.LabelsFromText(readRendered(t, outDir, "labels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	env := applyRenderedCompose(t, readRendered(t, outDir, "compose.yml"), role.service, labels,
		map[string]string{"API_INTERNAL_HMAC": hex.EncodeToString(d.key)})

	for key, value := range publicHostLabels(role) {
		if _, rendered := labels[key]; !rendered {
			labels[key] = value
		}
	}
	site := &harness.Site{
		Containers: []harness.Container{{Name: role.service, Labels: labels, URL: url}},
		Files: map[string][]byte{
			"public.yml":   []byte(publicHostTLS(pki, role)),
			"rendered.yml": []byte(readRendered(t, outDir, "dynamic.yml")),
		},
		Env:    env,
		Static: []byte(readRendered(t, outDir, "static.yml")),
	}
	expectBlockRuleDecoded(t, site, role)

	opts, err := site.TraefikOptions()
	if err != nil {
		t.Fatal(err)
	}
	d.traefik = harness.StartTraefik(t, opts)

	return d
}

// renderedEnvFile returns the deployment's variables, with the paths of
// the harness PKI's files, as an env file for check and render.
func renderedEnvFile(pki *harness.PKI, role renderedRole) string {
	sha256Pin, _ := internalauth.CertificatePins(pki.Pinned.Cert)
	lines := []string{
		"API_INTERNAL_ENABLED=true",
		"API_INTERNAL_URL=" + harness.InternalHost,
		"API_INTERNAL_RESTRICT_IP=127.0.0.1/32",
		"API_INTERNAL_SSL_CERT=" + pki.InternalServer.CertFile,
		"API_INTERNAL_SSL_KEY=" + pki.InternalServer.KeyFile,
		"API_INTERNAL_SSL_CA=" + pki.DedicatedCA.CertFile,
		"API_INTERNAL_STANDARD_CA=" + pki.StandardCA.CertFile,
		"API_INTERNAL_CLIENT_PINS=" + sha256Pin,
		"API_INTERNAL_HMAC_KEY_ID=" + keyID,
		"API_INTERNAL_HMAC_ENCODING=hex",
		"PORTAL_URL=" + harness.PortalHost,
		"API_DOCKER_NAME=" + harness.APIHost,
	}
	if role.publicTLSOption != "" {
		lines = append(lines, "API_INTERNAL_PUBLIC_TLS_OPTIONS="+role.publicTLSOption+"@file")
	}

	return strings.Join(lines, "\n") + "\n"
}

// publicHostLabels are the labels the container has before the feature
// is enabled: its router on the public host.
func publicHostLabels(role renderedRole) map[string]string {
	router := "traefik.http.routers." + role.service + "."
	labels := map[string]string{
		"traefik.enable":       "true",
		router + "rule":        "Host(`" + role.publicHost + "`)",
		router + "entryPoints": "websecure",
		router + "tls":         "true",
		router + "service":     role.service,
	}
	if role.publicTLSOption != "" {
		labels[router+"tls.options"] = role.publicTLSOption + "@file"
	}

	return labels
}

// publicHostTLS returns the deployment's own file-provider file: the
// public host's certificate and, for api_manager, the standard PKI's
// TLS option.
func publicHostTLS(pki *harness.PKI, role renderedRole) string {
	server := pki.PortalServer
	if role.publicHost == harness.APIHost {
		server = pki.APIServer
	}
	text := "tls:\n  certificates:\n" +
		"    - certFile: " + server.CertFile + "\n" +
		"      keyFile: " + server.KeyFile + "\n"
	if role.publicTLSOption != "" {
		text += "  options:\n    " + role.publicTLSOption + ":\n      clientAuth:\n" +
			"        caFiles: [" + pki.StandardCA.CertFile + "]\n" +
			"        clientAuthType: RequireAndVerifyClientCert\n"
	}

	return text
}

// renderedCompose is the part of render's compose override that the
// test applies.
type renderedCompose struct {
	Services map[string]struct {
		Labels  map[string]string `yaml:"labels"`
		Volumes []struct {
			Type   string `yaml:"type"`
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"volumes"`
		Secrets []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"secrets"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
	Secrets map[string]struct {
		Environment string `yaml:"environment"`
	} `yaml:"secrets"`
}

// applyRenderedCompose does what docker compose would do with the
// override: it checks that its labels, once interpolated, are labels.txt,
// copies each bind mount's source to its target, writes each secret
// from its variable, and returns Traefik's environment. Targets are
// host paths, since render ran with host directories for --certs-dir
// and --hmac-secret-file.
func applyRenderedCompose(t *testing.T, text, service string, labels, vars map[string]string) []string {
	t.Helper()

	var compose renderedCompose
	if err := yaml.Unmarshal([]byte(text), &compose); err != nil {
		t.Fatalf("parse rendered compose.yml: %v", err)
	}

	composeLabels := compose.Services[service].Labels
	if len(composeLabels) != len(labels) {
		t.Errorf("compose.yml has %d labels for %s, labels.txt %d", len(composeLabels), service, len(labels))
	}
	for key, value := range composeLabels {
		interpolated, err := harness.Interpolate(value, vars)
		if err != nil {
			t.Fatal(err)
		}
		if interpolated != labels[key] {
			t.Errorf("compose.yml label %s = %q after interpolation, labels.txt has %q", key, interpolated, labels[key])
		}
	}

	traefik := compose.Services["traefik"]
	for _, volume := range traefik.Volumes {
		if volume.Type != "bind" {
			t.Fatalf("volume %s has type %q, want bind", volume.Target, volume.Type)
		}
		data, err := os.ReadFile(volume.Source)
		if err != nil {
			t.Fatal(err)
		}
		writeMounted(t, volume.Target, data)
	}
	for _, secret := range traefik.Secrets {
		variable := compose.Secrets[secret.Source].Environment
		writeMounted(t, secret.Target, []byte(vars[variable]))
	}

	var env []string
	for name, value := range traefik.Environment {
		interpolated, err := harness.Interpolate(value, vars)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, name+"="+interpolated)
	}

	return env
}

// expectBlockRuleDecoded checks that Traefik's label decoder keeps the
// block rule's backslashes as render wrote them, so the regexp that
// Traefik compiles matches a literal backslash.
func expectBlockRuleDecoded(t *testing.T, site *harness.Site, role renderedRole) {
	t.Helper()

	conf, err := harness.LabelsToDynamic(site.Containers)
	if err != nil {
		t.Fatal(err)
	}
	router, ok := conf.HTTP.Routers[role.service+"-internal-block"]
	if !ok {
		t.Fatalf("rendered labels declare no router %s-internal-block", role.service)
	}
	if !strings.Contains(router.Rule, `(\\|%2F|%5C|;)`) {
		t.Errorf("decoded block rule %q lacks the separator group (\\\\|%%2F|%%5C|;)", router.Rule)
	}
}

type commandResult struct {
	code   int
	stdout string
	stderr string
}

// runInternalauth runs the internalauth binary with the test's environment
// and extra, a NAME=VALUE variable or empty.
func runInternalauth(t *testing.T, binary, extra string, args ...string) commandResult {
	t.Helper()

	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	if extra != "" {
		cmd.Env = append(cmd.Env, extra)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	result := commandResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		result.code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %s: %v", binary, strings.Join(args, " "), err)
	}
	t.Logf("internalauth %s: exit %d\n%s%s", args[0], result.code, result.stdout, result.stderr)

	return result
}

func readRendered(t *testing.T, dir, name string) string {
	t.Helper()

	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}

	return string(data)
}

func writeMounted(t *testing.T, path string, data []byte) {
	t.Helper()

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
