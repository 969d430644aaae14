package internalauth

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// maxDigestFieldBytes bounds the Content-Digest field value parsed.
const maxDigestFieldBytes = 1024

var (
	errDigestMalformed = errors.New("content-digest malformed")
	errDigestMismatch  = errors.New("content-digest mismatch")
)

// contentDigestSHA256 returns an RFC 9530 Content-Digest field value
// holding the sha-256 of body.
func contentDigestSHA256(body []byte) string {
	sum := sha256.Sum256(body)

	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// checkContentDigest verifies an RFC 9530 Content-Digest field value
// against body. Every sha-256 and sha-512 member must match, and at least
// one must be present; members for other algorithms are ignored.
func checkContentDigest(field string, body []byte) error {
	if len(field) > maxDigestFieldBytes {
		return errDigestMalformed
	}

	members, err := parseDictionary(field)
	if err != nil {
		return errDigestMalformed
	}

	checked := 0

	for _, member := range members {
		var sum []byte

		switch member.key {
		case "sha-256":
			digest := sha256.Sum256(body)
			sum = digest[:]
		case "sha-512":
			digest := sha512.Sum512(body)
			sum = digest[:]
		default:
			continue
		}

		if member.isList || member.item.kind != sfBytes {
			return errDigestMalformed
		}

		if subtle.ConstantTimeCompare(member.item.bytes, sum) != 1 {
			return errDigestMismatch
		}

		checked++
	}

	if checked == 0 {
		return errDigestMalformed
	}

	return nil
}
