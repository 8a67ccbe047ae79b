#!/usr/bin/env bash
# Style gate (DESIGN.md style 7): clang-format must leave every C++ file
# unchanged, and clang-tidy's naming check must pass on every translation
# unit. usage: scripts/lint.sh [BUILD_DIR]   (needs compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/compile_commands.json" ] || { echo "lint: $build/compile_commands.json missing (configure first)"; exit 2; }
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h')
status=0
echo "lint: clang-format on ${#files[@]} files"
clang-format --dry-run -Werror "${files[@]}" || status=1
mapfile -t units < <(printf '%s\n' "${files[@]}" | grep '\.cpp$')
echo "lint: clang-tidy (naming) on ${#units[@]} translation units"
# Two at a time: the machine has two cores.
tidy=$(printf '%s\n' "${units[@]}" | xargs -P 2 -n 4 clang-tidy -p "$build" --quiet 2>/dev/null) || true
if grep -E "(warning|error):" <<<"$tidy"; then status=1; fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
