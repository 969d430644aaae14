package internalauth

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxKeyFileBytes bounds what is read from a key file.
const maxKeyFileBytes = 64 << 10

const keyHint = "generate one with: openssl rand -base64 32, and set encoding: base64"

// hmacKey is one configured key, decoded.
type hmacKey struct {
	id     string
	secret []byte
	// pins restricts the key to some client certificates; nil allows any
	// pinned certificate.
	pins *pinSet
	// inline is set for a key given in the configuration itself.
	inline bool
}

// loadKey validates one key configuration and reads its value. field
// names the key in error messages, as "keys[0]".
func loadKey(field string, cfg KeyConfig) (*hmacKey, error) {
	if cfg.ID == "" {
		return nil, fmt.Errorf("%s.id: missing; give each key the keyid its signers send", field)
	}

	if !isPrintableString(cfg.ID) || len(cfg.ID) > 256 {
		return nil, fmt.Errorf("%s.id: invalid key id %q: use at most 256 printable ASCII characters", field, cfg.ID)
	}

	text, inline, err := readKeySource(field, cfg)
	if err != nil {
		return nil, err
	}

	secret, err := DecodeKey(text, cfg.Encoding)
	if err != nil {
		return nil, fmt.Errorf("%s: key %q: %w; set encoding to raw, base64 or hex to match the value",
			field, cfg.ID, err)
	}

	if len(secret) < MinKeyBytes {
		return nil, fmt.Errorf("%s: key %q is %d bytes after decoding, at least %d are required; %s",
			field, cfg.ID, len(secret), MinKeyBytes, keyHint)
	}

	key := &hmacKey{id: cfg.ID, secret: secret, inline: inline}

	if len(cfg.Pins) > 0 {
		key.pins, err = parsePins(field+".pins", cfg.Pins)
		if err != nil {
			return nil, err
		}
	}

	return key, nil
}

// readKeySource returns the key text from the one source configured, and
// whether it was inline.
func readKeySource(field string, cfg KeyConfig) ([]byte, bool, error) {
	sources := 0

	for _, value := range []string{cfg.Secret, cfg.SecretFile, cfg.SecretEnv} {
		if value != "" {
			sources++
		}
	}

	if sources != 1 {
		return nil, false, fmt.Errorf("%s: key %q needs exactly one of secretFile, secretEnv or secret, found %d",
			field, cfg.ID, sources)
	}

	switch {
	case cfg.SecretFile != "":
		text, err := readKeyFile(cfg.SecretFile)
		if err != nil {
			return nil, false, fmt.Errorf("%s.secretFile: %w", field, err)
		}

		return text, false, nil
	case cfg.SecretEnv != "":
		value, ok := os.LookupEnv(cfg.SecretEnv)
		if !ok || value == "" {
			return nil, false, fmt.Errorf("%s.secretEnv: environment variable %s is not set or empty in Traefik's environment",
				field, cfg.SecretEnv)
		}

		return []byte(value), false, nil
	default:
		return []byte(cfg.Secret), true, nil
	}
}

// readKeyFile reads a key file and removes one trailing line break, which
// editors and echo add.
func readKeyFile(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open key file: %w", err)
	}
	defer file.Close()

	content, err := io.ReadAll(io.LimitReader(file, maxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read key file %s: %w", path, err)
	}

	if len(content) > maxKeyFileBytes {
		return nil, fmt.Errorf("key file %s is larger than %d bytes; it should hold only the key", path, maxKeyFileBytes)
	}

	text := string(content)
	text = strings.TrimSuffix(text, "\n")
	text = strings.TrimSuffix(text, "\r")

	if text == "" {
		return nil, fmt.Errorf("key file %s is empty", path)
	}

	return []byte(text), nil
}
