#!/usr/bin/env bash
# The Godot side of the test suite: builds nothing itself (run `make addon`
# first; `make godot-test` does both), links the addon and the test model
# into extension/godot-test, imports the project, runs the GDScript suite
# headless, checks that the editor loads the Loom plugin without errors and
# that the class reference covers the API. Exits non-zero on any failure.
#
#   ci/godot/test.sh [TEST...]   # TEST: a tests/test_NAME.gd short name
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
GODOT="$REPO/ci/godot/godot.sh"
PROJECT="$REPO/extension/godot-test"
MODEL_SRC="$REPO/testdata/models/tiny-chat"

"$REPO/ci/godot/provision.sh"
[ -f "$REPO/addons/loom/bin/libloom.linux.x86_64.so" ] || { echo "godot-test: run make addon first" >&2; exit 1; }

mkdir -p "$PROJECT/addons"
ln -sfn ../../../addons/loom "$PROJECT/addons/loom"
"$REPO/ci/godot/copy_model.sh" "$MODEL_SRC" "$PROJECT/models/tiny-chat"
"$REPO/ci/godot/import.sh" "$PROJECT"

echo "godot-test: GDScript suite"
timeout 900 "$GODOT" --headless --path "$PROJECT" -s res://run_tests.gd -- "$@"

if [ $# -eq 0 ]; then
	echo "godot-test: editor with the Loom plugin"
	log="$(mktemp)"
	trap 'rm -f "$log"' EXIT
	timeout 300 "$GODOT" --headless --path "$PROJECT" --editor --quit-after 120 >"$log" 2>&1 || { cat "$log"; echo "godot-test: editor failed" >&2; exit 1; }
	if grep -E "ERROR|SCRIPT ERROR|Failed to load" "$log"; then
		echo "godot-test: the editor reported errors with the Loom plugin enabled" >&2
		exit 1
	fi
	echo "godot-test: class reference"
	"$REPO/ci/godot/check_docs.sh"
fi
echo "godot-test: all passed"
