#!/usr/bin/env bash
# The style gate must fail when clang-tidy is missing or crashes: a gate
# that prints "clean" without having run its tool checks nothing.
# usage: lint_gate.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=$1
tmp=$WORK  # lib.sh removes it on exit
cd "$MIDGE_SOURCE_DIR"

# refused TIDY MESSAGE: scripts/lint.sh with TIDY as clang-tidy must exit
# non-zero, say MESSAGE and never "clean".
refused() {
  local tidy=$1 message=$2 rc=0
  MIDGE_CLANG_TIDY="$tidy" bash scripts/lint.sh "$build" >"$tmp/log" 2>&1 || rc=$?
  [ $rc -ne 0 ] || fail "lint passed with clang-tidy = $tidy: $(cat "$tmp/log")"
  grep -q "$message" "$tmp/log" || fail "no '$message' from lint: $(cat "$tmp/log")"
  ! grep -q "lint: clean" "$tmp/log" || fail "lint printed clean with clang-tidy = $tidy"
}

refused "$tmp/no-such-clang-tidy" "no-such-clang-tidy not found"
# A clang-tidy that crashes (SIGSEGV) on every call.
printf '#!/bin/sh\nkill -SEGV $$\n' >"$tmp/crashing-clang-tidy"
chmod +x "$tmp/crashing-clang-tidy"
refused "$tmp/crashing-clang-tidy" "clang-tidy failed"

# scripts/lint.sh hands clang-tidy the unity batches of the build
# (cmake/MidgeUnity.cmake), whose sources are #included: a bad name in such
# a source must still be reported, which holds only while .clang-tidy's
# header filter covers the source folders.
mkdir -p "$tmp/unity/tests" "$tmp/unity/Unity"
cp .clang-tidy "$tmp/unity/"
printf 'namespace {\nint BadName() { return 1; }\n}  // namespace\nint use() { return BadName(); }\n' \
  >"$tmp/unity/tests/named.cpp"
printf '#include "%s"\n' "$tmp/unity/tests/named.cpp" >"$tmp/unity/Unity/unity_0_cxx.cxx"
printf '[{"directory": "%s", "command": "c++ -std=c++17 -c %s", "file": "%s"}]\n' \
  "$tmp/unity" "$tmp/unity/Unity/unity_0_cxx.cxx" "$tmp/unity/Unity/unity_0_cxx.cxx" \
  >"$tmp/unity/compile_commands.json"
rc=0
clang-tidy -p "$tmp/unity" --quiet "$tmp/unity/Unity/unity_0_cxx.cxx" >"$tmp/log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "clang-tidy passed a batch whose source has a bad name: $(cat "$tmp/log")"
grep -q "named.cpp:2:5: error: invalid case style for function 'BadName'" "$tmp/log" ||
  fail "clang-tidy did not name the bad name in the batch's source: $(cat "$tmp/log")"

# scripts/lint_units.py merges a target's batches into one unit (LibTorch
# parsed once per target): a bad name in the second batch's source must
# still be reported from the merged unit, and a batch with another command
# must stay a unit of its own.
t=$tmp/merge/CMakeFiles/t.dir
mkdir -p "$t/Unity" "$tmp/merge/tests" "$tmp/merge/db"
cp .clang-tidy "$tmp/merge/"
printf 'namespace {\nint good_name() { return 1; }\n}  // namespace\nint first() { return good_name(); }\n' \
  >"$tmp/merge/tests/first.cpp"
printf 'namespace {\nint OtherBadName() { return 2; }\n}  // namespace\nint second() { return OtherBadName(); }\n' \
  >"$tmp/merge/tests/second.cpp"
entries=""
for i in 0 1 2; do
  src=$([ $i -eq 0 ] && echo first || echo second)
  printf '#include "%s"\n' "$tmp/merge/tests/$src.cpp" >"$t/Unity/unity_${i}_cxx.cxx"
  flags="-std=c++17"
  [ $i -ne 2 ] || flags="-std=c++17 -DOTHER_COMMAND"
  entries+=$(printf '{"directory": "%s", "command": "c++ %s -o CMakeFiles/t.dir/Unity/unity_%s_cxx.cxx.o -c %s", "file": "%s"}' \
    "$tmp/merge" "$flags" "$i" "$t/Unity/unity_${i}_cxx.cxx" "$t/Unity/unity_${i}_cxx.cxx")
  [ $i -eq 2 ] || entries+=","
done
echo "[$entries]" >"$tmp/merge/build_commands.json"
/usr/bin/python3 scripts/lint_units.py "$tmp/merge/build_commands.json" "$tmp/merge/db" ||
  fail "lint_units.py failed"
mapfile -t units < <(/usr/bin/python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])): print(e["file"])' "$tmp/merge/db/compile_commands.json")
merged=$(printf '%s\n' "${units[@]}" | grep "_lint\.cxx$")
# One check each, so that a failure says which. grep reads a here-string,
# not a pipe: under pipefail `printf | grep -q` can fail when grep exits
# before printf has written everything (SIGPIPE).
[ ${#units[@]} -eq 2 ] || fail "expected 2 units (merged, and batch 2 of another command): ${units[*]}"
grep -qx "$t/Unity/unity_2_cxx.cxx" <<<"$(printf '%s\n' "${units[@]}")" ||
  fail "batch 2 (another command) is not a unit of its own: ${units[*]}"
[ -f "$merged" ] || fail "the merged unit $merged is not there: $(ls -la "$tmp/merge/db")"
rc=0
clang-tidy -p "$tmp/merge/db" --quiet "$merged" >"$tmp/log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "clang-tidy passed the merged unit whose second batch has a bad name: $(cat "$tmp/log")"
grep -q "second.cpp:2:5: error: invalid case style for function 'OtherBadName'" "$tmp/log" ||
  fail "clang-tidy did not name the bad name of the merged unit's second batch: $(cat "$tmp/log")"
echo "OK: lint fails without clang-tidy and with a crashing clang-tidy, and sees bad names in a batch's sources and in a target's merged batches"
