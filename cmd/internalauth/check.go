package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/internalauth/internalauth"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return check(args, stdin, stdout, stderr, os.Environ(), time.Now())
}

// check validates the variables and the files they name, as they apply
// to the role, and prints one line per error or warning, then a summary.
// It returns exitFailure when there is an error, or a warning under
// --strict.
func check(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string, now time.Time) int {
	var options deploymentOptions

	flags := flag.NewFlagSet("check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	options.register(flags)
	strict := flags.Bool("strict", false, "treat warnings as errors")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "Usage: internalauth check --role ROLE [--env-file FILE] [--strict]")
		fmt.Fprintln(flags.Output(), "Exit codes: 0 no error, 1 errors (or warnings with --strict), 2 invalid usage.")
		flags.PrintDefaults()
	}

	if code := parseFlags(flags, &options, args, stderr); code >= 0 {
		return code
	}

	vars, findings, err := loadVariables(options.envFile, stdin, environ)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth check: --env-file: %v\n", err)

		return exitUsage
	}

	s, variableFindings := validateVariables(vars, options.role)
	findings = append(findings, variableFindings...)

	if s.enabled && s.role != rolePortalManager {
		findings = append(findings, checkHMACKey(vars[varHMAC], s)...)
		findings = append(findings, checkTLSFiles(s, now)...)
	}

	printFindings(stdout, findings, *strict)

	errors, warnings := countFindings(findings, *strict)
	fmt.Fprintf(stdout, "%s: %s, %s\n", describeScope(s), plural(errors, "error"), plural(warnings, "warning"))

	if errors > 0 {
		return exitFailure
	}

	return exitOK
}

// checkHMACKey checks the shared key with the middleware's own decoding
// and prints its check value, which callers compare with the value of
// the key they hold. Messages never include the key.
func checkHMACKey(value string, s settings) []finding {
	encoding := s.hmacEncoding

	if value == "" {
		return []finding{errorf(varHMAC, "missing; set the shared HMAC key that callers sign with, "+
			"at least %d bytes after decoding: %s", internalauth.MinKeyBytes, keyGenerationHint(encoding))}
	}

	switch encoding {
	case "raw", "base64", "hex":
	default:
		return nil // reported on API_INTERNAL_HMAC_ENCODING
	}

	key, err := internalauth.DecodeKey([]byte(value), encoding)
	if err != nil {
		return []finding{errorf(varHMAC, "%v as %s says (%s); set %s to how the key is written: "+
			"raw, base64 or hex", err, varHMACEncoding, encoding, varHMACEncoding)}
	}

	if len(key) < internalauth.MinKeyBytes {
		return []finding{errorf(varHMAC, "%d bytes after %s decoding, at least %d are required; %s",
			len(key), encoding, internalauth.MinKeyBytes, keyGenerationHint(encoding))}
	}

	var findings []finding

	if encoding == "raw" && strings.TrimSpace(value) != value {
		findings = append(findings, warningf(varHMAC, "starts or ends with white space, which the raw "+
			"encoding keeps as part of the key; remove it unless every signer uses it too"))
	}

	if digits := strings.TrimSpace(value); encoding == "base64" && len(digits) >= minHexKeyDigits && isHex(digits) {
		findings = append(findings, warningf(varHMAC, "is declared base64 but consists of %d hex digits, "+
			"as openssl rand -hex writes them; if it was made that way, set %s=hex, because callers "+
			"that decode it as hex hold a different key", len(digits), varHMACEncoding))
	}

	return append(findings, infof(varHMAC, "check value %s for key id %q; give it to the callers, who "+
		"compare it with what internalauth sign -v prints, and the middleware logs it at start-up",
		internalauth.KeyCheckValue(key), s.hmacKeyID))
}

// minHexKeyDigits is the length of the shortest key that openssl rand -hex
// makes at the required size: 32 bytes, two hex digits each.
const minHexKeyDigits = 2 * internalauth.MinKeyBytes

// keyGenerationHint returns the command that makes a new key written in
// encoding. A raw key gets base64 advice, because random bytes may
// contain a NUL byte, which an environment variable cannot contain.
func keyGenerationHint(encoding string) string {
	switch encoding {
	case "base64":
		return "generate one with openssl rand -base64 32"
	case "hex":
		return "generate one with openssl rand -hex 32"
	}

	return "generate one with openssl rand -base64 32 and set " + varHMACEncoding + "=base64"
}

func isHex(text string) bool {
	return strings.Trim(text, "0123456789abcdefABCDEF") == ""
}

// describeScope names what check covered, for the summary line.
func describeScope(s settings) string {
	switch {
	case !s.enabled:
		return s.role + ": " + varEnabled + " is not true, so no route is opened and nothing else is checked"
	case s.role == rolePortalManager:
		return s.role + ": no route for /api/internal is opened in this role, so nothing else is checked"
	case !s.routed:
		return s.role + ": the dedicated route would not be created"
	case s.internalHost == "":
		return s.role + ": dedicated route without a valid " + varURL
	}

	return s.role + ": dedicated route on " + s.internalHost
}
