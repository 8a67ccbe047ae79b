# Helpers for integration tests: run the real `midge` binary and check exit
# codes and output. Sourced by the scripts next to it; CTest sets
# MIDGE_BINARY and MIDGE_SOURCE_DIR.
set -u
MIDGE=${MIDGE_BINARY:?MIDGE_BINARY not set}
SRC=${MIDGE_SOURCE_DIR:?MIDGE_SOURCE_DIR not set}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CHECKS=0

fail() { echo "FAIL: $*"; exit 1; }

# run CMD...: runs it, keeps stdout in $OUT, stderr in $ERR, exit code in $RC.
run() {
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  RC=$?
  OUT=$(cat "$WORK/stdout")
  ERR=$(cat "$WORK/stderr")
}
expect_rc() {
  CHECKS=$((CHECKS + 1))
  [ "$RC" -eq "$1" ] || fail "expected exit code $1, got $RC${2:+ ($2)}
stdout: $OUT
stderr: $ERR"
}
expect_out() {
  CHECKS=$((CHECKS + 1))
  grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1':
$OUT
stderr: $ERR"
}
expect_err() {
  CHECKS=$((CHECKS + 1))
  grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1':
$ERR"
}
done_ok() { echo "OK: $CHECKS checks"; }
