#!/usr/bin/env bash
# Checks the layers of docs/DESIGN.md ("The layers") on every quoted #include:
#   sdk/      includes only the SDK (sdk/include/recgrid/) and itself
#   plugins/  includes only the SDK and files of its own folder (its test_*.cpp are test code)
#   core/     the host: the SDK and the host (core/src/), never the runner
#   runner/   anything but tests
# tests/, bench/ and fuzz/ may include anything. Exit 1 with file:line for each include that breaks a
# rule. Usage: bash scripts/check-layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The layer an included file belongs to: sdk, host, runner, tests, own (beside the includer), or ?.
layer_of() {
  local includer_dir="$1" name="$2"
  if [ -f "$includer_dir/$name" ]; then
    case "$(realpath -m --relative-to=. "$includer_dir/$name")" in
      sdk/*) echo sdk ;; core/*) echo host ;; runner/*) echo runner ;; tests/*) echo tests ;;
      plugins/*) echo own ;; *) echo "?" ;;
    esac
  elif [ -f "sdk/include/$name" ] || [ "$name" = recgrid/version.hpp ]; then echo sdk  # version.hpp is generated
  elif [ -f "core/src/$name" ]; then echo host
  elif [ -f "tests/$name" ]; then echo tests
  else echo "?"
  fi
}

# The layers a file may include.
allowed_for() {
  case "$1" in
    sdk/*) echo "sdk" ;;
    plugins/*/test_*.cpp) echo "sdk own host tests" ;;
    plugins/*) echo "sdk own" ;;
    core/*) echo "sdk host" ;;
    runner/*) echo "sdk host runner" ;;
    *) echo "sdk host runner tests own" ;;
  esac
}

broken=0
while IFS= read -r file; do
  allowed=" $(allowed_for "$file") "
  while IFS=: read -r line name; do
    layer="$(layer_of "$(dirname "$file")" "$name")"
    # A plugin's "own" file must also sit in the plugin's own folder, not in another plugin's.
    if [ "$layer" = own ] && [[ "$file" == plugins/* ]]; then
      target="$(realpath -m --relative-to=. "$(dirname "$file")/$name")"
      [ "$(dirname "$target")" = "$(dirname "$file")" ] || layer="another plugin"
    fi
    if [[ "$allowed" != *" $layer "* ]]; then
      echo "$file:$line: includes \"$name\" ($layer), which the ${file%%/*} layer may not include (docs/DESIGN.md, The layers)"
      broken=$((broken + 1))
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(find sdk core runner plugins -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.in' | sort)

if [ "$broken" -gt 0 ]; then
  echo "check-layers: $broken include(s) across the layers" >&2
  exit 1
fi
echo "check-layers: every include of sdk/, plugins/, core/ and runner/ respects the layers"
