package internalauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProblemBodiesForEveryReason(t *testing.T) {
	for reason, info := range reasons {
		var body problem
		require.NoError(t, json.Unmarshal(problemBodies[reason], &body), reason)

		assert.Equal(t, "urn:internalauth:"+reason, body.Type)
		assert.Equal(t, info.status, body.Status)
		assert.Equal(t, http.StatusText(info.status), body.Title)
		assert.Equal(t, reason, body.Reason)
		assert.NotEmpty(t, body.Detail)
	}
}

func TestWriteProblemUnknownReason(t *testing.T) {
	rec := httptest.NewRecorder()

	status := writeProblem(rec, "no_such_reason", "")

	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Body.String(), `"reason":"internal_error"`)
}

func TestWriteProblemHeaders(t *testing.T) {
	rec := httptest.NewRecorder()

	writeProblem(rec, "signature_missing", `sig1=("@method")`)

	assert.Equal(t, `sig1=("@method")`, rec.Header().Get("Accept-Signature"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
}
