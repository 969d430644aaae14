package main

import (
	"fmt"
	"io"
)

func runFingerprint(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "internalauth fingerprint: not implemented yet")

	return exitFailure
}
