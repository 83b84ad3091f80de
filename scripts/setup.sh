#!/usr/bin/env bash
# Sets up ackmeans from a fresh clone: installs the Debian packages the native build needs
# (when missing), then `npm ci` (which builds the addon with cmake-js and the TypeScript).
# Idempotent: run it again at any time. Exits non-zero with a clear message on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(g++ make cmake pkg-config libfftw3-dev libopenblas-dev)

fail() {
  echo "setup: $*" >&2
  exit 1
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || fail "apt-get not found; install these packages by hand: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "not root and no sudo; as root run: apt-get install -y ${missing[*]}"
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || fail "apt-get update failed (is the Debian mirror reachable?)"
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || fail "could not install: ${missing[*]}"
fi

command -v node >/dev/null || fail "Node.js >= 20.19 is required"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  fail "Node.js >= 20.19 is required (found $(node --version))"

if [ -f build/Release/ackmeans_native.node ] && [ -d node_modules ] && [ -f dist/cli.js ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ] && [ -z "${SETUP_FORCE:-}" ]; then
  echo "setup: dependencies and build are present (SETUP_FORCE=1 to redo)"
else
  echo "setup: npm ci (builds the native addon and the TypeScript)"
  npm ci --no-audit --no-fund || fail "npm ci failed"
fi
[ -f build/Release/ackmeans_native.node ] || fail "the native addon was not built (see the cmake-js output above)"
echo "setup: done"
