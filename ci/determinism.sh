#!/usr/bin/env bash
# determinism.sh proves Loom's determinism promise: `loom verify` prints the
# same model, input and logits hashes, ids and text on every target. It
# builds the CLI for each target, runs every case on each, and fails unless
# every target's output equals the first target's (amd64 with assembly).
#
#   ci/determinism.sh --fast   amd64 (assembly), GOAMD64=v3, amd64 noasm
#                              (pure-Go kernels) at GOAMD64=v1 and v3,
#                              GOMAXPROCS 1/2/7, --threads 1/2/3,
#                              js/wasm and wasip1/wasm under Node; the small
#                              committed models only. This is what CI runs.
#   ci/determinism.sh          all of the above, plus linux/arm64 and
#                              android/arm64 under qemu user emulation and
#                              windows/amd64 under Wine, and a SmolLM2-135M-
#                              shaped bf16 model (made once under
#                              /var/cache/loom/models) on every target.
#   LOOM_DET_TARGETS="amd64 linux-arm64" ci/determinism.sh   a subset
#
# Both modes first check the linux/arm64 build for fused multiply-adds in
# Loom code (see fma_scan). Needs Go and Node (js/wasm, wasip1); the full
# run also needs root, qemu-user-static, libc6-arm64-cross (installed with
# apt-get when missing), mmdebstrap (the Wine root) and the reference root
# (ci/reference).
#
# Each case runs greedy and sampled (--temp 0.8 --top-p 0.9 --seed 42,
# top-k and min-p off, --repeat-penalty 1.1); tiny-chat and the 135M model
# also with their weights quantized to Q8 at load (--quantize q8), tiny-chat
# also with an f16 KV cache (--kv-cache f16). The table gives, per target,
# the seconds it took (builds excluded) and a digest of all its outputs;
# the first table gives each case's hashes on the first target.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd -P)"
cd "$REPO"
GO="${GO:-go}"
MODELS="${LOOM_MODELS:-/var/cache/loom/models}"
BIG="$MODELS/smollm2-135m-bf16"
ANDROID_ROOT="${LOOM_ANDROID_ROOT:-/var/cache/loom/android-root}"

mode=all
case "${1:-}" in
--fast) mode=fast ;;
"") ;;
*)
	echo "usage: $0 [--fast]" >&2
	exit 2
	;;
esac

fast_targets="amd64 amd64-noasm-v1 amd64-v3 amd64-noasm-v3 gomaxprocs-1 gomaxprocs-2 gomaxprocs-7 threads-1 threads-2 threads-3 js-wasm wasip1-wasm"
slow_targets="linux-arm64 android-arm64 windows-amd64"
if [ -n "${LOOM_DET_TARGETS:-}" ]; then
	targets="$LOOM_DET_TARGETS"
elif [ "$mode" = fast ]; then
	targets="$fast_targets"
else
	targets="$fast_targets $slow_targets"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
BIN="$WORK/bin"
mkdir -p "$BIN"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- cases: NAME MODEL-DIR VERIFY-ARGS... -----------------------------------
case_names=()
declare -A case_args
add_case() {
	local name=$1
	shift
	case_names+=("$name")
	case_args[$name]="$(printf '%q ' "$@")"
}
# prompt_ids of a committed golden, as verify's --ids list.
golden_ids() {
	grep -o '"prompt_ids": \[[0-9, ]*\]' "testdata/models/$1/golden.json" |
		sed 's/.*\[//; s/\]//; s/ //g'
}
SAMPLED=(--temp 0.8 --top-p 0.9 --top-k 0 --min-p 0 --repeat-penalty 1.1 --seed 42)
for m in tiny-chat; do
	add_case "$m/greedy" "testdata/models/$m" --prompt "Hi!" --chat --greedy --max-tokens 16
	add_case "$m/sampled" "testdata/models/$m" --prompt "Hi!" --chat "${SAMPLED[@]}" --max-tokens 16
	add_case "$m-q8/greedy" "testdata/models/$m" --prompt "Hi!" --chat --greedy --max-tokens 16 --quantize q8
	add_case "$m-q8/sampled" "testdata/models/$m" --prompt "Hi!" --chat "${SAMPLED[@]}" --max-tokens 16 --quantize q8
	add_case "$m-kv16/sampled" "testdata/models/$m" --prompt "Hi!" --chat "${SAMPLED[@]}" --max-tokens 16 --kv-cache f16
done
# Ids-only models covering f16 and bf16 weights, biases, a sliding window,
# llama3 RoPE scaling, an untied head and a sharded checkpoint.
for m in qwen2-f16 llama3-rope-bf16 mistral llama-untied llama-sharded; do
	ids="$(golden_ids "$m")"
	add_case "$m/greedy" "testdata/models/$m" --ids "$ids" --greedy --max-tokens 16
	add_case "$m/sampled" "testdata/models/$m" --ids "$ids" "${SAMPLED[@]}" --max-tokens 16
done
if [ "$mode" = all ]; then
	if [ ! -f "$BIG/model.safetensors" ]; then
		echo "making $BIG" >&2
		ci/cross/big-model.sh "$(basename "$BIG")" --shape 135m --dtype bf16 >&2
	fi
	prompt="Hello there, traveller. What news from the north?"
	add_case "smollm2-135m/greedy" "$BIG" --prompt "$prompt" --chat --greedy --max-tokens 8
	add_case "smollm2-135m/sampled" "$BIG" --prompt "$prompt" --chat "${SAMPLED[@]}" --max-tokens 8
	add_case "smollm2-135m-q8/greedy" "$BIG" --prompt "$prompt" --chat --greedy --max-tokens 8 --quantize q8
	add_case "smollm2-135m-q8/sampled" "$BIG" --prompt "$prompt" --chat "${SAMPLED[@]}" --max-tokens 8 --quantize q8
fi

# --- builds -------------------------------------------------------------------
build() { # OUT ENV... : CGO_ENABLED=0 go build with the given environment
	local out=$1
	shift
	env CGO_ENABLED=0 "$@" "$GO" build -trimpath -o "$BIN/$out" ./cmd/loom
}
declare -A built
need_build() {
	[ -n "${built[$1]:-}" ] && return
	local t0
	t0=$(now)
	case $1 in
	amd64) build loom-amd64 GOOS=linux GOARCH=amd64 GOAMD64=v1 ;;
	amd64-noasm-v1) build loom-amd64-noasm GOOS=linux GOARCH=amd64 GOAMD64=v1 GOFLAGS=-tags=noasm ;;
	amd64-v3) build loom-amd64-v3 GOOS=linux GOARCH=amd64 GOAMD64=v3 ;;
	# The pure-Go kernels compiled where Go may use FMA instructions.
	amd64-noasm-v3) build loom-amd64-noasm-v3 GOOS=linux GOARCH=amd64 GOAMD64=v3 GOFLAGS=-tags=noasm ;;
	js-wasm) build loom-js.wasm GOOS=js GOARCH=wasm ;;
	# logrus (through gonja, engine/chat) has no terminal check for
	# wasip1; its appengine tag swaps in one that builds. No other module
	# the CLI uses looks at that tag.
	wasip1-wasm) build loom-wasip1.wasm GOOS=wasip1 GOARCH=wasm GOFLAGS=-tags=appengine ;;
	linux-arm64) build loom-linux-arm64 GOOS=linux GOARCH=arm64 ;;
	android-arm64) build loom-android-arm64 GOOS=android GOARCH=arm64 ;;
	windows-amd64) build loom-windows-amd64.exe GOOS=windows GOARCH=amd64 GOAMD64=v1 ;;
	esac
	built[$1]=1
	echo "built $1 in $(elapsed "$t0" "$(now)") s" >&2
}

# --- emulators ----------------------------------------------------------------
need_tools() {
	case $1 in
	js-wasm | wasip1-wasm)
		command -v node >/dev/null || {
			echo "determinism.sh: node (20 or later) is needed for $1" >&2
			exit 1
		}
		;;
	linux-arm64 | android-arm64)
		if ! command -v qemu-aarch64-static >/dev/null || [ ! -f /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
			apt-get install -y qemu-user-static libc6-arm64-cross >&2
		fi
		# GOOS=android binaries are PIE with interpreter /system/bin/linker64
		# and need no library: glibc's loader does the relocations.
		if [ "$1" = android-arm64 ] && [ ! -f "$ANDROID_ROOT/system/bin/linker64" ]; then
			mkdir -p "$ANDROID_ROOT/system/bin"
			cp /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 "$ANDROID_ROOT/system/bin/linker64"
		fi
		;;
	esac
}

# run_target TARGET ARGS... : runs `loom ARGS...` the way TARGET does.
run_target() {
	local t=$1
	shift
	case $t in
	amd64) "$BIN/loom-amd64" "$@" ;;
	amd64-noasm-v1) "$BIN/loom-amd64-noasm" "$@" ;;
	amd64-v3) "$BIN/loom-amd64-v3" "$@" ;;
	amd64-noasm-v3) "$BIN/loom-amd64-noasm-v3" "$@" ;;
	gomaxprocs-1) GOMAXPROCS=1 "$BIN/loom-amd64" "$@" --threads 3 ;;
	gomaxprocs-2) GOMAXPROCS=2 "$BIN/loom-amd64" "$@" --threads 2 ;;
	gomaxprocs-7) GOMAXPROCS=7 "$BIN/loom-amd64" "$@" --threads 7 ;;
	threads-[0-9]*) "$BIN/loom-amd64" "$@" --threads "${t#threads-}" ;;
	js-wasm) node "$("$GO" env GOROOT)/lib/wasm/wasm_exec_node.js" "$BIN/loom-js.wasm" "$@" ;;
	wasip1-wasm) node --no-warnings ci/cross/wasip1.mjs "$BIN/loom-wasip1.wasm" "$@" ;;
	linux-arm64) qemu-aarch64-static "$BIN/loom-linux-arm64" "$@" ;;
	android-arm64) qemu-aarch64-static -L "$ANDROID_ROOT" "$BIN/loom-android-arm64" "$@" ;;
	windows-amd64) ci/cross/wine.sh "$BIN/loom-windows-amd64.exe" "$@" 2> >(grep -v -e XDG_RUNTIME_DIR -e 'wine: ' >&2) ;;
	*)
		echo "determinism.sh: unknown target $t" >&2
		exit 2
		;;
	esac
}

build_of() { # the build a target runs
	case $1 in
	gomaxprocs-* | threads-*) echo amd64 ;;
	*) echo "$1" ;;
	esac
}

# --- fused multiply-adds --------------------------------------------------------
# Go may fuse x*y+z into one FMA instruction on arm64 (and amd64 v3), which
# rounds once instead of twice and changes results. Loom's code rounds every
# product explicitly (float32(x*y)), so no Loom function may contain one:
# check the arm64 binary, where Go fuses most eagerly. (The amd64 disassembler
# of go tool objdump does not decode FMA instructions.)
fma_scan() {
	need_build linux-arm64
	local found
	found=$("$GO" tool objdump "$BIN/loom-linux-arm64" |
		awk '/^TEXT / { fn = $2 } /\t(FMADD|FMSUB|FNMADD|FNMSUB)[SD] / && fn ~ /^github.com\/loomai\/loom\// { print fn }' |
		sort -u)
	if [ -n "$found" ]; then
		echo "FAIL: fused multiply-adds in these Loom functions on arm64 (go tool objdump -s NAME shows the lines):" >&2
		echo "$found" >&2
		fail=1
	else
		echo "no fused multiply-add in any Loom function (linux/arm64 build)"
	fi
}

# --- run ----------------------------------------------------------------------
for t in $targets; do
	need_tools "$t"
	need_build "$(build_of "$t")"
done
fail=0
fma_scan

declare -A secs digest
ref=""
for t in $targets; do
	t0=$(now)
	for c in "${case_names[@]}"; do
		eval "args=(${case_args[$c]})"
		out="$WORK/out/$t/${c//\//_}"
		err="$WORK/err/$t/${c//\//_}"
		mkdir -p "$(dirname "$out")" "$(dirname "$err")"
		ts=$(now)
		# Absolute model paths: the emulated targets run elsewhere (Wine's chroot).
		model="${args[0]}"
		[[ $model = /* ]] || model="$REPO/$model"
		if ! run_target "$t" verify "$model" "${args[@]:1}" >"$out" 2>"$err"; then
			echo "FAIL $t $c: verify exited non-zero: $(tr '\n' ' ' <"$err")" >&2
			fail=1
		fi
		echo "$t $c $(elapsed "$ts" "$(now)") s" >&2
		if [ -n "$ref" ] && ! cmp -s "$WORK/out/$ref/${c//\//_}" "$out"; then
			echo "DIFF $t $c (against $ref):" >&2
			diff "$WORK/out/$ref/${c//\//_}" "$out" >&2 || true
			fail=1
		fi
	done
	secs[$t]=$(elapsed "$t0" "$(now)")
	digest[$t]=$(cat "$WORK/out/$t"/* 2>/dev/null | sha256sum | cut -c1-16)
	[ -n "$ref" ] || ref=$t
done

# --- report -------------------------------------------------------------------
field() { awk -v k="$1" '$1 == k { print substr($2, 1, 16) }' "$2"; }
echo
echo "Hashes on $ref (first 16 hex digits):"
printf '%-26s %-16s %-16s %-16s %s\n' case model_sha256 input_sha256 logits_sha256 ids
for c in "${case_names[@]}"; do
	o="$WORK/out/$ref/${c//\//_}"
	printf '%-26s %-16s %-16s %-16s %s\n' "$c" "$(field model_sha256 "$o")" \
		"$(field input_sha256 "$o")" "$(field logits_sha256 "$o")" \
		"$(grep '^ids ' "$o" | cut -c5- | cut -c1-40)"
done
echo
echo "Targets (${#case_names[@]} cases each; digest = sha256 of all verify outputs):"
printf '%-16s %-16s %8s  %s\n' target digest seconds result
for t in $targets; do
	r=equal
	[ "${digest[$t]}" = "${digest[$ref]}" ] || r=DIFFERENT
	printf '%-16s %-16s %8s  %s\n' "$t" "${digest[$t]}" "${secs[$t]}" "$r"
done
if [ "$fail" != 0 ]; then
	echo "determinism: FAILED" >&2
	exit 1
fi
echo "determinism: all ${#case_names[@]} cases equal on $(echo $targets | wc -w) targets"
