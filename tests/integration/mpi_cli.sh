#!/usr/bin/env bash
# The real binary under mpiexec -n 2: every rank validates and logs with its
# rank tag, output is printed once, and a configuration error ends the job
# with exit code 2 instead of hanging.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
"$MIDGE" synth --out S --classes 2 --per-class 5 --size 64 >/dev/null || fail "synth"

run timeout 60 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" train --config "$SRC/configs/demo.ini" \
  --set data.root=S --dry-run
expect_rc 0
expect_err "[r0/2] [info] configuration valid"
expect_err "[r1/2] [info] configuration valid"
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^\[model\]' <<<"$OUT")" -eq 1 ] || fail "resolved config printed more than once:
$OUT"

run timeout 60 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" train --set data.root=S \
  --set stage1.epochz=1 --dry-run
expect_rc 2 "every rank ends with the usage exit code"
expect_err "rank 0 (and 1 other rank(s)) failed at checking the configuration: --set: unknown key 'stage1.epochz' (did you mean 'stage1.epochs'?)"
# Agreed by every rank (distributed/agreement.h): said once, no abort.
[ "$(grep -c "unknown key 'stage1.epochz'" <<<"$ERR")" -eq 1 ] || fail "the error is not said once: $ERR"
! grep -q "aborting all\|MPI_ABORT" <<<"$ERR" || fail "the job was aborted: $ERR"
CHECKS=$((CHECKS + 2))

# A batch that does not split over the ranks is a configuration error found
# before any work: exit 2, no output folder, no run.h5.
run timeout 60 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" train --set data.root=S \
  --set stage1.batch_size=3 --out odd
expect_rc 2 "an indivisible batch size is a configuration error"
expect_err "stage1.batch_size (3) must be divisible by the number of ranks (2)"
CHECKS=$((CHECKS + 1))
[ ! -e odd ] || fail "the output folder was created for a refused configuration: $(ls -R odd)"

# Ranks that do not divide into groups of --ranks-per-trial: refused before
# any work.
run timeout 60 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" sweep --config "$SRC/configs/demo.ini" \
  --set data.root=S --sweep "$SRC/jobs/tiny.ini" --ranks-per-trial 3 --out sweep2
expect_rc 2
expect_err "--ranks-per-trial must divide the number of ranks (2), got 3"
CHECKS=$((CHECKS + 1))
[ ! -e sweep2 ] || fail "a refused sweep created its output folder"

run timeout 60 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" synth --out T --classes 2 --per-class 3 --size 64
expect_rc 0
CHECKS=$((CHECKS + 1))
[ "$(grep -c 'wrote 6 images' <<<"$OUT")" -eq 1 ] || fail "synth under MPI should write once"
done_ok
