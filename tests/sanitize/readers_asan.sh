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
# -O0: instrumented code compiles slowly when optimised (the ASan/UBSan
# build of the probe alone on 2 cores: 71 s at -O1, 17 s at -O0), and the
# probe's runs are HDF5's (not instrumented) and the checksums' work, which
# tests/CMakeLists.txt keeps at -O1.
cmake -S "$src" -B "$build" -DMIDGE_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g -DNDEBUG" \
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
# Reports are read even when the probe went on. The naming of a damaged
# file's damage (io/integrity.cpp, diagnose_isolated) parses it with HDF5
# in a forked child, because HDF5 itself overruns its buffers on some
# damaged files (seen here: H5HG_read's memcpy on a damaged global heap).
# Such a report from inside that child is the damage contained, as
# designed: counted and shown, not failed. Any other report fails the test.
reports=0
contained=0
for report in "$build"/asan-report.*; do
  [ -f "$report" ] || continue
  if grep -q "in diagnose_isolated" "$report" && grep -q "libhdf5" "$report"; then
    contained=$((contained + 1))
  else
    reports=$((reports + 1))
    head -60 "$report"
  fi
done
if [ $contained -ne 0 ]; then
  echo "note: $contained report(s) inside HDF5 in the forked child that names the damage (contained):"
  grep -h -m1 "ERROR: AddressSanitizer\|runtime error" "$build"/asan-report.* | sort | uniq -c
fi
if [ $status -ne 0 ] || [ "$reports" -ne 0 ]; then
  echo "FAIL: the readers under AddressSanitizer/UBSan (exit $status, $reports report(s))"
  exit 1
fi
echo "OK: the readers ran on every corrupted file under AddressSanitizer/UBSan"
