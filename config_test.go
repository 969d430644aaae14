package internalauth

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateConfigDefaults(t *testing.T) {
	cfg := CreateConfig()

	assert.Equal(t, "5m", cfg.MaxAge)
	assert.Equal(t, "30s", cfg.ClockSkew)
	assert.True(t, cfg.RequireNonce)
	assert.Equal(t, int64(1<<20), cfg.MaxBodyBytes)
	assert.Equal(t, 100000, cfg.ReplayCacheSize)
	assert.Equal(t, "X-Internalauth-Key-Id", cfg.KeyIDHeader)
	assert.Equal(t, "X-Internalauth-Client-Cert-Sha256", cfg.CertificateHeader)
	assert.Empty(t, cfg.Components, "slice defaults are applied by New so labels replace them")
	assert.Empty(t, cfg.Keys)
	assert.Empty(t, cfg.Pins)
}

func TestNewRejectsInvalidConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		change func(cfg *Config)
		want   []string
	}{
		{"nil configuration", nil, []string{"configuration missing"}},
		{"no keys", func(cfg *Config) { cfg.Keys = nil }, []string{"keys:", "secretFile"}},
		{"key without id", func(cfg *Config) { cfg.Keys[0].ID = "" }, []string{"keys[0].id", "missing"}},
		{"key id with quote", func(cfg *Config) { cfg.Keys[0].ID = "a\x01b" }, []string{"keys[0].id", "printable"}},
		{"duplicate key id", func(cfg *Config) { cfg.Keys = append(cfg.Keys, cfg.Keys[0]) },
			[]string{"keys[1].id", "used twice"}},
		{"no key source", func(cfg *Config) { cfg.Keys[0].Secret = "" }, []string{"keys[0]", "exactly one", "found 0"}},
		{"two key sources", func(cfg *Config) { cfg.Keys[0].SecretEnv = "HOME" }, []string{"keys[0]", "found 2"}},
		{"short key", func(cfg *Config) { cfg.Keys[0].Secret = "short" },
			[]string{"keys[0]", "5 bytes", "at least 32", "openssl rand -base64 32"}},
		{"short key after decoding", func(cfg *Config) {
			cfg.Keys[0].Secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZQ=="
			cfg.Keys[0].Encoding = "base64"
		}, []string{"keys[0]", "31 bytes"}},
		{"invalid hex key", func(cfg *Config) {
			cfg.Keys[0].Secret = strings.Repeat("zz", 32)
			cfg.Keys[0].Encoding = "hex"
		}, []string{"keys[0]", "not valid hex"}},
		{"unknown encoding", func(cfg *Config) { cfg.Keys[0].Encoding = "utf8" }, []string{"keys[0]", `unknown encoding "utf8"`}},
		{"missing key file", func(cfg *Config) {
			cfg.Keys[0].Secret = ""
			cfg.Keys[0].SecretFile = "/nonexistent/internalauth.key"
		}, []string{"keys[0].secretFile", "/nonexistent/internalauth.key"}},
		{"unset key variable", func(cfg *Config) {
			cfg.Keys[0].Secret = ""
			cfg.Keys[0].SecretEnv = "INTERNALAUTH_UNSET_KEY"
		}, []string{"keys[0].secretEnv", "INTERNALAUTH_UNSET_KEY", "not set"}},
		{"invalid key pin", func(cfg *Config) { cfg.Keys[0].Pins = []string{"abc"} }, []string{"keys[0].pins[0]", `"abc"`}},
		{"no pins", func(cfg *Config) { cfg.Pins = nil }, []string{"pins:", "internalauth fingerprint"}},
		{"no pins and one key unrestricted", func(cfg *Config) {
			extra := KeyConfig{ID: "pinned", Secret: string(testSecret), Pins: cfg.Pins}
			cfg.Keys = append(cfg.Keys, extra)
			cfg.Pins = nil
		}, []string{"pins:"}},
		{"SHA-1 pin", func(cfg *Config) { cfg.Pins = []string{strings.Repeat("AB", 20)} },
			[]string{"pins[0]", "SHA-1"}},
		{"blank pin", func(cfg *Config) { cfg.Pins = append(cfg.Pins, " ") }, []string{"pins[1]", "empty pin"}},
		{"server name with scheme", func(cfg *Config) { cfg.ServerName = "https://api.example.com" },
			[]string{"serverName", "not a hostname"}},
		{"server name with port", func(cfg *Config) { cfg.ServerName = "api.example.com:443" },
			[]string{"serverName", "without scheme, port or path"}},
		{"wildcard server name", func(cfg *Config) { cfg.ServerName = "*.example.com" }, []string{"serverName"}},
		{"invalid max age", func(cfg *Config) { cfg.MaxAge = "5" }, []string{"maxAge", `"5"`, "5m or 30s"}},
		{"zero max age", func(cfg *Config) { cfg.MaxAge = "0s" }, []string{"maxAge", "out of range"}},
		{"max age too long", func(cfg *Config) { cfg.MaxAge = "25h" }, []string{"maxAge", "out of range"}},
		{"negative skew", func(cfg *Config) { cfg.ClockSkew = "-1s" }, []string{"clockSkew", "out of range"}},
		{"skew too long", func(cfg *Config) { cfg.ClockSkew = "1h" }, []string{"clockSkew", "out of range"}},
		{"unsupported component", func(cfg *Config) { cfg.Components = []string{"@method", "@status"} },
			[]string{"components[1]", `"@status"`}},
		{"uppercase component", func(cfg *Config) { cfg.Components = []string{"Date"} }, []string{"components[0]", "lowercase"}},
		{"duplicate component", func(cfg *Config) { cfg.Components = []string{"@method", " @method"} },
			[]string{"components[1]", "twice"}},
		{"invalid label", func(cfg *Config) { cfg.Label = "Sig 1" }, []string{"label", `"Sig 1"`}},
		{"invalid tag", func(cfg *Config) { cfg.Tag = "a\nb" }, []string{"tag", "printable"}},
		{"zero body limit", func(cfg *Config) { cfg.MaxBodyBytes = 0 }, []string{"maxBodyBytes", "out of range"}},
		{"negative cache size", func(cfg *Config) { cfg.ReplayCacheSize = -1 }, []string{"replayCacheSize", "out of range"}},
		{"invalid header name", func(cfg *Config) { cfg.KeyIDHeader = "X Key" }, []string{"keyIdHeader", "not a valid header"}},
		{"reserved header name", func(cfg *Config) { cfg.CertificateHeader = "signature" }, []string{"certificateHeader", "reserved"}},
		{"same header names", func(cfg *Config) { cfg.CertificateHeader = "x-internalauth-key-id" },
			[]string{"certificateHeader", "also keyIdHeader"}},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			var cfg *Config
			if tc.change != nil {
				cfg = testConfig(t)
				tc.change(cfg)
			}

			handler, err := New(context.Background(), &nextRecorder{}, cfg, "apiinternal-auth@file")

			require.Error(t, err)
			assert.Nil(t, handler)
			assert.Contains(t, err.Error(), "internalauth: apiinternal-auth@file: ")

			for _, want := range tc.want {
				assert.Contains(t, err.Error(), want)
			}

			assert.NotContains(t, err.Error(), string(testSecret))
		})
	}
}

func TestNewRejectsNilNext(t *testing.T) {
	_, err := New(context.Background(), nil, testConfig(t), "x")

	assert.ErrorContains(t, err, "no next handler")
}

func TestNewAppliesDefaultsToEmptyFields(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxAge = ""
	cfg.ClockSkew = " "
	cfg.KeyIDHeader = ""
	cfg.CertificateHeader = ""

	m, _ := newTestMiddleware(t, cfg)

	assert.Equal(t, "5m0s", m.maxAge.String())
	assert.Equal(t, "30s", m.clockSkew.String())
	assert.Equal(t, DefaultKeyIDHeader, m.keyIDHeader)
	assert.Equal(t, DefaultCertificateHeader, m.certificateHeader)
	assert.Equal(t, DefaultComponents, m.components)
}

func TestNewTrimsDecodedValues(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pins = []string{" " + cfg.Pins[0]}
	cfg.Components = []string{"@method", " @path", "@authority ", "@query", "content-digest"}
	cfg.ServerName = " APIINTERNAL.example.test. "

	m, _ := newTestMiddleware(t, cfg)

	assert.Equal(t, []string{"@method", "@path", "@authority", "@query", "content-digest"}, m.components)
	assert.Equal(t, testHost, m.serverName)
}

func TestNewWarnings(t *testing.T) {
	cfg := testConfig(t)
	cfg.ServerName = ""
	cfg.RequireNonce = false
	cfg.Components = []string{"@method", "@target-uri"}

	_, warnings, err := buildMiddleware(cfg, "x")
	require.NoError(t, err)

	joined := strings.Join(warnings, "\n")
	assert.Contains(t, joined, "inline")
	assert.Contains(t, joined, "serverName: not set")
	assert.Contains(t, joined, "requireNonce: false")
	assert.Contains(t, joined, "components: content-digest is not required")
	assert.NotContains(t, joined, "@path is not required")
}

func TestNewLogsSummaryWithoutSecret(t *testing.T) {
	var out strings.Builder
	logger.SetOutput(&out)
	t.Cleanup(func() { logger.SetOutput(discard{}) })

	_, err := New(context.Background(), &nextRecorder{}, testConfig(t), "apiinternal-auth@docker")
	require.NoError(t, err)

	logged := out.String()
	assert.Contains(t, logged, `keys "ops-2026" (check `+KeyCheckValue(testSecret)+")")
	assert.Contains(t, logged, "1 certificate pins")
	assert.Contains(t, logged, "server name apiinternal.example.test")
	assert.Contains(t, logged, "warning: keys[0]")
	assert.NotContains(t, logged, string(testSecret))
}

func TestAcceptSignatureValue(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tag = "app"
	m, _ := newTestMiddleware(t, cfg)

	assert.Equal(t, `sig1=("@method" "@authority" "@path" "@query" "content-digest");created;nonce;alg="hmac-sha256";tag="app"`,
		m.acceptSignature)
}

func FuzzNew(f *testing.F) {
	f.Add("k", "0123456789abcdef0123456789abcdef", "raw", strings.Repeat("AB", 32), "api.example.com", "5m", "30s", "@method", "", int64(1024), 10, "X-A")
	f.Add("", "", "hex", "sha256//x", "a b", "x", "-1s", "@status", "Sig", int64(-1), -1, "signature")

	f.Fuzz(func(t *testing.T, id, secret, encoding, pin, serverName, maxAge, skew, component, label string,
		maxBody int64, cacheSize int, header string,
	) {
		cfg := CreateConfig()
		cfg.Keys = []KeyConfig{{ID: id, Secret: secret, Encoding: encoding}}
		cfg.Pins = []string{pin}
		cfg.ServerName = serverName
		cfg.MaxAge = maxAge
		cfg.ClockSkew = skew
		cfg.Components = []string{component}
		cfg.Label = label
		cfg.MaxBodyBytes = maxBody
		cfg.ReplayCacheSize = cacheSize
		cfg.KeyIDHeader = header

		handler, err := New(context.Background(), http.NotFoundHandler(), cfg, "fuzz")
		if err == nil && handler == nil {
			t.Fatal("New returned neither a handler nor an error")
		}

		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("New panicked: %v", err)
		}
	})
}

// discard is an io.Writer that drops everything.
type discard struct{}

func (d discard) Write(p []byte) (int, error) { return len(p), nil }

func TestNewRejectsComponentsAsOneString(t *testing.T) {
	cfg := testConfig(t)
	cfg.Components = []string{"@method @authority @path"}

	_, err := New(context.Background(), &nextRecorder{}, cfg, "x")

	assert.ErrorContains(t, err, "components[0]")
	assert.ErrorContains(t, err, "one component per item")
}
