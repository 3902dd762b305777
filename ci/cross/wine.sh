#!/bin/sh
# wine.sh runs a windows/amd64 program under Wine from a Debian trixie root
# (bookworm's Wine 8 lacks bcryptprimitives.dll, which Go needs):
#
#   ci/cross/wine.sh PROGRAM.exe ARGS...
#
# The root is built once under $LOOM_WINE_ROOT (default
# /var/cache/loom/wine-trixie, about 1-3 min and 1.5 GB; needs root and
# mmdebstrap) and its Wine prefix is made on the first run (~20 s). The
# program runs chrooted in a private mount namespace where the paths in
# $LOOM_WINE_BINDS (space-separated; default: the repository and
# /var/cache/loom/models) and the program's directory are bind-mounted at
# the same absolute paths, so Unix paths given as arguments work: Wine maps
# the current drive Z: to "/".
set -eu
ROOT="${LOOM_WINE_ROOT:-/var/cache/loom/wine-trixie}"
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
BINDS="${LOOM_WINE_BINDS:-$REPO /var/cache/loom/models}"
if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM.exe ARGS..." >&2
	exit 2
fi
if [ ! -f "$ROOT/.loom-ready" ]; then
	echo "wine.sh: building the Wine root in $ROOT" >&2
	rm -rf "$ROOT.tmp"
	mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
		--include=wine64,wine trixie "$ROOT.tmp" http://deb.debian.org/debian >&2
	touch "$ROOT.tmp/.loom-ready"
	rm -rf "$ROOT"
	mv "$ROOT.tmp" "$ROOT"
fi
PROG="$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")"
shift
CWD="$(pwd -P)"
BINDS="$BINDS $(dirname "$PROG") $CWD"
export ROOT BINDS PROG CWD
exec unshare --mount --propagation private sh -eu -c '
	for d in $BINDS; do
		[ -d "$d" ] || continue
		mkdir -p "$ROOT$d"
		mount --bind "$d" "$ROOT$d"
	done
	mount -t proc proc "$ROOT/proc"
	mount --rbind /dev "$ROOT/dev"
	exec chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root \
		WINEPREFIX=/root/.wine WINEDEBUG=-all LANG=C.UTF-8 \
		sh -c "cd \"\$0\" && exec wine \"\$@\"" "$CWD" "$PROG" "$@"
' sh "$@"
