#!/usr/bin/env bash
# Checks Loom's export presets (export_presets/*.cfg: Linux, Windows, macOS,
# Android) in Godot 4.6 headless, on a throwaway copy of the demo holding
# the addon and the model, merged into its export_presets.cfg by
# export_presets/merge.sh:
#
#  1. demo_project/export_presets.cfg's preset is export_presets/linux.cfg
#     with its own export_path;
#  2. every option a preset sets is an export option of its platform, as
#     Godot's own class reference (--doctool) lists them: Godot ignores an
#     unknown option without a word;
#  3. `--export-pack` of each preset prints no error or warning (a missing
#     preset key, an architecture loom.gdextension has no library for) and
#     the .pck holds every file of the model folder and nothing else under
#     models/, byte for byte, as Godot's own pack loader reads it back;
#  4. a full debug export of each preset passes Godot's validation of the
#     preset and the project (no "configuration errors"). Debian has no
#     Windows, macOS or Android templates and no Android SDK can be had
#     here, so empty stand-ins (templates, SDK tools, JDK, debug keystore)
#     satisfy the checks that only look for them; after validation the
#     export fails on the empty template except for Linux. The Linux and
#     Windows exports must put the platform's Loom library next to the game.
#
# Every Godot run gets its own XDG folders, so the user's editor settings,
# SDKs and templates play no part. Builds nothing: run `make addon` first.
#
#   ci/godot/presets_test.sh [MODEL_DIR]   # default testdata/models/tiny-chat
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
GODOT="$REPO/ci/godot/godot.sh"
MODEL="${1:-$REPO/testdata/models/tiny-chat}"
PRESETS="$REPO/export_presets"
"$REPO/ci/godot/provision.sh"
[ -f "$REPO/addons/loom/bin/libloom.linux.x86_64.so" ] || { echo "presets_test: run make addon first" >&2; exit 1; }

fail() {
	echo "presets_test: FAIL: $*" >&2
	exit 1
}
# A preset file's option names, in order.
options_of() {
	sed -n '/^\[preset\.0\.options\]$/,$p' "$1" | grep -E '^[a-z_]+/' | cut -d= -f1
}
# A preset file without comments, blank lines and export_path.
normalized() {
	grep -Ev '^(;|$|export_path=)' "$1"
}

# 1. The demo's Linux preset.
echo "presets_test: demo_project/export_presets.cfg against export_presets/linux.cfg"
diff <(normalized "$REPO/demo_project/export_presets.cfg") <(normalized "$PRESETS/linux.cfg") ||
	fail "demo_project/export_presets.cfg differs from export_presets/linux.cfg (diff above: < demo, > linux.cfg)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export XDG_CONFIG_HOME="$WORK/xdg/config" XDG_DATA_HOME="$WORK/xdg/data" XDG_CACHE_HOME="$WORK/xdg/cache"
mkdir -p "$XDG_CONFIG_HOME/godot" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# The demo without what is copied into it, then the addon and the model.
PROJECT="$WORK/project"
mkdir -p "$PROJECT/addons"
tar -C "$REPO/demo_project" --exclude=./.godot --exclude=./addons --exclude=./models --exclude=./export_presets.cfg -cf - . |
	tar -C "$PROJECT" -xf -
cp -rL "$REPO/addons/loom" "$PROJECT/addons/loom"
"$REPO/ci/godot/copy_model.sh" "$MODEL" "$PROJECT/models/wizard"
# Android and universal or arm64 macOS exports need ETC2/ASTC textures
# imported (export_presets/README.md); add the setting if the demo lacks it.
if ! grep -q '^textures/vram_compression/import_etc2_astc=true$' "$PROJECT/project.godot"; then
	if grep -q '^\[rendering\]$' "$PROJECT/project.godot"; then
		sed -i 's|^\[rendering\]$|&\n\ntextures/vram_compression/import_etc2_astc=true|' "$PROJECT/project.godot"
	else
		printf '\n[rendering]\n\ntextures/vram_compression/import_etc2_astc=true\n' >>"$PROJECT/project.godot"
	fi
fi
# Step 4 checks that the Windows export ships loom.windows.x86_64.dll; when
# `make addon-all` has not built it, an empty file stands in.
if [ ! -f "$PROJECT/addons/loom/bin/loom.windows.x86_64.dll" ]; then
	echo "presets_test: no loom.windows.x86_64.dll built; an empty file stands in"
	: >"$PROJECT/addons/loom/bin/loom.windows.x86_64.dll"
fi
"$PRESETS/merge.sh" "$PROJECT" "$PRESETS/linux.cfg" "$PRESETS/windows.cfg" "$PRESETS/macos.cfg" "$PRESETS/android.cfg"

# Stand-ins for what step 4's validation looks for. Template folder:
# export_templates/<major.minor.patch.status>; editor settings:
# editor_settings-<major.minor>.tres.
full="$("$GODOT" --headless --version)"
version="$(sed -E 's/^([0-9]+\.[0-9]+(\.[0-9]+)?\.[a-z]+).*/\1/' <<<"$full")"
series="$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$full")"
templates="$XDG_DATA_HOME/godot/export_templates/$version"
mkdir -p "$templates"
for t in linux_debug.x86_64 windows_debug_x86_64.exe macos.zip android_debug.apk; do
	: >"$templates/$t"
done
sdk="$WORK/android-sdk"
jdk="$WORK/jdk"
mkdir -p "$sdk/platform-tools" "$sdk/build-tools/36.0.0" "$jdk/bin"
for tool in "$sdk/platform-tools/adb" "$sdk/build-tools/36.0.0/apksigner" "$jdk/bin/java"; do
	printf '#!/bin/sh\nexit 0\n' >"$tool"
	chmod +x "$tool"
done
: >"$WORK/debug.keystore"
cat >"$XDG_CONFIG_HOME/godot/editor_settings-$series.tres" <<EOF
[gd_resource type="EditorSettings" format=3]

[resource]
export/android/android_sdk_path = "$sdk"
export/android/java_sdk_path = "$jdk"
export/android/debug_keystore = "$WORK/debug.keystore"
export/android/debug_keystore_user = "androiddebugkey"
export/android/debug_keystore_pass = "android"
EOF

"$REPO/ci/godot/import.sh" "$PROJECT"

# A project of its own for reading packs back, so that nothing under
# res://models comes from anywhere but the pack.
READER="$WORK/reader"
mkdir -p "$READER"
printf 'config_version=5\n\n[application]\n\nconfig/name="Loom pck reader"\n' >"$READER/project.godot"
cat >"$READER/list_pack.gd" <<'EOF'
extends SceneTree
# Loads the .pck named after "--" with Godot's pack loader and prints
# "PACKED <path> <sha256>" for every file under res://models in it.

func _init() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() != 1 or not ProjectSettings.load_resource_pack(args[0], false):
		printerr("list_pack: cannot load ", args)
		quit(1)
		return
	_list("res://models")
	quit(0)


func _list(dir: String) -> void:
	for f in DirAccess.get_files_at(dir):
		var path := dir.path_join(f)
		print("PACKED ", path.trim_prefix("res://"), " ", FileAccess.get_sha256(path))
	for d in DirAccess.get_directories_at(dir):
		_list(dir.path_join(d))
EOF
(cd "$PROJECT" && find models -type f | LC_ALL=C sort | while read -r f; do echo "PACKED $f $(sha256sum "$f" | cut -d' ' -f1)"; done) >"$WORK/want.txt"

echo "presets_test: export options in Godot's class reference"
mkdir -p "$WORK/doc"
timeout 120 "$GODOT" --headless --doctool "$WORK/doc" --no-docbase >"$WORK/doctool.log" 2>&1 || { cat "$WORK/doctool.log"; fail "godot --doctool failed"; }

mkdir -p "$WORK/export"
for file in linux windows macos android; do
	cfg="$PRESETS/$file.cfg"
	name="$(sed -n 's/^name="\(.*\)"$/\1/p' "$cfg")"
	platform="$(sed -n 's/^platform="\(.*\)"$/\1/p' "$cfg")"
	case "$platform" in
	Linux) doc=linuxbsd game=game.x86_64 lib=libloom.linux.x86_64.so ;;
	"Windows Desktop") doc=windows game=game.exe lib=loom.windows.x86_64.dll ;;
	macOS) doc=macos game=game.zip lib= ;;
	Android) doc=android game=game.apk lib= ;;
	*) fail "$cfg: unknown platform \"$platform\"" ;;
	esac

	# 2. Option names.
	xml="$(ls "$WORK/doc/platform/$doc/doc_classes/"EditorExportPlatform*.xml)" || fail "godot --doctool wrote no $platform class"
	unknown="$(options_of "$cfg" | while read -r o; do grep -qF "<member name=\"$o\"" "$xml" || echo "$o"; done)"
	[ -z "$unknown" ] || fail "$cfg sets options $platform does not have: $unknown"

	# 3. The pack.
	echo "presets_test: $name: --export-pack"
	log="$WORK/$file.pack.log"
	timeout 120 "$GODOT" --headless --path "$PROJECT" --export-pack "$name" "$WORK/export/$file.pck" >"$log" 2>&1 ||
		{ cat "$log"; fail "$name: --export-pack failed"; }
	if grep -E 'ERROR|WARNING' "$log"; then
		fail "$name: Godot reported the errors or warnings above exporting the pack"
	fi
	timeout 60 "$GODOT" --headless --path "$READER" -s res://list_pack.gd -- "$WORK/export/$file.pck" >"$WORK/$file.list.log" 2>&1 ||
		{ cat "$WORK/$file.list.log"; fail "$name: Godot could not read the pack back"; }
	grep '^PACKED ' "$WORK/$file.list.log" | LC_ALL=C sort >"$WORK/$file.packed.txt" || true
	diff "$WORK/want.txt" "$WORK/$file.packed.txt" ||
		fail "$name: the pack's models/ differs from the model folder (diff above: < model folder, > pack)"
	for f in config.json tokenizer.json model.safetensors; do
		grep -q "^PACKED models/wizard/$f " "$WORK/$file.packed.txt" || fail "$name: the pack has no models/wizard/$f"
	done

	# 4. Godot's validation of a full export.
	echo "presets_test: $name: --export-debug against stand-in templates"
	log="$WORK/$file.export.log"
	mkdir -p "$WORK/export/$file"
	rc=0
	timeout 120 "$GODOT" --headless --path "$PROJECT" --export-debug "$name" "$WORK/export/$file/$game" >"$log" 2>&1 || rc=$?
	[ "$rc" != 124 ] || { cat "$log"; fail "$name: the export timed out"; }
	if grep -q 'configuration errors' "$log" || grep -q 'library found for GDExtension' "$log"; then
		cat "$log"
		fail "$name: Godot rejected the preset or the project (log above)"
	fi
	if [ -n "$lib" ] && [ ! -f "$WORK/export/$file/$lib" ]; then
		cat "$log"
		ls -la "$WORK/export/$file"
		fail "$name: the export did not ship $lib next to the game"
	fi
	echo "presets_test: $name: options known, pack holds the model ($(wc -l <"$WORK/$file.packed.txt") files), preset valid${lib:+, ships $lib}"
done
echo "presets_test: all passed"
