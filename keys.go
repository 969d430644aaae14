package internalauth

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	// warning, when set, describes a doubtful key value for the start-up log.
	warning string
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

	if strings.EqualFold(cfg.Encoding, "base64") && looksHex(text) {
		key.warning = fmt.Sprintf("%s: key %q is declared base64 but is written in hex digits only; "+
			"if it is hex, set encoding: hex, or signers and the middleware will disagree on the key", field, cfg.ID)
	}

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
		// The value is not repeated in these errors: an operator may have
		// pasted the key itself here, and Traefik logs the error.
		if !filepath.IsAbs(cfg.SecretFile) {
			return nil, false, fmt.Errorf("%s.secretFile: must be an absolute path to the key file, "+
				"such as /run/secrets/api_internal_hmac, not the key itself", field)
		}

		text, err := readKeyFile(cfg.SecretFile)
		if err != nil {
			return nil, false, fmt.Errorf("%s.secretFile: %w", field, err)
		}

		return text, false, nil
	case cfg.SecretEnv != "":
		if !isEnvName(cfg.SecretEnv) {
			return nil, false, fmt.Errorf("%s.secretEnv: must be the name of an environment variable "+
				"(letters, digits and underscores), not the key itself", field)
		}

		value, ok := os.LookupEnv(cfg.SecretEnv)
		if !ok || value == "" {
			return nil, false, fmt.Errorf("%s.secretEnv: environment variable %s is not set or empty in Traefik's environment",
				field, envNameForMessage(cfg.SecretEnv))
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

// isEnvName reports whether name is a portable environment variable name.
func isEnvName(name string) bool {
	const first = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"

	return name != "" && strings.IndexByte(first, name[0]) >= 0 && spanOf(name, first+digits) == len(name)
}

// envNameForMessage returns name for an error message, unless it is long
// enough to be a key pasted in the wrong field.
func envNameForMessage(name string) string {
	if len(name) >= MinKeyBytes {
		return "named by secretEnv"
	}

	return name
}

// looksHex reports whether text is at least 64 hex digits and nothing
// else: such a key was probably made with openssl rand -hex 32.
func looksHex(text []byte) bool {
	trimmed := strings.TrimSpace(string(text))

	return len(trimmed) >= 64 && spanOf(trimmed, digits+"abcdefABCDEF") == len(trimmed)
}
