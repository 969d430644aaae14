package main

import (
	"fmt"
	"io"
)

func runSign(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "internalauth sign: not implemented yet")

	return exitFailure
}
