package harness

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Compose is the part of a docker compose file that Traefik's docker
// provider and the Traefik container depend on.
type Compose struct {
	Services map[string]ComposeService `yaml:"services"`
	Secrets  map[string]ComposeSecret  `yaml:"secrets"`
}

// ComposeService is one service of a compose file.
type ComposeService struct {
	Image   string    `yaml:"image"`
	Command []string  `yaml:"command"`
	Labels  StringMap `yaml:"labels"`
	Volumes []string  `yaml:"volumes"`
	Secrets []string  `yaml:"secrets"`
	Env     StringMap `yaml:"environment"`
}

// ComposeSecret is a top-level secret backed by a file.
type ComposeSecret struct {
	File string `yaml:"file"`
}

// StringMap decodes compose's two spellings of labels and environment:
// a mapping, or a list of KEY=VALUE strings.
type StringMap map[string]string

// UnmarshalYAML accepts a mapping or a list of KEY=VALUE strings.
func (m *StringMap) UnmarshalYAML(node *yaml.Node) error {
	out := StringMap{}
	switch node.Kind {
	case yaml.MappingNode:
		var raw map[string]string
		if err := node.Decode(&raw); err != nil {
			return err
		}
		for k, v := range raw {
			out[k] = v
		}
	case yaml.SequenceNode:
		var raw []string
		if err := node.Decode(&raw); err != nil {
			return err
		}
		for _, item := range raw {
			key, value, ok := strings.Cut(item, "=")
			if !ok {
				return fmt.Errorf("line %d: %q is not KEY=VALUE", node.Line, item)
			}
			out[key] = value
		}
	default:
		return fmt.Errorf("line %d: expected a mapping or a list of KEY=VALUE", node.Line)
	}
	*m = out

	return nil
}

// variablePattern matches compose's ${NAME}, ${NAME:-default},
// ${NAME-default}, ${NAME:?message} and ${NAME?message}, and the $$
// escape.
var variablePattern = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// Interpolate substitutes compose variables in text. Unlike compose,
// which warns and substitutes an empty string, it rejects a variable
// that is unset and has no default, so a misspelt name fails the test.
func Interpolate(text string, vars map[string]string) (string, error) {
	var missing []string
	out := variablePattern.ReplaceAllStringFunc(text, func(match string) string {
		if match == "$$" {
			return "$"
		}
		parts := variablePattern.FindStringSubmatch(match)
		name, operator, argument := parts[1], parts[2], parts[3]
		value, set := vars[name]
		emptyCounts := strings.HasPrefix(operator, ":")
		unset := !set || (emptyCounts && value == "")

		switch {
		case !unset:
			return value
		case strings.HasSuffix(operator, "-"):
			return argument
		default:
			missing = append(missing, name)
			return ""
		}
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("compose variables not set: %s", strings.Join(missing, ", "))
	}

	return out, nil
}

// LoadCompose reads a compose file and interpolates vars into it.
func LoadCompose(file string, vars map[string]string) (*Compose, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}

	// Comments may mention variables, so drop them before interpolating.
	var tree yaml.Node
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	stripComments(&tree)
	plain, err := yaml.Marshal(&tree)
	if err != nil {
		return nil, err
	}

	text, err := Interpolate(string(plain), vars)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}

	var compose Compose
	if err := yaml.Unmarshal([]byte(text), &compose); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}

	return &compose, nil
}

func stripComments(node *yaml.Node) {
	node.HeadComment, node.LineComment, node.FootComment = "", "", ""
	for _, child := range node.Content {
		stripComments(child)
	}
}

// Mounts maps paths inside a service's container to paths under a
// project directory on the host, the way compose mounts its bind volumes
// and file secrets.
type Mounts struct {
	targets []string
	sources map[string]string
}

// ServiceMounts returns the bind mounts and file secrets of service,
// with their relative sources resolved against projectDir.
func (c *Compose) ServiceMounts(service, projectDir string) (*Mounts, error) {
	svc, ok := c.Services[service]
	if !ok {
		return nil, fmt.Errorf("compose service %q not found", service)
	}

	m := &Mounts{sources: map[string]string{}}
	add := func(source, target string) {
		if !filepath.IsAbs(source) {
			source = filepath.Join(projectDir, source)
		}
		m.sources[path.Clean(target)] = source
	}

	for _, volume := range svc.Volumes {
		parts := strings.Split(volume, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			// Named volumes and host sockets have no place in the test.
			continue
		}
		add(parts[0], parts[1])
	}
	for _, name := range svc.Secrets {
		secret, ok := c.Secrets[name]
		if !ok || secret.File == "" {
			return nil, fmt.Errorf("secret %q of service %q has no top-level file", name, service)
		}
		add(secret.File, "/run/secrets/"+name)
	}

	for target := range m.sources {
		m.targets = append(m.targets, target)
	}
	// Sort the longest target first, so /etc/traefik/certs matches before
	// /etc/traefik.
	sort.Slice(m.targets, func(i, j int) bool { return len(m.targets[i]) > len(m.targets[j]) })

	return m, nil
}

// HostPath returns the host path of a container path, and false when no
// mount contains it.
func (m *Mounts) HostPath(containerPath string) (string, bool) {
	clean := path.Clean(containerPath)
	for _, target := range m.targets {
		if clean == target || strings.HasPrefix(clean, target+"/") {
			return filepath.Join(m.sources[target], strings.TrimPrefix(clean, target)), true
		}
	}

	return "", false
}

// mountedPathPattern matches absolute container paths inside a value.
var mountedPathPattern = regexp.MustCompile(`/[A-Za-z0-9_./-]+`)

// Rewrite replaces every mounted container path in text with its host
// path.
func (m *Mounts) Rewrite(text string) string {
	return mountedPathPattern.ReplaceAllStringFunc(text, func(p string) string {
		if host, ok := m.HostPath(p); ok {
			return host
		}
		return p
	})
}

// Flag returns the value of a --name=value flag in the service's
// command, matching the name case-insensitively as Traefik does.
func (c *Compose) Flag(service, name string) (string, bool) {
	for _, arg := range c.Services[service].Command {
		key, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if strings.EqualFold(key, name) {
			return value, true
		}
	}

	return "", false
}
