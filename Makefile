# dsenv: a thin list of targets; the logic lives in cmd/dsenv and tests.
GO      ?= go
DSENV   := $(GO) run ./cmd/dsenv
TESTTIMEOUT ?= 60m

.PHONY: setup up down test test-unit tftest fuzz bench fmt vet lint sweep

## setup: check Docker and Terraform, build the docker provider mirror and the images (cached)
# (built, not `go run`, so that a failure prints dsenv's one-line error and no "exit status 1")
setup:
	@bin=$$(mktemp -d) && trap 'rm -rf "$$bin"' EXIT && $(GO) build -o "$$bin/dsenv" ./cmd/dsenv && "$$bin/dsenv" setup

## up: bring up a persistent local environment and print its outputs
up: setup
	$(DSENV) up

## down: destroy the environment that `make up` created
down:
	$(DSENV) down

## test: everything, against real containers
test: setup
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...

fmt:
	gofmt -l -w .
	terraform fmt -recursive terraform

vet:
	$(GO) vet ./...

## lint: what CI checks before tests
lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	terraform fmt -check -recursive terraform

sweep:
	$(DSENV) sweep

## bench: dsenv vs docker compose vs testcontainers-go vs plain docker run (bench/README.md)
bench: setup
	cd bench && GOFLAGS=-mod=mod $(GO) run . $(BENCHFLAGS)
