#!/usr/bin/env bash
# Writes each plugin README's option table from the plugin's declaration (`recgrid plugins --markdown
# NAME`), between its `<!-- options` and `<!-- end of options -->` lines. Run after changing a plugin's
# options; the test PluginReadmes.OptionTablesMatchTheDeclarations fails until you do.
# Usage: bash scripts/update-option-tables.sh [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
recgrid="${1:-build}/bin/recgrid"
for readme in plugins/*/*/README.md; do
  name="$(basename "$(dirname "$readme")")"
  table="$("$recgrid" plugins --markdown "$name")"
  grep -q '^<!-- options' "$readme" || { echo "$readme: no '<!-- options' line under ## Options" >&2; exit 1; }
  awk -v table="$table" '
    /^<!-- options/ { print table; skipping = 1; next }
    skipping && /^<!-- end of options -->/ { skipping = 0; next }
    !skipping { print }' "$readme" > "$readme.tmp"
  mv "$readme.tmp" "$readme"
  echo "$readme: $(grep -c '^| `' <<< "$table") options"
done
