package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// deploymentOptions are the flags that render and check share.
type deploymentOptions struct {
	role    string
	envFile string
}

func (o *deploymentOptions) register(flags *flag.FlagSet) {
	flags.StringVar(&o.role, "role", "", "deployment role: infra_manager, api_manager or portal_manager (required)")
	flags.StringVar(&o.envFile, "env-file", "", "read variables from this KEY=VALUE file (- for stdin); "+
		"its values replace the environment's")
}

// parseFlags parses args and checks the shared flags. It returns the
// exit code to stop with, or -1 to go on.
func parseFlags(flags *flag.FlagSet, options *deploymentOptions, args []string, stderr io.Writer) int {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}

		return exitUsage
	}

	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "internalauth %s: unexpected argument %q; variables come from the environment "+
			"or --env-file\n", flags.Name(), flags.Arg(0))

		return exitUsage
	}

	const roles = "give infra_manager, api_manager or portal_manager"

	switch {
	case options.role == "":
		fmt.Fprintf(stderr, "internalauth %s: missing --role: %s\n", flags.Name(), roles)

		return exitUsage
	case !validRole(options.role):
		fmt.Fprintf(stderr, "internalauth %s: --role %q is invalid: %s\n", flags.Name(), options.role, roles)

		return exitUsage
	}

	return -1
}
