#!/usr/bin/env bash
# The Godot side of the test suite: builds nothing itself (run `make addon`
# first; `make godot-test` does both), links the addon and the test model
# into extension/godot-test, imports the project, runs the GDScript suite
# headless, checks that the editor loads the Loom plugin without errors and
# that the class reference covers the API, then runs the lockstep check
# (ci/godot/lockstep_test.sh). Exits non-zero on any failure.
#
# It also builds bin/loom (test_audit compares with `loom verify`, found
# through LOOM_BIN) and starts ci/godot/fakehub on a free local port
# serving the test model as loom/tiny-chat (test_hub downloads it; HF_ENDPOINT
# and LOOM_FAKEHUB_PID tell it where). The user's token and offline setting
# are kept away from the suite.
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

GO="${GO:-go}"
(cd "$REPO" && "$GO" build -o bin/loom ./cmd/loom && "$GO" build -o bin/fakehub ./ci/godot/fakehub)
tmp="$(mktemp -d)"
fakehub_pid=
cleanup() {
	[ -z "$fakehub_pid" ] || kill "$fakehub_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
"$REPO/bin/fakehub" -repo loom/tiny-chat -dir "$MODEL_SRC" -addr-file "$tmp/fakehub.addr" -delay 2ms &
fakehub_pid=$!
disown "$fakehub_pid" # killed by test_hub; no job notice
for _ in $(seq 100); do [ -s "$tmp/fakehub.addr" ] && break; sleep 0.1; done
[ -s "$tmp/fakehub.addr" ] || { echo "godot-test: the fake hub did not start" >&2; exit 1; }
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN TRANSFORMERS_OFFLINE
export HF_ENDPOINT="$(cat "$tmp/fakehub.addr")" HF_HUB_OFFLINE=0 HF_TOKEN_PATH=/dev/null
export LOOM_FAKEHUB_PID="$fakehub_pid" LOOM_BIN="$REPO/bin/loom"

echo "godot-test: GDScript suite"
timeout 900 "$GODOT" --headless --path "$PROJECT" -s res://run_tests.gd -- "$@"

if [ $# -eq 0 ]; then
	echo "godot-test: editor with the Loom plugin"
	log="$tmp/editor.log"
	timeout 300 "$GODOT" --headless --path "$PROJECT" --editor --quit-after 120 >"$log" 2>&1 || { cat "$log"; echo "godot-test: editor failed" >&2; exit 1; }
	if grep -E "ERROR|SCRIPT ERROR|Failed to load" "$log"; then
		echo "godot-test: the editor reported errors with the Loom plugin enabled" >&2
		exit 1
	fi
	echo "godot-test: class reference"
	"$REPO/ci/godot/check_docs.sh"
	echo "godot-test: lockstep"
	"$REPO/ci/godot/lockstep_test.sh" # the bundled wizard: a copy of another model would replace it
fi
echo "godot-test: all passed"
