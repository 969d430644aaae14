package harness

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleDir returns the e2e module's directory, found by walking up from
// the working directory, which go test sets to the package directory.
func moduleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module "+PluginModule+"/e2e\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod of %s/e2e not found above the working directory", PluginModule)
		}
		dir = parent
	}
}

// RepoRoot returns the plugin repository's root, the e2e module's parent.
func RepoRoot() (string, error) {
	dir, err := moduleDir()
	if err != nil {
		return "", err
	}

	return filepath.Dir(dir), nil
}

// LayOutPlugin copies the plugin in root into
// workDir/plugins-local/src/<module>, where Traefik looks for local
// plugins: the package's non-test Go files, go.mod, .traefik.yml and
// vendor/.
//
// yaegi v0.16.1 reads only "// +build" lines and ignores "//go:build", so
// it would also load vendored files that the go command leaves out. The
// copy drops every vendored file the go command ignores.
func LayOutPlugin(root, workDir string) error {
	dest := filepath.Join(workDir, "plugins-local", "src", filepath.FromSlash(PluginModule))
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}

	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		name := entry.Name()
		isSource := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if entry.Type().IsRegular() && (isSource || name == "go.mod" || name == ".traefik.yml") {
			if err := copyFile(filepath.Join(root, name), filepath.Join(dest, name)); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dest, ".traefik.yml")); err != nil {
		return fmt.Errorf("plugin manifest .traefik.yml missing in %s", root)
	}

	if err := copyTree(filepath.Join(root, "vendor"), filepath.Join(dest, "vendor")); err != nil {
		return err
	}

	return removeIgnoredVendorFiles(root, dest)
}

// removeIgnoredVendorFiles deletes from dest/vendor the files that the go
// command ignores when it builds the root package's dependencies.
func removeIgnoredVendorFiles(root, dest string) error {
	cmd := exec.Command("go", "list", "-mod=vendor", "-deps",
		"-f", "{{if not .Standard}}{{.Dir}}|{{join .IgnoredGoFiles \" \"}}{{end}}", ".")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("list plugin dependencies: %w: %s", err, stderr.String())
	}

	vendorDir := filepath.Join(root, "vendor") + string(filepath.Separator)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, ignored, _ := strings.Cut(line, "|")
		if !strings.HasPrefix(dir, vendorDir) || ignored == "" {
			continue
		}
		for _, file := range strings.Fields(ignored) {
			target := filepath.Join(dest, "vendor", strings.TrimPrefix(dir, vendorDir), file)
			if err := os.Remove(target); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}

	return nil
}

func copyTree(src, dest string) error {
	if _, err := os.Stat(src); os.IsNotExist(err) {
		return nil
	}

	return filepath.WalkDir(src, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, rel)
		if entry.IsDir() {
			return os.MkdirAll(target, 0o755)
		}

		return copyFile(path, target)
	})
}

func copyFile(src, dest string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}

	return os.WriteFile(dest, data, 0o644)
}
