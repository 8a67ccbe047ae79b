#!/usr/bin/env bash
# The torch-free readers of result files (the seal, HDF5 reads with their
# type and shape checks, run.h5, collect, the sweep journal: read_probe.cpp)
# on every corrupted file of the fuzz test, under AddressSanitizer and
# UndefinedBehaviorSanitizer. An out-of-bounds read, a use after free or
# undefined behaviour ends the probe with exit 66 and fails the test. The
# files to corrupt are written by the ordinary build's midge; this script
# configures and builds only the probe in BUILD_DIR.
# usage: readers_asan.sh BUILD_DIR
set -euo pipefail
build=$1
src=${MIDGE_SOURCE_DIR:?MIDGE_SOURCE_DIR not set}
midge=${MIDGE_BINARY:?MIDGE_BINARY not set}
cmake -S "$src" -B "$build" -DMIDGE_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMIDGE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target midge_read_probe -j 2 >"$build/build.log" 2>&1 \
  || { tail -30 "$build/build.log"; echo "FAIL: ASan/UBSan build"; exit 1; }
# UBSan stops at the first report; LeakSanitizer is off (HDF5 keeps
# library-wide allocations until exit, which are not midge's leaks).
export ASAN_OPTIONS="exitcode=66 detect_leaks=0 log_path=$build/asan-report"
export UBSAN_OPTIONS="halt_on_error=1 exitcode=66 print_stacktrace=1 log_path=$build/asan-report"
rm -f "$build"/asan-report.*
status=0
/usr/bin/python3 "$src/tests/integration/fuzz_files.py" --midge "$midge" \
  --probe "$build/tests/midge_read_probe" --only-probe --jobs 2 || status=$?
# A report also fails the test when the probe itself went on: the naming of
# a damaged file's damage runs in a child process, whose exit 66 the probe
# only sees as "cannot be parsed".
reports=$(find "$build" -maxdepth 1 -name 'asan-report.*' | wc -l)
if [ $status -ne 0 ] || [ "$reports" -ne 0 ]; then
  for report in "$build"/asan-report.*; do
    if [ -f "$report" ]; then head -60 "$report"; fi
  done
  echo "FAIL: the readers under AddressSanitizer/UBSan (exit $status, $reports report(s))"
  exit 1
fi
echo "OK: the readers ran on every corrupted file under AddressSanitizer/UBSan"
