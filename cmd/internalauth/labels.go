package main

import (
	"fmt"
	"strings"
)

// Names of the Traefik objects that render creates. The TLS option lives
// in the file provider; everything else is declared in docker labels.
const (
	routerName          = "apiinternal"
	tlsOptionName       = "apiinternal"
	allowlistMiddleware = "apiinternal-allowlist"
	authMiddleware      = "apiinternal-auth"
	denyMiddleware      = "apiinternal-deny-all"
	pluginAlias         = "internalauth"
	pluginModule        = "github.com/internalauth/internalauth"

	// blockPriority puts the 403 router above the public host's own
	// routers, whose default priority is the length of their rule.
	blockPriority = 10000

	// unmatchableRange is an address no TCP client can connect from, so
	// an allowlist of it rejects every request with 403.
	unmatchableRange = "255.255.255.255/32"

	// blockPathPattern matches the paths that an API may route to
	// /api/internal, in any letter case. Traefik v3.6.12 matches rules
	// after it decodes percent-encoded unreserved characters and removes
	// dot segments and doubled slashes, so a path without the ambiguous
	// characters below only needs /api/internal in it. With them, an API
	// may find segments that Traefik did not see, then remove dot
	// segments, as in /api/x%2F..%2Finternal. A regexp cannot count dot
	// segments against the segments they remove, so such a path is
	// blocked whenever it contains "api" before "internal".
	//
	// NOTE: Traefik keeps %25 encoded too, so /api%252Finternal reaches
	// the API, which gets /api%2Finternal after decoding once. An API
	// that decodes the path twice would route it to /api/internal.
	blockPathPattern = `(?i)/api/+internal|` +
		ambiguousPathCharacters + `.*api.*internal|api.*` + ambiguousPathCharacters + `.*internal`

	// ambiguousPathCharacters are kept inside a segment by Traefik's
	// router, but an API may split or strip a segment at them. They are
	// %2F, which Traefik keeps encoded, a backslash, which the router
	// also gets for %5C, and the semicolon of a path parameter.
	ambiguousPathCharacters = `(\\|%2F|%5C|;)`
)

// label is one docker label. Labels keep the order render builds them
// in, which groups them by router.
type label struct {
	key   string
	value string
}

// buildLabels returns the labels of the container that carries the
// dedicated route: the route on the dedicated hostname and the router
// that rejects /api/internal with 403 on the public hostname.
func buildLabels(s settings, o renderOptions) []label {
	router := "traefik.http.routers." + routerName + "."
	middlewares := []string{authMiddleware}

	if len(s.sourceRanges) > 0 {
		middlewares = []string{allowlistMiddleware, authMiddleware}
	}

	labels := []label{
		{"traefik.enable", "true"},
		{router + "rule", fmt.Sprintf("Host(`%s`) && PathPrefix(`/api/internal`)", s.internalHost)},
		{router + "entryPoints", o.entryPoint},
		{router + "tls", "true"},
		{router + "tls.options", tlsOptionName + "@file"},
		{router + "middlewares", strings.Join(middlewares, ",")},
		{router + "service", o.service},
	}

	if len(s.sourceRanges) > 0 {
		labels = append(labels, label{
			"traefik.http.middlewares." + allowlistMiddleware + ".ipAllowList.sourceRange",
			strings.Join(s.sourceRanges, ","),
		})
	}

	labels = append(labels, pluginLabels(s, o)...)

	return append(labels, blockLabels(s, o)...)
}

// pluginLabels configures the internalauth middleware. The key itself is
// never in a label, where docker inspect and Traefik's API would show
// it: the middleware reads it from a file or an environment variable of
// Traefik's container.
func pluginLabels(s settings, o renderOptions) []label {
	plugin := "traefik.http.middlewares." + authMiddleware + ".plugin." + pluginAlias + "."

	labels := []label{
		{plugin + "serverName", s.internalHost},
		{plugin + "pins", strings.Join(s.pins, ",")},
	}

	if s.caFile == "" {
		// No CA verifies the client certificate, so the TLS option only
		// requires one and the middleware authenticates it by its pin.
		labels = append(labels, label{plugin + "allowUnverifiedChain", "true"})
	}

	labels = append(labels,
		label{plugin + "keys[0].id", s.hmacKeyID},
		label{plugin + "keys[0].encoding", s.hmacEncoding})

	if o.hmacSecretEnv != "" {
		return append(labels, label{plugin + "keys[0].secretEnv", o.hmacSecretEnv})
	}

	return append(labels, label{plugin + "keys[0].secretFile", o.hmacSecretFile})
}

// blockLabels reject /api/internal with 403 on the public hostname. The
// router names the public host's TLS option when one is set, because
// two options for one hostname make Traefik use its default option for
// every router of that hostname.
func blockLabels(s settings, o renderOptions) []label {
	router := "traefik.http.routers." + o.service + "-internal-block."

	labels := []label{
		{router + "rule", fmt.Sprintf("Host(`%s`) && PathRegexp(`%s`)", s.publicHost, blockPathPattern)},
		{router + "priority", fmt.Sprint(blockPriority)},
		{router + "entryPoints", o.entryPoint},
		{router + "tls", "true"},
	}

	if s.publicTLSOptions != "" {
		labels = append(labels, label{router + "tls.options", s.publicTLSOptions})
	}

	return append(labels,
		label{router + "middlewares", denyMiddleware},
		label{router + "service", "noop@internal"},
		label{"traefik.http.middlewares." + denyMiddleware + ".ipAllowList.sourceRange", unmatchableRange})
}

// formatLabels writes one KEY=VALUE line per label, the form of docker
// run --label-file and of docker inspect.
func formatLabels(labels []label) string {
	var b strings.Builder

	for _, l := range labels {
		b.WriteString(l.key + "=" + l.value + "\n")
	}

	return b.String()
}
