#!/usr/bin/env bash
# npm run lint:native: the C++ under native/ is formatted as .clang-format says (clang-format
# --dry-run -Werror), and native/core passes the checks in .clang-tidy (likely bugs, needless
# copies). Needs the Debian packages clang-format, clang-tidy and libomp-dev.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in clang-format clang-tidy; do
  command -v "$tool" >/dev/null || { echo "lint:native: $tool not found (apt-get install $tool)" >&2; exit 1; }
done
# Layers (issue 11): native/core is plain C++ (the Node-API layer is native/addon only).
if grep -nE '#include *[<"](napi|node_api|node)[^>"]*[>"]' native/core/*; then
  echo "lint:native: native/core must not include Node-API headers (move that code to native/addon)" >&2
  exit 1
fi
files=$(ls native/core/*.cpp native/core/*.h native/addon/*.cpp native/addon/*.h native/test/*.cpp)
clang-format --dry-run -Werror $files
echo "clang-format: $(echo "$files" | wc -l) files formatted"
# clang's own omp.h comes with the Debian package libomp-dev.
clang-tidy --quiet native/core/*.cpp -- -std=c++17 -fopenmp $(pkg-config --cflags fftw3f openblas) 2>&1 | { grep -v "warnings generated" || true; }
echo "clang-tidy: native/core clean"
