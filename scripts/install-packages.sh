#!/usr/bin/env bash
# Installs the Debian packages of the named lists (scripts/packages/<list>.txt) that are missing.
# Usage: bash scripts/install-packages.sh main [tests] [fuzz] [check]
# Idempotent and quiet when everything is there; runs `apt-get update` once, only when it installs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

packages=()
for list in "$@"; do
  file="$here/packages/$list.txt"
  [ -f "$file" ] || { echo "install-packages: no package list $file" >&2; exit 2; }
  while read -r name _; do
    case "$name" in ''|'#'*) continue ;; esac
    packages+=("$name")
  done < "$file"
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
