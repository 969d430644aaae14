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

.PHONY: test check-tidy vet lint unit yaegi-test fuzz tools clean

## test: run every check and suite; CI runs this.
test: check-tidy vet lint unit yaegi-test fuzz

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
	$(GOLANGCI_LINT) run ./...

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

clean:
	rm -rf $(BUILD)
