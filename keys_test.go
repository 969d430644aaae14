package internalauth

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewLoadsKeySources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hmac.key")
	require.NoError(t, os.WriteFile(path, append([]byte(nil), testSecret...), 0o600))

	crlfPath := filepath.Join(dir, "hmac-crlf.key")
	require.NoError(t, os.WriteFile(crlfPath, append(append([]byte(nil), testSecret...), '\r', '\n'), 0o600))

	// os.Setenv rather than t.Setenv: yaegi gives interpreted code its own
	// environment, which only the interpreted os package changes.
	require.NoError(t, os.Setenv("INTERNALAUTH_TEST_KEY", "30313233343536373839616263646566303132333435363738396162636465ff"))
	t.Cleanup(func() { _ = os.Unsetenv("INTERNALAUTH_TEST_KEY") })

	cfg := testConfig(t)
	cfg.Keys = []KeyConfig{
		{ID: "file", SecretFile: path},
		{ID: "file-crlf", SecretFile: crlfPath},
		{ID: "env", SecretEnv: "INTERNALAUTH_TEST_KEY", Encoding: "hex"},
	}

	m, _ := newTestMiddleware(t, cfg)

	assert.Equal(t, testSecret, m.keys["file"].secret)
	assert.Equal(t, testSecret, m.keys["file-crlf"].secret)
	assert.Equal(t, append(append([]byte(nil), testSecret[:31]...), 0xff), m.keys["env"].secret)
	assert.False(t, m.keys["file"].inline)
}

func TestNewRejectsOversizedKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.key")
	require.NoError(t, os.WriteFile(path, make([]byte, 70000), 0o600))

	cfg := testConfig(t)
	cfg.Keys = []KeyConfig{{ID: "big", SecretFile: path}}

	_, err := New(context.Background(), &nextRecorder{}, cfg, "x")

	assert.ErrorContains(t, err, "larger than")
}

func TestNewRejectsEmptyKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.key")
	require.NoError(t, os.WriteFile(path, []byte("\n"), 0o600))

	cfg := testConfig(t)
	cfg.Keys = []KeyConfig{{ID: "empty", SecretFile: path}}

	_, err := New(context.Background(), &nextRecorder{}, cfg, "x")

	assert.ErrorContains(t, err, "is empty")
}

func TestLoadKeyMarksInline(t *testing.T) {
	key, err := loadKey("keys[0]", KeyConfig{ID: "inline", Secret: string(testSecret)})

	require.NoError(t, err)
	assert.True(t, key.inline)
	assert.True(t, key.pins == nil)
}

func TestLoadKeyRawFileKeepsInnerWhitespace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spaced.key")
	content := " " + string(testSecret) + " \n"
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

	key, err := loadKey("keys[0]", KeyConfig{ID: "spaced", SecretFile: path})

	require.NoError(t, err)
	assert.Equal(t, " "+string(testSecret)+" ", string(key.secret))
}

func TestLoadKeySourceErrorsOmitPastedKey(t *testing.T) {
	pasted := "c2VjcmV0LWtleS1wYXN0ZWQtaW4tdGhlLXdyb25nLWZpZWxk"

	tests := []struct {
		name string
		cfg  KeyConfig
		want string
	}{
		{"key as file path", KeyConfig{ID: "k", SecretFile: pasted}, "must be an absolute path"},
		{"key as variable name", KeyConfig{ID: "k", SecretEnv: pasted + "+/="}, "must be the name of an environment variable"},
		{"long variable name", KeyConfig{ID: "k", SecretEnv: "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"}, "named by secretEnv"},
	}

	for _, tc := range tests {
		_, err := loadKey("keys[0]", tc.cfg)

		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.NotContains(t, err.Error(), pasted, tc.name)
		assert.NotContains(t, err.Error(), "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", tc.name)
	}
}

func TestIsEnvName(t *testing.T) {
	assert.True(t, isEnvName("API_INTERNAL_HMAC"))
	assert.True(t, isEnvName("_x1"))
	assert.False(t, isEnvName("1X"))
	assert.False(t, isEnvName("A-B"))
	assert.False(t, isEnvName(""))
}

func TestLoadKeyWarnsHexDeclaredBase64(t *testing.T) {
	hexKey := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

	key, err := loadKey("keys[0]", KeyConfig{ID: "k", Secret: hexKey, Encoding: "base64"})
	require.NoError(t, err)
	assert.Contains(t, key.warning, "set encoding: hex")

	key, err = loadKey("keys[0]", KeyConfig{ID: "k", Secret: hexKey, Encoding: "hex"})
	require.NoError(t, err)
	assert.Empty(t, key.warning)
}
