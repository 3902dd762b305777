#!/usr/bin/env bash
# Appends Loom's export presets to a Godot project's export_presets.cfg,
# numbered after the presets already there (Godot reads [preset.0],
# [preset.1], ... and stops at the first missing number), refusing a preset
# whose name the file already has (`godot --export-release NAME` picks
# presets by name). Creates the file when the project has none.
#
#   export_presets/merge.sh PROJECT_DIR PRESET.cfg...
#   export_presets/merge.sh ~/my_game export_presets/linux.cfg export_presets/windows.cfg
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PROJECT_DIR PRESET.cfg..." >&2; exit 2; }
project="$1"
shift
[ -f "$project/project.godot" ] || { echo "merge: $project has no project.godot" >&2; exit 1; }
target="$project/export_presets.cfg"

for f in "$@"; do
	if [ "$(grep -c '^\[' "$f")" != 2 ] || ! grep -qx '\[preset\.0\]' "$f" || ! grep -qx '\[preset\.0\.options\]' "$f" ||
		! grep -q '^name="..*"$' "$f"; then
		echo "merge: $f is not one named [preset.0] section with its [preset.0.options]" >&2
		exit 1
	fi
done

touch "$target"
next=$(grep -c '^\[preset\.[0-9]*\]$' "$target" || true)
for ((i = 0; i < next; i++)); do
	grep -qx "\[preset\.$i\]" "$target" ||
		{ echo "merge: $target has $next presets but no [preset.$i]; Godot stops reading at the gap" >&2; exit 1; }
done

for f in "$@"; do
	name="$(sed -n 's/^name="\(.*\)"$/\1/p' "$f")"
	if grep -qxF "name=\"$name\"" "$target"; then
		echo "merge: $target already has a preset named \"$name\"" >&2
		exit 1
	fi
	{
		[ ! -s "$target" ] || echo
		sed -e "s/^\[preset\.0\]$/[preset.$next]/" -e "s/^\[preset\.0\.options\]$/[preset.$next.options]/" "$f"
	} >>"$target"
	echo "merge: $f -> [preset.$next] \"$name\""
	next=$((next + 1))
done
