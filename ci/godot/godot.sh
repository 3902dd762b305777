#!/usr/bin/env bash
# Run the provisioned Godot outside a chroot, through the sid root's own
# dynamic loader and libraries, so the host's older glibc does not matter.
# --exe runs another binary built for that root instead: a game exported
# with its release template.
#
#   ci/godot/godot.sh [--root DIR] [--exe PATH] GODOT_ARGS...
set -euo pipefail

ROOT="${LOOM_GODOT_ROOT:-/var/cache/loom/godot}"
EXE=
while [ $# -gt 0 ]; do
	case "$1" in
	--root) ROOT="$2"; shift 2 ;;
	--exe) EXE="$2"; shift 2 ;;
	*) break ;;
	esac
done

EXE="${EXE:-$ROOT/usr/bin/godot}"
LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu/pulseaudio"
exec "$ROOT/usr/lib64/ld-linux-x86-64.so.2" --library-path "$LIBS" "$EXE" "$@"
