package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Variables read by render and check. The first group comes from the
// deployment's API_INTERNAL_* settings; the second configures what the
// internalauth middleware needs on top of them.
const (
	varEnabled    = "API_INTERNAL_ENABLED"
	varURL        = "API_INTERNAL_URL"
	varRestrictIP = "API_INTERNAL_RESTRICT_IP"
	varSSLCert    = "API_INTERNAL_SSL_CERT"
	varSSLKey     = "API_INTERNAL_SSL_KEY"
	varSSLCA      = "API_INTERNAL_SSL_CA"
	varHMAC       = "API_INTERNAL_HMAC"
	varPortalURL  = "PORTAL_URL"
	varAPIHost    = "API_DOCKER_NAME"

	varClientPins       = "API_INTERNAL_CLIENT_PINS"
	varHMACKeyID        = "API_INTERNAL_HMAC_KEY_ID"
	varHMACEncoding     = "API_INTERNAL_HMAC_ENCODING"
	varStandardCA       = "API_INTERNAL_STANDARD_CA"
	varPublicTLSOptions = "API_INTERNAL_PUBLIC_TLS_OPTIONS"
)

// knownVariables lists every variable the commands read. Only these are
// taken from the environment, so an unrelated variable never shows up in
// a message.
var knownVariables = []string{
	varEnabled, varURL, varRestrictIP, varSSLCert, varSSLKey, varSSLCA, varHMAC,
	varPortalURL, varAPIHost, varClientPins, varHMACKeyID, varHMACEncoding,
	varStandardCA, varPublicTLSOptions,
}

// loadVariables merges the known variables of environ with those of the
// env file at path, when path is not empty ("-" reads stdin). A value in
// the file replaces the environment's value, and each such replacement
// that changes the value is reported as a warning, because docker
// compose does the opposite and would deploy the environment's value.
// It returns an error only when the file cannot be opened; syntax
// errors in the file are findings.
func loadVariables(path string, stdin io.Reader, environ []string) (map[string]string, []finding, error) {
	vars := environmentVariables(environ)
	if path == "" {
		return vars, nil, nil
	}

	source := stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot open env file: %w", err)
		}
		defer file.Close()

		source = file
	}

	fileVars, findings := parseEnvFile(path, source)

	names := make([]string, 0, len(fileVars))
	for name := range fileVars {
		names = append(names, name)
	}

	sort.Strings(names)

	for _, name := range names {
		if old, ok := vars[name]; ok && old != fileVars[name] {
			findings = append(findings, warningf(name, "the environment sets a different value from %s; "+
				"using the file's value, but docker compose would use the environment's: unset one of them",
				path))
		}

		vars[name] = fileVars[name]
	}

	return vars, findings, nil
}

func environmentVariables(environ []string) map[string]string {
	vars := make(map[string]string)

	for _, entry := range environ {
		name, value, ok := strings.Cut(entry, "=")
		if ok && isKnownVariable(name) {
			vars[name] = value
		}
	}

	return vars
}

func isKnownVariable(name string) bool {
	for _, known := range knownVariables {
		if name == known {
			return true
		}
	}

	return false
}

// parseEnvFile reads KEY=VALUE lines as docker compose's .env files
// write them: blank lines and lines starting with # are skipped, an
// optional "export " prefix is allowed, a value may be enclosed in single
// quotes (taken literally) or double quotes (\" \\ \n \t escapes), and
// an unquoted value ends at " #". Keys other than the known variables are
// ignored, so a file shared with the rest of the deployment can be used.
func parseEnvFile(name string, r io.Reader) (map[string]string, []finding) {
	vars := make(map[string]string)

	var findings []finding

	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)

	for number := 1; scanner.Scan(); number++ {
		line := strings.TrimSpace(scanner.Text())
		if number == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}

		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}

		key, value, err := parseEnvLine(line)
		if err != nil {
			findings = append(findings, errorf(fmt.Sprintf("%s:%d", name, number), "%v", err))

			continue
		}

		if isKnownVariable(key) {
			vars[key] = value
		}
	}

	if err := scanner.Err(); err != nil {
		findings = append(findings, errorf(name, "cannot read env file: %v", err))
	}

	return vars, findings
}

func parseEnvLine(line string) (key, value string, err error) {
	line = strings.TrimPrefix(line, "export ")

	key, raw, ok := strings.Cut(line, "=")
	key = strings.TrimSpace(key)

	if !ok || !isVariableName(key) {
		return "", "", fmt.Errorf("invalid line %q: write KEY=VALUE, with a key of letters, digits and _", line)
	}

	raw = strings.TrimSpace(raw)

	if strings.HasPrefix(raw, "'") || strings.HasPrefix(raw, `"`) {
		value, err = unquoteValue(key, raw)

		return key, value, err
	}

	if i := strings.Index(raw, " #"); i >= 0 {
		raw = strings.TrimSpace(raw[:i])
	}

	return key, raw, nil
}

// unquoteValue returns the content of raw, which starts with a single or
// double quote. Only a comment may follow the closing quote.
func unquoteValue(key, raw string) (string, error) {
	quote := raw[0]

	var text strings.Builder

	for i := 1; i < len(raw); i++ {
		c := raw[i]

		if c == quote {
			rest := strings.TrimSpace(raw[i+1:])
			if rest != "" && !strings.HasPrefix(rest, "#") {
				return "", fmt.Errorf("%s: unexpected text %q after the closing quote", key, rest)
			}

			return text.String(), nil
		}

		if quote == '"' && c == '\\' && i+1 < len(raw) {
			i++

			switch raw[i] {
			case 'n':
				text.WriteByte('\n')
			case 't':
				text.WriteByte('\t')
			default:
				text.WriteByte(raw[i])
			}

			continue
		}

		text.WriteByte(c)
	}

	return "", fmt.Errorf("%s: missing closing quote %c; values cannot span several lines", key, quote)
}

func isVariableName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}

	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}

	return true
}
