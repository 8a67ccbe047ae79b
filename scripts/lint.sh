#!/usr/bin/env bash
# Style gate (docs/architecture.md, Style): clang-format must leave every C++ file
# unchanged, and clang-tidy's naming check must pass on every translation
# unit. usage: scripts/lint.sh [BUILD_DIR]   (needs compile_commands.json)
# A missing, crashing or failing tool fails the gate: "clean" is printed only
# when both tools ran and found nothing. MIDGE_CLANG_FORMAT / MIDGE_CLANG_TIDY
# name other binaries (tests/integration/lint_gate.sh uses them).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
format=${MIDGE_CLANG_FORMAT:-clang-format}
tidy=${MIDGE_CLANG_TIDY:-clang-tidy}
[ -f "$build/compile_commands.json" ] || { echo "lint: $build/compile_commands.json missing (configure first)"; exit 2; }
for tool in "$format" "$tidy"; do
  command -v "$tool" >/dev/null || { echo "lint: $tool not found (scripts/install-deps.sh installs it)"; exit 2; }
done
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h')
status=0
echo "lint: clang-format on ${#files[@]} files"
"$format" --dry-run -Werror "${files[@]}" || status=1
# clang-tidy runs on what the build compiles (compile_commands.json): in a
# unity build (cmake/MidgeUnity.cmake) a batch that #includes a target's
# sources, whose names are checked as the batch's headers (.clang-tidy's
# HeaderFilterRegex covers src/, tests/ and bench/), so LibTorch's headers
# are parsed once a target rather than once a source (a target built in
# several batches is merged into one unit below). A source the build
# does not compile (a CMake test fixture) is checked on its own.
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
# The build's precompiled <torch/torch.h> (cmake/MidgePch.cmake, without
# unity builds) is GCC's format, which clang refuses ("not a valid
# precompiled PCH file"): clang-tidy reads the compile commands without it,
# and parses the header itself.
sed -e 's# -include [^ "]*/cmake_pch\.hxx##g' -e 's# -Winvalid-pch##g' \
  "$build/compile_commands.json" >"$db/build_commands.json"
# One unit per target: its unity batches merged (scripts/lint_units.py),
# so that LibTorch's headers are parsed once per target.
/usr/bin/python3 scripts/lint_units.py "$db/build_commands.json" "$db"
mapfile -t compiled < <(/usr/bin/python3 -c '
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(entry["file"])' "$db/compile_commands.json" | sort -u)
[ ${#compiled[@]} -gt 0 ] || { echo "lint: no translation units in $build/compile_commands.json"; exit 2; }
# Sources reached by the build: compiled themselves or #included by a batch.
reached=$db/reached
for unit in "${compiled[@]}"; do
  realpath --relative-to=. "$unit"
  if [[ $unit == */Unity/unity_* || $unit == */*_lint.cxx ]]; then
    sed -n 's/^#include "\(.*\)"$/\1/p' "$unit" | xargs -r realpath --relative-to=.
  fi
done | sort -u >"$reached"
mapfile -t alone < <(printf '%s\n' "${files[@]}" | grep '\.cpp$' | sort | comm -23 - "$reached")
units=("${compiled[@]}" "${alone[@]}")
echo "lint: clang-tidy (naming) on ${#units[@]} translation units (${#alone[@]} not compiled by the build)"
log=$db/tidy.log
# Two at a time: the machine has two cores. xargs exits non-zero when any
# clang-tidy run fails, crashes or is killed; its diagnostics are kept.
if ! printf '%s\n' "${units[@]}" | xargs -P 2 -n 1 "$tidy" -p "$db" --quiet >"$log" 2>&1; then
  echo "lint: clang-tidy failed:"
  grep -v "warnings generated\.$" "$log" || echo "(no output)"
  status=1
elif grep -E "(warning|error):" "$log"; then
  status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
