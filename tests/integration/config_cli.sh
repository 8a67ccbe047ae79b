#!/usr/bin/env bash
# train/sweep --dry-run: configuration resolution and its errors, through the
# real binary.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 5 --size 64 >/dev/null || fail "synth"

run "$MIDGE" train --config "$SRC/configs/paper.ini" --set data.root=S --dry-run
expect_rc 0
expect_out "[model]"
expect_out "arch = resnet50"
expect_out "image_size = 512"
expect_out "dropout = 0.5"
expect_out "root = S"
expect_err "configuration valid"

run "$MIDGE" train --config "$SRC/configs/demo.ini" --set data.root=S --dry-run
expect_rc 0
expect_out "arch = resnet18"

# Precedence: --set > file > default.
printf '[stage1]\nepochs = 3\n' > a.ini
run "$MIDGE" train --config a.ini --set data.root=S --dry-run
grep -A1 '^\[stage1\]' <<<"$OUT" | grep -q 'epochs = 3' || fail "file value not used"
run "$MIDGE" train --config a.ini --set data.root=S --set stage1.epochs=4 --dry-run
grep -A1 '^\[stage1\]' <<<"$OUT" | grep -q 'epochs = 4' || fail "--set did not win"
run "$MIDGE" train --set data.root=S --dry-run
grep -A1 '^\[stage1\]' <<<"$OUT" | grep -q 'epochs = 10' || fail "default not used"
CHECKS=$((CHECKS + 3))

# The printed resolved config is itself a valid config giving the same output.
run "$MIDGE" train --config a.ini --set data.root=S --set stage2.lr=3e-5 --dry-run
echo "$OUT" > resolved.ini
first=$OUT
run "$MIDGE" train --config resolved.ini --dry-run
expect_rc 0
[ "$OUT" = "$first" ] || fail "resolved config does not read back identically"

# Errors name the key, the value and what is allowed; exit code 2.
printf '[stage1]\nlearning_rate = 0.1\n' > typo.ini
run "$MIDGE" train --config typo.ini --set data.root=S --dry-run
expect_rc 2
expect_err "typo.ini: unknown key 'stage1.learning_rate'"
run "$MIDGE" train --set data.root=S --set stage1.l=0.1 --dry-run
expect_rc 2
expect_err "unknown key 'stage1.l' (did you mean 'stage1.lr'?)"
run "$MIDGE" train --set data.root=S --set model.arch=vgg16 --dry-run
expect_rc 2
expect_err "invalid value 'vgg16' for model.arch: expected resnet18|resnet34|resnet50|resnet101"
run "$MIDGE" train --set data.root=S --set data.image_size=100000 --dry-run
expect_rc 2
expect_err "data.image_size: expected integer in [16, 4096] (out of range)"
run "$MIDGE" train --set data.root=S --set stage1.lr=0.001 --set stage2.lr=0.01 --dry-run
expect_rc 2
expect_err "stage2.lr (0.01) exceeds stage1.lr (0.001)"
run "$MIDGE" train --set data.root=S --set stage1.lr=0.001 --set stage2.lr=0.01 \
  --set stage2.allow_higher_lr=true --dry-run
expect_rc 0
run "$MIDGE" train --set data.root=missing_folder --dry-run
expect_rc 2
expect_err "data.root: folder or pack not found: missing_folder"
run "$MIDGE" train --config nothere.ini --dry-run
expect_rc 2
expect_err "config file not found: nothere.ini"

# Configuration errors are found before any work: nothing is written.
run "$MIDGE" train --set data.root=S --set stage1.lr=-1 --out never
expect_rc 2
[ ! -e never ] || fail "an invalid configuration created its output folder"
CHECKS=$((CHECKS + 1))

# sweep --dry-run checks the base configuration and every trial's, and
# prints the trial table; the ids are the same on every expansion.
run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --set data.root=S --sweep "$SRC/jobs/tiny.ini" --dry-run
expect_rc 0
expect_out "4 trial(s)"
expect_out "stage2.lr=0.0001,model.dropout=0.2,augment.rotate_deg="
first=$OUT
run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --set data.root=S --sweep "$SRC/jobs/tiny.ini" --dry-run
CHECKS=$((CHECKS + 1))
[ "$OUT" = "$first" ] || fail "a second expansion differs"
run "$MIDGE" sweep --config "$SRC/configs/paper.ini" --set data.root=S --sweep "$SRC/jobs/paper_lr.ini" --dry-run
expect_rc 0
expect_out "24 trial(s)"
printf '[grid]\nstage2.lrr = 0.1, 0.2\n' > typo.ini
run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --set data.root=S --sweep typo.ini --dry-run --out never
expect_rc 2
expect_err "typo.ini:2: [grid]: unknown key 'stage2.lrr' (did you mean 'stage2.lr'"
printf '[grid]\nstage2.lr = 0.0001, 0.5\n' > odd.ini
run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --set data.root=S --sweep odd.ini --dry-run
expect_rc 2
expect_err "(stage2.lr=0.5): stage2.lr (0.5) exceeds stage1.lr"
run "$MIDGE" sweep --config "$SRC/configs/demo.ini" --set data.root=S --sweep nope.ini --dry-run
expect_rc 2
expect_err "sweep spec not found: nope.ini"

# dist.backend = nccl asks for GPUs: refused before any work on a machine
# without one (run.device = auto), nothing written.
run "$MIDGE" train --config "$SRC/configs/demo.ini" --set data.root=S --set dist.backend=nccl \
  --set run.device=cpu --dry-run
expect_rc 2
expect_err "dist.backend = nccl needs run.device = cuda or auto"
run "$MIDGE" train --config "$SRC/configs/demo.ini" --set data.root=S --set dist.backend=nccl \
  --set run.device=auto --set stage1.epochs=1 --set stage2.epochs=0 --out nccl_run
expect_rc 2
expect_err "dist.backend = nccl, but training runs on the CPU (no CUDA device visible)"
CHECKS=$((CHECKS + 1))
[ ! -e nccl_run/run.h5 ] || fail "a refused dist.backend wrote run.h5"
done_ok
