#!/usr/bin/env bash
# chromium.sh makes sure Debian's chromium is installed for the dashboard's
# browser tests (chromedp drives it headless) and prints the line that points
# the tests at it:
#
#   eval "$(scripts/chromium.sh)"        # install when missing, export the path
#
# It is idempotent: when a chromium is found (PATCHGATE_CHROMIUM, or chromium on
# the PATH) it only prints the export line. Everything but that line goes to
# stderr, so eval "$(...)" is safe.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

find_chromium() {
	local p
	if [[ -n ${PATCHGATE_CHROMIUM:-} && -x ${PATCHGATE_CHROMIUM} ]]; then
		echo "$PATCHGATE_CHROMIUM"
		return 0
	fi
	for p in chromium chromium-browser; do
		if command -v "$p" >/dev/null 2>&1; then
			command -v "$p"
			return 0
		fi
	done
	return 1
}

BIN=$(find_chromium || true)
if [[ -z $BIN ]]; then
	log "no chromium found; installing Debian's chromium package"
	if [[ $(id -u) -ne 0 ]]; then
		log "not root: install chromium yourself (apt-get install -y chromium)"
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends chromium >&2
	BIN=$(find_chromium) || { log "chromium installed but not found on the PATH"; exit 1; }
fi
echo "export PATCHGATE_CHROMIUM='$BIN'"
