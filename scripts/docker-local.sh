#!/usr/bin/env bash
# docker-local.sh builds patchgate's container image without a registry: a static
# binary built on this host (CGO_ENABLED=0; modernc.org/sqlite is pure Go) in a
# FROM scratch image (Dockerfile.local), with the host's CA bundle for HTTPS to
# the forges. The multi-stage Dockerfile (`make docker`) does the same from the
# golang image on machines that can pull it.
#
# The build context is a staging directory holding only what the image needs
# (the binary, the CA bundle, passwd/group, an empty /data and /tmp), so it is a
# few tens of MB whatever lies in the working tree.
#
# Usage: scripts/docker-local.sh [TAG]     (default: patchgate:$VERSION)
# Env:   VERSION  baked into the binary (default: git describe, else dev)
#        BIN      use this already-built static binary instead of building one
#        CA_BUNDLE  CA certificates to copy (default /etc/ssl/certs/ca-certificates.crt)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
TAG=${1:-patchgate:$VERSION}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

log() { printf 'docker-local.sh: %s\n' "$*" >&2; }

[ -r "$CA_BUNDLE" ] || { log "no CA bundle at $CA_BUNDLE (apt-get install ca-certificates, or set CA_BUNDLE)"; exit 1; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

if [ -n "${BIN:-}" ]; then
	cp "$BIN" "$ctx/patchgate"
else
	log "building patchgate $VERSION"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$ctx/patchgate" ./cmd/patchgate
fi
# A dynamically linked binary would not start in an empty image.
if command -v file >/dev/null && file "$ctx/patchgate" | grep -q 'dynamically linked'; then
	log "the binary is dynamically linked: build it with CGO_ENABLED=0"
	exit 1
fi

# rootfs/ is copied to / as a whole, so that /tmp keeps its mode (a copied
# directory's own mode is not kept, its entries' are).
root=$ctx/rootfs
mkdir -p "$root/etc/ssl/certs"
mkdir -m 1777 "$root/tmp"
cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
cat >"$root/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/sbin/nologin
	patchgate:x:65532:65532:patchgate:/data:/sbin/nologin
EOF
cat >"$root/etc/group" <<-'EOF'
	root:x:0:
	patchgate:x:65532:
EOF
chmod -R go-w "$root/etc"
mkdir -m 0755 "$ctx/data"

docker build -q -f Dockerfile.local --build-arg VERSION="$VERSION" -t "$TAG" "$ctx" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$TAG")
awk -v t="$TAG" -v s="$size" 'BEGIN { printf "%s\t%.0f MB\n", t, s / 1e6 }'
