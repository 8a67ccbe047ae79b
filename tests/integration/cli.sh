#!/usr/bin/env bash
# The command-line surface: help, version, exit codes.
source "$(dirname "$0")/lib.sh"

run "$MIDGE" --help
expect_rc 0
for c in synth split train sweep collect gradcam predict; do expect_out "  $c "; done
grep -q "(not built yet)" <<<"$OUT" && fail "a command is still marked unbuilt"
CHECKS=$((CHECKS + 1))

run "$MIDGE"
expect_rc 2 "no command is bad usage"

run "$MIDGE" --version
expect_rc 0
for lib in "midge 0.1.0" "LibTorch " "OpenCV " "HDF5 " "MPI "; do expect_out "$lib"; done
[ "$(wc -l <<<"$OUT")" -eq 5 ] || fail "--version should print 5 lines: $OUT"

run "$MIDGE" frobnicate
expect_rc 2
expect_err "unknown command 'frobnicate'"

run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --sweep "$SRC/jobs/tiny.ini" --set data.root=. \
  --ranks-per-trial 2
expect_rc 2
expect_err "midge sweep: --ranks-per-trial must divide the number of ranks (1), got 2"

run "$MIDGE" --log-level chatty --help
expect_rc 2
expect_err "invalid --log-level 'chatty'"

run "$MIDGE" synth --bogus-flag
expect_rc 2
expect_err "midge synth: unrecognised option '--bogus-flag'"

run "$MIDGE" train --help
expect_rc 0
expect_out "--config"
expect_out "[stage2]"
expect_out "allowed: sgd|adam|adamw"

run "$MIDGE" options
expect_rc 0
expect_out "early_stop_patience = 5"
done_ok
