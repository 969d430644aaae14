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
		findings = append(findings, checkHMACKey(vars[varHMAC], s.hmacEncoding)...)
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

// checkHMACKey checks the shared key with the middleware's own decoding.
// Messages never include the key.
func checkHMACKey(value, encoding string) []finding {
	const hint = "generate one with openssl rand -hex 32 and set " + varHMACEncoding + "=hex"

	if value == "" {
		return []finding{errorf(varHMAC, "missing; set the shared HMAC key that callers sign with, "+
			"at least %d bytes after decoding: %s", internalauth.MinKeyBytes, hint)}
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
			len(key), encoding, internalauth.MinKeyBytes, hint)}
	}

	if encoding == "raw" && strings.TrimSpace(value) != value {
		return []finding{warningf(varHMAC, "starts or ends with white space, which the raw encoding keeps "+
			"as part of the key; remove it unless every signer uses it too")}
	}

	return nil
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
	}

	return s.role + ": dedicated route on " + s.internalHost
}
