#!/usr/bin/env bash
# Copy the plugin into GOPATH/src/<module>, the layout Traefik and
# `yaegi test` load it from.
#
# yaegi v0.16.1 reads only "// +build" lines and ignores "//go:build", so
# it would load vendored files that the go command leaves out, such as
# testify's alternative YAML backends. This removes every file the go
# command ignores with the "safe" tag, which also selects go-spew's
# variant that needs no unsafe package.
set -euo pipefail

gopath=$1
module=$2
dest="$gopath/src/$module"

rm -rf "$gopath"
mkdir -p "$dest"
cp go.mod ./*.go "$dest/"
cp -r vendor "$dest/"

root=$(pwd)
go list -mod=vendor -tags safe -deps -test \
	-f '{{if not .Standard}}{{.Dir}}|{{join .IgnoredGoFiles " "}}{{end}}' . |
	while IFS='|' read -r dir ignored; do
		[ -n "$ignored" ] || continue
		case "$dir" in "$root"/vendor/*) ;; *) continue ;; esac
		for file in $ignored; do
			rm -f "$dest${dir#"$root"}/$file"
		done
	done
