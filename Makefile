# Every tool is pinned and installed through the Go module proxy into
# .tools/bin, so a fresh machine needs only Go, make and the Debian
# packages the targets below install themselves.

MODULE        := github.com/internalauth/internalauth
TOOLS         := $(CURDIR)/.tools/bin
BUILD         := $(CURDIR)/.build
YAEGI_VERSION := v0.16.1
LINT_VERSION  := v2.15.0
YAEGI         := $(TOOLS)/yaegi
GOLANGCI_LINT := $(TOOLS)/golangci-lint
YAEGI_GOPATH  := $(BUILD)/yaegi-gopath
FUZZTIME      ?= 10s

export GOFLAGS := -buildvcs=false

.PHONY: test check-tidy vet lint unit yaegi-test fuzz tools clean interop-deps interop examples
.PHONY: e2e demo traefik curl bench

## test: run every check and suite; CI runs this. interop-deps comes
## before unit, whose go test ./... runs the interop package.
test: check-tidy vet lint interop-deps examples unit yaegi-test fuzz e2e

tools: $(YAEGI) $(GOLANGCI_LINT)

$(YAEGI):
	GOBIN=$(TOOLS) go install github.com/traefik/yaegi/cmd/yaegi@$(YAEGI_VERSION)

$(GOLANGCI_LINT):
	GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VERSION)

## check-tidy: fail when go.mod, go.sum or vendor/ are out of date.
check-tidy:
	go mod tidy
	go mod vendor
	git diff --exit-code -- go.mod go.sum vendor
	@test -z "$$(git status --porcelain -- vendor)" || \
		{ echo "vendor/ has untracked changes: run go mod vendor and commit"; exit 1; }

vet:
	go vet ./...

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...

## unit: the root package and commands, compiled, with the race detector.
unit:
	go test -race -count=1 ./...

## yaegi-test: the root package's tests interpreted by yaegi, loaded by
## import path from a GOPATH layout, the way Traefik loads the plugin.
yaegi-test: $(YAEGI)
	./scripts/yaegi-layout.sh $(YAEGI_GOPATH) $(MODULE)
	cd $(YAEGI_GOPATH) && GOPATH=$(YAEGI_GOPATH) GO111MODULE=off \
		$(YAEGI) test -tags safe -v $(MODULE)

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

## interop-deps: the programs the interop tests run (bash, openssl, curl,
## python3, node and npm), installed from Debian's packages when missing,
## and http-message-signatures installed from interop/node's lock file.
INTEROP_NODE := $(BUILD)/interop-node

interop-deps:
	@missing=""; \
	for pair in bash:bash openssl:openssl curl:curl python3:python3 node:nodejs npm:npm; do \
		command -v "$${pair%%:*}" >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update && apt-get install -y $$missing; \
	fi
	mkdir -p $(INTEROP_NODE)
	cp interop/node/package.json interop/node/package-lock.json interop/node/interop.mjs $(INTEROP_NODE)/
	cd $(INTEROP_NODE) && npm ci --no-audit --no-fund --ignore-scripts

## interop: every signing path against the middleware, alone.
interop: interop-deps
	go test -count=1 ./interop/...

## examples: syntax checks of the shell and Python examples.
examples: interop-deps
	bash -n examples/shell/sign.sh
	python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' examples/python/sign.py

clean:
	rm -rf $(BUILD) $(E2E_DIR)/.build

# The e2e module builds the Traefik version its go.mod requires, once per
# version. A cold build took 6 min 46 s on a 2-core machine with the
# modules already downloaded; later builds reuse Go's build cache.
E2E_DIR         := $(CURDIR)/e2e
TRAEFIK_VERSION := $(shell sed -n 's|^[[:space:]]*github.com/traefik/traefik/v3 \(v[^ ]*\)$$|\1|p' e2e/go.mod)
TRAEFIK         := $(E2E_DIR)/.build/traefik-$(TRAEFIK_VERSION)
E2E_TIMEOUT     ?= 20m

## traefik: build the Traefik binary the e2e suite and the demo run.
traefik: $(TRAEFIK)

$(TRAEFIK):
	cd e2e && go build -o $@ github.com/traefik/traefik/v3/cmd/traefik
	@touch $@

curl:
	@command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }

## e2e: the plugin in a real Traefik, against the compose examples.
e2e: $(TRAEFIK) $(GOLANGCI_LINT) curl
	cd e2e && go mod tidy -diff
	cd e2e && go vet ./...
	cd e2e && $(GOLANGCI_LINT) run --allow-parallel-runners ./...
	cd e2e && INTERNALAUTH_E2E_TRAEFIK=$(TRAEFIK) go test -count=1 -timeout $(E2E_TIMEOUT) ./...

## demo: run the documented verification on loopback and stop; KEEP=1
## keeps Traefik running for requests by hand until Ctrl-C.
demo: $(TRAEFIK) curl
	cd e2e && INTERNALAUTH_E2E_TRAEFIK=$(TRAEFIK) go run ./cmd/demo $(if $(KEEP),-keep)

## bench: the plugin in a real Traefik under load next to the same route
## without it and with a compiled forwardAuth verifier, then the
## microbenchmarks: compiled, interpreted by yaegi, and per phase under
## yaegi test. Not part of test; see BENCHMARKS.md.
BENCH_FLAGS ?=

bench: $(TRAEFIK) $(YAEGI)
	cd e2e && INTERNALAUTH_E2E_TRAEFIK=$(TRAEFIK) go run ./cmd/bench $(BENCH_FLAGS)
	cd e2e && go test -run '^$$' -bench . -benchmem -count 3 ./bench/
	go test -run '^TestReplayCacheMemory$$' -v -count=1 .
	./scripts/yaegi-layout.sh $(YAEGI_GOPATH) $(MODULE)
	cd $(YAEGI_GOPATH) && GOPATH=$(YAEGI_GOPATH) GO111MODULE=off \
		$(YAEGI) test -tags safe -run '^$$' -bench 'Phase' -benchmem $(MODULE)
