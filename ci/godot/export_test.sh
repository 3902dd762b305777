#!/usr/bin/env bash
# Exports the demo for Linux with Debian's release template, the model
# packed into the .pck, moves the export away from the source tree and runs
# it headless in its test mode: the wizard must answer from the packed model
# (with a test model: exactly transformers' greedy reply).
#
#   ci/godot/export_test.sh MODEL_DIR
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
GODOT="$REPO/ci/godot/godot.sh"
ROOT="${LOOM_GODOT_ROOT:-/var/cache/loom/godot}"
"$REPO/ci/godot/provision.sh"
"$REPO/ci/godot/prepare_demo.sh" "$1"

# Godot looks for templates under $XDG_DATA_HOME/godot/export_templates/
# <version>; point that at the root's template, outside the user's home.
version="$("$GODOT" --headless --version | sed -E 's/^([0-9]+\.[0-9]+(\.[0-9]+)?\.[a-z]+).*/\1/')"
data="$ROOT.data"
mkdir -p "$data/godot/export_templates/$version"
ln -sfn "$ROOT/usr/bin/godot-template-release" "$data/godot/export_templates/$version/linux_release.x86_64"

# The exported game runs inside the root (chroot): the release template
# finds its .pck and the Loom library next to its own executable, which it
# would not if started through the root's loader from outside.
# It needs /proc to find its executable.
work="$(mktemp -d "$ROOT/tmp/loom-export.XXXXXX")"
mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc"; rm -rf "$work"' EXIT
mkdir -p "$work/export"
XDG_DATA_HOME="$data" timeout 600 "$GODOT" --headless --path "$REPO/demo_project" --export-release Linux "$work/export/wizard.x86_64" >"$work/export.log" 2>&1 || { cat "$work/export.log"; exit 1; }
ls -la "$work/export"
mv "$work/export" "$work/game"
log="$work/game.log"
game="/${work#"$ROOT"/}/game"
if ! timeout 300 chroot "$ROOT" /bin/sh -c "cd '$game' && ./wizard.x86_64 --headless -- --export-test" >"$log" 2>&1; then
	cat "$log"
	echo "export_test: the exported game failed" >&2
	exit 1
fi
cat "$log"
grep -q "EXPORT TEST PASSED" "$log"
