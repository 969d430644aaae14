#!/usr/bin/env bash
# Run every native fuzz target of the module for a bounded time each.
# Usage: scripts/fuzz.sh DURATION (a Go duration such as 10s)
set -euo pipefail

duration=${1:?usage: scripts/fuzz.sh DURATION}

for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' || true)

	for target in $targets; do
		echo "fuzz: $pkg $target for $duration"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" "$pkg"
	done
done
