package internalauth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRejectionLogRateLimits(t *testing.T) {
	log := newRejectionLog("apiinternal-auth@docker")

	var lines []string
	log.output = func(line string) { lines = append(lines, line) }

	start := time.Unix(1000, 0)
	for i := 0; i < logBurst+3; i++ {
		log.record(start.Add(time.Duration(i)*time.Second), 401, "signature_mismatch", "10.0.0.1:1", "k", "/api/internal/x")
	}

	log.record(start, 403, "certificate_not_pinned", "10.0.0.1:1", "", "/api/internal/x")

	require.Len(t, lines, logBurst+1)
	assert.Contains(t, lines[0], "apiinternal-auth@docker: rejected status=401 reason=signature_mismatch")

	log.record(start.Add(logWindow+time.Second), 401, "signature_mismatch", "10.0.0.1:1", "k", "/api/internal/x")

	require.Len(t, lines, logBurst+3)
	assert.Contains(t, lines[logBurst+1], "3 more rejections with reason=signature_mismatch were not logged")
	assert.Contains(t, lines[logBurst+2], "reason=signature_mismatch")
}

func TestRejectionLogQuotesRequestValues(t *testing.T) {
	log := newRejectionLog("m")

	var line string
	log.output = func(l string) { line = l }

	log.record(time.Unix(0, 0), 401, "keyid_unknown", "1.2.3.4:5", "evil\nkeyid", "/p\r\nFake: line"+strings.Repeat("x", 300))

	assert.NotContains(t, line, "\n")
	assert.NotContains(t, line, "\r")
	assert.Contains(t, line, `keyid="evil\nkeyid"`)
	assert.Contains(t, line, `xxx"...`)
	assert.Less(t, len(line), 400)
}
