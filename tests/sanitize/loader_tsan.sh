#!/usr/bin/env bash
# The loader's, the image cache's and the logger's tests under
# ThreadSanitizer: worker threads decode (or take from the cache) images and
# log warnings about unreadable ones while the main thread consumes batches
# and logs too. Any data race (in the loader, or in a
# logging sink shared between threads) fails the test. Configures and builds
# only that test binary (no LibTorch code) with -fsanitize=thread in
# BUILD_DIR.
# usage: loader_tsan.sh BUILD_DIR
set -euo pipefail
build=$1
src=${MIDGE_SOURCE_DIR:?MIDGE_SOURCE_DIR not set}
# -O0: instrumented code compiles slowly when optimised (this build: 41
# core-seconds at -O0, 58 at -O1), and the tests run as fast (6.2 s
# either way: their time is in OpenCV and the runtime, not instrumented).
# ThreadSanitizer sees every access the code makes at any level; at -O0
# there are more of them (nothing kept in registers), none fewer.
cmake -S "$src" -B "$build" -DMIDGE_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g -DNDEBUG" \
  -DMIDGE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target midge_thread_tests -j 2 >"$build/build.log" 2>&1 \
  || { tail -30 "$build/build.log"; echo "FAIL: TSAN build"; exit 1; }
# halt_on_error: the first race ends the run with exit code 66. Reports go
# to files (the logging test redirects stderr while it runs).
rm -f "$build"/tsan-report.*
status=0
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$build/tsan-report suppressions=$src/tests/sanitize/tsan.supp" \
  "$build/tests/midge_thread_tests" || status=$?
if [ $status -ne 0 ]; then
  for report in "$build"/tsan-report.*; do
    if [ -f "$report" ]; then head -60 "$report"; fi
  done
  echo "FAIL: exit code $status under ThreadSanitizer"
  exit 1
fi
echo "OK: loader and logging tests clean under ThreadSanitizer"
