#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite (unit + integration on small real data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
ctest --test-dir build --no-tests=error --output-on-failure -j "$(nproc)"
