#!/usr/bin/env bash
# Runs every fuzzer of patchgate for FUZZTIME each (default 30s): go test runs
# one fuzz target at a time, so each package's Fuzz functions are run in turn.
# The seed corpora (testdata/fuzz) also run in every `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz.sh: $pkg $fn for $fuzztime"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
