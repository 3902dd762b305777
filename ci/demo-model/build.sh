#!/bin/sh
# build.sh builds the demo's built-in model, "wizard": a small Llama-family
# chat model that Loom trains itself on freely distributable text Debian
# packages, shaped into conversations with a wise old wizard.
#
#   ci/demo-model/build.sh            full run: ~45-70 min on 2 cores, writes
#                                     demo_project/models/wizard/
#   SMOKE=1 ci/demo-model/build.sh    the same pipeline with 12 training steps
#                                     (a few minutes), written under $WORK
#
# Steps (each skipped when its output exists, so a run can be repeated):
#   1. apt-get download the text packages into $WORK/debs and unpack them
#      with dpkg -x (nothing is installed on the host): fortunes,
#      fortunes-min, bible-kjv-text (+ bible-kjv, whose `bible` program
#      decompresses the text), display-dhammapada;
#   2. print Proverbs and Ecclesiastes with the `bible` program;
#   3. shape everything into ChatML wizard conversations (ci/demo-model/wizard);
#   4. loom train-tokenizer: byte-level BPE, 4096 tokens, ChatML template
#      with the wizard's default system prompt;
#   5. loom train: LlamaForCausalLM, 6 layers, hidden 256, 4 heads (2 kv
#      heads), SwiGLU 704, context 256, tied embeddings (5.5M parameters,
#      11 MB in bf16), 6 epochs, checkpointed to $WORK/checkpoint.safetensors;
#      an interrupted run continues with RESUME=1.
#
# Settings: WORK (default /var/cache/loom/demo-model), OUT (default
# demo_project/models/wizard, or $WORK/smoke when SMOKE=1), THREADS (0 =
# all cores), EPOCHS (default 6), SEED (default 1).
# Needs: Go, apt-get (with Debian's bookworm lists, as on the CI machines),
# dpkg. Sid's lists work too.
set -eu

REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
WORK="${WORK:-/var/cache/loom/demo-model}"
SMOKE="${SMOKE:-0}"
THREADS="${THREADS:-0}"
EPOCHS="${EPOCHS:-6}"
SEED="${SEED:-1}"
RESUME="${RESUME:-0}"
if [ "$SMOKE" = 1 ]; then
	OUT="${OUT:-$WORK/smoke}"
else
	OUT="${OUT:-$REPO/demo_project/models/wizard}"
fi
SYSTEM_PROMPT="You are Eldric, a wise old wizard."

mkdir -p "$WORK/debs" "$WORK/root"
cd "$WORK/debs"
for pkg in fortunes fortunes-min bible-kjv-text bible-kjv display-dhammapada; do
	if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
		apt-get -o APT::Sandbox::User=root download "$pkg"
	fi
	dpkg -x "$(ls "${pkg}"_*.deb | head -n 1)" "$WORK/root"
done
ROOT="$WORK/root"

if [ ! -s "$WORK/kjv-wisdom.txt" ]; then
	"$ROOT/usr/bin/bible" -p "$ROOT/usr/lib" "Proverbs 1:1-31:31" "Ecclesiastes 1:1-12:14" >"$WORK/kjv-wisdom.txt.tmp"
	mv "$WORK/kjv-wisdom.txt.tmp" "$WORK/kjv-wisdom.txt"
fi

cd "$REPO"
go build -o "$WORK/loom" ./cmd/loom
go run ./ci/demo-model/wizard --seed "$SEED" \
	--fortunes "$ROOT/usr/share/games/fortunes" \
	--kjv "$WORK/kjv-wisdom.txt" \
	--dhammapada "$ROOT/usr/share/display-dhammapada/dhammapada-english-transl.txt" \
	--out "$WORK/dialogues.jsonl"

"$WORK/loom" train-tokenizer --out "$WORK/tokenizer" --vocab-size 4096 \
	--model-max-length 256 --system-prompt "$SYSTEM_PROMPT" --chat "$WORK/dialogues.jsonl"

if [ "$SMOKE" = 1 ]; then
	STEPS="--steps 12 --warmup 2 --val-every 6"
	CKPT="$WORK/smoke-checkpoint.safetensors"
else
	STEPS="--epochs $EPOCHS --val-every 500"
	CKPT="$WORK/checkpoint.safetensors"
fi
RESUME_FLAG=""
if [ "$RESUME" = 1 ]; then
	RESUME_FLAG="--resume"
fi
# shellcheck disable=SC2086 # STEPS and RESUME_FLAG are word lists.
"$WORK/loom" train --tokenizer "$WORK/tokenizer" --out "$OUT" --chat "$WORK/dialogues.jsonl" \
	--layers 6 --hidden 256 --heads 4 --kv-heads 2 --intermediate 704 --context 256 \
	--batch 8 --lr 1.5e-3 --min-lr 1.5e-4 --warmup 0.02 --weight-decay 0.1 --clip 1 \
	--seed "$SEED" --threads "$THREADS" --dtype bf16 \
	--checkpoint "$CKPT" --checkpoint-every 200 $STEPS $RESUME_FLAG

# A greedy sample through the inference engine, as the demo will run it.
"$WORK/loom" run "$OUT" "Greetings, wizard! What wisdom can you share?" --chat --temp 0 --max-tokens 60
echo
ls -l "$OUT"
