#!/usr/bin/env bash
# Builds the Loom GDExtension (./extension, cgo -buildmode=c-shared) into
# addons/loom/bin under the names loom.gdextension lists.
#
#   ci/godot/build_addon.sh          # this machine (linux x86_64 or arm64)
#   ci/godot/build_addon.sh all      # linux x86_64 and arm64, windows x86_64
#
# "all" cross-compiles with Debian's gcc-aarch64-linux-gnu and
# gcc-mingw-w64-x86-64, installing them with apt-get when missing (root).
# macOS and Android cannot be built here; see addons/loom/README.md.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
GO="${GO:-go}"
BIN="$REPO/addons/loom/bin"
mkdir -p "$BIN"

build() { # GOOS GOARCH CC OUTPUT
	echo "build_addon: $1/$2 -> addons/loom/bin/$4"
	(cd "$REPO" && CGO_ENABLED=1 GOOS="$1" GOARCH="$2" CC="$3" \
		"$GO" build -trimpath -ldflags="-s -w" -buildmode=c-shared -o "$BIN/$4" ./extension)
	rm -f "$BIN/${4%.*}.h"
}

need() { # COMMAND PACKAGE...
	command -v "$1" >/dev/null 2>&1 && return
	echo "build_addon: installing ${*:2}"
	apt-get update -qq
	apt-get install -y -qq "${@:2}" >/dev/null
}

host_arch="$("$GO" env GOARCH)"
case "${1:-host}" in
host)
	[ "$("$GO" env GOOS)" = linux ] || { echo "build_addon: host builds are for Linux; see addons/loom/README.md" >&2; exit 1; }
	case "$host_arch" in
	amd64) build linux amd64 "${CC:-gcc}" libloom.linux.x86_64.so ;;
	arm64) build linux arm64 "${CC:-gcc}" libloom.linux.arm64.so ;;
	*) echo "build_addon: no Godot build for linux/$host_arch" >&2; exit 1 ;;
	esac
	;;
all)
	[ "$host_arch" = amd64 ] || { echo "build_addon: all is built from linux/amd64" >&2; exit 1; }
	need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
	build linux amd64 gcc libloom.linux.x86_64.so
	build linux arm64 aarch64-linux-gnu-gcc libloom.linux.arm64.so
	build windows amd64 x86_64-w64-mingw32-gcc loom.windows.x86_64.dll
	;;
*)
	echo "usage: $0 [host|all]" >&2
	exit 2
	;;
esac
