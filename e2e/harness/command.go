package harness

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
)

// BuildCommand builds the internalauth command from the repository root
// into dir and returns the binary's path. The root module vendors its
// dependencies, so the build needs no network, and Go's build cache
// makes later builds fast.
func BuildCommand(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}

	binary := filepath.Join(dir, "internalauth")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", binary, "./cmd/internalauth")
	cmd.Dir = root

	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build internalauth command: %w\n%s", err, output.String())
	}

	return binary, nil
}
