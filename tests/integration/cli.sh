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

# `midge` runs midge-base or midge-torch from its folder (apps/launcher.cpp):
# the commands without LibTorch never load it (the dynamic loader's list of
# files it opened), those with it do, through the same process.
run env LD_DEBUG=files "$MIDGE" options
expect_rc 0
! grep -q "file=libtorch_cpu" <<<"$ERR" || fail "midge options loaded LibTorch"
grep -q "file=libtorch_cpu" < <(LD_DEBUG=files "$MIDGE" train --help 2>&1 >/dev/null) ||
  fail "midge train --help did not load LibTorch (which program ran it?)"
CHECKS=$((CHECKS + 1))
# midge-base started directly names the program for a LibTorch command.
run "$(dirname "$MIDGE")/midge-base" predict --model m.h5 x.png
expect_rc 2
expect_err "midge predict: needs LibTorch, which midge-base does not load: run \`midge predict\`"
# midge alone in a folder: the program it cannot start, named.
mkdir "$WORK/alone" && cp "$MIDGE" "$WORK/alone/midge"
run "$WORK/alone/midge" synth --out "$WORK/S"
expect_rc 1
expect_err "midge: cannot run $WORK/alone/midge-base: No such file or directory"
run "$WORK/alone/midge" train --out "$WORK/R"
expect_rc 1
expect_err "midge: cannot run $WORK/alone/midge-torch: No such file or directory"
done_ok
