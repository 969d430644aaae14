package harness

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/label"
)

// Container is the part of a container that Traefik's docker provider
// reads: a name, its labels, and the URL the provider would build from
// its address and port, here a loopback upstream.
type Container struct {
	Name   string
	Labels map[string]string
	URL    string
}

// LabelsToDynamic builds the HTTP configuration that Traefik's docker
// provider (exposedByDefault=false) builds from the containers' labels,
// with Traefik's own label decoder. It follows the provider in these
// steps:
//
//   - a container without traefik.enable=true is ignored;
//   - a container without a service gets one named after it;
//   - a service without a server gets the container's URL;
//   - a router without a service gets the container's only service;
//   - a router without a rule is an error here, because the default rule
//     depends on the container name and the scenarios never use it.
//
// Middleware and service names without a provider suffix stay
// unqualified, so they resolve inside the file provider that receives
// the result, as they resolve inside the docker provider in production.
func LabelsToDynamic(containers []Container) (*dynamic.Configuration, error) {
	merged := &dynamic.Configuration{HTTP: &dynamic.HTTPConfiguration{
		Routers:     map[string]*dynamic.Router{},
		Middlewares: map[string]*dynamic.Middleware{},
		Services:    map[string]*dynamic.Service{},
	}}

	for _, container := range containers {
		if enabled, _ := strconv.ParseBool(container.Labels["traefik.enable"]); !enabled {
			continue
		}
		conf, err := containerConfiguration(container)
		if err != nil {
			return nil, err
		}
		if err := mergeInto(merged.HTTP.Routers, conf.HTTP.Routers, "router"); err != nil {
			return nil, err
		}
		if err := mergeInto(merged.HTTP.Middlewares, conf.HTTP.Middlewares, "middleware"); err != nil {
			return nil, err
		}
		if err := mergeInto(merged.HTTP.Services, conf.HTTP.Services, "service"); err != nil {
			return nil, err
		}
	}

	return merged, nil
}

func containerConfiguration(container Container) (*dynamic.Configuration, error) {
	conf, err := label.DecodeConfiguration(container.Labels)
	if err != nil {
		return nil, fmt.Errorf("decode labels of %s: %w", container.Name, err)
	}
	if len(conf.TCP.Routers) > 0 || len(conf.UDP.Routers) > 0 {
		return nil, fmt.Errorf("container %s: TCP and UDP routers are not emulated", container.Name)
	}

	if len(conf.HTTP.Services) == 0 {
		lb := &dynamic.ServersLoadBalancer{}
		lb.SetDefaults()
		conf.HTTP.Services = map[string]*dynamic.Service{container.Name: {LoadBalancer: lb}}
	}
	for name, service := range conf.HTTP.Services {
		if service.LoadBalancer == nil {
			continue
		}
		if container.URL == "" {
			return nil, fmt.Errorf("container %s: service %s needs a URL", container.Name, name)
		}
		if len(service.LoadBalancer.Servers) == 0 {
			service.LoadBalancer.Servers = []dynamic.Server{{}}
		}
		for i := range service.LoadBalancer.Servers {
			// The provider builds the URL from the container's address and
			// the server.port label; the upstream replaces both.
			service.LoadBalancer.Servers[i] = dynamic.Server{URL: container.URL}
		}
	}

	for name, router := range conf.HTTP.Routers {
		if router.Rule == "" {
			return nil, fmt.Errorf("container %s: router %s has no rule", container.Name, name)
		}
		if router.Service != "" {
			continue
		}
		if len(conf.HTTP.Services) != 1 {
			return nil, fmt.Errorf("container %s: router %s needs a service label", container.Name, name)
		}
		for serviceName := range conf.HTTP.Services {
			router.Service = serviceName
		}
	}

	return conf, nil
}

func mergeInto[T any](dst, src map[string]T, kind string) error {
	names := make([]string, 0, len(src))
	for name := range src {
		names = append(names, name)
	}
	sort.Strings(names)

	for _, name := range names {
		if existing, ok := dst[name]; ok && !reflect.DeepEqual(existing, src[name]) {
			return fmt.Errorf("%s %s is defined twice with different values", kind, name)
		}
		dst[name] = src[name]
	}

	return nil
}

// MarshalDynamic encodes conf as a file-provider file. Traefik's types
// carry the JSON field names of its API, and JSON is valid YAML.
func MarshalDynamic(conf *dynamic.Configuration) ([]byte, error) {
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode dynamic configuration: %w", err)
	}

	return data, nil
}

// LabelsFromText parses labels written one KEY=VALUE a line, as
// docker inspect or a render command prints them. Blank lines and lines
// starting with # are skipped.
func LabelsFromText(text string) (map[string]string, error) {
	labels := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not KEY=VALUE", i+1, line)
		}
		labels[key] = value
	}

	return labels, nil
}
