#!/usr/bin/env bash
# Copies a model folder's own files (config, tokenizer, weights or shards,
# and golden.json, transformers' reference output in test models) into a
# Godot project folder, leaving out other test data (logits dumps).
#
#   ci/godot/copy_model.sh MODEL_DIR DEST_DIR
set -euo pipefail
MODEL="$1"
DEST="$2"
[ -f "$MODEL/config.json" ] || { echo "copy_model: $MODEL has no config.json" >&2; exit 1; }
rm -rf "$DEST"
mkdir -p "$DEST"
for f in config.json generation_config.json tokenizer.json tokenizer_config.json model.safetensors.index.json golden.json; do
	[ ! -f "$MODEL/$f" ] || cp "$MODEL/$f" "$DEST/"
done
cp "$MODEL"/*.safetensors "$DEST/"
