#!/usr/bin/env bash
# A run's peak memory is its training step's: the final evaluation and the
# Grad-CAM of the validation images work in chunks of the training batch per
# rank, so storing 24 heatmaps costs no more memory than storing none (within
# 15% plus 40 MB of allocator noise). The peak is also recorded in run.h5
# (peak_rss_bytes) and in the progress lines, and matches what the operating
# system measured for the process (getrusage of the child).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 40 --size 160 --seed 9 >/dev/null || fail "synth"
common=(train --set data.root=S --set data.image_size=160 --set model.arch=resnet18 --set data.workers=1
        --set stage1.epochs=0 --set stage2.epochs=1 --set stage2.batch_size=2 --set run.threads=1)
measure() {  # measure OUT [ARGS...]: runs midge, prints the child's peak RSS in bytes
  local out=$1
  shift
  /usr/bin/python3 - "$MIDGE" "${common[@]}" "$@" --out "$out" <<'PY'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open("log_" + sys.argv[-1], "w"))
if r.returncode != 0:
    sys.exit(f"midge exited {r.returncode}")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
PY
}
none=$(measure none --set gradcam.max_images=0) || fail "run without Grad-CAM: $(tail -3 log_none)"
many=$(measure many --set gradcam.max_images=24) || fail "run with Grad-CAM: $(tail -3 log_many)"
echo "peak RSS: no Grad-CAM $((none / 1000000)) MB, 24 heatmaps $((many / 1000000)) MB"
[ "$many" -le $((none * 115 / 100 + 40000000)) ] \
  || fail "Grad-CAM raised the peak from $((none / 1000000)) MB to $((many / 1000000)) MB"
recorded=$(/usr/bin/python3 "$SRC/tests/integration/h5tool.py" attr many/run.h5 peak_rss_bytes) \
  || fail "run.h5 has no peak_rss_bytes"
[ "$recorded" -ge $((many * 90 / 100)) ] && [ "$recorded" -le "$many" ] \
  || fail "run.h5 peak_rss_bytes $recorded vs measured $many"
grep -q "stage 2 epoch 1/1 .* | peak [0-9]* MB |" log_many || fail "no peak memory in the progress line"
grep -q "Grad-CAM of 24 validation images (predicted taxon) in chunks of 2" log_many \
  || fail "Grad-CAM chunks: $(grep Grad-CAM log_many)"
CHECKS=$((CHECKS + 4))
done_ok
