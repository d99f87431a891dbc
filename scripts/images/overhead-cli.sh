#!/usr/bin/env bash
# overhead-cli.sh does with the docker CLI what testenv.Runner does for one suite
# whose command is `true`: per-run network, a PostgreSQL service polled ready
# with pg_isready, a locked-down runner created, the source tree streamed in,
# the runner started and waited for, then everything removed. It is the
# baseline of BenchmarkEnvironmentOverhead (target: testenv ≤ 1.3× this).
#
# Usage: scripts/images/overhead-cli.sh SOURCE_DIR
# Env:   VERBOSE=1 prints each phase's end time (seconds since start) to stderr.
set -euo pipefail

src=${1:?usage: overhead-cli.sh SOURCE_DIR}
runner_image=${RUNNER_IMAGE:-patchgate-test/runner:go1.26}
postgres_image=${POSTGRES_IMAGE:-patchgate-test/postgres:15}
id=pgcli-$$-$RANDOM
t0=$(date +%s.%N)
phase() { [ "${VERBOSE:-0}" = 1 ] && echo "$1 $(echo "$(date +%s.%N) - $t0" | bc)" >&2 || true; }

cleanup() {
	docker rm -f "$id-db" "$id-runner" >/dev/null 2>&1 || true
	docker network rm "$id" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker network create --label dev.patchgate.owner=overhead-cli "$id" >/dev/null
phase network
docker run -d --name "$id-db" --network "$id" --network-alias db \
	--label dev.patchgate.owner=overhead-cli -e POSTGRES_PASSWORD=test "$postgres_image" >/dev/null &
db=$!
docker create --name "$id-runner" --network "$id" --label dev.patchgate.owner=overhead-cli \
	--cap-drop ALL --security-opt no-new-privileges --memory 2g --memory-swap 2g \
	--cpus 2 --pids-limit 1024 -w /workspace "$runner_image" sh -c true >/dev/null
tar -C "$src" -cf - . | docker cp - "$id-runner:/workspace"
phase runner-prepared
wait "$db"
until docker exec "$id-db" pg_isready -U postgres -h 127.0.0.1 -q; do sleep 0.05; done
phase service-ready
docker start -a "$id-runner"
phase runner-exited
cleanup
trap - EXIT
phase teardown
