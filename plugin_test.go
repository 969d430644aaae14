package internalauth

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeHTTPSignedRequestPasses(t *testing.T) {
	m, next := newTestMiddleware(t, testConfig(t))
	req := newSignedRequest(t, http.MethodPost, testURL, testBodyText, nil)
	req.Header.Set(DefaultKeyIDHeader, "forged")

	rec := serve(m, req)

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, 1, next.count())
	assert.Equal(t, testKeyID, next.headers.Get(DefaultKeyIDHeader))
	assert.Equal(t, testBodyText, string(next.body))
	assert.Equal(t, int64(len(testBodyText)), next.length)
}
