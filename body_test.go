package internalauth

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeHTTPBodies(t *testing.T) {
	large := strings.Repeat("0123456789abcdef", 1<<16)

	tests := []struct {
		name    string
		body    string
		prepare func(req *http.Request)
		length  int64
	}{
		{name: "empty body", body: ""},
		{name: "no body", body: "", prepare: func(req *http.Request) { req.Body = http.NoBody }},
		{name: "nil body", body: "", prepare: func(req *http.Request) { req.Body = nil }},
		{name: "binary body", body: "\x00\xff\r\n\x00"},
		{name: "body at limit", body: large},
		{name: "chunked body", body: large, prepare: func(req *http.Request) {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		}},
	}

	for _, tc := range tests {
		tc := tc

		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.MaxBodyBytes = int64(len(large))
			m, next := newTestMiddleware(t, cfg)

			req := newSignedRequest(t, http.MethodPost, testURL, tc.body, nil)
			if tc.prepare != nil {
				tc.prepare(req)
			}

			rec := serve(m, req)

			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			assert.Equal(t, 1, next.count())
			assert.Equal(t, []byte(tc.body), next.body)
			assert.Equal(t, int64(len(tc.body)), next.length)
			assert.Empty(t, req.TransferEncoding)

			if len(tc.body) > 0 {
				assert.Equal(t, strconv.Itoa(len(tc.body)), next.headers.Get("Content-Length"))
			}
		})
	}
}

func TestServeHTTPBodyOverLimitNotRead(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBodyBytes = 8
	m, next := newTestMiddleware(t, cfg)

	req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
	counting := &countingBody{reader: strings.NewReader(testBodyText)}
	req.Body = counting

	rec := serve(m, req)

	assertProblem(t, rec, http.StatusRequestEntityTooLarge, "body_too_large")
	assert.Equal(t, 0, counting.read, "a declared length over the limit is rejected before reading")
	assert.Equal(t, 0, next.count())
}

func TestServeHTTPBodyReplayableForRetries(t *testing.T) {
	m, _ := newTestMiddleware(t, testConfig(t))

	var getBody func() (io.ReadCloser, error)

	m.next = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		getBody = req.GetBody
		rw.WriteHeader(http.StatusOK)
	})

	rec := serve(m, newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotNil(t, getBody)

	body, err := getBody()
	require.NoError(t, err)

	content, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, testBodyText, string(content))
}

func TestServeHTTPBodyUnreadWithoutDigest(t *testing.T) {
	cfg := testConfig(t)
	cfg.Components = []string{"@method", "@authority", "@path", "@query"}
	m, next := newTestMiddleware(t, cfg)

	req := newSignedRequest(t, http.MethodPost, testURL, "", &SignOptions{Components: cfg.Components})
	counting := &countingBody{reader: bytes.NewReader([]byte("streamed"))}
	req.Body = counting

	var forwarded string

	m.next = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		content, _ := io.ReadAll(req.Body)
		forwarded = string(content)
		next.ServeHTTP(rw, req)
	})

	rec := serve(m, req)

	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "streamed", forwarded)
}

// countingBody counts the bytes read through it.
type countingBody struct {
	reader io.Reader
	read   int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.reader.Read(p)
	b.read += n

	return n, err
}

func (b *countingBody) Close() error { return nil }
