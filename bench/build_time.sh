#!/usr/bin/env bash
# Clean-build times (issue #27): a fresh build folder of this checkout,
# configured as scripts/build.sh does (Release, 2 jobs), timed in two parts:
#   midge       the `midge` target alone (what scripts/demo.sh builds)
#   the rest    every other target (tests, benchmarks), built after it
# "everything" is their sum. Every compile goes through a launcher
# (bench/compile_timer.sh) that records its seconds and peak memory, so the
# slowest translation units and the precompiled headers' own cost are
# listed too. Extra arguments go to CMake; e.g. source by source with a
# precompiled header: bench/build_time.sh -DMIDGE_UNITY=OFF; CMAKE_GENERATOR
# picks the generator ("Unix Makefiles" to time Make).
# Prints one line per part, the 8 slowest compiles, and one JSON line.
# usage: bench/build_time.sh [CMAKE ARGS...]   (BUILD_TIME_DIR: the folder,
# default a temporary one, removed afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh  # the generator scripts/build.sh uses (Ninja where installed)
jobs=${MIDGE_BUILD_JOBS:-2}
dir=${BUILD_TIME_DIR:-$(mktemp -d /tmp/midge-build-time.XXXXXX)}
[ -n "${BUILD_TIME_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
rm -rf "$dir/build" && mkdir -p "$dir"
log=$dir/compiles.tsv
: >"$log"
export MIDGE_COMPILE_LOG=$log
cmake -S . -B "$dir/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$PWD/bench/compile_timer.sh" "$@" >"$dir/configure.log"
grep "precompiled for" "$dir/configure.log" || echo "(no precompiled headers)"
part() { # part NAME [--target T]: builds, prints the wall seconds
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  cmake --build "$dir/build" -j "$jobs" "$@" >"$dir/$name.log" 2>&1 ||
    { tail -30 "$dir/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}'
}
s_midge=$(part midge --target midge)
n_midge=$(wc -l <"$log")
s_rest=$(part rest)
n_all=$(wc -l <"$log")
printf 'midge:      %6.1f s (%d compiles)\n' "$s_midge" "$n_midge"
printf 'the rest:   %6.1f s (%d compiles)\n' "$s_rest" "$((n_all - n_midge))"
printf 'everything: %6.1f s\n' "$(awk -v a="$s_midge" -v b="$s_rest" 'BEGIN {print a + b}')"
echo "slowest compiles (seconds, peak MB, object):"
sort -rn "$log" | head -8 | awk -F'\t' '{printf "  %6.1f %6d  %s\n", $1, $2 / 1024, $3}'
pch=$(awk -F'\t' '$3 ~ /cmake_pch/ {s += $1; n++} END {printf "%.1f %d", s, n}' "$log")
cpu=$(awk -F'\t' '{s += $1} END {printf "%.1f", s}' "$log")
peak=$(awk -F'\t' '$2 > m {m = $2} END {printf "%d", m / 1024}' "$log")
echo "compile seconds summed: $cpu (precompiling headers: ${pch% *} s in ${pch#* } compiles); largest compile: $peak MB"
printf '{"case": "build_time", "args": "%s", "midge_s": %s, "rest_s": %s, "compile_cpu_s": %s, "pch_s": %s, "peak_mb": %s}\n' \
  "$*" "$s_midge" "$s_rest" "$cpu" "${pch% *}" "$peak"
