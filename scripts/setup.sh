#!/usr/bin/env bash
# Installs the Debian packages Osprey builds against, when missing. Safe to run repeatedly.
set -euo pipefail
# Build dependencies; with --test also chromium, in which the web page test renders the serve UI (the test
# skips with a message when it is absent).
packages=(pkg-config libpcre2-dev zlib1g-dev libmaxminddb-dev libsqlite3-dev libjemalloc-dev)
[ "${1:-}" = "--test" ] && packages+=(chromium)
# --instructions: valgrind (and binutils for strip), for make bench-instructions.
[ "${1:-}" = "--instructions" ] && packages+=(valgrind binutils)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift not found on PATH (Swift 6 toolchain required)" >&2; exit 1; }
