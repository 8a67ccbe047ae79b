#!/usr/bin/env bash
# The style gate must fail when clang-tidy is missing or crashes: a gate
# that prints "clean" without having run its tool checks nothing.
# usage: lint_gate.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$MIDGE_SOURCE_DIR"

# 1. No clang-tidy at all.
set +e
MIDGE_CLANG_TIDY="$tmp/no-such-clang-tidy" bash scripts/lint.sh "$build" >"$tmp/missing.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "lint passed without clang-tidy: $(cat "$tmp/missing.log")"
grep -q "no-such-clang-tidy not found" "$tmp/missing.log" || fail "no 'not found' message: $(cat "$tmp/missing.log")"
! grep -q "lint: clean" "$tmp/missing.log" || fail "lint printed clean without clang-tidy"

# 2. A clang-tidy that crashes (SIGSEGV) on every call.
printf '#!/bin/sh\nkill -SEGV $$\n' >"$tmp/crashing-clang-tidy"
chmod +x "$tmp/crashing-clang-tidy"
set +e
MIDGE_CLANG_TIDY="$tmp/crashing-clang-tidy" bash scripts/lint.sh "$build" >"$tmp/crash.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "lint passed with a crashing clang-tidy: $(cat "$tmp/crash.log")"
grep -q "clang-tidy failed" "$tmp/crash.log" || fail "no failure message: $(cat "$tmp/crash.log")"
! grep -q "lint: clean" "$tmp/crash.log" || fail "lint printed clean with a crashing clang-tidy"
echo "OK: lint fails without clang-tidy and with a crashing clang-tidy"
