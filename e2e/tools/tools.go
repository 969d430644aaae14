//go:build tools

// Package tools records the Traefik command the suite builds, so go.mod
// pins its version and go mod tidy keeps its dependencies.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
