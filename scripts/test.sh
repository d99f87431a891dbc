#!/usr/bin/env bash
# Runs every test of patchgate. It installs and starts what the tests need on a
# fresh machine: a throwaway PostgreSQL (Debian's package), Debian's chromium
# for the dashboard's browser tests, and the container images, built offline
# (no registry is needed).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/postgres.sh)"
eval "$(scripts/chromium.sh)"
if docker info >/dev/null 2>&1; then
  scripts/images/build.sh
else
  echo "test.sh: Docker is not reachable; container tests will skip (CI requires them)" >&2
fi

go vet ./...
go test -count=1 -timeout 50m "$@" ./...
