#!/usr/bin/env bash
# midge pack (issue #29): a run with data.root = a pack is bitwise the run
# from the folder it packs (weights, probabilities, history, the split's
# hashes), without reading the folder (it is moved away first); the pack
# stores the specimens named at packing; replay, the file image cache, a
# manifest of pack paths and predict on a taxon inside the pack work from
# it; a damaged pack and a file that is not one are refused, named.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 5 --views 3 --size 48 --seed 4 >/dev/null ||
  fail "synth"
echo "not an image" >"S/$(ls S | head -1)/notes.txt"
pattern='_([0-9]+)_v'

run "$MIDGE" pack S --out P.h5 --specimen-pattern "$pattern"
expect_rc 0 "pack"
expect_out "packed 45 images of 3 taxa"
expect_out "15 specimens; 1 non-image files left out) into P.h5"
run "$MIDGE" verify P.h5
expect_rc 0 "verify the pack"
expect_out "midge-pack"

# The split from the pack names the specimens stored in it, without a pattern.
run "$MIDGE" split --data S --specimen-pattern "$pattern"
folder_split=$OUT
run "$MIDGE" split --data P.h5
expect_rc 0 "split of the pack"
[ "$OUT" = "$folder_split" ] || fail "the pack's split differs from the folder's: $OUT vs $folder_split"
CHECKS=$((CHECKS + 1))

train=(--set data.image_size=32 --set model.arch=resnet18 --set stage1.epochs=1
  --set stage2.epochs=1 --set stage1.batch_size=8 --set stage2.batch_size=8
  --set run.deterministic=true --set gradcam.max_images=2 --set data.workers=2 --set run.threads=1
  --set "data.specimen_pattern=$pattern")
run "$MIDGE" train "${train[@]}" --set data.root=S --out folder
expect_rc 0 "train from the folder"
# From here on the folder is gone: the pack's runs cannot read it.
mv S S.away
run "$MIDGE" train "${train[@]}" --set data.root=P.h5 --out packed
expect_rc 0 "train from the pack"
/usr/bin/python3 - folder packed <<'PY' || fail "the run from the pack is not the run from the folder"
import sys, h5py, numpy as np
a, b = sys.argv[1], sys.argv[2]
def datasets(f):
    out = []
    f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return out
with h5py.File(a + "/model.h5") as fa, h5py.File(b + "/model.h5") as fb:
    names = datasets(fa)
    assert names == datasets(fb) and len(names) > 50, "model.h5 datasets differ"
    for n in names:
        assert np.array_equal(fa[n][()], fb[n][()]), "weights differ: " + n
with h5py.File(a + "/run.h5") as fa, h5py.File(b + "/run.h5") as fb:
    for n in ("eval/probabilities", "eval/confusion", "stage2/history/val_loss",
              "split/train/sha256", "split/val/sha256", "split/val/specimens"):
        assert np.array_equal(fa[n][()], fb[n][()]), n + " differs"
    fp = [p.decode() for p in fa["split/val/paths"][()]]
    pp = [p.decode() for p in fb["split/val/paths"][()]]
    assert pp == ["P.h5/" + p[len("S/"):] for p in fp], "pack paths are not <pack>/<taxon>/<file>"
print("bitwise equal:", len(names), "model datasets")
PY
CHECKS=$((CHECKS + 1))

# Two ranks: rank 0 scans the pack, the others open it for their loaders.
run mpiexec -n 2 --oversubscribe "$MIDGE" train "${train[@]}" --set data.root=P.h5 --out packed2
expect_rc 0 "train from the pack on 2 ranks"
! grep -q "skipping unreadable image" <<<"$ERR" || fail "a rank could not read the pack: $ERR"
CHECKS=$((CHECKS + 1))

run "$MIDGE" replay packed --out again
expect_rc 0 "replay of the run from the pack"
expect_out "images: 45 checked against their recorded SHA-256"
expect_out "bitwise equal: all "

# The file cache keyed by pack paths: the second run decodes nothing.
run "$MIDGE" train "${train[@]}" --set data.root=P.h5 --set data.cache=file \
  --set data.cache_dir="$WORK/cache" --out c1
expect_rc 0 "file cache, first run"
run "$MIDGE" train "${train[@]}" --set data.root=P.h5 --set data.cache=file \
  --set data.cache_dir="$WORK/cache" --out c2
expect_rc 0 "file cache, second run"
expect_err "image cache (file): 45 image(s) held"
! grep -q "image cache: [1-9][0-9]* decoded" <<<"$ERR" || fail "the second run decoded images: $ERR"
$H5 same packed/run.h5 c2/run.h5 eval/probabilities || fail "the cached run differs"
CHECKS=$((CHECKS + 2))

# A manifest listing images inside the pack.
run "$MIDGE" split --data P.h5 --out m.csv
expect_rc 0 "manifest of the pack"
grep -q '^P.h5/' m.csv || grep -q "$WORK/P.h5/" m.csv || fail "manifest paths are not in the pack: $(head -3 m.csv)"
run "$MIDGE" train "${train[@]}" --set data.manifest=m.csv --out manifest
expect_rc 0 "train from a manifest of pack paths"
$H5 same packed/run.h5 manifest/run.h5 eval/probabilities || fail "the manifest run differs"
CHECKS=$((CHECKS + 2))

# predict on one taxon inside the pack.
taxon=$(ls S.away | head -1)
run "$MIDGE" predict --model packed/model.h5 --input "P.h5/$taxon" --out pred.csv
expect_rc 0 "predict on a taxon of the pack"
[ "$(cut -d, -f1 pred.csv | grep "^P.h5/$taxon/" | sort -u | wc -l)" -eq 15 ] ||
  fail "predict did not identify the taxon's 15 images in the pack: $(head -5 pred.csv)"
CHECKS=$((CHECKS + 2))

# A damaged pack: one byte of an image (100 bytes after the first PNG
# signature in the file) changed.
cp P.h5 D.h5
/usr/bin/python3 - D.h5 <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    at = f.read().index(b"\x89PNG") + 100
    f.seek(at)
    b = f.read(1)
    f.seek(at)
    f.write(bytes([b[0] ^ 0xFF]))
PY
run "$MIDGE" train "${train[@]}" --set data.root=D.h5 --out damaged
expect_rc 2 "train from a damaged pack"
expect_err "D.h5 is corrupt: dataset /images/bytes does not match its CRC-32"
[ ! -e damaged/model.h5 ] || fail "a model was written from a damaged pack"
CHECKS=$((CHECKS + 1))

# Not a pack: a result file, and a text file.
run "$MIDGE" train "${train[@]}" --set data.root=packed/run.h5 --out wrong
expect_rc 1 "data.root = a run.h5"
expect_err "not a midge pack: packed/run.h5 (an HDF5 file of another kind"
run "$MIDGE" train "${train[@]}" --set data.root=m.csv --out wrong2
expect_rc 1 "data.root = a CSV file"
expect_err "not a midge pack: m.csv (no HDF5 file written by midge"
done_ok
