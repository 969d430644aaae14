package main

import (
	"fmt"
	"io"
)

func runRender(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "internalauth render: not implemented yet")

	return exitFailure
}
