#!/usr/bin/env bash
# postgres.sh starts a throwaway PostgreSQL cluster for the store tests and prints
# the line that points them at it:
#
#   eval "$(scripts/postgres.sh)"        # start (or reuse) and export the URL
#   go test ./store/...                  # TestPostgres now runs
#   scripts/postgres.sh stop             # stop the cluster (data kept)
#   scripts/postgres.sh destroy          # stop and delete the data directory
#
# It installs Debian's postgresql package when no server binaries are found, runs
# initdb into $PATCHGATE_PG_DIR (default /tmp/patchgate-pg) as the postgres user
# when started as root (initdb refuses root), listens on 127.0.0.1:$PATCHGATE_PG_PORT
# (default 55432) with trust authentication, and is idempotent: when the cluster
# already answers it only prints the export line. Everything but that line goes to
# stderr, so eval "$(...)" is safe.
set -euo pipefail

PGDIR=${PATCHGATE_PG_DIR:-/tmp/patchgate-pg}
PORT=${PATCHGATE_PG_PORT:-55432}
HOST=127.0.0.1
URL="postgres://postgres@${HOST}:${PORT}/postgres?sslmode=disable"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return 0
		fi
	done
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir)
		if [[ -x $d/initdb ]]; then
			echo "$d"
			return 0
		fi
	fi
	return 1
}

# as_owner runs a command as the cluster's owner: postgres when we are root.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

BIN=$(find_bindir || true)
if [[ -z $BIN ]]; then
	log "no PostgreSQL server binaries found; installing the postgresql package"
	if [[ $(id -u) -ne 0 ]]; then
		log "not root: install postgresql yourself (apt-get install -y postgresql)"
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends postgresql >&2
	BIN=$(find_bindir) || { log "postgresql installed but initdb not found"; exit 1; }
fi

case ${1:-start} in
stop)
	if [[ -f $PGDIR/PG_VERSION ]]; then
		as_owner "$BIN/pg_ctl" -D "$PGDIR" -m fast -w stop >&2 || true
	fi
	exit 0
	;;
destroy)
	if [[ -f $PGDIR/PG_VERSION ]]; then
		as_owner "$BIN/pg_ctl" -D "$PGDIR" -m immediate -w stop >&2 || true
	fi
	rm -rf "$PGDIR"
	exit 0
	;;
start) ;;
*)
	log "usage: $0 [start|stop|destroy]"
	exit 2
	;;
esac

if "$BIN/pg_isready" -q -h "$HOST" -p "$PORT"; then
	echo "export PATCHGATE_TEST_POSTGRES_URL='$URL'"
	exit 0
fi

if [[ ! -f $PGDIR/PG_VERSION ]]; then
	log "initialising a cluster in $PGDIR"
	mkdir -p "$PGDIR"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: "$PGDIR"
	fi
	chmod 700 "$PGDIR"
	as_owner "$BIN/initdb" -D "$PGDIR" --username=postgres --auth=trust \
		--encoding=UTF8 --no-locale --no-sync >&2
fi

log "starting PostgreSQL ($BIN) on $HOST:$PORT"
# The socket goes into the data directory: /var/run/postgresql may not exist or
# belong to another cluster.
as_owner "$BIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w -t 60 \
	-o "-c listen_addresses=$HOST -p $PORT -c unix_socket_directories=$PGDIR -c max_connections=200" \
	start >&2 || { log "start failed; see $PGDIR/server.log"; tail -20 "$PGDIR/server.log" >&2 || true; exit 1; }

for _ in $(seq 1 60); do
	if "$BIN/pg_isready" -q -h "$HOST" -p "$PORT"; then
		echo "export PATCHGATE_TEST_POSTGRES_URL='$URL'"
		exit 0
	fi
	sleep 0.5
done
log "PostgreSQL did not become ready; see $PGDIR/server.log"
exit 1
