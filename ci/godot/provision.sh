#!/usr/bin/env bash
# Provision a Debian sid root holding Godot 4.6 (headless editor + Linux
# release export template) under ${LOOM_GODOT_ROOT:-/var/cache/loom/godot}.
#
# Idempotent: a finished root carries the marker file .loom-provisioned and is
# reused as is. The root is built in a temporary sibling directory and renamed
# into place only when complete, so an interrupted run never leaves a
# half-made root behind. Needs root (mmdebstrap) the first time.
set -euo pipefail

ROOT="${LOOM_GODOT_ROOT:-/var/cache/loom/godot}"
MARKER="$ROOT/.loom-provisioned"
MIRROR="${LOOM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="godot,godot-template-release"

if [ -f "$MARKER" ]; then
	exit 0
fi

if ! command -v mmdebstrap >/dev/null 2>&1; then
	echo "provision: installing mmdebstrap" >&2
	apt-get update
	apt-get install -y mmdebstrap
fi

mkdir -p "$(dirname "$ROOT")"
tmp="$(mktemp -d "$ROOT.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# mktemp created the directory; mmdebstrap wants an empty one, which it is.
echo "provision: building Godot root in $tmp (about a minute)" >&2
# Sid's Release file has expired: every apt call needs Check-Valid-Until false.
mmdebstrap --variant=apt \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--include="$PACKAGES" \
	sid "$tmp" "$MIRROR"

"$(dirname "$0")/godot.sh" --root "$tmp" --headless --version >"$tmp/.loom-provisioned.tmp"
mv "$tmp/.loom-provisioned.tmp" "$tmp/.loom-provisioned"
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
trap - EXIT
echo "provision: Godot $(cat "$MARKER") ready in $ROOT" >&2
