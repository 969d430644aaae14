package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	// PluginModule is the plugin's module path, which is also the
	// moduleName of its local plugin declaration.
	PluginModule = "github.com/internalauth/internalauth"

	// PluginAlias is the name the static configuration gives the plugin,
	// so middlewares declare it as plugin.internalauth.
	PluginAlias = "internalauth"

	traefikModule = "github.com/traefik/traefik/v3"

	// readyTimeout bounds the wait for Traefik to serve the dynamic
	// configuration, including the plugin's interpretation by yaegi.
	readyTimeout = 60 * time.Second

	// readyHost is the Host of the probe router the harness adds to every
	// dynamic configuration.
	readyHost = "ready.e2e.invalid"
)

// Traefik is a running Traefik process.
type Traefik struct {
	// Dir is the working directory, with plugins-local/, the static
	// configuration, the dynamic configuration in dynamic/ and the logs.
	Dir string

	// HTTPSAddr is the address of the websecure entry point, and
	// ProbeAddr the plain HTTP entry point that serves the probe router.
	HTTPSAddr string
	ProbeAddr string

	// DebugAddr serves Traefik's API and /debug/pprof/ when
	// TraefikOptions.Debug is set, and is empty otherwise.
	DebugAddr string

	logLevel string

	cmd  *exec.Cmd
	done chan error
}

// TraefikOptions configure StartTraefik.
type TraefikOptions struct {
	// Dynamic maps file names in the file provider's directory to their
	// content (YAML).
	Dynamic map[string][]byte

	// Env is added to Traefik's environment, for keys[].secretEnv.
	Env []string

	// PluginDir is the plugin's source directory. Empty means the
	// repository root.
	PluginDir string

	// Static is static configuration in YAML, such as the static.yml of
	// internalauth render. Each of its top-level sections replaces the
	// harness's own. It may not contain entryPoints, providers or ping,
	// which the harness sets itself, and its local plugins must name the
	// plugin's module, the only one the harness lays out.
	Static []byte

	// Debug adds Traefik's API with its debug endpoints, such as
	// /debug/pprof/, on a loopback entry point at Traefik.DebugAddr.
	Debug bool

	// LogLevel is Traefik's log level. Empty means DEBUG; benchmarks use
	// a quieter level because DEBUG logs a line per request.
	LogLevel string
}

// TraefikVersion returns the Traefik version that the e2e module's
// go.mod requires.
func TraefikVersion() (string, error) {
	dir, err := moduleDir()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}

	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(fields) >= 2 && fields[0] == traefikModule {
			return fields[1], nil
		}
	}

	return "", fmt.Errorf("%s/go.mod does not require %s", dir, traefikModule)
}

// TraefikBinary returns the path of the Traefik binary the suite runs:
// $INTERNALAUTH_E2E_TRAEFIK when set, otherwise e2e/.build/traefik-<version>,
// which it builds when missing.
func TraefikBinary() (string, error) {
	if path := os.Getenv("INTERNALAUTH_E2E_TRAEFIK"); path != "" {
		return path, nil
	}

	e2eDir, err := moduleDir()
	if err != nil {
		return "", err
	}
	version, err := TraefikVersion()
	if err != nil {
		return "", err
	}

	binary := filepath.Join(e2eDir, ".build", "traefik-"+version)
	if _, err := os.Stat(binary); err == nil {
		return binary, nil
	}

	// NOTE: a cold build takes minutes. make e2e builds the binary before
	// go test, so this path serves a bare go test only.
	cmd := exec.Command("go", "build", "-o", binary, traefikModule+"/cmd/traefik")
	cmd.Dir = e2eDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build traefik %s: %w", version, err)
	}

	return binary, nil
}

// StartTraefik lays out the plugin, writes the configuration, starts
// Traefik and waits until it serves the dynamic configuration. The
// process is killed when the test ends, and its log is printed when the
// test failed.
func StartTraefik(t testing.TB, opts TraefikOptions) *Traefik {
	t.Helper()

	tr, err := LaunchTraefik(t.TempDir(), opts)
	if tr != nil {
		t.Cleanup(func() {
			tr.Stop()
			if t.Failed() {
				t.Logf("traefik log (%s):\n%s", tr.logPath(), tr.LogTail(80))
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}

	return tr
}

// LaunchTraefik is StartTraefik for callers other than tests: it works
// in dir, and the caller must Stop the returned Traefik, which is not
// nil when only the wait for readiness failed.
func LaunchTraefik(dir string, opts TraefikOptions) (*Traefik, error) {
	binary, err := TraefikBinary()
	if err != nil {
		return nil, err
	}

	tr := &Traefik{Dir: dir}
	if tr.HTTPSAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if tr.ProbeAddr, err = freeAddr(); err != nil {
		return nil, err
	}

	pluginDir := opts.PluginDir
	if pluginDir == "" {
		if pluginDir, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	if opts.Debug {
		if tr.DebugAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	tr.logLevel = opts.LogLevel
	static, err := tr.staticConfig(opts.Static)
	if err != nil {
		return nil, err
	}
	if err := LayOutPlugin(pluginDir, tr.Dir); err != nil {
		return nil, err
	}
	if err := tr.writeConfig(static, opts.Dynamic); err != nil {
		return nil, err
	}

	logFile, err := os.Create(tr.logPath())
	if err != nil {
		return nil, err
	}

	tr.cmd = exec.Command(binary, "--configFile="+filepath.Join(tr.Dir, "traefik.yml"))
	tr.cmd.Dir = tr.Dir
	tr.cmd.Env = append(os.Environ(), opts.Env...)
	tr.cmd.Stdout, tr.cmd.Stderr = logFile, logFile
	tr.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := tr.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start traefik: %w", err)
	}

	tr.done = make(chan error, 1)
	go func() {
		tr.done <- tr.cmd.Wait()
		_ = logFile.Close()
	}()

	if err := tr.waitReady(); err != nil {
		return tr, fmt.Errorf("traefik not ready: %w\n%s", err, tr.LogTail(80))
	}

	return tr, nil
}

// Stop ends the Traefik process and waits for it to exit. It may be
// called more than once.
func (tr *Traefik) Stop() {
	if tr.cmd == nil || tr.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-tr.cmd.Process.Pid, syscall.SIGTERM)

	// The exit status is not checked: after a signal it is never zero.
	var exitErr error

	select {
	case exitErr = <-tr.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-tr.cmd.Process.Pid, syscall.SIGKILL)
		exitErr = <-tr.done
	}

	_ = exitErr
	tr.cmd = nil
}

// LogTail returns the last lines of Traefik's log.
func (tr *Traefik) LogTail(lines int) string {
	data, err := os.ReadFile(tr.logPath())
	if err != nil {
		return "read traefik log: " + err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}

	return strings.Join(all, "\n")
}

// Log returns Traefik's whole log.
func (tr *Traefik) Log() string {
	data, _ := os.ReadFile(tr.logPath())
	return string(data)
}

func (tr *Traefik) logPath() string {
	return filepath.Join(tr.Dir, "traefik.log")
}

// staticConfig returns the static configuration: the harness's own,
// with the sections of extra, a YAML document, in place of its own.
func (tr *Traefik) staticConfig(extra []byte) (map[string]any, error) {
	logLevel := tr.logLevel
	if logLevel == "" {
		logLevel = "DEBUG"
	}

	static := map[string]any{
		"global": map[string]any{"checkNewVersion": false, "sendAnonymousUsage": false},
		"log":    map[string]any{"level": logLevel, "noColor": true},
		"entryPoints": map[string]any{
			"websecure": map[string]any{"address": tr.HTTPSAddr},
			"probe":     map[string]any{"address": tr.ProbeAddr},
		},
		"ping": map[string]any{"manualRouting": true},
		"providers": map[string]any{
			"file": map[string]any{"directory": filepath.Join(tr.Dir, "dynamic"), "watch": false},
		},
		"experimental": map[string]any{
			"localPlugins": map[string]any{
				PluginAlias: map[string]any{"moduleName": PluginModule},
			},
		},
	}
	if tr.DebugAddr != "" {
		// api.insecure serves the API on the entry point named traefik.
		static["api"] = map[string]any{"insecure": true, "debug": true}
		static["entryPoints"].(map[string]any)["traefik"] = map[string]any{"address": tr.DebugAddr}
	}
	if len(extra) == 0 {
		return static, nil
	}

	var sections map[string]any
	if err := yaml.Unmarshal(extra, &sections); err != nil {
		return nil, fmt.Errorf("parse static configuration: %w", err)
	}
	for name, section := range sections {
		if isOneOf(name, "entryPoints", "providers", "ping") {
			return nil, fmt.Errorf("static configuration sets %s, which the harness sets itself: leave it out", name)
		}
		for key := range static {
			if strings.EqualFold(key, name) {
				delete(static, key)
			}
		}
		static[name] = section
	}

	return static, checkLocalPlugins(static)
}

// checkLocalPlugins verifies that the static configuration loads the
// plugin as a local plugin from the module the harness lays out.
func checkLocalPlugins(static map[string]any) error {
	plugins := lookup(asMap(lookup(static, "experimental")), "localPlugins")
	if len(asMap(plugins)) == 0 {
		return errors.New("static configuration declares no experimental.localPlugins; " +
			"the harness runs the plugin from plugins-local only")
	}
	for alias, plugin := range asMap(plugins) {
		module := lookup(asMap(plugin), "moduleName")
		if module != PluginModule {
			return fmt.Errorf("local plugin %s has moduleName %v; the harness lays out %s only", alias, module, PluginModule)
		}
	}

	return nil
}

// lookup returns the value of name in m, or nil, matching the key
// case-insensitively as Traefik matches static configuration keys.
func lookup(m map[string]any, name string) any {
	for key, value := range m {
		if strings.EqualFold(key, name) {
			return value
		}
	}

	return nil
}

func isOneOf(key string, names ...string) bool {
	for _, name := range names {
		if strings.EqualFold(key, name) {
			return true
		}
	}

	return false
}

func asMap(value any) map[string]any {
	m, _ := value.(map[string]any)
	return m
}

// writeConfig writes the static configuration and the dynamic files,
// with the probe router added.
func (tr *Traefik) writeConfig(static map[string]any, dynamicFiles map[string][]byte) error {
	dynamicDir := filepath.Join(tr.Dir, "dynamic")
	if err := os.MkdirAll(dynamicDir, 0o755); err != nil {
		return err
	}

	// JSON is valid YAML, and the file provider reads .yml files.
	if err := writeJSON(filepath.Join(tr.Dir, "traefik.yml"), static); err != nil {
		return err
	}

	probe := map[string]any{"http": map[string]any{"routers": map[string]any{
		"e2e-ready": map[string]any{
			"entryPoints": []string{"probe"},
			"rule":        "Host(`" + readyHost + "`)",
			"service":     "ping@internal",
		},
	}}}
	if err := writeJSON(filepath.Join(dynamicDir, "e2e-ready.yml"), probe); err != nil {
		return err
	}

	for name, content := range dynamicFiles {
		if err := os.WriteFile(filepath.Join(dynamicDir, name), content, 0o644); err != nil {
			return err
		}
	}

	return nil
}

// waitReady polls the probe router, which responds only once Traefik has
// applied the dynamic configuration, every file of it at once.
func (tr *Traefik) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-tr.done:
			tr.done <- err
			return fmt.Errorf("traefik exited: %w", err)
		default:
		}

		req, _ := http.NewRequest(http.MethodGet, "http://"+tr.ProbeAddr+"/ping", nil)
		req.Host = readyHost
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("probe status %d", resp.StatusCode)
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}

	return fmt.Errorf("timed out after %s: %w", readyTimeout, lastErr)
}

// ClientOptions configure Client.
type ClientOptions struct {
	// Cert is the client certificate to present, or nil for none.
	Cert *Certificate

	// LocalAddr is the address to connect from, or nil for any.
	LocalAddr net.Addr

	// ServerName is the SNI to send in place of the URL's hostname.
	ServerName string

	// NoSNI sends no server name at all and skips verifying the server
	// certificate.
	NoSNI bool

	// CertificateRequested, when not nil, is called each time the server
	// sends a CertificateRequest.
	CertificateRequested func()
}

// Client returns an HTTPS client that connects every URL to the
// websecure entry point, trusts p.ServerCA and opens a new connection
// for each request, so each one goes through its own handshake.
func (tr *Traefik) Client(p *PKI, opts ClientOptions) *http.Client {
	tlsConfig := &tls.Config{RootCAs: p.ServerCA.Pool(), ServerName: opts.ServerName, MinVersion: tls.VersionTLS12}
	if opts.Cert != nil || opts.CertificateRequested != nil {
		tlsConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if opts.CertificateRequested != nil {
				opts.CertificateRequested()
			}
			if opts.Cert == nil {
				return &tls.Certificate{}, nil
			}
			cert := opts.Cert.TLS()
			return &cert, nil
		}
	}
	if opts.NoSNI {
		// Go sends no SNI when ServerName is an IP address. Traefik then
		// presents its default certificate, which no client can verify,
		// and these scenarios test what the server does next.
		tlsConfig.ServerName = "127.0.0.1"
		tlsConfig.InsecureSkipVerify = true
	}

	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: opts.LocalAddr}
	transport := &http.Transport{
		TLSClientConfig: tlsConfig,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, tr.HTTPSAddr)
		},
		DisableKeepAlives: true,
		// Requests with "Expect: 100-continue" wait for the interim
		// response, so a rejection of a large body arrives before it is
		// sent instead of as a connection reset.
		ExpectContinueTimeout: 5 * time.Second,
	}

	return &http.Client{Transport: transport, Timeout: 15 * time.Second}
}

// Port returns the port of the websecure entry point.
func (tr *Traefik) Port() string {
	_, port, _ := net.SplitHostPort(tr.HTTPSAddr)
	return port
}

// freeAddr returns a loopback address with a port that was free a
// moment ago.
func freeAddr() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer listener.Close()

	return listener.Addr().String(), nil
}

func writeJSON(path string, value any) error {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}

	return os.WriteFile(path, buf.Bytes(), 0o644)
}
