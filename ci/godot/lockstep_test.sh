#!/usr/bin/env bash
# Lockstep check (docs/lockstep.md): two separate headless Godot processes
# run demo_project/lockstep/lockstep.gd with the same history, line and seed
# (one with 1 inference thread, one with 2) and must print the same NPC
# reply and the same audit hashes; a third with another seed must print
# another logits_sha256. Builds nothing: run `make addon` first.
#
#   ci/godot/lockstep_test.sh [MODEL_DIR]   # default: the bundled wizard
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
GODOT="$REPO/ci/godot/godot.sh"
MODEL="${1:-$REPO/demo_project/models/wizard}"
"$REPO/ci/godot/provision.sh"
"$REPO/ci/godot/prepare_demo.sh" "$MODEL"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/history.json" <<'EOF'
[{"role": "user", "content": "Hello, old wizard!"}, {"role": "assistant", "content": "Greetings, traveller. Mind the stairs."}]
EOF

player() { # NAME SEED THREADS
	timeout 300 "$GODOT" --headless --path "$REPO/demo_project" -s res://lockstep/lockstep.gd -- \
		--history "$tmp/history.json" --say "What is your tower made of?" --seed "$2" --threads "$3" >"$tmp/$1.log" 2>&1 ||
		{ cat "$tmp/$1.log"; echo "lockstep_test: player $1 failed" >&2; exit 1; }
	grep '^LOCKSTEP ' "$tmp/$1.log" >"$tmp/$1.out" || true
	[ "$(grep -c '^LOCKSTEP \(reply\|model_sha256\|input_sha256\|logits_sha256\) ' "$tmp/$1.out")" = 4 ] ||
		{ cat "$tmp/$1.log"; echo "lockstep_test: player $1 printed no reply and audit" >&2; exit 1; }
}

player a 7 1
player b 7 2
player c 8 1
cat "$tmp/a.out"
if ! diff "$tmp/a.out" "$tmp/b.out"; then
	echo "lockstep_test: two players with the same seed and history differ (diff above)" >&2
	exit 1
fi
logits() { grep '^LOCKSTEP logits_sha256 ' "$tmp/$1.out"; }
if [ "$(logits a)" = "$(logits c)" ]; then
	echo "lockstep_test: another seed gave the same logits_sha256" >&2
	exit 1
fi
echo "lockstep_test: passed (same seed: same reply and hashes; seed 8: $(logits c | cut -d' ' -f3 | cut -c1-16)…)"
