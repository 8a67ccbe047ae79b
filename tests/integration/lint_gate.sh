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
echo "OK: lint fails without clang-tidy and with a crashing clang-tidy"
