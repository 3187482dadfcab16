#!/usr/bin/env bash
# Installs what RecGrid needs (Debian 12 packages, scripts/packages/*.txt) and builds it with
# CMake + Ninja into build/. Idempotent: installs only missing packages; an up-to-date build does nothing.
#   bash scripts/setup.sh           the main job's packages; a new build/ is configured without the tests
#   bash scripts/setup.sh --tests   also the test suite's packages, and build/ with the tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--tests" ] && with_tests=1
if [ $with_tests = 1 ]; then
  bash scripts/install-packages.sh main tests
else
  bash scripts/install-packages.sh main
fi

build_type="${RECGRID_BUILD_TYPE:-Release}"
if [ $with_tests = 1 ]; then
  # (Re)configure with the tests on; an existing build keeps its objects.
  if [ ! -f build/build.ninja ] || ! grep -q '^RECGRID_BUILD_TESTS:BOOL=ON' build/CMakeCache.txt; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DRECGRID_BUILD_TESTS=ON
  fi
elif [ ! -f build/build.ninja ]; then
  # The main job alone: no test targets, so no test-only packages are needed. A build/ that the test
  # command configured keeps its tests.
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DRECGRID_BUILD_TESTS=OFF
fi
cmake --build build -j "$(nproc)"
