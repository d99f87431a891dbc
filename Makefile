# patchgate — see README.md. `make run` starts the service on its embedded
# default; `make test` runs every test, installing what they need first.

GO ?= go
BIN ?= bin/patchgate
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-short images postgres fuzz bench load docker docker-local lint screenshots demo

run:
	$(GO) run ./cmd/patchgate serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/patchgate

# Every test: a real PostgreSQL and real containers (built offline) included.
test:
	scripts/test.sh

# Tests that need neither PostgreSQL nor Docker.
test-short:
	$(GO) test -short ./...

images:
	scripts/images/build.sh

# A story from ticket to release on a fake GitHub, in real containers; the
# dashboard stays up until Ctrl-C. Builds its runner image first (offline).
demo:
	scripts/images/build.sh runner
	$(GO) run ./cmd/patchgate demo

# The dashboard's screenshots in docs/screenshots, taken by its browser tests.
screenshots:
	eval "$$(scripts/chromium.sh)" && PATCHGATE_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		$(GO) test -count=1 -run 'TestDashboard' ./cmd/patchgate

postgres:
	scripts/postgres.sh

# Each fuzzer for FUZZTIME (default 30s); the seed corpora run in `make test`.
FUZZTIME ?= 30s
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The image, built in the golang image (needs a registry to pull it from).
docker:
	docker build --build-arg VERSION=$(VERSION) -t patchgate:$(VERSION) .

# The same image around a binary built here: no registry needed (Dockerfile.local).
docker-local:
	VERSION=$(VERSION) scripts/docker-local.sh patchgate:$(VERSION)

lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"
