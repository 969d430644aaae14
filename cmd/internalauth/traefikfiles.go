package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Names under which the TLS files are mounted in Traefik's container.
// Fixed names keep two files with the same base name apart.
const (
	certFileName = "apiinternal.crt"
	keyFileName  = "apiinternal.key"
	caFileName   = "apiinternal_ca.crt"
)

// yamlString quotes s as a YAML double-quoted scalar. Go's escapes are a
// subset of YAML's, so any valid UTF-8 string survives the round trip.
func yamlString(s string) string {
	return strconv.Quote(s)
}

// buildDynamic returns the file-provider configuration that labels
// cannot declare: the certificate for the dedicated hostname and its TLS
// option.
func buildDynamic(s settings, o renderOptions) string {
	var b strings.Builder

	fmt.Fprintf(&b, "# Traefik file provider: TLS for %s. Docker labels cannot declare\n", s.internalHost)
	b.WriteString("# certificates or TLS options, so the router names " + tlsOptionName + "@file.\n")
	b.WriteString("tls:\n")

	if s.certFile != "" {
		b.WriteString("  certificates:\n")
		fmt.Fprintf(&b, "    - certFile: %s\n", yamlString(path.Join(o.certsDir, certFileName)))
		fmt.Fprintf(&b, "      keyFile: %s\n", yamlString(path.Join(o.certsDir, keyFileName)))
	}

	b.WriteString("  options:\n")
	fmt.Fprintf(&b, "    %s:\n", tlsOptionName)
	b.WriteString("      minVersion: VersionTLS12\n")

	if s.certFile != "" {
		// Without a certificate of its own the hostname is served with
		// Traefik's default certificate, which strict SNI would reject.
		b.WriteString("      sniStrict: true\n")
	}

	b.WriteString("      clientAuth:\n")

	if s.caFile != "" {
		b.WriteString("        caFiles:\n")
		fmt.Fprintf(&b, "          - %s\n", yamlString(path.Join(o.certsDir, caFileName)))
		b.WriteString("        clientAuthType: RequireAndVerifyClientCert\n")
	} else {
		b.WriteString("        clientAuthType: RequireAnyClientCert\n")
	}

	return b.String()
}

// buildStatic returns Traefik's static configuration that loads the
// plugin: from the plugin catalog when a version is given, else from
// ./plugins-local, relative to Traefik's working directory.
func buildStatic(o renderOptions) string {
	var b strings.Builder

	b.WriteString("# Traefik static configuration: load the internalauth plugin. Traefik reads\n")
	b.WriteString("# static configuration once, at start-up. The same as a command-line flag:\n")

	if o.pluginVersion != "" {
		fmt.Fprintf(&b, "#   --experimental.plugins.%s.moduleName=%s\n", pluginAlias, pluginModule)
		fmt.Fprintf(&b, "#   --experimental.plugins.%s.version=%s\n", pluginAlias, o.pluginVersion)
		b.WriteString("experimental:\n  plugins:\n")
		fmt.Fprintf(&b, "    %s:\n      moduleName: %s\n", pluginAlias, pluginModule)
		fmt.Fprintf(&b, "      version: %s\n", yamlString(o.pluginVersion))

		return b.String()
	}

	fmt.Fprintf(&b, "#   --experimental.localPlugins.%s.moduleName=%s\n", pluginAlias, pluginModule)
	fmt.Fprintf(&b, "# The plugin's source goes in ./plugins-local/src/%s/\n", pluginModule)
	b.WriteString("# relative to Traefik's working directory.\n")
	b.WriteString("experimental:\n  localPlugins:\n")
	fmt.Fprintf(&b, "    %s:\n      moduleName: %s\n", pluginAlias, pluginModule)

	return b.String()
}

// buildCompose returns a docker compose file to pass after the
// deployment's own with -f: compose merges labels by key, volumes by
// target and secrets by name.
func buildCompose(s settings, o renderOptions, labels []label) string {
	var b strings.Builder

	b.WriteString("# Compose override for the dedicated /api/internal route. Use it after the\n")
	b.WriteString("# deployment's own file: docker compose -f compose.yaml -f THIS_FILE up -d\n")
	b.WriteString("services:\n")
	fmt.Fprintf(&b, "  %s:\n    labels:\n", o.service)

	for _, l := range labels {
		// Compose interpolates $ in values; $$ is a literal dollar sign.
		fmt.Fprintf(&b, "      %s: %s\n", l.key, yamlString(strings.ReplaceAll(l.value, "$", "$$")))
	}

	fmt.Fprintf(&b, "  %s:\n", o.traefikService)
	writeMounts(&b, s, o)

	if o.hmacSecretEnv != "" {
		b.WriteString("    environment:\n")
		fmt.Fprintf(&b, "      %s: %s\n", o.hmacSecretEnv, yamlString("${"+varHMAC+"}"))

		return b.String()
	}

	b.WriteString("    secrets:\n")
	fmt.Fprintf(&b, "      - source: %s\n        target: %s\n", hmacSecretName, yamlString(o.hmacSecretFile))
	b.WriteString("secrets:\n")
	fmt.Fprintf(&b, "  %s:\n", hmacSecretName)
	b.WriteString("    # Compose writes the variable's value to the file; docker stack deploy\n")
	b.WriteString("    # does not support this source, use file: there.\n")
	fmt.Fprintf(&b, "    environment: %s\n", varHMAC)

	return b.String()
}

// hmacSecretName is the compose secret that carries API_INTERNAL_HMAC.
const hmacSecretName = "api_internal_hmac"

func writeMounts(b *strings.Builder, s settings, o renderOptions) {
	mounts := [][2]string{}

	if s.certFile != "" {
		mounts = append(mounts, [2]string{s.certFile, certFileName}, [2]string{s.keyFile, keyFileName})
	}

	if s.caFile != "" {
		mounts = append(mounts, [2]string{s.caFile, caFileName})
	}

	if len(mounts) == 0 {
		return
	}

	b.WriteString("    volumes:\n")

	for _, mount := range mounts {
		fmt.Fprintf(b, "      - type: bind\n        source: %s\n        target: %s\n        read_only: true\n",
			yamlString(mount[0]), yamlString(path.Join(o.certsDir, mount[1])))
	}
}
