#!/usr/bin/env bash
# build.sh builds the images patchgate's Docker tests use, offline: no registry is
# reachable on the development and CI machines, so nothing may be pulled. Both
# images are root-filesystem tars assembled from the host's Debian packages and Go
# toolchain and loaded with `docker import`.
#
#   patchgate-test/runner:go1.26  busybox-static + a trimmed copy of /usr/local/go,
#                                 non-root user 1000, /workspace, /tmp writable
#   patchgate-test/postgres:15    Debian's postgresql-15 binaries and their library
#                                 closure, a pre-initialised data directory
#                                 (trust auth, listen '*'), runs as user postgres
#   patchgate-test/postgres:15-root  the same, started as root like the official
#                                 image: its entrypoint takes ownership of the
#                                 data and drops to postgres (capability tests)
#
# Idempotent: an image whose tag already exists is kept unless FORCE=1.
# Usage: scripts/images/build.sh [runner|postgres|postgres-root]...   (default: all)
# Env:   FORCE=1  rebuild even when the tag exists
#        GOROOT_SRC=/usr/local/go  toolchain copied into the runner image
set -euo pipefail

RUNNER_TAG=${RUNNER_TAG:-patchgate-test/runner:go1.26}
POSTGRES_TAG=${POSTGRES_TAG:-patchgate-test/postgres:15}
POSTGRES_ROOT_TAG=${POSTGRES_ROOT_TAG:-patchgate-test/postgres:15-root}
GOROOT_SRC=${GOROOT_SRC:-$(go env GOROOT 2>/dev/null || echo /usr/local/go)}
PG_VERSION=15
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
PG_LIB=/usr/lib/postgresql/$PG_VERSION/lib
PG_SHARE=/usr/share/postgresql/$PG_VERSION

WORKDIRS=()
cleanup() { [ ${#WORKDIRS[@]} -eq 0 ] || rm -rf "${WORKDIRS[@]}"; }
trap cleanup EXIT

log() { printf 'build.sh: %s\n' "$*" >&2; }

have_image() { [ "${FORCE:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

# apt_need installs the Debian packages whose files the images are made of, once.
apt_need() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		log "need root to apt-get install ${missing[*]}"
		return 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# busybox_tree installs busybox-static at $1/bin/busybox with one symlink per
# applet (one process, not one ln per applet: forks are slow on small machines).
# /sbin, /usr/bin and /usr/sbin point at /bin so every applet's usual path works.
busybox_tree() {
	local root=$1
	mkdir -p "$root/bin" "$root/usr"
	cp /bin/busybox "$root/bin/busybox"
	/bin/busybox --install -s "$root/bin"
	# --install links to the running binary's real path (/usr/bin/busybox on a
	# merged-/usr host), which resolves through the links below.
	ln -s bin "$root/sbin"
	ln -s ../bin "$root/usr/bin"
	ln -s ../bin "$root/usr/sbin"
}

# base_tree lays out the directories every image needs.
base_tree() {
	local root=$1
	mkdir -p "$root"/{etc,proc,sys,dev,root,tmp,var/tmp}
	chmod 1777 "$root/tmp" "$root/var/tmp"
	chmod 0700 "$root/root"
	if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
		mkdir -p "$root/etc/ssl/certs"
		cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	fi
}

# import loads the tree at $1 as image $2 with the remaining args as --change lines.
import() {
	local root=$1 tag=$2
	shift 2
	local changes=()
	for c in "$@"; do changes+=(--change "$c"); done
	tar -C "$root" --numeric-owner -cf - . | docker import "${changes[@]}" - "$tag" >/dev/null
}

build_runner() {
	if have_image "$RUNNER_TAG"; then log "$RUNNER_TAG exists (FORCE=1 rebuilds)"; return; fi
	apt_need busybox-static ca-certificates
	[ -x "$GOROOT_SRC/bin/go" ] || { log "no Go toolchain at $GOROOT_SRC"; return 1; }
	local start=$SECONDS work root
	work=$(mktemp -d)
	WORKDIRS+=("$work")
	root=$work/root
	base_tree "$root"
	busybox_tree "$root"
	cat >"$root/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		runner:x:1000:1000:runner:/tmp:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$root/etc/group" <<-'EOF'
		root:x:0:
		runner:x:1000:
		nogroup:x:65534:
	EOF
	mkdir -p "$root/workspace" "$root/usr/local/go"
	chown 1000:1000 "$root/workspace"
	# The toolchain without what only Go's own development needs: tests and
	# testdata of the standard library, api/, doc/, misc/, test/ and the tools a
	# build never runs. src/cmd stays so that `go test -json` can build test2json.
	local files
	files=$(
		cd "$GOROOT_SRC"
		find src -name testdata -prune -o -type f ! -name '*_test.go' -print
		echo bin/go
		for t in compile link asm cgo vet cover; do
			[ -e "pkg/tool/linux_amd64/$t" ] && echo "pkg/tool/linux_amd64/$t"
		done
		for f in VERSION go.env; do [ -e "$f" ] && echo "$f"; done
		for d in lib pkg/include; do [ -d "$d" ] && find "$d" -type f; done
	)
	# Hard links when the toolchain is on the same filesystem: no data is copied
	# before docker import reads it.
	(cd "$GOROOT_SRC" && xargs cp -al --parents -t "$root/usr/local/go" <<<"$files" 2>/dev/null) ||
		(cd "$GOROOT_SRC" && xargs cp -a --parents -t "$root/usr/local/go" <<<"$files")
	import "$root" "$RUNNER_TAG" \
		'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'ENV GOROOT=/usr/local/go' \
		'ENV GOCACHE=/tmp/gocache' \
		'ENV GOPATH=/tmp/go' \
		'ENV GOTOOLCHAIN=local' \
		'ENV GOPROXY=off' \
		'ENV GOSUMDB=off' \
		'ENV CGO_ENABLED=0' \
		'ENV HOME=/tmp' \
		'USER 1000:1000' \
		'WORKDIR /workspace' \
		'CMD ["/bin/sh"]'
	log "$RUNNER_TAG built in $((SECONDS - start))s"
}

# lib_closure prints every shared library the given ELF files load, transitively
# (ldd already resolves the whole closure), plus the dynamic loader. ldd takes
# ~50 ms a file, so the ~100 server modules are split across the cores.
lib_closure() {
	printf '%s\n' "$@" | xargs -P "$(nproc)" -n 16 ldd 2>/dev/null | awk '
		/=> \// { print $3; next }
		/^[ \t]*\/[^ ]+ \(0x/ { print $1 }
	' | sort -u
}

build_postgres() {
	if have_image "$POSTGRES_TAG"; then log "$POSTGRES_TAG exists (FORCE=1 rebuilds)"; return; fi
	apt_need busybox-static "postgresql-$PG_VERSION" tzdata
	local start=$SECONDS work root
	work=$(mktemp -d)
	WORKDIRS+=("$work")
	chmod 0755 "$work" # initdb below runs as the host's postgres user
	root=$work/root
	base_tree "$root"
	busybox_tree "$root"
	# Merged /usr like Debian, so the paths ldd prints resolve inside the image.
	mkdir -p "$root/usr/lib" "$root/usr/lib64" "$root/usr/local/bin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"
	cat >"$root/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$root/etc/group" <<-'EOF'
		root:x:0:
		postgres:x:999:
		nogroup:x:65534:
	EOF

	local bins=() b
	for b in postgres initdb pg_ctl pg_isready psql createdb; do bins+=("$PG_BIN/$b"); done
	mkdir -p "$root$PG_BIN" "$root$PG_LIB" "$root/usr/share/postgresql"
	cp "${bins[@]}" "$root$PG_BIN/"
	ln -s postgres "$root$PG_BIN/postmaster"
	# Server modules (plpgsql, snowball dictionaries, encodings, contrib) without
	# the LLVM JIT, whose libLLVM alone would double the image; jit=off below.
	local mods=()
	for b in "$PG_LIB"/*.so; do
		case $(basename "$b") in llvmjit*) continue ;; esac
		mods+=("$b")
	done
	cp "${mods[@]}" "$root$PG_LIB/"
	cp -a "$PG_SHARE" "$root/usr/share/postgresql/"
	rm -rf "$root/usr/share/postgresql/$PG_VERSION/man"
	# Debian builds with --with-system-tzdata.
	cp -a /usr/share/zoneinfo "$root/usr/share/"
	local lib dir
	while read -r lib; do
		dir=$(readlink -f "$(dirname "$lib")")
		mkdir -p "$root$dir"
		cp -L "$lib" "$root$dir/$(basename "$lib")"
	done < <(lib_closure "${bins[@]}" "${mods[@]}")
	if [ ! -e "$root/lib64/ld-linux-x86-64.so.2" ]; then
		ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
	fi

	# Pre-initialised cluster: a container is ready as soon as the postmaster
	# accepts connections (~0.1 s) instead of after initdb (~2 s).
	local data=$work/data
	mkdir "$data"
	chown postgres:postgres "$data"
	TZ=UTC runuser -u postgres -- "$PG_BIN/initdb" -D "$data" --username=postgres \
		--auth=trust --encoding=UTF8 --locale=C --no-sync --no-instructions >/dev/null
	# A throwaway test database: any client from any host is trusted, so whatever
	# POSTGRES_PASSWORD a suite sets (and sends) is accepted. Durability is off.
	cat >"$data/pg_hba.conf" <<-'EOF'
		local all all trust
		host  all all all trust
	EOF
	cat >>"$data/postgresql.conf" <<-'EOF'
		listen_addresses = '*'
		unix_socket_directories = '/var/run/postgresql'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		jit = off
		max_connections = 100
		shared_buffers = 64MB
		timezone = 'UTC'
		log_timezone = 'UTC'
	EOF
	mkdir -p "$root/var/lib/postgresql" "$root/var/run/postgresql"
	cp -a "$data" "$root/var/lib/postgresql/data"
	chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
	chmod 0700 "$root/var/lib/postgresql/data"
	chmod 2775 "$root/var/run/postgresql"

	cat >"$root/usr/local/bin/docker-entrypoint.sh" <<-'EOF'
		#!/bin/sh
		# Compatible with the official image's usage: `postgres -c k=v` or flags only.
		# POSTGRES_PASSWORD is accepted as is: authentication is trust.
		set -e
		if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
			set -- postgres "$@"
		fi
		exec "$@"
	EOF
	chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"

	import "$root" "$POSTGRES_TAG" \
		"ENV PATH=$PG_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		'ENV PGDATA=/var/lib/postgresql/data' \
		'ENV LANG=C' \
		'ENV TZ=UTC' \
		'USER postgres' \
		'WORKDIR /var/lib/postgresql' \
		'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
		'CMD ["postgres"]'
	log "$POSTGRES_TAG built in $((SECONDS - start))s"
}

# build_postgres_root layers a root entrypoint over the PostgreSQL image the way
# the official image starts: as root, it makes the data and socket directories
# its user's (chmod, chown, find through a 0700 directory) and drops to that
# user. Built with create/cp/commit: no registry and no builder needed.
build_postgres_root() {
	if have_image "$POSTGRES_ROOT_TAG"; then log "$POSTGRES_ROOT_TAG exists (FORCE=1 rebuilds)"; return; fi
	local start=$SECONDS work id
	work=$(mktemp -d)
	WORKDIRS+=("$work")
	cat >"$work/root-entrypoint.sh" <<-'EOF'
		#!/bin/sh
		# Like docker-library/postgres: as root, own the data, then drop to postgres.
		set -e
		if [ "$(id -u)" = 0 ]; then
			mkdir -p "$PGDATA" /var/run/postgresql
			chmod 0700 "$PGDATA"
			find "$PGDATA" ! -user postgres -exec chown postgres:postgres '{}' +
			chmod 3775 /var/run/postgresql
			find /var/run/postgresql ! -user postgres -exec chown postgres:postgres '{}' +
			exec su -s /bin/sh postgres -c 'exec /usr/local/bin/docker-entrypoint.sh "$@"' root-entrypoint "$@"
		fi
		exec /usr/local/bin/docker-entrypoint.sh "$@"
	EOF
	chmod 0755 "$work/root-entrypoint.sh"
	id=$(docker create "$POSTGRES_TAG")
	docker cp "$work/root-entrypoint.sh" "$id:/usr/local/bin/root-entrypoint.sh"
	docker commit --change 'USER root' \
		--change 'ENTRYPOINT ["/usr/local/bin/root-entrypoint.sh"]' \
		--change 'CMD ["postgres"]' "$id" "$POSTGRES_ROOT_TAG" >/dev/null
	docker rm "$id" >/dev/null
	log "$POSTGRES_ROOT_TAG built in $((SECONDS - start))s"
}

main() {
	command -v docker >/dev/null || { log "docker CLI not found"; exit 1; }
	local targets=("$@")
	[ ${#targets[@]} -eq 0 ] && targets=(runner postgres postgres-root)
	for t in "${targets[@]}"; do
		case $t in
		runner) build_runner ;;
		postgres) build_postgres ;;
		postgres-root) build_postgres && build_postgres_root ;; # layered on postgres
		*) log "unknown image $t (runner|postgres|postgres-root)"; exit 2 ;;
		esac
	done
	local tag size
	for tag in "$RUNNER_TAG" "$POSTGRES_TAG" "$POSTGRES_ROOT_TAG"; do
		size=$(docker image inspect -f '{{.Size}}' "$tag" 2>/dev/null) || continue
		awk -v t="$tag" -v s="$size" 'BEGIN { printf "%s\t%.0f MB\n", t, s / 1e6 }'
	done
}

main "$@"
