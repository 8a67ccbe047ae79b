#!/usr/bin/env bash
# The method works: on midge synth data (5 taxa x 80 images made at 96 px,
# trained at 64 px), ResNet-18 from scratch, stage 1 two epochs, stage 2 at
# most 12 epochs, reaches a validation accuracy of at least 0.9 (measured
# with one compute thread, 2026-12-06: 0.95 to 1.0 over seeds 1-3, fp32 and
# bf16; with two threads 0.975 to 1.0; with 8 epochs it was borderline,
# 0.875 to 0.975, and failed on seed 1 bf16 once the network computed
# channels-last). The taxa
# differ only in a small structure; Grad-CAM must show the network found it:
# at least 3 times more heatmap mass inside the structure than its share of
# the image (measured: 22-31% of the mass in ~6.4% of the image, ratios 3.5
# to 4.9 over the same six runs). At 64 px
# ResNet's layer4 is 2x2 cells, so the heatmaps come from layer2 (8x8).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 5 --per-class 80 --size 96 --seed 1 >/dev/null || fail "synth"
run "$MIDGE" train "${ACCURACY_RECIPE[@]}" \
  --set gradcam.layer=layer2 --set gradcam.max_images=80 --out run
expect_rc 0
echo "$OUT"
acc=$($H5 get run/run.h5 eval/accuracy)
echo "validation accuracy: $acc"
CHECKS=$((CHECKS + 1))
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$acc') >= 0.9 else 1)" \
  || fail "validation accuracy $acc below 0.9"
# The table printed per taxon and the file agree.
expect_out "accuracy $(printf '%.4f' "$acc")"
[ "$($H5 get run/run.h5 stage2/history/epoch | wc -w)" -le 12 ] || fail "more than 12 stage-2 epochs"
CHECKS=$((CHECKS + 1))
# Grad-CAM of all 80 validation images, read back from run.h5.
/usr/bin/python3 "$SRC/tests/integration/gradcam_meaning.py" run/run.h5 S 3 || fail "Grad-CAM does not point at the structure"
CHECKS=$((CHECKS + 1))
done_ok
