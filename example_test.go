package internalauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ExampleSign signs a POST request the way an automation client does
// before sending it over mutual TLS. Created and Nonce are fixed here so
// the output is stable. Leave both unset in real use.
func ExampleSign() {
	key := []byte("example-key-of-at-least-32-bytes")

	req, err := http.NewRequest(http.MethodPost,
		"https://apiinternal.example.com/api/internal/users/reset-otp?user=42",
		strings.NewReader(`{"user":42}`))
	if err != nil {
		fmt.Println(err)

		return
	}

	err = Sign(req, "ops-2026", key, &SignOptions{
		Created: time.Unix(1767225600, 0),
		Nonce:   "dGVzdC1ub25jZS0x",
	})
	if err != nil {
		fmt.Println(err)

		return
	}

	fmt.Println("Content-Digest:", req.Header.Get("Content-Digest"))
	fmt.Println("Signature-Input:", req.Header.Get("Signature-Input"))
	fmt.Println("Signature:", req.Header.Get("Signature"))
	fmt.Println("key check value:", KeyCheckValue(key))
	// Output:
	// Content-Digest: sha-256=:DNF/ACBQfVb+tU1/NIMlonweQmoervtAdbCqDcyIElg=:
	// Signature-Input: sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1767225600;nonce="dGVzdC1ub25jZS0x";keyid="ops-2026";alg="hmac-sha256"
	// Signature: sig1=:eK4jk2y3DqaEvDyby4nlHv9jcC0lXRC8DlJ6anVvmXU=:
	// key check value: 18402517
}

// TestSignExampleVector signs the request of ExampleSign again and checks
// each output line. yaegi v0.16.1 runs no Example functions, so this test
// is what checks the vector under the interpreter.
func TestSignExampleVector(t *testing.T) {
	key := []byte("example-key-of-at-least-32-bytes")

	req, err := http.NewRequest(http.MethodPost,
		"https://apiinternal.example.com/api/internal/users/reset-otp?user=42",
		strings.NewReader(`{"user":42}`))
	require.NoError(t, err)

	err = Sign(req, "ops-2026", key, &SignOptions{
		Created: time.Unix(1767225600, 0),
		Nonce:   "dGVzdC1ub25jZS0x",
	})
	require.NoError(t, err)

	assert.Equal(t, "sha-256=:DNF/ACBQfVb+tU1/NIMlonweQmoervtAdbCqDcyIElg=:",
		req.Header.Get("Content-Digest"))
	assert.Equal(t, `sig1=("@method" "@authority" "@path" "@query" "content-digest");`+
		`created=1767225600;nonce="dGVzdC1ub25jZS0x";keyid="ops-2026";alg="hmac-sha256"`,
		req.Header.Get("Signature-Input"))
	assert.Equal(t, "sig1=:eK4jk2y3DqaEvDyby4nlHv9jcC0lXRC8DlJ6anVvmXU=:", req.Header.Get("Signature"))
	assert.Equal(t, "18402517", KeyCheckValue(key))
}
