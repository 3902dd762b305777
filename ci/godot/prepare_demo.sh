#!/usr/bin/env bash
# Copies the built addon and the demo model into demo_project, then imports
# it. The model folder is the Makefile's DEMO_MODEL, the one place that
# names it; in the game it is always res://models/wizard
# (demo_project/wizard_model.tres).
#
#   ci/godot/prepare_demo.sh MODEL_DIR
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
MODEL="$1"
DEMO="$REPO/demo_project"
[ -f "$REPO/addons/loom/bin/libloom.linux.x86_64.so" ] || { echo "prepare_demo: run make addon first" >&2; exit 1; }
rm -rf "$DEMO/addons/loom"
mkdir -p "$DEMO/addons"
cp -rL "$REPO/addons/loom" "$DEMO/addons/loom"
# golden.json, where the model has one, lets the export test check the
# packed model's answer against transformers.
# The bundled wizard already lives in models/wizard; any other model is
# copied over it (the copy starts by emptying the destination).
if [ "$(cd "$MODEL" && pwd -P)" != "$(mkdir -p "$DEMO/models/wizard" && cd "$DEMO/models/wizard" && pwd -P)" ]; then
	"$REPO/ci/godot/copy_model.sh" "$MODEL" "$DEMO/models/wizard"
fi
"$REPO/ci/godot/import.sh" "$DEMO"
