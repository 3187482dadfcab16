#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite (unit + integration on small real data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
rc=0
ctest --test-dir build --no-tests=error --output-on-failure -j "$(nproc)" || rc=$?
# The paper_data tests skip, by name, without the paper's datasets: say how to get them.
if grep -q "the paper's dataset .* is not in" build/Testing/Temporary/LastTest.log 2>/dev/null; then
  echo "The paper_data tests did not run: the paper's datasets are not at the data root. Get them with"
  echo "  build/bin/recgrid data get amazon yelp movie     then: ctest --test-dir build -L paper_data"
fi
exit $rc
