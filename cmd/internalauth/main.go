// Command internalauth signs requests for the internalauth middleware,
// prints certificate pins, and renders and checks the Traefik
// configuration from the API_INTERNAL_* variables.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFailure  = 1 // the operation failed: request error, check errors
	exitUsage    = 2 // invalid flags or arguments
	exitRejected = 3 // sign: the server responded with a 4xx or 5xx status
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"sign", "sign a request and send it, or print its signature headers", runSign},
		{"fingerprint", "print the pins of a client certificate", runFingerprint},
		{"render", "print the Traefik configuration for the API_INTERNAL_* variables", runRender},
		{"check", "check the API_INTERNAL_* variables and the files they name", runCheck},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)

		if len(args) == 0 {
			return exitUsage
		}

		return exitOK
	}

	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(args[1:], stdin, stdout, stderr)
		}
	}

	fmt.Fprintf(stderr, "internalauth: unknown command %q; run internalauth help\n", args[0])

	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: internalauth <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")

	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", cmd.name, cmd.summary)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run internalauth <command> -h for the flags of a command.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure, 2 invalid usage, 3 request rejected by the server (sign).")
}
