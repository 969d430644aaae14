package bench

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/internalauth/internalauth"
	"github.com/internalauth/internalauth/e2e/harness"
)

// Route is one way of publishing the API that the benchmark measures.
type Route struct {
	Name   string
	Prefix string
	Body   int // request body bytes; 0 sends GET without a body
}

// Routes are measured side by side on one hostname and TLS option, in
// this order within a round.
var Routes = []Route{
	{Name: "mtls-allowlist", Prefix: "/bare"},
	{Name: "plugin", Prefix: "/plugin"},
	{Name: "forwardauth", Prefix: "/forward"},
	{Name: "plugin-64k", Prefix: "/plugin64k", Body: 64 << 10},
}

const keyID = "bench"

// Site is Traefik with the benchmark's routes, the upstream they share
// and the compiled forwardAuth verifier.
type Site struct {
	PKI      *harness.PKI
	Key      []byte
	KeyID    string
	Traefik  *harness.Traefik
	Verifier *exec.Cmd

	upstream *http.Server
}

// StartSite builds the verifier, then starts the upstream, the verifier
// and Traefik in dir. The caller must Close the Site, also on error.
func StartSite(dir string) (*Site, error) {
	s := &Site{KeyID: keyID, Key: make([]byte, 32)}
	if _, err := rand.Read(s.Key); err != nil {
		return s, err
	}

	var err error
	if s.PKI, err = harness.NewPKI(dir); err != nil {
		return s, err
	}

	keyFile := filepath.Join(dir, "hmac.key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(s.Key)+"\n"), 0o600); err != nil {
		return s, err
	}
	pin, _ := internalauth.CertificatePins(s.PKI.Pinned.Cert)
	plugin := map[string]any{
		"keys":       []map[string]any{{"id": keyID, "secretFile": keyFile, "encoding": "hex"}},
		"pins":       []string{pin},
		"serverName": harness.InternalHost,
		// A round at full speed signs more nonces within maxAge than
		// the default capacity holds.
		"replayCacheSize": 10_000_000,
	}

	upstreamURL, err := s.startUpstream()
	if err != nil {
		return s, err
	}
	verifierAddr, err := s.startVerifier(dir, plugin)
	if err != nil {
		return s, err
	}

	dynamic, err := json.Marshal(s.dynamic(plugin, upstreamURL, verifierAddr))
	if err != nil {
		return s, err
	}
	s.Traefik, err = harness.LaunchTraefik(filepath.Join(dir, "traefik"), harness.TraefikOptions{
		Dynamic:  map[string][]byte{"bench.yml": dynamic},
		LogLevel: "WARN",
	})

	return s, err
}

// Close stops Traefik, the verifier and the upstream.
func (s *Site) Close() {
	if s.Traefik != nil {
		s.Traefik.Stop()
	}
	if s.Verifier != nil && s.Verifier.Process != nil {
		_ = syscall.Kill(-s.Verifier.Process.Pid, syscall.SIGTERM)
		_ = s.Verifier.Wait()
	}
	if s.upstream != nil {
		_ = s.upstream.Close()
	}
}

// URL returns the URL of route on the dedicated hostname.
func (s *Site) URL(route Route) string {
	return "https://" + harness.InternalHost + ":" + s.Traefik.Port() + route.Prefix + "/api/internal/users/reset-otp?user=42"
}

// Client returns a keep-alive client with the pinned certificate.
func (s *Site) Client(conns int) *http.Client {
	config := &tls.Config{
		RootCAs:      s.PKI.ServerCA.Pool(),
		Certificates: []tls.Certificate{s.PKI.Pinned.TLS()},
		MinVersion:   tls.VersionTLS12,
	}

	return KeepAliveClient(s.Traefik.HTTPSAddr, config, conns)
}

// startUpstream serves 204 to every request after reading its body.
func (s *Site) startUpstream() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s.upstream = &http.Server{
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			_, _ = io.Copy(io.Discard, req.Body)
			rw.WriteHeader(http.StatusNoContent)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = s.upstream.Serve(listener) }()

	return "http://" + listener.Addr().String(), nil
}

// startVerifier builds and starts cmd/verifier, and waits for the line
// that gives its address.
func (s *Site) startVerifier(dir string, plugin map[string]any) (string, error) {
	binary := filepath.Join(dir, "verifier")
	build := exec.Command("go", "build", "-o", binary, "./cmd/verifier")
	moduleRoot, err := harness.RepoRoot()
	if err != nil {
		return "", err
	}
	build.Dir = filepath.Join(moduleRoot, "e2e")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build verifier: %w\n%s", err, out)
	}

	configFile := filepath.Join(dir, "verifier.json")
	data, err := json.Marshal(plugin)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(configFile, data, 0o600); err != nil {
		return "", err
	}

	s.Verifier = exec.Command(binary, "-config", configFile, "-client-ca", s.PKI.DedicatedCA.CertFile)
	s.Verifier.Stderr = os.Stderr
	s.Verifier.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := s.Verifier.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := s.Verifier.Start(); err != nil {
		return "", err
	}

	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, found := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !found {
		return "", fmt.Errorf("verifier did not report its address: %q: %w", line, err)
	}

	return addr, nil
}

// dynamic returns the file provider's configuration: one TLS option that
// requires a client certificate from the dedicated CA, and a router per
// route on the dedicated hostname.
func (s *Site) dynamic(plugin map[string]any, upstreamURL, verifierAddr string) map[string]any {
	router := func(prefix string, middlewares ...string) map[string]any {
		return map[string]any{
			"entryPoints": []string{"websecure"},
			"rule":        "Host(`" + harness.InternalHost + "`) && PathPrefix(`" + prefix + "/`)",
			"tls":         map[string]any{"options": "dedicated"},
			"middlewares": middlewares,
			"service":     "upstream",
		}
	}

	return map[string]any{
		"tls": map[string]any{
			"certificates": []map[string]any{
				{"certFile": s.PKI.InternalServer.CertFile, "keyFile": s.PKI.InternalServer.KeyFile},
			},
			"options": map[string]any{"dedicated": map[string]any{
				"minVersion": "VersionTLS12",
				"sniStrict":  true,
				"clientAuth": map[string]any{
					"caFiles":        []string{s.PKI.DedicatedCA.CertFile},
					"clientAuthType": "RequireAndVerifyClientCert",
				},
			}},
		},
		"http": map[string]any{
			"routers": map[string]any{
				"bench-bare":      router("/bare", "allow"),
				"bench-plugin":    router("/plugin", "allow", "auth"),
				"bench-forward":   router("/forward", "allow", "passcert", "verify"),
				"bench-plugin64k": router("/plugin64k", "allow", "auth"),
			},
			"middlewares": map[string]any{
				"allow":    map[string]any{"ipAllowList": map[string]any{"sourceRange": []string{"127.0.0.1/32"}}},
				"auth":     map[string]any{"plugin": map[string]any{harness.PluginAlias: plugin}},
				"passcert": map[string]any{"passTLSClientCert": map[string]any{"pem": true}},
				"verify": map[string]any{"forwardAuth": map[string]any{
					"address":             "http://" + verifierAddr + "/verify",
					"forwardBody":         true,
					"maxBodySize":         internalauth.DefaultMaxBodyBytes,
					"authResponseHeaders": []string{internalauth.DefaultKeyIDHeader, internalauth.DefaultCertificateHeader},
				}},
			},
			"services": map[string]any{
				"upstream": map[string]any{"loadBalancer": map[string]any{
					"servers": []map[string]any{{"url": upstreamURL}},
				}},
			},
		},
	}
}
