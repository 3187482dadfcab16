#!/usr/bin/env bash
# Installs what RecGrid needs (Debian 12 packages) and builds it with CMake + Ninja into build/.
# Idempotent: installs only missing packages, and an up-to-date build does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-openmp        # LibTorch 1.13 (CPU) on OpenBLAS with OpenMP (not reference BLAS)
  libyaml-cpp-dev libboost-dev libboost-program-options-dev libspdlog-dev nlohmann-json3-dev
  libcurl4-openssl-dev                    # HTTP of the LLM / embedding clients
  libgtest-dev
  jq                                      # the reproduction scripts' tables read results.json with it
)
# `setup.sh --tests`: what only the test suite needs.
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium)                    # headless check of the HTML report (tests/test_grid_cli.cpp)
  packages+=(libcpp-httplib-dev)          # the local OpenAI-compatible test server (tests/test_llm.cpp)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_type="${RECGRID_BUILD_TYPE:-Release}"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build build -j "$(nproc)"
