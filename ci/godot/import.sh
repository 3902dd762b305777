#!/usr/bin/env bash
# Imports a Godot project headless (a fresh project must be imported before
# its GDExtensions load). Godot 4.6.3 crashes on exit when an extension that
# registers classes is first discovered during that import
# (godotengine/godot; also seen in microsoft/XBOX-Godot-Sample#41), so the
# extension list is written beforehand and the extension loads at startup
# instead.
#
#   ci/godot/import.sh PROJECT_DIR
set -euo pipefail
PROJECT="$1"
GODOT="$(dirname "$0")/godot.sh"
mkdir -p "$PROJECT/.godot"
(cd "$PROJECT" && find -L . -name '*.gdextension' -not -path './.godot/*' | sed 's|^\./|res://|' | sort) >"$PROJECT/.godot/extension_list.cfg"
timeout 600 "$GODOT" --headless --path "$PROJECT" --import >/dev/null
