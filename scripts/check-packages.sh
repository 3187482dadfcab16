#!/usr/bin/env bash
# CI guard: every package CMake requires is in a package list. A find_package / pkg_check_modules
# outside tests/ must map to a package of scripts/packages/main.txt, one in tests/ to main.txt or
# tests.txt. A CMake name missing from the table below is an error too (add its Debian package).
# Exit 1 and a line per problem when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# CMake package (or pkg-config module) -> the Debian 12 package that provides it.
declare -A provider=(
  [Torch]=libtorch-dev [yaml-cpp]=libyaml-cpp-dev [Boost]=libboost-program-options-dev
  [spdlog]=libspdlog-dev [nlohmann_json]=nlohmann-json3-dev [CURL]=libcurl4-openssl-dev
  [ZLIB]=zlib1g-dev
  [OpenMP]=g++ [GTest]=libgtest-dev [PkgConfig]=pkg-config [cpp-httplib]=libcpp-httplib-dev
  [RecGrid]=-   # our own package (the out-of-tree example)
)

list_of() { grep -v '^\s*#' "scripts/packages/$1.txt" | awk 'NF {print $1}'; }
main_list=$(list_of main)
test_list=$(printf '%s\n%s\n' "$main_list" "$(list_of tests)")

# The CMake names a file requires: find_package(NAME ...) and pkg_check_modules(VAR ... module).
required_names() {
  grep -hoE 'find_package\(\s*[A-Za-z0-9_+-]+' "$@" | sed -E 's/find_package\(\s*//'
  grep -hoE 'pkg_check_modules\([^)]*\)' "$@" | sed -E 's/pkg_check_modules\(//; s/\)//' |
    tr ' ' '\n' | grep -vE '^(REQUIRED|QUIET|IMPORTED_TARGET|GLOBAL|NO_CMAKE_PATH|NO_CMAKE_ENVIRONMENT_PATH)?$' | tail -n +2
}

status=0
check() {  # check PURPOSE LIST FILES...
  local purpose=$1 list=$2; shift 2
  for name in $(required_names "$@" | sort -u); do
    local pkg=${provider[$name]:-}
    if [ -z "$pkg" ]; then
      echo "check-packages: $name (required in $purpose CMake files) has no Debian package in the table of $0"
      status=1
    elif [ "$pkg" != "-" ] && ! grep -qx -- "$pkg" <<<"$list"; then
      echo "check-packages: $name needs the Debian package $pkg, missing from the $purpose list"
      status=1
    fi
  done
}

mapfile -t main_files < <(find . -path ./build -prune -o -path ./tests -prune -o -path ./fuzz -prune -o \
                                -path ./examples -prune -o \( -name CMakeLists.txt -o -name '*.cmake' -o -name '*.cmake.in' \) -print)
mapfile -t test_files < <(find tests -name CMakeLists.txt -o -name '*.cmake')
check main "$main_list" "${main_files[@]}"
check tests "$test_list" "${test_files[@]}"
[ $status = 0 ] && echo "check-packages: every package CMake requires is listed (main: ${#main_files[@]} files, tests: ${#test_files[@]})"
exit $status
