#!/usr/bin/env bash
# Packaging check (CI): `npm pack`, install the tarball in a fresh folder, run the installed
# `ackmeans --version` and `ackmeans doctor`, load `ackmeans`, `ackmeans/server` and
# `ackmeans/report`, then `node-gyp rebuild` from the installed package (every file binding.gyp
# needs must ship) and `doctor` again against that build. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "check-package: npm pack"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
cd "$work"
# (the listing goes to a variable first: `grep -q` closing the pipe early would fail it under pipefail)
listing=$(tar -tzf "$tarball")
grep -qx 'package/scripts/gyp-sources.cjs' <<<"$listing" ||
  { echo "check-package: the tarball lacks scripts/gyp-sources.cjs" >&2; exit 1; }

echo "check-package: install $tarball in a fresh folder (builds the addon with cmake-js)"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "./$tarball"

echo "check-package: the installed command"
./node_modules/.bin/ackmeans --version
./node_modules/.bin/ackmeans doctor

echo "check-package: the entry points"
node --input-type=module -e "
const main = await import('ackmeans');
const server = await import('ackmeans/server');
const report = await import('ackmeans/report');
for (const [what, ok] of [['classify', typeof main.classify], ['startServer', typeof server.startServer],
  ['writeClassifyReport', typeof report.writeClassifyReport]])
  if (ok !== 'function') { console.error('check-package: missing export ' + what); process.exit(1); }
console.log('entry points load');"

echo "check-package: node-gyp rebuild from the installed package"
# node-gyp run by hand does not see npm's `nodedir` setting (npm passes it only to scripts): pass it
# on, so machines with the headers installed (no download) work too.
nodedir=$(npm config get nodedir)
gyp_args=(rebuild --loglevel=error)
[[ -n $nodedir && $nodedir != undefined && $nodedir != null ]] && gyp_args+=("--nodedir=$nodedir")
(cd node_modules/ackmeans && "$repo/node_modules/.bin/node-gyp" "${gyp_args[@]}" >/dev/null)
./node_modules/.bin/ackmeans doctor
echo "check-package: ok"
