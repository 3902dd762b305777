#!/usr/bin/env bash
# Checks the class reference (extension/doc_classes) against the API the
# extension really registers: Godot's doctool regenerates the XML from
# ClassDB, merging in our descriptions; any class, method, property, signal,
# argument or default that differs from what is written shows up as a diff.
# Then every entry must have a description. Needs the addon built and
# extension/godot-test imported (ci/godot/test.sh does both).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
DOCS="$REPO/extension/doc_classes"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$DOCS" "$tmp/doc_classes"
timeout 300 "$REPO/ci/godot/godot.sh" --headless --path "$REPO/extension/godot-test" --doctool "$tmp" --gdextension-docs >/dev/null 2>&1
if ! diff -ru "$DOCS" "$tmp/doc_classes"; then
	echo "check_docs: extension/doc_classes differs from the registered API (diff above; - is ours, + is Godot's)" >&2
	exit 1
fi
# An empty <description>, <brief_description> or <member> has only
# whitespace between its tags.
if grep -Pzo '<(brief_description|description)>\s*</\1>|<member [^>]*>\s*</member>' "$DOCS"/*.xml | tr '\0' '\n' | grep .; then
	echo "check_docs: the entries above have no description" >&2
	exit 1
fi
echo "check_docs: $(ls "$DOCS" | wc -l) classes documented completely"
