package internalauth

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rfc9421SharedSecret is the test-shared-secret of RFC 9421, Appendix
// B.1.5.
const rfc9421SharedSecret = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="

// rfc9421Request returns the request of RFC 9421, Appendix B.2, over TLS
// from the pinned test certificate.
func rfc9421Request(t *testing.T) *http.Request {
	t.Helper()

	pinned, _ := testCertificates(t)

	req := httptest.NewRequest(http.MethodPost, "https://example.com/foo?param=Value&Pet=dog",
		strings.NewReader(`{"hello": "world"}`))
	req.Header.Set("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
	req.Header.Set("Content-Length", "18")
	req.TLS = verifiedState(pinned)
	req.TLS.ServerName = "example.com"

	return req
}

func TestRFC9421AppendixB25Verifies(t *testing.T) {
	cfg := testConfig(t)
	cfg.Keys = []KeyConfig{{ID: "test-shared-secret", Secret: rfc9421SharedSecret, Encoding: "base64"}}
	cfg.Components = []string{"date", "@authority", "content-type"}
	cfg.RequireNonce = false
	cfg.ServerName = "example.com"

	m, next := newTestMiddleware(t, cfg)
	m.now = func() time.Time { return time.Unix(1618884473, 0) }

	req := rfc9421Request(t)
	req.Header.Set("Signature-Input", `sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`)
	req.Header.Set("Signature", "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:")

	rec := serve(m, req)

	assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, 1, next.count())
	assert.Equal(t, `{"hello": "world"}`, string(next.body))
}

func TestRFC9421AppendixB25SignatureBase(t *testing.T) {
	req := rfc9421Request(t)

	base, err := signatureBase(req, "https", []string{"date", "@authority", "content-type"},
		`("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`)
	require.NoError(t, err)

	expected := `"date": Tue, 20 Apr 2021 02:07:55 GMT` + "\n" +
		`"@authority": example.com` + "\n" +
		`"content-type": application/json` + "\n" +
		`"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`
	assert.Equal(t, expected, string(base))

	key, err := DecodeKey([]byte(rfc9421SharedSecret), "base64")
	require.NoError(t, err)
	assert.Equal(t, "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=",
		base64.StdEncoding.EncodeToString(computeMAC(key, base)))
}

func TestComponentValues(t *testing.T) {
	tests := []struct {
		target    string
		host      string
		component string
		expected  string
	}{
		{"https://example.com/foo?a=1&b=%20", "", "@query", "?a=1&b=%20"},
		{"https://example.com/foo", "", "@query", "?"},
		{"https://example.com/foo?", "", "@query", "?"},
		{"https://example.com", "", "@path", "/"},
		{"https://example.com/a%2Fb/%7Ec", "", "@path", "/a%2Fb/%7Ec"},
		{"https://example.com/foo?x=1", "", "@request-target", "/foo?x=1"},
		{"https://example.com/foo", "", "@request-target", "/foo"},
		{"https://example.com/foo?x=1", "Example.COM:443", "@authority", "example.com"},
		{"https://example.com/foo?x=1", "example.com:8443", "@authority", "example.com:8443"},
		{"https://example.com/foo?x=1", "example.com:443", "@target-uri", "https://example.com/foo?x=1"},
		{"https://example.com/foo", "", "@scheme", "https"},
		{"https://example.com/foo", "", "@method", "PATCH"},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.component+" "+tc.target, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPatch, tc.target, nil)
			if tc.host != "" {
				req.Host = tc.host
			}

			value, err := componentValue(req, "https", tc.component)

			require.NoError(t, err)
			assert.Equal(t, tc.expected, value)
		})
	}
}

func TestComponentValueFieldLines(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	req.Header.Add("X-Example", "  one ")
	req.Header.Add("X-Example", "two")

	value, err := componentValue(req, "https", "x-example")

	require.NoError(t, err)
	assert.Equal(t, "one, two", value)

	_, err = componentValue(req, "https", "x-absent")
	assert.ErrorIs(t, err, errComponentAbsent)

	_, err = componentValue(req, "https", "@status")
	assert.ErrorIs(t, err, errComponentUnsupported)
}

func TestSignSetsFields(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, testURL, strings.NewReader(testBodyText))
	req.URL.Scheme = "https"

	err := Sign(req, testKeyID, testSecret, &SignOptions{
		Created: testNow, Expires: testNow.Add(time.Minute), Nonce: "n-1", Tag: "app",
	})
	require.NoError(t, err)

	assert.Equal(t, `sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1767225600;`+
		`expires=1767225660;nonce="n-1";keyid="ops-2026";alg="hmac-sha256";tag="app"`, req.Header.Get("Signature-Input"))
	assert.Equal(t, "sha-256=:DNF/ACBQfVb+tU1/NIMlonweQmoervtAdbCqDcyIElg=:", req.Header.Get("Content-Digest"))
	assert.Regexp(t, `^sig1=:[A-Za-z0-9+/]{43}=:$`, req.Header.Get("Signature"))

	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Equal(t, testBodyText, string(body))
	assert.Equal(t, int64(len(testBodyText)), req.ContentLength)
}

func TestSignGeneratesNonce(t *testing.T) {
	first := httptest.NewRequest(http.MethodGet, testURL, nil)
	second := httptest.NewRequest(http.MethodGet, testURL, nil)

	require.NoError(t, Sign(first, testKeyID, testSecret, nil))
	require.NoError(t, Sign(second, testKeyID, testSecret, nil))

	assert.Contains(t, first.Header.Get("Signature-Input"), `;nonce="`)
	assert.NotEqual(t, first.Header.Get("Signature-Input"), second.Header.Get("Signature-Input"))
}

func TestSignRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name  string
		keyID string
		key   []byte
		opts  *SignOptions
		want  string
	}{
		{"empty key id", "", testSecret, nil, "invalid key id"},
		{"key id with newline", "a\nb", testSecret, nil, "invalid key id"},
		{"short key", testKeyID, []byte("short"), nil, "at least 32"},
		{"bad label", testKeyID, testSecret, &SignOptions{Label: "Sig"}, "invalid label"},
		{"bad nonce", testKeyID, testSecret, &SignOptions{Nonce: "a\tb"}, "printable"},
		{"unsupported component", testKeyID, testSecret, &SignOptions{Components: []string{"@status"}}, "not supported"},
		{"uppercase field", testKeyID, testSecret, &SignOptions{Components: []string{"Date"}}, "not supported"},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, testURL, nil)

			err := Sign(req, tc.keyID, tc.key, tc.opts)

			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, req.Header.Get("Signature"))
		})
	}
}

func TestSignNilBody(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, testURL, nil)
	require.NoError(t, err)

	require.NoError(t, Sign(req, testKeyID, testSecret, nil))

	assert.Equal(t, contentDigestSHA256(nil), req.Header.Get("Content-Digest"))
}

func TestDecodeKey(t *testing.T) {
	tests := []struct {
		text     string
		encoding string
		expected string
	}{
		{"raw key ", "", "raw key "},
		{"raw key", "RAW", "raw key"},
		{"6b6579", "hex", "key"},
		{" 6B6579\n", "hex", "key"},
		{"a2V5", "base64", "key"},
		{"a2V5eQ==", "base64", "keyy"},
		{"a2V5eQ", "base64", "keyy"},
		{"-_8=", "base64", "\xfb\xff"},
	}

	for _, tc := range tests {
		key, err := DecodeKey([]byte(tc.text), tc.encoding)

		require.NoError(t, err, tc.text)
		assert.Equal(t, tc.expected, string(key))
	}

	for _, bad := range [][2]string{{"xyz", "hex"}, {"a2V5!", "base64"}, {"k", "utf8"}} {
		_, err := DecodeKey([]byte(bad[0]), bad[1])
		assert.Error(t, err, bad[0])
	}
}

func TestKeyCheckValue(t *testing.T) {
	value := KeyCheckValue(testSecret)

	assert.Len(t, value, 8)
	assert.Equal(t, value, KeyCheckValue(testSecret))
	assert.NotEqual(t, value, KeyCheckValue([]byte("another key of thirty-two bytes!")))
}

// FuzzDecodeKey checks that key decoding never panics and that a key
// decoded from hex or base64 re-encodes to text the input contained.
func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte("00ff"), "hex")
	f.Add([]byte(" AAEC\n"), "base64")
	f.Add([]byte("raw key"), "")
	f.Add([]byte("zz"), "rot13")

	f.Fuzz(func(t *testing.T, text []byte, encoding string) {
		key, err := DecodeKey(text, encoding)
		if err != nil {
			return
		}

		if strings.EqualFold(encoding, "hex") &&
			!strings.EqualFold(hex.EncodeToString(key), strings.TrimSpace(string(text))) {
			t.Fatalf("hex %q decoded to %x", text, key)
		}
	})
}
