package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/render")

// testHMACKey is set in the environment of every render test, to prove
// that render never copies it.
const testHMACKey = "render-test-key-never-printed-0123456789"

// renderVars returns the variables of a complete deployment. The paths
// need not exist: render does not read the files.
func renderVars() map[string]string {
	return map[string]string{
		varEnabled:      "true",
		varURL:          "APIInternal.Example.com.",
		varPortalURL:    "portal.example.com",
		varAPIHost:      "api.example.com",
		varRestrictIP:   "10.0.0.0/8, 192.168.10.20",
		varSSLCert:      "/srv/pki/apiinternal.crt",
		varSSLKey:       "/srv/pki/apiinternal.key",
		varSSLCA:        "/srv/pki/apiinternal_ca.crt",
		varHMAC:         testHMACKey,
		varHMACKeyID:    "automation",
		varHMACEncoding: "hex",
		varClientPins: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:" +
			"AB:CD:EF:01:23:45:67:89, sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
		varPublicTLSOptions: "internal@file",
	}
}

type renderResult struct {
	code   int
	stdout string
	stderr string
}

func runRenderWith(t *testing.T, vars map[string]string, args ...string) renderResult {
	t.Helper()

	var stdout, stderr bytes.Buffer

	code := render(args, strings.NewReader(""), &stdout, &stderr, environFrom(vars))

	assert.NotContains(t, stdout.String(), testHMACKey, "the HMAC key must never be printed")
	assert.NotContains(t, stderr.String(), testHMACKey, "the HMAC key must never be printed")

	return renderResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// assertGolden compares got with testdata/render/NAME.golden, or rewrites
// the file under -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()

	path := filepath.Join("testdata", "render", name+".golden")

	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))

		return
	}

	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/internalauth -run TestRender -update to create it")
	assert.Equal(t, string(want), got, "output differs from %s; rerun with -update if the change is intended", path)
}

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		name string
		role string
		edit func(map[string]string)
		args []string
	}{
		{"infra_manager", roleInfraManager, nil, nil},
		{"api_manager", roleAPIManager, nil, nil},
		{"api_manager_pins_only", roleAPIManager, func(vars map[string]string) {
			for _, name := range []string{varSSLCert, varSSLKey, varSSLCA, varRestrictIP, varPublicTLSOptions, varHMACKeyID, varHMACEncoding} {
				delete(vars, name)
			}
		}, []string{"--hmac-secret-env", varHMAC, "--plugin-version", "v0.1.0", "--service", "backend"}},
		{"infra_manager_custom_paths", roleInfraManager, func(vars map[string]string) {
			delete(vars, varPublicTLSOptions)
		}, []string{"--entrypoint", "https", "--certs-dir", "/certs", "--hmac-secret-file", "/run/secrets/hmac"}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := renderVars()
			if tc.edit != nil {
				tc.edit(vars)
			}

			result := runRenderWith(t, vars, append([]string{"--role", tc.role}, tc.args...)...)

			require.Equal(t, exitOK, result.code, result.stderr)
			assertGolden(t, tc.name, result.stdout)
		})
	}
}

func TestRenderInfraManagerLabels(t *testing.T) {
	result := runRenderWith(t, renderVars(), "--role", roleInfraManager, "--format", "labels")
	require.Equal(t, exitOK, result.code, result.stderr)

	labels := parseLabelLines(t, result.stdout)

	assert.Equal(t, "Host(`apiinternal.example.com`) && PathPrefix(`/api/internal`)",
		labels["traefik.http.routers.apiinternal.rule"])
	assert.Equal(t, "apiinternal@file", labels["traefik.http.routers.apiinternal.tls.options"])
	assert.Equal(t, "portal", labels["traefik.http.routers.apiinternal.service"])
	assert.Equal(t, "apiinternal-allowlist,apiinternal-auth", labels["traefik.http.routers.apiinternal.middlewares"])
	assert.Equal(t, "10.0.0.0/8,192.168.10.20/32",
		labels["traefik.http.middlewares.apiinternal-allowlist.ipAllowList.sourceRange"])

	plugin := "traefik.http.middlewares.apiinternal-auth.plugin.internalauth."
	assert.Equal(t, "apiinternal.example.com", labels[plugin+"serverName"])
	assert.Equal(t, "automation", labels[plugin+"keys[0].id"])
	assert.Equal(t, "hex", labels[plugin+"keys[0].encoding"])
	assert.Equal(t, "/run/secrets/api_internal_hmac", labels[plugin+"keys[0].secretFile"])
	assert.NotContains(t, labels, plugin+"allowUnverifiedChain")
	assert.Len(t, strings.Split(labels[plugin+"pins"], ","), 2)

	block := "traefik.http.routers.portal-internal-block."
	assert.Equal(t, "Host(`portal.example.com`) && PathRegexp(`"+wantBlockPattern+"`)", labels[block+"rule"])
	assert.Equal(t, "apiinternal-deny-all", labels[block+"middlewares"])
	assert.Equal(t, "noop@internal", labels[block+"service"])
	assert.Equal(t, "internal@file", labels[block+"tls.options"])
	assert.Equal(t, "255.255.255.255/32", labels["traefik.http.middlewares.apiinternal-deny-all.ipAllowList.sourceRange"])
}

func TestRenderAPIManagerBlocksStandardHost(t *testing.T) {
	vars := renderVars()
	delete(vars, varPortalURL)
	delete(vars, varRestrictIP)

	result := runRenderWith(t, vars, "--role", roleAPIManager, "--format", "labels")
	require.Equal(t, exitOK, result.code, result.stderr)

	labels := parseLabelLines(t, result.stdout)

	assert.Equal(t, "api", labels["traefik.http.routers.apiinternal.service"])
	assert.Equal(t, "apiinternal-auth", labels["traefik.http.routers.apiinternal.middlewares"])
	assert.NotContains(t, labels, "traefik.http.middlewares.apiinternal-allowlist.ipAllowList.sourceRange")
	assert.Equal(t, "Host(`api.example.com`) && PathRegexp(`"+wantBlockPattern+"`)",
		labels["traefik.http.routers.api-internal-block.rule"])
	assert.Equal(t, "internal@file", labels["traefik.http.routers.api-internal-block.tls.options"])
}

// wantBlockPattern is the block router's regexp as the labels must
// spell it: Traefik's rule parser reads the backquoted text literally.
const wantBlockPattern = `(?i)/api/+internal|(\\|%2F|%5C|;).*api.*internal|api.*(\\|%2F|%5C|;).*internal`

// TestBlockPathPattern matches the pattern against paths as Traefik
// v3.6.12's router matches them: unreserved characters decoded, dot
// segments and doubled slashes removed, %2F kept encoded, %5C decoded
// to a backslash.
func TestBlockPathPattern(t *testing.T) {
	pattern := regexp.MustCompile(blockPathPattern)

	for _, path := range []string{
		"/api/internal",
		"/api/internal/users/reset-otp",
		"/API/Internal",
		"/x/api/internal",
		"/api%2Finternal",
		"/api%2finternal",
		"/%2Fapi%2Finternal",
		"/api\\internal",
		"/api\\.\\internal",
		"/api/.%2Finternal",
		"/api%2F.%2Finternal",
		"/api/x%2F..%2Finternal",
		"/api/x/..%2Finternal",
		"/x%2F..%2Fapi/internal",
		"/api;v=1/internal",
		"/api/;x/internal",
		"/api/internal;x",
	} {
		assert.True(t, pattern.MatchString(path), "pattern must match %s", path)
	}

	for _, path := range []string{
		"/api/users",
		"/api/users/internal",
		"/apiinternal",
		"/internal/api",
		"/internal%2Fapi",
		"/api/files/a%2Fb",
		// An API that decodes once gets /api%2Finternal, not /api/internal.
		"/api%252Finternal",
	} {
		assert.False(t, pattern.MatchString(path), "pattern must not match %s", path)
	}
}

// parseLabelLines reads KEY=VALUE lines and fails on anything else or on
// a key given twice.
func parseLabelLines(t *testing.T, text string) map[string]string {
	t.Helper()

	labels := make(map[string]string)

	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		key, value, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q is not KEY=VALUE", line)
		require.NotContains(t, labels, key, "label %s given twice", key)
		assert.Equal(t, strings.TrimSpace(value), value, "value of %s has surrounding spaces", key)

		labels[key] = value
	}

	return labels
}

func TestRenderComposeMatchesLabels(t *testing.T) {
	vars := renderVars()
	vars[varHMACKeyID] = "ops$2026"

	labelsResult := runRenderWith(t, vars, "--role", roleInfraManager, "--format", "labels")
	composeResult := runRenderWith(t, vars, "--role", roleInfraManager, "--format", "compose")
	require.Equal(t, exitOK, composeResult.code, composeResult.stderr)

	var compose struct {
		Services map[string]struct {
			Labels  map[string]string `yaml:"labels"`
			Volumes []struct {
				Type     string `yaml:"type"`
				Source   string `yaml:"source"`
				Target   string `yaml:"target"`
				ReadOnly bool   `yaml:"read_only"`
			} `yaml:"volumes"`
			Secrets []struct {
				Source string `yaml:"source"`
				Target string `yaml:"target"`
			} `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			Environment string `yaml:"environment"`
		} `yaml:"secrets"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(composeResult.stdout), &compose))

	labels := parseLabelLines(t, labelsResult.stdout)
	composeLabels := compose.Services["portal"].Labels

	for key, value := range composeLabels {
		composeLabels[key] = strings.ReplaceAll(value, "$$", "$")
	}

	assert.Equal(t, labels, composeLabels)
	assert.Equal(t, "ops$2026", labels["traefik.http.middlewares.apiinternal-auth.plugin.internalauth.keys[0].id"])

	traefik := compose.Services["traefik"]
	require.Len(t, traefik.Volumes, 3)
	assert.Equal(t, "/srv/pki/apiinternal_ca.crt", traefik.Volumes[2].Source)
	assert.Equal(t, "/etc/traefik/internalauth/apiinternal_ca.crt", traefik.Volumes[2].Target)
	assert.True(t, traefik.Volumes[2].ReadOnly)
	require.Len(t, traefik.Secrets, 1)
	assert.Equal(t, "/run/secrets/api_internal_hmac", traefik.Secrets[0].Target)
	assert.Equal(t, varHMAC, compose.Secrets[traefik.Secrets[0].Source].Environment)
}

func TestRenderDynamicTLSOption(t *testing.T) {
	type clientAuth struct {
		CAFiles        []string `yaml:"caFiles"`
		ClientAuthType string   `yaml:"clientAuthType"`
	}

	var dynamic struct {
		TLS struct {
			Certificates []struct {
				CertFile string `yaml:"certFile"`
				KeyFile  string `yaml:"keyFile"`
			} `yaml:"certificates"`
			Options map[string]struct {
				MinVersion string     `yaml:"minVersion"`
				SNIStrict  bool       `yaml:"sniStrict"`
				ClientAuth clientAuth `yaml:"clientAuth"`
			} `yaml:"options"`
		} `yaml:"tls"`
	}

	result := runRenderWith(t, renderVars(), "--role", roleAPIManager, "--format", "dynamic")
	require.Equal(t, exitOK, result.code, result.stderr)
	require.NoError(t, yaml.Unmarshal([]byte(result.stdout), &dynamic))

	require.Len(t, dynamic.TLS.Certificates, 1)
	assert.Equal(t, "/etc/traefik/internalauth/apiinternal.crt", dynamic.TLS.Certificates[0].CertFile)
	assert.Equal(t, "/etc/traefik/internalauth/apiinternal.key", dynamic.TLS.Certificates[0].KeyFile)

	option := dynamic.TLS.Options["apiinternal"]
	assert.Equal(t, "VersionTLS12", option.MinVersion)
	assert.True(t, option.SNIStrict)
	assert.Equal(t, clientAuth{
		CAFiles:        []string{"/etc/traefik/internalauth/apiinternal_ca.crt"},
		ClientAuthType: "RequireAndVerifyClientCert",
	}, option.ClientAuth)
}

func TestRenderWithoutCARelaxesChainOnly(t *testing.T) {
	vars := renderVars()
	delete(vars, varSSLCA)

	result := runRenderWith(t, vars, "--role", roleInfraManager)
	require.Equal(t, exitOK, result.code, result.stderr)

	assert.Contains(t, result.stdout, "plugin.internalauth.allowUnverifiedChain=true\n")
	assert.Contains(t, result.stdout, "clientAuthType: RequireAnyClientCert\n")
	assert.NotContains(t, result.stdout, "caFiles")
	assert.Contains(t, result.stderr, "warning: "+varSSLCA+": not set")
}

func TestRenderStaticCatalogPlugin(t *testing.T) {
	var static struct {
		Experimental struct {
			Plugins map[string]struct {
				ModuleName string `yaml:"moduleName"`
				Version    string `yaml:"version"`
			} `yaml:"plugins"`
		} `yaml:"experimental"`
	}

	result := runRenderWith(t, renderVars(), "--role", roleInfraManager, "--format", "static", "--plugin-version", "v1.2.3")
	require.Equal(t, exitOK, result.code, result.stderr)
	require.NoError(t, yaml.Unmarshal([]byte(result.stdout), &static))

	plugin := static.Experimental.Plugins["internalauth"]
	assert.Equal(t, "github.com/internalauth/internalauth", plugin.ModuleName)
	assert.Equal(t, "v1.2.3", plugin.Version)
}

func TestRenderNothingWithoutRoute(t *testing.T) {
	cases := []struct {
		name   string
		role   string
		edit   func(map[string]string)
		stderr string
	}{
		{"disabled", roleInfraManager, func(vars map[string]string) { vars[varEnabled] = "false" }, "API_INTERNAL_ENABLED is not true"},
		{"enabled unset", roleAPIManager, func(vars map[string]string) { delete(vars, varEnabled) }, "API_INTERNAL_ENABLED is not true"},
		{"portal manager", rolePortalManager, nil, "portal_manager opens no route"},
		{"catch-all portal", roleInfraManager, func(vars map[string]string) { delete(vars, varPortalURL) },
			"warning: PORTAL_URL: not set, so the portal is a catch-all and the dedicated route is not created"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := renderVars()
			if tc.edit != nil {
				tc.edit(vars)
			}

			result := runRenderWith(t, vars, "--role", tc.role)

			assert.Equal(t, exitOK, result.code)
			assert.Empty(t, result.stdout)
			assert.Contains(t, result.stderr, tc.stderr)
		})
	}
}

func TestRenderRejectsInvalidVariables(t *testing.T) {
	vars := renderVars()
	vars[varURL] = "portal.example.com"
	vars[varRestrictIP] = "10.0.0.0/8,"

	result := runRenderWith(t, vars, "--role", roleInfraManager)

	assert.Equal(t, exitFailure, result.code)
	assert.Empty(t, result.stdout)
	assert.Contains(t, result.stderr, "error: "+varURL+": ")
	assert.Contains(t, result.stderr, "error: "+varRestrictIP+": ")
	assert.Contains(t, result.stderr, "2 errors")
}

func TestRenderOutputDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")

	result := runRenderWith(t, renderVars(), "--role", roleInfraManager, "--output-dir", dir)
	require.Equal(t, exitOK, result.code, result.stderr)
	assert.Empty(t, result.stdout)

	for _, file := range renderFiles {
		written, err := os.ReadFile(filepath.Join(dir, file.name))
		require.NoError(t, err)

		printed := runRenderWith(t, renderVars(), "--role", roleInfraManager, "--format", file.format)
		assert.Equal(t, printed.stdout, string(written), file.name)
		assert.Contains(t, result.stderr, "wrote "+filepath.Join(dir, file.name))
	}
}

func TestRenderUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no role":             {},
		"unknown format":      {"--role", roleInfraManager, "--format", "toml"},
		"relative secret":     {"--role", roleInfraManager, "--hmac-secret-file", "secrets/hmac"},
		"invalid env name":    {"--role", roleInfraManager, "--hmac-secret-env", "API-HMAC"},
		"invalid service":     {"--role", roleInfraManager, "--service", "portal,api"},
		"invalid entry point": {"--role", roleInfraManager, "--entrypoint", ""},
		"extra argument":      {"--role", roleInfraManager, "labels"},
	} {
		t.Run(name, func(t *testing.T) {
			result := runRenderWith(t, renderVars(), args...)

			assert.Equal(t, exitUsage, result.code)
			assert.Empty(t, result.stdout)
			assert.NotEmpty(t, result.stderr)
		})
	}
}

func TestRenderEnabledRule(t *testing.T) {
	for _, value := range []string{"true", "True", " TRUE "} {
		t.Run(value, func(t *testing.T) {
			vars := renderVars()
			vars[varEnabled] = value

			result := runRenderWith(t, vars, "--role", roleInfraManager, "--format", "labels")

			assert.Equal(t, exitOK, result.code, result.stderr)
			assert.Contains(t, result.stdout, "traefik.enable=true")
		})
	}

	for _, value := range []string{"1", "yes", "on", "0"} {
		for _, role := range []string{roleInfraManager, rolePortalManager} {
			t.Run(value+" "+role, func(t *testing.T) {
				vars := renderVars()
				vars[varEnabled] = value

				result := runRenderWith(t, vars, "--role", role)

				assert.Equal(t, exitFailure, result.code)
				assert.Empty(t, result.stdout)
				assert.Contains(t, result.stderr, "error: "+varEnabled+`: invalid value "`+value+
					`"; use true or false, in any letter case, or leave it empty for false`)
			})
		}
	}
}

func TestRenderRejectsCAWithoutCertificate(t *testing.T) {
	vars := renderVars()
	delete(vars, varSSLCert)
	delete(vars, varSSLKey)

	result := runRenderWith(t, vars, "--role", roleInfraManager)

	assert.Equal(t, exitFailure, result.code)
	assert.Empty(t, result.stdout)
	assert.Contains(t, result.stderr, "error: "+varSSLCert+": missing while "+varSSLCA+" is set")
}
