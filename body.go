package internalauth

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// checkBody buffers the body, up to maxBodyBytes, when the request has a
// Content-Digest field or the policy requires one, and checks the digest.
// The upstream then receives the same bytes with an exact Content-Length,
// even when the client sent them chunked. Without Content-Digest the
// body is not read.
func (m *Middleware) checkBody(req *http.Request) string {
	fields := req.Header["Content-Digest"]
	if len(fields) == 0 {
		if containsString(m.components, "content-digest") {
			return reasonDigestMissing
		}

		return ""
	}

	if req.ContentLength > m.maxBodyBytes {
		return reasonBodyTooLarge
	}

	// A request the server framed as empty, with the digest of an empty
	// body, needs no read. The upstream gets an empty body either way.
	if req.ContentLength == 0 && len(fields) == 1 && emptyBodyDigests[fields[0]] {
		replaceBody(req, nil)

		return ""
	}

	body, reason := m.readBody(req)
	if reason != "" {
		return reason
	}

	switch err := checkContentDigest(joinFieldLines(fields), body); {
	case errors.Is(err, errDigestMismatch):
		return reasonDigestMismatch
	case err != nil:
		return reasonDigestMalformed
	}

	replaceBody(req, body)

	return ""
}

// emptyBodyDigests are the Content-Digest fields, as Sign and most
// signers write them, that an empty body matches.
var emptyBodyDigests = map[string]bool{
	contentDigestSHA256(nil): true,
	"sha-512=:" + base64.StdEncoding.EncodeToString(sha512Empty()) + ":": true,
}

func sha512Empty() []byte {
	sum := sha512.Sum512(nil)

	return sum[:]
}

func (m *Middleware) readBody(req *http.Request) ([]byte, string) {
	// http.NoBody reads as empty, so it needs no special case. Comparing
	// req.Body with it would also panic under yaegi v0.16.1 when the body
	// has an interpreted type.
	if req.Body == nil {
		return nil, ""
	}

	body, err := io.ReadAll(io.LimitReader(req.Body, m.maxBodyBytes+1))
	if err != nil {
		return nil, reasonBodyUnreadable
	}

	if int64(len(body)) > m.maxBodyBytes {
		return nil, reasonBodyTooLarge
	}

	_ = req.Body.Close()

	return body, ""
}

// replaceBody hands the buffered body on with a matching length.
func replaceBody(req *http.Request, body []byte) {
	req.TransferEncoding = nil
	req.ContentLength = int64(len(body))

	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(body)), nil
		}
	}

	if req.Header.Get("Content-Length") != "" || len(body) > 0 {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
}

// joinFieldLines combines the lines of one field as RFC 9110 does for a
// list-based field. It reads the header map directly: the field names
// used here are already in canonical form.
func joinFieldLines(lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}

	return strings.Join(lines, ", ")
}
