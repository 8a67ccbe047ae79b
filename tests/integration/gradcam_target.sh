#!/usr/bin/env bash
# Grad-CAM in run.h5: gradcam.target = predicted explains the predicted
# taxon (the same maps `midge gradcam` computes from model.h5), and
# gradcam.target = true the true one: the maps agree where the prediction is
# right and differ where it is wrong. The stored images cover every taxon,
# misclassified ones first.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 20 --size 64 --seed 8 >/dev/null || fail "synth"
common=(train --set data.root=S --set data.image_size=64 --set model.arch=resnet18 --set data.workers=1
        --set stage1.epochs=1 --set stage2.epochs=0 --set stage1.batch_size=8 --set stage1.lr=0.0003
        --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=6
        --set gradcam.layer=layer3)
run "$MIDGE" "${common[@]}" --set gradcam.target=predicted --out pred
expect_rc 0
run "$MIDGE" "${common[@]}" --set gradcam.target=true --out true
expect_rc 0
/usr/bin/python3 -c "
import h5py
for p in h5py.File('pred/run.h5', 'r')['gradcam/paths'][:]: print(p.decode())" > chosen.txt
run "$MIDGE" gradcam --model pred/model.h5 --input $(cat chosen.txt) --out cli.h5 --layer layer3
expect_rc 0
/usr/bin/python3 - <<'PY' || fail "Grad-CAM targets"
import h5py, numpy as np, sys
p, t, c = (h5py.File(x, "r") for x in ("pred/run.h5", "true/run.h5", "cli.h5"))
def attr(f, name):
    v = f["gradcam/heatmaps"].attrs[name]
    return v.decode() if isinstance(v, bytes) else v
assert attr(p, "target") == "predicted" and attr(t, "target") == "true"
labels, predicted = p["gradcam/labels"][:], p["gradcam/predicted"][:]
mp, mt = p["gradcam/heatmaps"][:], t["gradcam/heatmaps"][:]
cli = dict(zip((x.decode() for x in c["gradcam/paths"][:]), c["gradcam/heatmaps"][:]))
paths = [x.decode() for x in p["gradcam/paths"][:]]
assert sorted(set(labels.tolist())) == [0, 1, 2], f"not every taxon explained: {labels}"
wrong = labels != predicted


print(f"{len(paths)} maps, {int(wrong.sum())} misclassified")
assert wrong.any() and (~wrong).any(), "need right and wrong predictions to compare targets"
for i, path in enumerate(paths):
    assert np.abs(mp[i] - cli[path]).max() < 1e-4, f"predicted-taxon map of {path} differs from midge gradcam"
    same = np.abs(mp[i] - mt[i]).max() < 1e-5
    assert same != bool(wrong[i]), f"{path}: label {labels[i]} predicted {predicted[i]}, maps same={same}"
PY
CHECKS=$((CHECKS + 1))
done_ok
