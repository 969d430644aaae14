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

	if algorithm, sum, ok := fastDigest(field); ok {
		return compareDigest(algorithm, sum, body)
	}

	members, err := parseDictionary(field)
	if err != nil {
		return errDigestMalformed
	}

	checked := 0

	for _, member := range members {
		if member.key != "sha-256" && member.key != "sha-512" {
			continue
		}

		if member.isList || member.item.kind != sfBytes {
			return errDigestMalformed
		}

		if err := compareDigest(member.key, member.item.bytes, body); err != nil {
			return err
		}

		checked++
	}

	if checked == 0 {
		return errDigestMalformed
	}

	return nil
}

// compareDigest compares sum with the digest of body under algorithm,
// "sha-256" or "sha-512".
func compareDigest(algorithm string, sum, body []byte) error {
	var digest []byte

	if algorithm == "sha-512" {
		computed := sha512.Sum512(body)
		digest = computed[:]
	} else {
		computed := sha256.Sum256(body)
		digest = computed[:]
	}

	if subtle.ConstantTimeCompare(sum, digest) != 1 {
		return errDigestMismatch
	}

	return nil
}
