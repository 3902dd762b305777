#!/usr/bin/env bash
# Provision a Debian sid root holding the linux/arm64 build of Godot 4.6
# under ${LOOM_GODOT_ARM64_ROOT:-/var/cache/loom/godot-arm64}, to run under
# qemu user emulation on an amd64 machine (ci/godot/arm64_test.sh):
#
#   qemu-aarch64-static -L ROOT ROOT/usr/bin/godot --headless ...
#
# The root is only unpacked (mmdebstrap --variant=extract: no maintainer
# scripts, so nothing arm64 runs while building it, and no binfmt_misc
# registration is needed). Sid is merged-/usr but the extract variant does
# not make the /bin, /lib and /sbin links itself; the ELF interpreter
# /lib/ld-linux-aarch64.so.1 needs the /lib one, so all three are added.
#
# Idempotent: a finished root carries the marker file .loom-provisioned (the
# Godot version it printed) and is reused as is. The root is built in a
# temporary sibling directory and renamed into place only when complete, so
# an interrupted run never leaves a half-made root behind. Needs root
# (mmdebstrap, apt-get) the first time.
set -euo pipefail

ROOT="${LOOM_GODOT_ARM64_ROOT:-/var/cache/loom/godot-arm64}"
MARKER="$ROOT/.loom-provisioned"
MIRROR="${LOOM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ -f "$MARKER" ]; then
	exit 0
fi

missing=()
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
if [ ${#missing[@]} -gt 0 ]; then
	echo "arm64_provision: installing ${missing[*]}" >&2
	apt-get update
	apt-get install -y "${missing[@]}"
fi

mkdir -p "$(dirname "$ROOT")"
tmp="$(mktemp -d "$ROOT.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "arm64_provision: unpacking arm64 Godot into $tmp (about half a minute)" >&2
# Sid's Release file has expired: every apt call needs Check-Valid-Until false.
mmdebstrap --variant=extract --arch=arm64 \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--include=godot \
	sid "$tmp" "$MIRROR"
for d in bin lib sbin; do
	[ -e "$tmp/$d" ] || ln -s "usr/$d" "$tmp/$d"
done

qemu-aarch64-static -L "$tmp" "$tmp/usr/bin/godot" --headless --version >"$tmp/.loom-provisioned.tmp"
mv "$tmp/.loom-provisioned.tmp" "$tmp/.loom-provisioned"
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
trap - EXIT
echo "arm64_provision: arm64 Godot $(cat "$MARKER") ready in $ROOT" >&2
