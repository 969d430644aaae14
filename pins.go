package internalauth

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// spkiPinPrefix starts a pin on the SubjectPublicKeyInfo, as curl's
// --pinnedpubkey writes it.
const spkiPinPrefix = "sha256//"

// pinSet holds the SHA-256 digests of accepted certificates and of
// accepted public keys, as raw 32-byte strings.
type pinSet struct {
	certificates map[string]struct{}
	publicKeys   map[string]struct{}
}

// ValidatePin checks one pin in any accepted form: the SHA-256 of the DER
// certificate in hex, or the SHA-256 of the SubjectPublicKeyInfo as
// "sha256//<base64>". Several curl pins may be joined with ";".
func ValidatePin(pin string) error {
	return newPinSet().add(pin)
}

// CertificatePins returns the two pins of cert: the SHA-256 of its DER
// encoding in the colon-separated uppercase hex that openssl prints, and
// the SHA-256 of its SubjectPublicKeyInfo in curl's sha256//<base64> form.
func CertificatePins(cert *x509.Certificate) (sha256Hex, spki string) {
	sum := sha256.Sum256(cert.Raw)
	hexSum := strings.ToUpper(hex.EncodeToString(sum[:]))

	pairs := make([]string, 0, sha256.Size)
	for i := 0; i < len(hexSum); i += 2 {
		pairs = append(pairs, hexSum[i:i+2])
	}

	keySum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)

	return strings.Join(pairs, ":"), spkiPinPrefix + base64.StdEncoding.EncodeToString(keySum[:])
}

func newPinSet() *pinSet {
	return &pinSet{
		certificates: make(map[string]struct{}),
		publicKeys:   make(map[string]struct{}),
	}
}

// parsePins builds a pin set from a configuration list. field names the
// list in error messages.
func parsePins(field string, pins []string) (*pinSet, error) {
	set := newPinSet()

	for i, pin := range pins {
		if err := set.add(pin); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}

	return set, nil
}

func (s *pinSet) len() int {
	return len(s.certificates) + len(s.publicKeys)
}

// add parses pin and adds its digests to the set.
func (s *pinSet) add(pin string) error {
	pin = strings.TrimSpace(pin)
	if pin == "" {
		return errors.New("empty pin: give the certificate's SHA-256 fingerprint " +
			"(openssl x509 -noout -fingerprint -sha256 -in client.crt) or its sha256//<base64> public key pin")
	}

	if strings.HasPrefix(strings.ToLower(pin), spkiPinPrefix) {
		for _, part := range strings.Split(pin, ";") {
			sum, err := parsePublicKeyPin(strings.TrimSpace(part))
			if err != nil {
				return err
			}

			s.publicKeys[sum] = struct{}{}
		}

		return nil
	}

	sum, err := parseCertificatePin(pin)
	if err != nil {
		return err
	}

	s.certificates[sum] = struct{}{}

	return nil
}

// match reports whether the certificate or its public key is pinned.
func (s *pinSet) match(cert *x509.Certificate) bool {
	certSum := sha256.Sum256(cert.Raw)
	if _, ok := s.certificates[string(certSum[:])]; ok {
		return true
	}

	keySum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	_, ok := s.publicKeys[string(keySum[:])]

	return ok
}

func parsePublicKeyPin(pin string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(pin), spkiPinPrefix) {
		return "", fmt.Errorf("invalid pin %q: each ;-separated part must start with %s", pin, spkiPinPrefix)
	}

	encoded := pin[len(spkiPinPrefix):]

	sum, err := base64.StdEncoding.Strict().DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("invalid pin %q: the part after %s is not standard base64: %w",
			pin, spkiPinPrefix, err)
	}

	if len(sum) != sha256.Size {
		return "", fmt.Errorf("invalid pin %q: decodes to %d bytes, a SHA-256 has %d; "+
			"make it with internalauth fingerprint CERT.pem", pin, len(sum), sha256.Size)
	}

	return string(sum), nil
}

// parseCertificatePin accepts what openssl x509 -fingerprint -sha256
// prints ("sha256 Fingerprint=AB:CD:..."), a "sha256:" prefix, upper or
// lower case, with or without colons between byte pairs.
func parseCertificatePin(pin string) (string, error) {
	text := pin
	lower := strings.ToLower(text)

	for _, prefix := range []string{"sha256 fingerprint=", "sha2-256 fingerprint=", "sha256:", "sha-256:"} {
		if strings.HasPrefix(lower, prefix) {
			text = strings.TrimSpace(text[len(prefix):])

			break
		}
	}

	if strings.Contains(text, ":") {
		if err := checkColonPairs(text); err != nil {
			return "", fmt.Errorf("invalid pin %q: %w", pin, err)
		}

		text = strings.ReplaceAll(text, ":", "")
	}

	if _, err := hex.DecodeString(text); err != nil {
		return "", fmt.Errorf("invalid pin %q: not hexadecimal; "+
			"give the SHA-256 fingerprint or a sha256//<base64> public key pin", pin)
	}

	switch len(text) {
	case 2 * sha256.Size:
	case 40:
		return "", fmt.Errorf("invalid pin %q: this is a SHA-1 fingerprint; "+
			"SHA-1 is not accepted, use openssl x509 -noout -fingerprint -sha256", pin)
	default:
		return "", fmt.Errorf("invalid pin %q: %d hex digits, a SHA-256 fingerprint has %d",
			pin, len(text), 2*sha256.Size)
	}

	sum, _ := hex.DecodeString(text)

	return string(sum), nil
}

// checkColonPairs requires colons to separate every byte pair, as in
// "AB:CD:EF", so a mistyped fingerprint is not silently accepted.
func checkColonPairs(text string) error {
	for _, pair := range strings.Split(text, ":") {
		if len(pair) != 2 {
			return errors.New("colons must separate every pair of hex digits")
		}
	}

	return nil
}
