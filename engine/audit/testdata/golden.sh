#!/bin/sh
# golden.sh recomputes golden.txt, the expected hashes of audit_test.go,
# with coreutils only (printf, stat, cat, sha256sum), following the
# encodings documented in engine/audit by hand, independently of the Go
# code. Run from anywhere: engine/audit/testdata/golden.sh > golden.txt
set -eu
cd "$(dirname "$0")"
MODELS=../../../testdata/models

# model NAME DIR FILE... : model_sha256 over FILEs of DIR, listed here in
# byte order by hand: "name\nsize\n" then the content, for each file.
model() {
	name=$1 dir=$2
	shift 2
	sum=$(cd "$dir" && for f in "$@"; do
		printf '%s\n%s\n' "$f" "$(stat -c %s "$f")"
		cat "$f"
	done | sha256sum | cut -d' ' -f1)
	echo "model:$name $sum"
}

model sharded sharded config.json generation_config.json \
	model-00001-of-00002.safetensors model-00002-of-00002.safetensors \
	model.safetensors.index.json tokenizer.json tokenizer_config.json
model tiny-chat $MODELS/tiny-chat config.json generation_config.json \
	model.safetensors tokenizer.json tokenizer_config.json
model llama-tied $MODELS/llama-tied config.json generation_config.json model.safetensors
model llama-sharded $MODELS/llama-sharded config.json generation_config.json \
	model-00001-of-00006.safetensors model-00002-of-00006.safetensors \
	model-00003-of-00006.safetensors model-00004-of-00006.safetensors \
	model-00005-of-00006.safetensors model-00006-of-00006.safetensors \
	model.safetensors.index.json

# input_sha256 of the zero Input (greedy, empty text prompt).
printf 'input:zero %s\n' "$(printf '%s\n' loom-input-v1 chat=false \
	frequency_penalty=0 ids=0 max_tokens=0 min_p=0 penalty_last_n=0 \
	presence_penalty=0 prompt=0: quantize=0: repeat_penalty=0 seed=0 stop=0 system=0: \
	temperature=0 top_k=0 top_p=0 | sha256sum | cut -d' ' -f1)"

# input_sha256 of a chat prompt with every option set. The prompt is
# "Hi\nthere é" (é is 2 bytes: 11 bytes in all); stops are "</s>" and "\n\n";
# the system turn is "Be brief." (9 bytes); the weights are quantized to q8.
printf 'input:full %s\n' "$(printf 'loom-input-v1\nchat=true\nfrequency_penalty=0.25\nids=0\nmax_tokens=8\nmin_p=0.05\npenalty_last_n=64\npresence_penalty=-0.5\nprompt=11:Hi\nthere \303\251\nquantize=2:q8\nrepeat_penalty=1.1\nseed=18446744073709551615\nstop=2:4:</s>:2:\n\n\nsystem=9:Be brief.\ntemperature=0.8\ntop_k=40\ntop_p=0.9\n' | sha256sum | cut -d' ' -f1)"

# input_sha256 of an ids prompt, sampling with temperature 1e-5.
printf 'input:ids %s\n' "$(printf '%s\n' loom-input-v1 chat=false \
	frequency_penalty=0 ids=3:1:-7:31999 max_tokens=20 min_p=0 penalty_last_n=0 \
	presence_penalty=0 prompt=0: quantize=0: repeat_penalty=1 seed=42 stop=0 system=0: \
	temperature=1e-05 top_k=0 top_p=1 | sha256sum | cut -d' ' -f1)"

# input_sha256 of an ids prompt with an f16 KV cache: kv_cache (present only
# when set) comes between ids and max_tokens.
printf 'input:kvcache %s\n' "$(printf '%s\n' loom-input-v1 chat=false \
	frequency_penalty=0 ids=3:1:-7:31999 kv_cache=3:f16 max_tokens=20 min_p=0 penalty_last_n=0 \
	presence_penalty=0 prompt=0: quantize=0: repeat_penalty=1 seed=42 stop=0 system=0: \
	temperature=1e-05 top_k=0 top_p=1 | sha256sum | cut -d' ' -f1)"

# logits_sha256 of two steps, [1, -2.5, -0] then [0.1, +Inf, 65504]:
# float32 bits 3f800000 c0200000 80000000, 3dcccccd 7f800000 477fe000,
# each written little-endian.
printf 'logits:two %s\n' "$(printf '\000\000\200\077\000\000\040\300\000\000\000\200\315\314\314\075\000\000\200\177\000\340\177\107' | sha256sum | cut -d' ' -f1)"
# logits_sha256 of no step at all: SHA-256 of nothing.
printf 'logits:none %s\n' "$(printf '' | sha256sum | cut -d' ' -f1)"
