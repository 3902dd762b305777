#!/bin/sh
# run.sh runs `python3 SCRIPT ARGS...` inside the reference root built by
# build-root.sh, so reference scripts see sid's transformers/torch/tokenizers
# whatever the host has.
#
# How: a private mount namespace (unshare -m) in which the repository is
# bind-mounted at the SAME absolute path inside the root, plus /proc, /dev and
# the npm cache (${LOOM_NPM_CACHE:-/var/cache/loom/npm}, read-only, at /npm
# when it exists); then chroot. The mounts live only in that namespace, so they
# disappear when the command exits (even on a crash or kill) and concurrent
# runs never see or unmount each other's mounts.
#
# The working directory is kept when it lies inside the repository (else the
# repository root is used), so relative paths and absolute paths inside the
# repository both work. Paths outside the repository do not exist in the root.
# The environment is reset: HOME=/tmp, Hugging Face offline, no .pyc files in
# the repository, PYTHONHASHSEED=0. LOOM_* variables are passed through.
#
# Needs root (mount namespaces, chroot).
set -eu

DIR="${LOOM_REF_ROOT:-/var/cache/loom/reference}"
NPM="${LOOM_NPM_CACHE:-/var/cache/loom/npm}"

if [ $# -lt 1 ]; then
	echo "usage: $0 SCRIPT [ARGS...]" >&2
	exit 2
fi
if [ ! -f "$DIR/.loom-ready" ]; then
	echo "run.sh: reference root $DIR is not ready; run ci/reference/build-root.sh" >&2
	exit 1
fi

REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
CWD="$(pwd -P)"
case "$CWD/" in
"$REPO"/*) ;;
*) CWD="$REPO" ;;
esac
# LOOM_* settings the script may use, as env assignments for env(1).
LOOM_VARS="$(env | grep '^LOOM_[A-Za-z0-9_]*=' | grep -v '[[:space:]]' || true)"
export DIR NPM REPO CWD LOOM_VARS

exec unshare --mount --propagation private sh -eu -c '
	mkdir -p "$DIR$REPO" "$DIR/npm"
	mount --bind "$REPO" "$DIR$REPO"
	mount -t proc proc "$DIR/proc"
	mount --rbind /dev "$DIR/dev"
	if [ -d "$NPM" ]; then
		mount --bind "$NPM" "$DIR/npm"
		mount -o remount,bind,ro "$DIR/npm"
	fi
	# shellcheck disable=SC2086 # LOOM_VARS holds whitespace-free NAME=value words.
	exec chroot "$DIR" /usr/bin/env -i \
		PATH=/usr/local/bin:/usr/bin:/bin \
		HOME=/tmp LANG=C.UTF-8 \
		HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
		PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 \
		$LOOM_VARS \
		sh -c "cd \"\$0\" && exec python3 \"\$@\"" "$CWD" "$@"
' sh "$@"
