package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// renderOptions are render's flags.
type renderOptions struct {
	deploymentOptions

	format         string
	outputDir      string
	entryPoint     string
	service        string
	traefikService string
	certsDir       string
	hmacSecretFile string
	hmacSecretEnv  string
	pluginVersion  string
}

// Output files, in the order render prints them.
var renderFiles = []struct{ format, name, description string }{
	{"labels", "labels.txt", "docker labels of the container that carries the route, one KEY=VALUE a line"},
	{"compose", "compose.yml", "the same labels, the TLS files and the HMAC secret as a compose override"},
	{"dynamic", "dynamic.yml", "Traefik file provider: TLS certificate and option"},
	{"static", "static.yml", "Traefik static configuration: the plugin"},
}

func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return render(args, stdin, stdout, stderr, os.Environ())
}

// render prints or writes the Traefik configuration for the role. It
// returns exitFailure, printing nothing on stdout, when a variable is
// invalid. Files and the HMAC key are not read: check does that.
func render(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	o, code := parseRenderFlags(args, stderr)
	if code >= 0 {
		return code
	}

	vars, findings, err := loadVariables(o.envFile, stdin, environ)
	if err != nil {
		fmt.Fprintf(stderr, "internalauth render: --env-file: %v\n", err)

		return exitUsage
	}

	if note, skip := renderSkipReason(vars, o.role); skip {
		printFindings(stderr, findings, false)
		fmt.Fprintln(stderr, note)

		if errors, _ := countFindings(findings, false); errors > 0 {
			return exitFailure
		}

		return exitOK
	}

	s, variableFindings := validateVariables(vars, o.role)
	findings = append(findings, variableFindings...)
	printFindings(stderr, findings, false)

	if errors, _ := countFindings(findings, false); errors > 0 {
		fmt.Fprintf(stderr, "internalauth render: %s; fix it and run internalauth check\n", plural(errors, "error"))

		return exitFailure
	}

	outputs := renderOutputs(s, o)

	if o.outputDir != "" {
		return writeOutputs(o, outputs, stderr)
	}

	printOutputs(o, outputs, stdout)

	return exitOK
}

func parseRenderFlags(args []string, stderr io.Writer) (renderOptions, int) {
	var o renderOptions

	flags := flag.NewFlagSet("render", flag.ContinueOnError)
	flags.SetOutput(stderr)
	o.register(flags)
	flags.StringVar(&o.format, "format", "all", "what to print: labels, compose, dynamic, static or all")
	flags.StringVar(&o.outputDir, "output-dir", "", "write labels.txt, compose.yml, dynamic.yml and static.yml "+
		"(those --format selects) to this directory instead of printing them")
	flags.StringVar(&o.entryPoint, "entrypoint", "websecure", "Traefik entry point of the HTTPS routers")
	flags.StringVar(&o.service, "service", "", "compose service and Traefik service that carry the route "+
		"(default portal in infra_manager, api in api_manager)")
	flags.StringVar(&o.traefikService, "traefik-service", "traefik", "compose service of Traefik")
	flags.StringVar(&o.certsDir, "certs-dir", "/etc/traefik/internalauth", "directory of Traefik's container "+
		"where the compose file mounts the TLS files")
	flags.StringVar(&o.hmacSecretFile, "hmac-secret-file", "/run/secrets/"+hmacSecretName, "path, in Traefik's "+
		"container, of the file holding "+varHMAC+" (keys[0].secretFile)")
	flags.StringVar(&o.hmacSecretEnv, "hmac-secret-env", "", "name of an environment variable of Traefik's "+
		"container holding "+varHMAC+" (keys[0].secretEnv), in place of --hmac-secret-file")
	flags.StringVar(&o.pluginVersion, "plugin-version", "", "load the plugin from the plugin catalog at this "+
		"version, in place of ./plugins-local")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "Usage: internalauth render --role ROLE [--env-file FILE] [--format FORMAT] [flags]")
		fmt.Fprintln(flags.Output(), "Exit codes: 0 rendered (or nothing to render), 1 invalid variables, 2 invalid usage.")
		flags.PrintDefaults()
	}

	if code := parseFlags(flags, &o.deploymentOptions, args, stderr); code >= 0 {
		return o, code
	}

	if o.service == "" {
		o.service = defaultService(o.role)
	}

	if problem := checkRenderOptions(o); problem != "" {
		fmt.Fprintf(stderr, "internalauth render: %s\n", problem)

		return o, exitUsage
	}

	return o, -1
}

// checkRenderOptions returns a description of the first invalid flag.
// Flag values end up in labels and YAML, so they may not hold line
// breaks or characters that change how Traefik splits a label.
func checkRenderOptions(o renderOptions) string {
	switch o.format {
	case "labels", "compose", "dynamic", "static", "all":
	default:
		return fmt.Sprintf("--format %q is invalid; use labels, compose, dynamic, static or all", o.format)
	}

	for _, name := range []struct{ flag, value string }{
		{"--entrypoint", o.entryPoint}, {"--service", o.service}, {"--traefik-service", o.traefikService},
	} {
		if !isOptionName(name.value) {
			return fmt.Sprintf("%s %q is invalid; use letters, digits, -, _ and .", name.flag, name.value)
		}
	}

	if o.hmacSecretEnv != "" && !isVariableName(o.hmacSecretEnv) {
		return fmt.Sprintf("--hmac-secret-env %q is not an environment variable name", o.hmacSecretEnv)
	}

	for _, dir := range []struct{ flag, value string }{
		{"--certs-dir", o.certsDir}, {"--hmac-secret-file", o.hmacSecretFile},
	} {
		if !path.IsAbs(dir.value) || strings.ContainsAny(dir.value, ",\n\r") {
			return fmt.Sprintf("%s %q must be an absolute path in Traefik's container, without commas", dir.flag, dir.value)
		}
	}

	if strings.ContainsAny(o.pluginVersion, " \n\r\"") {
		return fmt.Sprintf("--plugin-version %q is invalid; give a version such as v0.1.0", o.pluginVersion)
	}

	return ""
}

// renderSkipReason returns whether nothing is rendered for the role, and
// the line that explains why. An infra_manager without PORTAL_URL is a
// warning here, unlike in check, because the deployment then runs
// without the dedicated route.
func renderSkipReason(vars map[string]string, role string) (string, bool) {
	enabled, err := parseBool(vars[varEnabled])

	switch {
	case err != nil:
		return "", false
	case !enabled:
		return "internalauth render: " + varEnabled + " is not true, so no route is opened " +
			"and there is nothing to render", true
	case role == rolePortalManager:
		return "internalauth render: portal_manager opens no route for /api/internal; " +
			"render for api_manager on the API side", true
	case role == roleInfraManager && strings.TrimSpace(vars[varPortalURL]) == "":
		return warningf(varPortalURL, "not set, so the portal is a catch-all and the dedicated route "+
			"is not created; set the portal's exact hostname to open it").String(), true
	}

	return "", false
}

func defaultService(role string) string {
	if role == roleInfraManager {
		return "portal"
	}

	return "api"
}

// renderOutputs returns the content of each output file, by format.
func renderOutputs(s settings, o renderOptions) map[string]string {
	labels := buildLabels(s, o)

	return map[string]string{
		"labels":  formatLabels(labels),
		"compose": buildCompose(s, o, labels),
		"dynamic": buildDynamic(s, o),
		"static":  buildStatic(o),
	}
}

// printOutputs prints the selected output. With --format all, a comment
// line names each file before its content.
func printOutputs(o renderOptions, outputs map[string]string, stdout io.Writer) {
	if o.format != "all" {
		fmt.Fprint(stdout, outputs[o.format])

		return
	}

	for i, file := range renderFiles {
		if i > 0 {
			fmt.Fprintln(stdout)
		}

		fmt.Fprintf(stdout, "# ==> %s: %s\n", file.name, file.description)
		fmt.Fprint(stdout, outputs[file.format])
	}
}

func writeOutputs(o renderOptions, outputs map[string]string, stderr io.Writer) int {
	if err := os.MkdirAll(o.outputDir, 0o750); err != nil {
		fmt.Fprintf(stderr, "internalauth render: --output-dir: %v\n", err)

		return exitFailure
	}

	for _, file := range renderFiles {
		if o.format != "all" && o.format != file.format {
			continue
		}

		target := filepath.Join(o.outputDir, file.name)

		// The files hold no secret, since the HMAC key is referenced and
		// not copied, and Traefik may read them as another user.
		if err := os.WriteFile(target, []byte(outputs[file.format]), 0o644); err != nil { //nolint:gosec // no secret
			fmt.Fprintf(stderr, "internalauth render: %v\n", err)

			return exitFailure
		}

		fmt.Fprintf(stderr, "wrote %s\n", target)
	}

	return exitOK
}
