# dsenv: a thin list of targets; the logic lives in cmd/dsenv and tests.
GO      ?= go
DSENV   := $(GO) run ./cmd/dsenv
TESTTIMEOUT ?= 60m

.PHONY: setup up down logs status output test fuzz bench bench-podman bench-ds fmt vet lint sweep backup restore

## setup: check every prerequisite first (installing what apt can, as root), build the docker provider mirror and the images (cached)
# (built, not `go run`, so that a failure prints dsenv's one-line error and no "exit status 1")
setup:
	@bin=$$(mktemp -d) && trap 'rm -rf "$$bin"' EXIT && $(GO) build -o "$$bin/dsenv" ./cmd/dsenv && "$$bin/dsenv" setup $(SETUPFLAGS)

# run-dsenv builds cmd/dsenv into a temporary directory and runs it: a failure prints
# dsenv's own one-line error (no `go run` "exit status 1"), and Ctrl-C reaches dsenv.
run-dsenv = @bin=$$(mktemp -d) && trap 'rm -rf "$$bin"' EXIT && $(GO) build -o "$$bin/dsenv" ./cmd/dsenv && "$$bin/dsenv"

## up: bring up the persistent local environment (terraform/env, applied in place): one line per step and container, then commands to paste (UPFLAGS=--verbose: Terraform's output too)
## (DATASTORAGE_IMAGE=<image> MIGRATIONS_DIR=<dir>: another DS, e.g. the real one, with its own migrations;
##  AUTH_BACKEND=kube: the real Kubernetes API instead of the auth stand-in, for this up: without it the next up goes back)
up: SETUPFLAGS += $(if $(filter kube,$(AUTH_BACKEND)),--with-kube)
up: setup
	$(run-dsenv) up $(if $(DATASTORAGE_IMAGE),--datastorage-image '$(DATASTORAGE_IMAGE)') $(if $(MIGRATIONS_DIR),--migrations-dir '$(MIGRATIONS_DIR)') $(if $(AUTH_BACKEND),--auth-backend '$(AUTH_BACKEND)') $(UPFLAGS)

## down: destroy the environment that `make up` created (safe to repeat)
down:
	$(run-dsenv) down

## logs: last log lines and health of the `make up` environment's containers (LOGSFLAGS="-f datastorage" follows one, "--env ID")
logs:
	$(run-dsenv) logs $(LOGSFLAGS)

## status: every dsenv environment on the engine: kind, owner, age, health, what `make sweep` would do (STATUSFLAGS=--json)
status:
	$(run-dsenv) status $(STATUSFLAGS)

## output: the `make up` environment's outputs (secrets hidden); NAME=postgres_dsn prints one, raw
output:
	$(run-dsenv) output $(NAME)

## test: everything, against real containers
# The suite also proves OpenTofu applies the same modules: setup builds it (once, cached).
test: SETUPFLAGS += --with-tofu
# ... and the real Kubernetes API (etcd, kube-apiserver) that tests/kubeapi runs.
test: SETUPFLAGS += --with-kube
# The image tests run first: when an image is broken, everything after them would fail too.
# The Ginkgo suite runs under the Ginkgo CLI in 4 parallel processes, as kubernaut runs its
# suites; the CLI is the go.mod tool (go tool ginkgo: built from the module proxy, cached).
GINKGO      ?= $(GO) tool ginkgo
GINKGOPROCS ?= 4
test: setup lint
	$(GO) test -count=1 ./images/tests
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) $$($(GO) list ./... | grep -v -e '/images/tests$$' -e '/tests/ginkgo$$')
	DSENV_AUTH_BACKEND=kube $(GO) test -count=1 ./tests/contract
	$(GINKGO) -p --procs $(GINKGOPROCS) --timeout $(TESTTIMEOUT) ./tests/ginkgo

## fuzz: 60 s of coverage-guided fuzzing per request decoder (not part of make test)
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./datastorage/internal/audit -run '^$$' -fuzz '^FuzzDecodeBatch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./datastorage/internal/audit -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME)

## bench-ds: the DS write path (events/s, allocations) against real Postgres
bench-ds: setup
	$(GO) test ./datastorage/internal/audit ./datastorage/tests/integration -run '^$$' -bench . -benchmem

fmt:
	gofmt -l -w .
	terraform fmt -recursive terraform

vet:
	$(GO) vet ./...

## lint: what CI checks before tests
lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive terraform

## sweep: remove environments of dead test processes (SWEEPFLAGS="--ttl 24h", "--env ID", "--dry-run")
sweep:
	$(run-dsenv) sweep $(SWEEPFLAGS)

## backup: save the shared environment's DS database and Redis streams (BACKUPFLAGS="--env ID DIR")
backup:
	$(run-dsenv) backup $(BACKUPFLAGS)

## restore: put a backup into an environment, a fresh one as a rule (RESTOREFLAGS="--env ID DIR")
restore:
	$(run-dsenv) restore $(RESTOREFLAGS)

## bench-podman: tfharness Up/Down on rootful Podman beside Docker, interleaved (needs .ci/podman's set-up)
bench-podman: SETUPFLAGS += --with-kube
bench-podman: setup
	DSENV_PODMAN_TESTS=1 $(GO) test -count=1 ./tests/podman -run '^$$' -bench UpDownBesideDocker -benchtime 3x

## bench: dsenv vs docker compose vs testcontainers-go vs plain docker run (bench/README.md)
# The dsenv-kube stack (the real Kubernetes API) needs etcd and kube-apiserver, as make test does.
bench: SETUPFLAGS += --with-kube
bench: setup
	cd bench && GOFLAGS=-mod=mod $(GO) run . $(BENCHFLAGS)
