#!/bin/sh
# big-model.sh makes (once) a SmolLM2-shaped random model under
# /var/cache/loom/models with ci/reference/make_big_models.py, run in the
# reference root, into $MODELS/NAME. The other arguments are passed to the
# script. Nothing is done when the model is already there.
#
#   ci/cross/big-model.sh smollm2-135m-bf16 --shape 135m --dtype bf16
#
# The reference root sees only the repository, so this bind-mounts $MODELS
# at the same path inside it, in a private mount namespace that run.sh's own
# namespace inherits (the mount vanishes when the command exits).
set -eu
MODELS="${LOOM_MODELS:-/var/cache/loom/models}"
ROOT="${LOOM_REF_ROOT:-/var/cache/loom/reference}"
if [ $# -lt 1 ]; then
	echo "usage: $0 NAME [make_big_models.py options]" >&2
	exit 2
fi
NAME="$1"
shift
if [ -f "$MODELS/$NAME/model.safetensors" ]; then
	exit 0
fi
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
mkdir -p "$MODELS"
export MODELS ROOT REPO NAME
unshare --mount --propagation private sh -eu -c '
	mkdir -p "$ROOT$MODELS"
	mount --bind "$MODELS" "$ROOT$MODELS"
	exec "$REPO/ci/reference/run.sh" "$REPO/ci/reference/make_big_models.py" --out "$MODELS/$NAME.tmp" "$@"
' sh "$@"
mv "$MODELS/$NAME.tmp" "$MODELS/$NAME"
