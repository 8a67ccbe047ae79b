#!/usr/bin/env bash
# A rank that fails mid-job, by throwing or by dying (SIGKILL), must end every
# rank, non-zero, within seconds; a thrown error must name the rank and the
# reason in the log.
set -u
mpiexec=$1
probe=$2
fail() { echo "FAIL: $*"; exit 1; }

run_case() {  # mode -> sets rc, elapsed, log
  log=$(mktemp)
  local start
  start=$(date +%s)
  timeout 60 "$mpiexec" -n 2 --oversubscribe "$probe" 1 "$1" >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  echo "--- mode $1: exit $rc after ${elapsed}s"
  cat "$log"
  [ "$rc" -ne 124 ] || fail "$1: job hung, killed by timeout after ${elapsed}s"
  [ "$rc" -ne 0 ] || fail "$1: job exited 0 although rank 1 failed"
  [ "$elapsed" -lt 30 ] || fail "$1: job took ${elapsed}s to end"
}

run_case throw
grep -q '\[r1/2\] \[error\] probe: corrupt image batch on rank 1' "$log" || fail "error line of rank 1 missing"
grep -q 'rank 1 failed (exit code 1); aborting all 2 ranks' "$log" || fail "abort line naming rank 1 missing"

run_case kill
grep -qi 'rank 1' "$log" || fail "launcher did not name the dead rank"
echo "OK"
