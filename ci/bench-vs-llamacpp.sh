#!/bin/sh
# bench-vs-llamacpp.sh compares `loom bench` with llama.cpp's llama-bench on
# SmolLM2-135M and SmolLM2-360M shaped random-weight models, at the same
# precision, on the same machine, in one run:
#
#   shape  precision  Loom                          llama.cpp
#   135m   f32        f32 safetensors               f32 GGUF
#   135m   f16        f16 safetensors               f16 GGUF
#   135m   q8         f32 safetensors, --quantize q8  q8_0 GGUF (llama-quantize)
#   360m   f32        f32 safetensors               f32 GGUF
#   360m   q8         f32 safetensors, --quantize q8  q8_0 GGUF
#
# Both tools run `-t THREADS -p 128 -n 64` (pp128: one pass over a 128-token
# prompt; tg64: 64 tokens one at a time), REPS repetitions per call, and
# the calls alternate llama.cpp, Loom, llama.cpp, Loom... for ROUNDS rounds,
# so that a change in the machine's load hits both alike. The table gives
# the median and range over all samples of each tool, and Loom/llama.cpp
# ratios of the medians. It is a benchmark, not a test: it never fails on
# the numbers.
#
# The models are made once by ci/cross/big-model.sh (make_big_models.py in
# the reference root; the vocabulary is tiny-chat's 32000, so that the GGUF
# converter has a tokenizer) and converted once with Debian's
# convert_hf_to_gguf.py and llama-quantize in the reference root; all of
# it is cached under $LOOM_MODELS (/var/cache/loom/models), never
# committed. llama-bench runs inside the reference root too (llama.cpp
# 0.7.0 from Debian sid, CPU backend).
#
# llama.cpp picks the CPU backend best for the machine (on a Sapphire
# Rapids VM: AVX-512, VNNI and AMX). LLAMA_CPU=haswell (any name of a
# libggml-cpu-NAME.so in the root) restricts it to that one, e.g. to
# compare at the ISA Loom's kernels use (AVX2, FMA, F16C): a Zen 3 or a
# recent Intel desktop CPU without AVX-512, what players have.
#
# Timings are only meaningful on a quiet machine: the script prints
# /proc/pressure/cpu before and after and warns when something else was
# using the CPU.
#
# Usage: ci/bench-vs-llamacpp.sh   (root; env: ROUNDS=3 REPS=3 THREADS=2
#        LLAMA_CPU=haswell, ONLY="135m-q8 360m-f32" to run a subset)
set -eu

MODELS="${LOOM_MODELS:-/var/cache/loom/models}"
ROOT="${LOOM_REF_ROOT:-/var/cache/loom/reference}"
ROUNDS="${ROUNDS:-3}"
REPS="${REPS:-3}"
THREADS="${THREADS:-2}"
ALL="135m-f32 135m-f16 135m-q8 360m-f32 360m-q8"
ONLY="${ONLY:-$ALL}"
LLAMA_CPU="${LLAMA_CPU:-}"
REPO="$(cd "$(dirname "$0")/.." && pwd -P)"
GO="${GO:-go}"

if [ ! -f "$ROOT/.loom-ready" ]; then
	echo "bench-vs-llamacpp: reference root $ROOT is not ready; run ci/reference/build-root.sh" >&2
	exit 1
fi

# inroot runs a command inside the reference root with $MODELS mounted at
# the same path, in a private mount namespace (the mounts vanish with it).
# With LLAMA_CPU set, ggml's backend folder holds only that CPU backend.
inroot() {
	MODELS="$MODELS" ROOT="$ROOT" LLAMA_CPU="$LLAMA_CPU" unshare --mount --propagation private sh -eu -c '
		mkdir -p "$ROOT$MODELS"
		mount --bind "$MODELS" "$ROOT$MODELS"
		mount -t proc proc "$ROOT/proc"
		mount --rbind /dev "$ROOT/dev"
		if [ -n "$LLAMA_CPU" ]; then
			backends="$ROOT/usr/lib/x86_64-linux-gnu/ggml/backends0"
			lib="$backends/libggml-cpu-$LLAMA_CPU.so"
			[ -f "$lib" ] || { echo "bench-vs-llamacpp: no $lib" >&2; exit 1; }
			mount -t tmpfs tmpfs "$ROOT/mnt"
			cp "$lib" "$ROOT/mnt/"
			mount --bind "$ROOT/mnt" "$backends"
		fi
		exec chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 "$@"
	' sh "$@"
}

# convert_py is convert_hf_to_gguf.py with two changes: a model without
# tokenizer.model skips the SentencePiece path (which needs the
# sentencepiece module, not in the root) as if the file were missing, and a
# BPE pre-tokenizer the converter does not know (tiny-chat's) is written as
# "smollm" instead of stopping the conversion. Neither affects llama-bench,
# which feeds token ids.
convert_py='
import runpy, sys
sys.path.insert(1, "/usr/share/llama.cpp/llama.cpp-tools")
import conversion.base as base
orig_sp = base.TextModel._set_vocab_sentencepiece
def sp(self, *args, **kwargs):
    if not (self.dir_model / "tokenizer.model").is_file():
        raise FileNotFoundError("no tokenizer.model")
    return orig_sp(self, *args, **kwargs)
base.TextModel._set_vocab_sentencepiece = sp
orig_pre = base.TextModel.get_vocab_base_pre
def pre(self, tokenizer):
    try:
        return orig_pre(self, tokenizer)
    except NotImplementedError:
        return "smollm"
base.TextModel.get_vocab_base_pre = pre
script = "/usr/share/doc/llama.cpp-tools/scripts/convert_hf_to_gguf.py"
sys.argv = [script] + sys.argv[1:]
runpy.run_path(script, run_name="__main__")
'

# gguf NAME OUTTYPE SRC makes $MODELS/gguf/NAME.gguf from the safetensors
# model SRC (outtype f32 or f16), once.
gguf() {
	out="$MODELS/gguf/$1.gguf"
	[ -f "$out" ] && return 0
	mkdir -p "$MODELS/gguf"
	echo "converting $3 to $out" >&2
	inroot python3 -c "$convert_py" "$MODELS/$3" --outtype "$2" --outfile "$out.tmp" >"$MODELS/gguf/$1.log" 2>&1 ||
		{ tail -20 "$MODELS/gguf/$1.log" >&2; exit 1; }
	mv "$out.tmp" "$out"
}

# quantize NAME SRC makes $MODELS/gguf/NAME.gguf as q8_0 from SRC.gguf, once.
quantize() {
	out="$MODELS/gguf/$1.gguf"
	[ -f "$out" ] && return 0
	echo "quantizing $MODELS/gguf/$2.gguf to $out" >&2
	inroot llama-quantize "$MODELS/gguf/$2.gguf" "$out.tmp" q8_0 >"$MODELS/gguf/$1.log" 2>&1 ||
		{ tail -20 "$MODELS/gguf/$1.log" >&2; exit 1; }
	mv "$out.tmp" "$out"
}

for shape in 135m 360m; do
	"$REPO/ci/cross/big-model.sh" "smollm2-$shape-f32" --shape "$shape" --dtype f32
	gguf "smollm2-$shape-f32" f32 "smollm2-$shape-f32"
	quantize "smollm2-$shape-q8_0" "smollm2-$shape-f32"
done
"$REPO/ci/cross/big-model.sh" smollm2-135m-f16 --shape 135m --dtype f16
gguf smollm2-135m-f16 f16 smollm2-135m-f16

# The configurations: name, Loom model folder, Loom flags, GGUF file.
config() {
	case "$1" in
	135m-f32) echo "smollm2-135m-f32||smollm2-135m-f32" ;;
	135m-f16) echo "smollm2-135m-f16||smollm2-135m-f16" ;;
	135m-q8) echo "smollm2-135m-f32|--quantize q8|smollm2-135m-q8_0" ;;
	360m-f32) echo "smollm2-360m-f32||smollm2-360m-f32" ;;
	360m-q8) echo "smollm2-360m-f32|--quantize q8|smollm2-360m-q8_0" ;;
	*)
		echo "bench-vs-llamacpp: unknown configuration $1 (know: $ALL)" >&2
		exit 2
		;;
	esac
}
for c in $ONLY; do config "$c" >/dev/null; done

OUT="$MODELS/bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
(cd "$REPO" && "$GO" build -o "$OUT/loom" ./cmd/loom)

pressure() { sed -n 's/^some //p' /proc/pressure/cpu; }
before="$(pressure)"
echo "cpu pressure before: $before"
case "$before" in
avg10=0.* | avg10=1.* | avg10=2.*) ;;
*) echo "WARNING: the CPU is busy (pressure above); the timings will be noisy" ;;
esac

for round in $(seq "$ROUNDS"); do
	for c in $ONLY; do
		IFS='|' read -r dir flags ggufname <<EOF
$(config "$c")
EOF
		echo "round $round/$ROUNDS: $c" >&2
		inroot llama-bench -m "$MODELS/gguf/$ggufname.gguf" -t "$THREADS" -p 128 -n 64 -r "$REPS" -o json \
			>"$OUT/$c.llama.$round.json" 2>"$OUT/$c.llama.$round.err" ||
			{ cat "$OUT/$c.llama.$round.err" >&2; exit 1; }
		# shellcheck disable=SC2086 # flags is empty or "--quantize q8".
		"$OUT/loom" bench "$MODELS/$dir" $flags -t "$THREADS" -p 128 -n 64 -r "$REPS" -o json \
			>"$OUT/$c.loom.$round.json"
	done
done
after="$(pressure)"

# The summary runs in the reference root's python3 (the host may have none).
summary_py='
import json, statistics, sys, glob, os
out, configs, threads = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def samples(c, tool):
    s = {"pp": [], "tg": []}
    for path in sorted(glob.glob(os.path.join(out, c + "." + tool + ".*.json"))):
        with open(path) as f:
            data = json.load(f)
        rows = data["results"] if tool == "loom" else data
        for r in rows:
            test = r["test"] if tool == "loom" else ("pp" if r["n_prompt"] > 0 else "tg")
            s[test[:2]] += r["samples_ts"]
    return s
def fmt(v):
    return "%.1f (%.1f-%.1f)" % (statistics.median(v), min(v), max(v)) if v else "-"
def ratio(a, b):
    return "%.2fx" % (statistics.median(a) / statistics.median(b)) if a and b else "-"
print("| config | llama.cpp pp128 | Loom pp128 | pp ratio | llama.cpp tg64 | Loom tg64 | tg ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for c in configs:
    l, g = samples(c, "llama"), samples(c, "loom")
    print("| %s | %s | %s | %s | %s | %s | %s |" % (c, fmt(l["pp"]), fmt(g["pp"]), ratio(g["pp"], l["pp"]),
          fmt(l["tg"]), fmt(g["tg"]), ratio(g["tg"], l["tg"])))
print()
print("tokens/s, median (min-max) over all samples; ratio = Loom / llama.cpp medians; threads " + threads)
print("Loom peak RSS (VmHWM) / weight bytes / KV cache:")
for c in configs:
    with open(sorted(glob.glob(os.path.join(out, c + ".loom.*.json")))[0]) as f:
        r = json.load(f)
    print("  %s: %.1f MiB / %.1f MiB / %.1f MiB" % (c, r["peak_rss_bytes"] / 2**20, r["weight_bytes"] / 2**20, r["kv_cache_bytes"] / 2**20))
'
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "llama.cpp: $(grep '^llama.cpp-tools ' "$ROOT/.loom-versions" || echo unknown), CPU backend ${LLAMA_CPU:-its own choice} ($(grep -ho 'loaded CPU backend from [^ ]*' "$OUT"/*.llama.1.err | sort -u | sed 's,.*/,,' | tr '\n' ' ')); rounds $ROUNDS x $REPS repetitions per tool"
inroot python3 -c "$summary_py" "$OUT" "$ONLY" "$THREADS"
echo "cpu pressure before: $before"
echo "cpu pressure after:  $after"
echo "raw results: $OUT"
