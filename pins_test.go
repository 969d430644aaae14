package internalauth

import (
	"crypto/sha1" //nolint:gosec // Builds a SHA-1 fingerprint to prove it is rejected.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidatePinAcceptedForms(t *testing.T) {
	pinned, _ := testCertificates(t)
	colonHex, spki := CertificatePins(pinned)
	plainHex := strings.ReplaceAll(colonHex, ":", "")

	forms := []string{
		colonHex,
		strings.ToLower(colonHex),
		plainHex,
		strings.ToLower(plainHex),
		"sha256 Fingerprint=" + colonHex,
		"SHA256 Fingerprint=" + colonHex,
		"sha256:" + plainHex,
		"SHA-256:" + strings.ToLower(colonHex),
		"  " + colonHex + " ",
		spki,
		spki + ";" + spki,
	}

	for _, form := range forms {
		set := newPinSet()

		require.NoError(t, set.add(form), form)
		assert.True(t, set.match(pinned), form)
	}
}

func TestValidatePinRejectsMalformed(t *testing.T) {
	pinned, _ := testCertificates(t)
	colonHex, _ := CertificatePins(pinned)
	sha1Sum := sha1.Sum(pinned.Raw) //nolint:gosec // See the import.
	short := sha256.Sum224(pinned.Raw)

	tests := []struct {
		pin  string
		want string
	}{
		{"", "empty pin"},
		{"   ", "empty pin"},
		{hex.EncodeToString(sha1Sum[:]), "SHA-1"},
		{colonHex[:len(colonHex)-3], "hex digits"},
		{colonHex + ":00", "hex digits"},
		{colonHex[:5] + ":" + colonHex[5:], "colons"},
		{strings.Repeat("zz", 32), "not hexadecimal"},
		{"sha256//" + base64.StdEncoding.EncodeToString(short[:]), "decodes to 28 bytes"},
		{"sha256//not base64!", "not standard base64"},
		{"sha256//" + strings.TrimRight(base64.StdEncoding.EncodeToString(make([]byte, 32)), "="), "not standard base64"},
		{"sha256//" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ";md5//abc", "must start with sha256//"},
	}

	for _, tc := range tests {
		err := ValidatePin(tc.pin)

		require.Error(t, err, tc.pin)
		assert.Contains(t, err.Error(), tc.want, tc.pin)
	}
}

func TestParsePinsNamesField(t *testing.T) {
	_, err := parsePins("pins", []string{strings.Repeat("ab", 32), "oops"})

	require.Error(t, err)
	assert.Contains(t, err.Error(), "pins[1]")
	assert.Contains(t, err.Error(), `"oops"`)
}

func TestPinSetMatchesOnlyPinned(t *testing.T) {
	pinned, other := testCertificates(t)
	colonHex, spki := CertificatePins(pinned)

	for _, pin := range []string{colonHex, spki} {
		set := newPinSet()
		require.NoError(t, set.add(pin))

		assert.True(t, set.match(pinned))
		assert.False(t, set.match(other))
	}
}

func TestCertificatePinsFormat(t *testing.T) {
	pinned, _ := testCertificates(t)
	sum := sha256.Sum256(pinned.Raw)
	keySum := sha256.Sum256(pinned.RawSubjectPublicKeyInfo)

	colonHex, spki := CertificatePins(pinned)

	assert.Len(t, colonHex, 95)
	assert.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), strings.ReplaceAll(colonHex, ":", ""))
	assert.Equal(t, "sha256//"+base64.StdEncoding.EncodeToString(keySum[:]), spki)
}

func FuzzValidatePin(f *testing.F) {
	f.Add("AB:CD")
	f.Add("sha256 Fingerprint=" + strings.Repeat("AB:", 31) + "AB")
	f.Add("sha256//" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add(strings.Repeat("0", 64))

	f.Fuzz(func(t *testing.T, pin string) {
		set := newPinSet()
		if err := set.add(pin); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}

			return
		}

		if set.len() == 0 {
			t.Fatalf("pin %q accepted without adding a digest", pin)
		}

		for sum := range set.certificates {
			if len(sum) != sha256.Size {
				t.Fatalf("pin %q gave a %d-byte digest", pin, len(sum))
			}
		}
	})
}
