#!/usr/bin/env bash
# Loom in arm64 Godot: builds the addon for linux/x86_64 and linux/arm64,
# provisions amd64 Godot (provision.sh) and arm64 Godot (arm64_provision.sh,
# run under qemu user emulation), then runs two scripts in both Godots on
# the test model tiny-chat:
#
#   ci/godot/arm64_probe.gd         a greedy and a seeded sampled reply with
#                                   every get_last_audit() field (the greedy
#                                   one must equal transformers' reply)
#   demo_project/lockstep/lockstep.gd   one lockstep player's turn: a system
#                                   prompt, a history, a line and a seed
#
# It prints each platform's output and the seconds each run took, and fails
# unless arm64 Godot printed exactly what amd64 Godot printed: the same
# replies and the same model, input and logits hashes. Part of
# `make determinism` (slow: the emulated runs take a minute or more).
# Needs root the first time (apt-get, mmdebstrap).
#
#   ci/godot/arm64_test.sh
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
GODOT_DIR="$REPO/ci/godot"
ARM64_ROOT="${LOOM_GODOT_ARM64_ROOT:-/var/cache/loom/godot-arm64}"

GO="${GO:-go}" "$GODOT_DIR/build_addon.sh" all
"$GODOT_DIR/provision.sh"
"$GODOT_DIR/arm64_provision.sh"

# A throwaway project holding the addon, the model and both scripts, so
# that nothing in the repository's own projects changes.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PROJECT="$WORK/project"
mkdir -p "$PROJECT/addons" "$PROJECT/models" "$PROJECT/lockstep"
printf 'config_version=5\n\n[application]\n\nconfig/name="Loom arm64 test"\n' >"$PROJECT/project.godot"
ln -s "$REPO/addons/loom" "$PROJECT/addons/loom"
cp "$GODOT_DIR/arm64_probe.gd" "$PROJECT/"
cp "$REPO/demo_project/lockstep/lockstep.gd" "$PROJECT/lockstep/"
"$GODOT_DIR/copy_model.sh" "$REPO/testdata/models/tiny-chat" "$PROJECT/models/tiny-chat"
"$GODOT_DIR/import.sh" "$PROJECT"
cat >"$WORK/history.json" <<'EOF'
[{"role": "user", "content": "Hello, old wizard!"}, {"role": "assistant", "content": "Greetings, traveller. Mind the stairs."}]
EOF

now() { date +%s.%N; }
declare -A secs
# run PLATFORM NAME SCRIPT [ARGS...]: runs res://SCRIPT in PLATFORM's Godot
# (amd64 or arm64); everything it printed goes to $WORK/PLATFORM.NAME.log,
# its LOOM and LOCKSTEP lines also to $WORK/PLATFORM.out.
run() {
	local platform=$1 name=$2 t0 rc=0 log="$WORK/$1.$2.log" godot
	shift 2
	case $platform in
	amd64) godot=(timeout 300 "$GODOT_DIR/godot.sh") ;;
	arm64) godot=(timeout 1200 qemu-aarch64-static -L "$ARM64_ROOT" "$ARM64_ROOT/usr/bin/godot") ;;
	esac
	echo "arm64_test: $name in $platform Godot"
	t0=$(now)
	"${godot[@]}" --headless --path "$PROJECT" -s "$@" >"$log" 2>&1 || rc=$?
	secs[$platform.$name]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" != 0 ] || ! grep -E '^(LOOM|LOCKSTEP) ' "$log" >>"$WORK/$platform.out"; then
		cat "$log"
		echo "arm64_test: FAIL: $name in $platform Godot exited $rc after ${secs[$platform.$name]} s" >&2
		exit 1
	fi
}

for platform in amd64 arm64; do
	run "$platform" probe res://arm64_probe.gd
	run "$platform" lockstep res://lockstep/lockstep.gd -- --model res://models/tiny-chat \
		--history "$WORK/history.json" --say "What is your tower made of?" --seed 7
done

# The probe prints the architecture Godot runs on: proof that the emulated
# run really was arm64 Godot with the arm64 library.
grep -q ' on x86_64$' "$WORK/amd64.probe.log" || { echo "arm64_test: FAIL: amd64 Godot did not say x86_64" >&2; exit 1; }
grep -q ' on arm64$' "$WORK/arm64.probe.log" || { echo "arm64_test: FAIL: arm64 Godot did not say arm64" >&2; exit 1; }
for platform in amd64 arm64; do
	echo "--- $(grep '^arm64_probe: Godot ' "$WORK/$platform.probe.log" | cut -d' ' -f2-): probe ${secs[$platform.probe]} s, lockstep ${secs[$platform.lockstep]} s"
	cat "$WORK/$platform.out"
done
for want in 'LOOM greedy logits_sha256' 'LOOM sampled logits_sha256' 'LOCKSTEP reply' 'LOCKSTEP input_sha256' 'LOCKSTEP logits_sha256'; do
	grep -q "^$want " "$WORK/amd64.out" || { echo "arm64_test: FAIL: amd64 Godot printed no '$want' line" >&2; exit 1; }
done
if ! diff "$WORK/amd64.out" "$WORK/arm64.out"; then
	echo "arm64_test: FAIL: arm64 Godot's output differs from amd64's (diff above: < amd64, > arm64)" >&2
	exit 1
fi
echo "arm64_test: amd64 and arm64 Godot printed the same $(wc -l <"$WORK/amd64.out") lines"
