package internalauth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContentDigestSHA256(t *testing.T) {
	// RFC 9530, Section 2: the sha-256 of {"hello": "world"}.
	assert.Equal(t, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
		contentDigestSHA256([]byte(`{"hello": "world"}`)))
	assert.Equal(t, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", contentDigestSHA256(nil))
}

func TestCheckContentDigest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	sha256Member := "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
	sha512Member := "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"

	tests := []struct {
		field string
		want  error
	}{
		{sha256Member, nil},
		{sha512Member, nil},
		{sha256Member + ", " + sha512Member, nil},
		{"unixsum=:AAAA:, " + sha256Member, nil},
		{sha256Member + ", sha-512=:AAAA:", errDigestMismatch},
		{"sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", errDigestMismatch},
		{"md5=:AAAA:", errDigestMalformed},
		{"", errDigestMalformed},
		{"sha-256=abc", errDigestMalformed},
		{"sha-256=(:AAAA:)", errDigestMalformed},
		{"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPF=:", errDigestMalformed},
		{sha256Member + ", " + strings.Repeat("a", 1024) + "=1", errDigestMalformed},
	}

	for _, tc := range tests {
		err := checkContentDigest(tc.field, body)

		if tc.want == nil {
			assert.NoError(t, err, tc.field)
		} else {
			assert.ErrorIs(t, err, tc.want, tc.field)
		}
	}
}

// FuzzCheckContentDigest checks that the Content-Digest parser never
// panics and accepts a field only when it has a sha-256 or sha-512
// member, and that a field Sign would write is accepted.
func FuzzCheckContentDigest(f *testing.F) {
	f.Add(contentDigestSHA256([]byte("body")), []byte("body"))
	f.Add("sha-512=:AAAA:, sha-256=:AAAA:", []byte{})
	f.Add(`sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:;p="x"`, []byte{})

	f.Fuzz(func(t *testing.T, field string, body []byte) {
		if err := checkContentDigest(contentDigestSHA256(body), body); err != nil {
			t.Fatalf("the sha-256 field of the body rejected: %v", err)
		}

		if checkContentDigest(field, body) != nil {
			return
		}

		if !strings.Contains(field, "sha-256") && !strings.Contains(field, "sha-512") {
			t.Fatalf("%q accepted without a sha-256 or sha-512 member", field)
		}
	})
}
