// Package e2e runs the internalauth plugin inside a real Traefik process,
// built from the Go module proxy, against the compose examples in
// examples/, with a throwaway PKI and loopback upstreams. Run it with
// make e2e from the repository root.
package e2e
