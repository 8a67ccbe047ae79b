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
echo "OK: lint fails without clang-tidy and with a crashing clang-tidy, and sees bad names in a batch's sources"
