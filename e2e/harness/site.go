package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Site is a deployment under test in the form Traefik receives it:
// containers with their labels, and the file provider's files. Any
// source may fill it: a compose file, a render command, a test.
type Site struct {
	Containers []Container

	// Files maps file names to file-provider YAML, such as the TLS
	// options and certificates that labels cannot declare.
	Files map[string][]byte

	// Env is Traefik's extra environment, for keys[].secretEnv.
	Env []string

	// Static is static configuration in YAML that replaces sections of
	// the harness's own, see TraefikOptions.Static.
	Static []byte
}

// TraefikOptions converts the containers' labels the way the docker
// provider would and returns everything for StartTraefik.
func (s *Site) TraefikOptions() (TraefikOptions, error) {
	conf, err := LabelsToDynamic(s.Containers)
	if err != nil {
		return TraefikOptions{}, err
	}
	fromLabels, err := MarshalDynamic(conf)
	if err != nil {
		return TraefikOptions{}, err
	}

	files := map[string][]byte{"labels.yml": fromLabels}
	for name, content := range s.Files {
		if _, exists := files[name]; exists {
			return TraefikOptions{}, fmt.Errorf("file-provider file %s would replace the labels file", name)
		}
		files[name] = content
	}

	return TraefikOptions{Dynamic: files, Env: s.Env, Static: s.Static}, nil
}

// Container returns the container with the given name, or nil.
func (s *Site) Container(name string) *Container {
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}

	return nil
}

// ProjectFile is a file the operator adds to a compose project before
// docker compose up, such as a certificate or a secret.
type ProjectFile struct {
	Source  string // path of a file to copy, or empty
	Content string // content to write when Source is empty
}

// PrepareProject copies exampleDir into a new directory under tempDir
// and adds files, given by path relative to the project.
func PrepareProject(exampleDir, tempDir string, files map[string]ProjectFile) (string, error) {
	projectDir := filepath.Join(tempDir, filepath.Base(exampleDir))
	if err := copyTree(exampleDir, projectDir); err != nil {
		return "", err
	}

	for rel, file := range files {
		target := filepath.Join(projectDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", err
		}
		var err error
		if file.Source != "" {
			err = copyFile(file.Source, target)
		} else {
			err = os.WriteFile(target, []byte(file.Content), 0o600)
		}
		if err != nil {
			return "", err
		}
	}

	return projectDir, nil
}

// SiteFromCompose builds a Site from compose.yaml in projectDir, as
// docker compose and Traefik's docker provider would run it. vars are
// the compose variables and urls map each routed service to its
// upstream. The Traefik service is the one whose image is traefik. Its
// command must declare the plugin as this harness runs it. Its bind
// mounts and secrets give the host paths of the file provider's files,
// the certificates and the HMAC key file.
func SiteFromCompose(projectDir string, vars, urls map[string]string) (*Site, error) {
	compose, err := LoadCompose(filepath.Join(projectDir, "compose.yaml"), vars)
	if err != nil {
		return nil, err
	}

	traefikService, err := compose.traefikService()
	if err != nil {
		return nil, err
	}
	if err := compose.checkStaticConfig(traefikService); err != nil {
		return nil, err
	}
	mounts, err := compose.ServiceMounts(traefikService, projectDir)
	if err != nil {
		return nil, err
	}

	site := &Site{Files: map[string][]byte{}}
	if err := site.readFileProvider(compose, traefikService, mounts); err != nil {
		return nil, err
	}

	names := make([]string, 0, len(compose.Services))
	for name := range compose.Services {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		if name == traefikService {
			continue
		}
		labels := map[string]string{}
		for key, value := range compose.Services[name].Labels {
			// Values such as keys[0].secretFile name paths inside the
			// Traefik container.
			labels[key] = mounts.Rewrite(value)
		}
		site.Containers = append(site.Containers, Container{Name: name, Labels: labels, URL: urls[name]})
	}

	for key, value := range compose.Services[traefikService].Env {
		site.Env = append(site.Env, key+"="+value)
	}

	return site, nil
}

func (c *Compose) traefikService() (string, error) {
	var found []string
	for name, svc := range c.Services {
		image := svc.Image
		if strings.HasPrefix(image, "traefik:") || image == "traefik" {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("expected one service with image traefik, found %d", len(found))
	}

	return found[0], nil
}

// checkStaticConfig verifies that the compose command configures what
// the harness's static configuration configures: the local plugin, the
// websecure entry point and the file provider next to the docker
// provider without exposed-by-default containers.
func (c *Compose) checkStaticConfig(service string) error {
	want := map[string]string{
		"experimental.localPlugins." + PluginAlias + ".moduleName": PluginModule,
		"providers.docker.exposedByDefault":                        "false",
	}
	for name, value := range want {
		got, ok := c.Flag(service, name)
		if !ok || got != value {
			return fmt.Errorf("service %s: command needs --%s=%s, got %q", service, name, value, got)
		}
	}
	for _, name := range []string{"entryPoints.websecure.address", "providers.file.directory"} {
		if _, ok := c.Flag(service, name); !ok {
			return fmt.Errorf("service %s: command needs --%s", service, name)
		}
	}

	return nil
}

// readFileProvider reads the .yml and .yaml files of the file provider's
// directory, through the Traefik service's mounts, with container paths
// inside them rewritten to host paths.
func (s *Site) readFileProvider(c *Compose, service string, mounts *Mounts) error {
	dir, _ := c.Flag(service, "providers.file.directory")
	hostDir, ok := mounts.HostPath(dir)
	if !ok {
		return fmt.Errorf("file provider directory %s is not mounted into %s", dir, service)
	}

	entries, err := os.ReadDir(hostDir)
	if err != nil {
		return fmt.Errorf("read file provider directory: %w", err)
	}
	for _, entry := range entries {
		ext := filepath.Ext(entry.Name())
		if entry.IsDir() || (ext != ".yml" && ext != ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(hostDir, entry.Name()))
		if err != nil {
			return err
		}
		s.Files["file-"+entry.Name()] = []byte(mounts.Rewrite(string(data)))
	}

	return nil
}
