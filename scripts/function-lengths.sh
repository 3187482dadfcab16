#!/usr/bin/env bash
# Lists the longest functions of core/ and runner/ and fails when one is longer than the limit.
# Usage: bash scripts/function-lengths.sh [LIMIT=60] [TOP=15]
# Lengths are lines from the signature to the closing brace, as universal-ctags reports them.
# Lambdas count inside the function that holds them. Generated code is not in core/ or runner/; a
# function that is a table (one row per entry) says so on the line above it with the comment
# `// function-lengths: a table`, and is listed but not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${1:-60}"
top="${2:-15}"
bash scripts/install-packages.sh lint

# One row per function or method: length, file:line, name.
rows="$(find core runner -name '*.cpp' -o -name '*.hpp' -o -name '*.h' | sort |
  ctags -L - --languages=C++,C --kinds-C++=f --kinds-C=f --fields=+ne --extras=-F -o - |
  awk -F'\t' '
    $1 ~ /^__anon/ { next }   # lambdas: counted in their enclosing function
    {
      start = 0; end = 0
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^line:/) start = substr($i, 6)
        if ($i ~ /^end:/) end = substr($i, 5)
      }
      if (start > 0 && end >= start) printf "%d\t%s:%d\t%s\n", end - start + 1, $2, start, $1
    }' | sort -t$'\t' -k1,1nr -k2,2)"

echo "longest functions in core/ and runner/ (limit $limit lines):"
# awk reads every row (no `head`: its early exit would be a SIGPIPE failure under pipefail).
awk -F'\t' -v top="$top" 'NR <= top { printf "  %4d  %-45s %s\n", $1, $2, $3 }' <<< "$rows"
over=0
while IFS=$'\t' read -r length where name; do
  file="${where%%:*}" line="${where##*:}"
  if sed -n "$((line - 1))p" "$file" | grep -q "function-lengths: a table"; then
    echo "  ($name at $where is a table: not counted)"
    continue
  fi
  echo "  over the limit: $name at $where, $length lines"
  over=$((over + 1))
done < <(awk -F'\t' -v limit="$limit" '$1 > limit' <<< "$rows")
if [ "$over" -gt 0 ]; then
  echo "function-lengths: $over function(s) over $limit lines; split them along their jobs (docs/DESIGN.md)" >&2
  exit 1
fi
echo "function-lengths: none over $limit lines"
