#!/usr/bin/python3
"""Corrupted result files handed to midge's readers (issue #26).

Trains one tiny run and one two-trial sweep, then makes at least 200
corrupted copies of their model.h5, state.h5, run.h5 and sweep.h5: bit flips
in a dataset's bytes and anywhere, truncations, 64 overwritten bytes in
HDF5's structures and in the data, zero length, a file of another kind in
its place, and datasets rewritten with h5py in another shape or dtype (then
sealed again, so that only the schema checks stand between them and use).
Each copy goes to a reader of its kind, each in a folder of its own:

  model.h5  predict, gradcam, train with model.pretrained (in turn)
  state.h5  resume (rerun of the run that wrote it; every other copy has no
            state.prev.h5 to fall back on)
  run.h5    collect (beside a whole run), replay (every fifth)
  sweep.h5  the sweep run again

The oracle, for every copy:
  - no crash: the reader exits 0, 1 or 2 (no signal, nothing above 2);
  - a refusal (exit 1 or 2) names the corrupted file;
  - exit 0 is silent use unless the output names the file as not used
    (skipped, corrupt, resumed from the generation before) or h5py sees
    exactly the original's datasets and attributes (a change no reader sees).

usage: fuzz_files.py --midge BIN [--work DIR] [--probe BIN] [--only-probe]
                     [--seed N] [--jobs N]
--probe runs tests/sanitize/read_probe.cpp's binary on every copy too, with
--only-probe instead of the commands: the AddressSanitizer/UBSan test
(sanitize.readers_asan) does, on the same files (same seed); crash-free is
its oracle, and an ASan report exits 66. CTest's integration.fuzz_files runs
the commands alone.
"""
import argparse
import concurrent.futures
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h5tool import reseal  # noqa: E402  (midge's seal, written again after an edit)

SEAL = 512


def sh(cmd, cwd, check=True):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: setup command {' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def contents(path):
    """Everything h5py sees: {name: (dtype, shape, bytes)} and attributes."""
    out = {}

    def attrs(name, obj):
        for k, v in obj.attrs.items():
            out[f"{name}@{k}"] = repr(v)

    with h5py.File(path, "r") as f:
        attrs("/", f)

        def visit(name, obj):
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset):
                v = obj[()]
                if isinstance(v, np.ndarray) and v.dtype.kind == "O":
                    v = repr(v.tolist())  # strings: their values, not their addresses
                out[name] = (str(obj.dtype), obj.shape,
                             v.tobytes() if isinstance(v, np.ndarray) else repr(v))

        f.visititems(visit)
    return out


def same_contents(a, b):
    try:
        return contents(a) == contents(b)
    except Exception:  # h5py cannot read it: not the original's contents
        return False


def data_spans(path):
    """(name, file offset, bytes) of every contiguous dataset with data."""
    spans = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.id.get_offset() is not None:
                n = obj.id.get_storage_size()
                if n > 0:
                    spans.append((name, SEAL + obj.id.get_offset(), n))
        f.visititems(visit)
    return spans


def flip(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ (1 << bit)]))


def overwrite(path, offset, rng, n=64):
    size = os.path.getsize(path)
    offset = min(offset, max(size - n, 0))
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes(rng.getrandbits(8) for _ in range(min(n, size - offset))))


def rewrite(path, name, how):
    """Replaces dataset `name` with one of another shape or dtype (h5py),
    then seals the file again."""
    with h5py.File(path, "r+") as f:
        v = f[name][()]
        attrs = dict(f[name].attrs)
        del f[name]
        if how == "shorter":
            v = np.asarray(v).ravel()[:-1] if np.asarray(v).size > 1 else np.asarray([], dtype=np.asarray(v).dtype)
        elif how == "longer":
            a = np.asarray(v).ravel()
            v = np.concatenate([a, a[:1]]) if a.size else np.zeros(3)
        elif how == "2d":
            v = np.asarray(v).reshape(1, -1) if np.asarray(v).ndim <= 1 else np.asarray(v).reshape(-1)
        elif how == "other-float":
            a = np.asarray(v)
            wide = a.dtype.kind == "f" and a.dtype.itemsize == 8
            v = a.astype(np.float32 if wide else np.float64) if a.dtype.kind in "fiu" else np.zeros(a.shape)
        elif how == "int32":
            a = np.asarray(v)
            v = a.astype(np.int32) if a.dtype.kind in "fiu" else np.zeros(a.shape, np.int32)
        elif how == "string":
            v = np.asarray([b"x"] * max(np.asarray(v).size, 1), dtype=h5py.string_dtype())
        f.create_dataset(name, data=v)
        for k, a in attrs.items():
            f[name].attrs[k] = a
    reseal(path)


class Case:
    def __init__(self, index, kind, how, reader):
        self.index, self.kind, self.how, self.reader = index, kind, how, reader
        self.folder = f"cases/{index:03d}"
        self.file = f"{self.folder}/{kind}"


def plan(rng, originals):
    """The corruptions: (kind, how) pairs, at least 200."""
    cases = []
    readers = {"model.h5": ["predict", "gradcam", "pretrained"], "state.h5": ["resume"],
               "run.h5": ["collect", "collect", "collect", "collect", "replay"],
               "sweep.h5": ["sweep"]}
    counts = {"model.h5": 60, "state.h5": 50, "run.h5": 55, "sweep.h5": 45}
    fixed = ["zero", "other-kind", "not-hdf5", "seal-only", "truncate-512", "truncate-1"]
    rewrites = ["shorter", "longer", "2d", "other-float", "int32", "string"]
    # Controls first: each reader on an unchanged copy must succeed (a
    # reader that refuses whole files would pass every corruption).
    for kind, names in readers.items():
        for reader in dict.fromkeys(names):
            cases.append(Case(len(cases), kind, "none", reader))
    for kind, n in counts.items():
        hows = list(fixed) + [f"rewrite-{r}" for r in rewrites] * 2
        weights = [("flip-data", 40), ("flip-any", 15), ("truncate", 15), ("overwrite-header", 15),
                   ("overwrite-data", 15)]
        while len(hows) < n:
            hows.append(rng.choices([w[0] for w in weights], [w[1] for w in weights])[0])
        for i, how in enumerate(hows):
            cases.append(Case(len(cases), kind, how, readers[kind][i % len(readers[kind])]))
    return cases


def rewrite_targets(path, kind):
    with h5py.File(path, "r") as f:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    if kind == "model.h5":
        return [n for n in names if n.startswith("weights/")]
    if kind == "state.h5":
        return [n for n in names if n.startswith("model/")]
    if kind == "run.h5":
        return [n for n in names if n in ("classes", "eval/confusion", "eval/probabilities",
                                          "eval/predicted", "split/val/labels",
                                          "split/train/labels", "stage1/history/train_loss",
                                          "eval/per_class_accuracy")]
    return [n for n in names if n.startswith("trials/")]


def corrupt(case, rng, originals, work):
    src = originals[case.kind]
    dst = os.path.join(work, case.file)
    size = os.path.getsize(src)
    how = case.how
    if how == "none":
        shutil.copyfile(src, dst)
        return "unchanged (control)"
    if how == "zero":
        open(dst, "wb").close()
        return "zero length"
    if how == "other-kind":
        other = {"model.h5": "run.h5", "state.h5": "model.h5", "run.h5": "model.h5",
                 "sweep.h5": "run.h5"}[case.kind]
        shutil.copyfile(originals[other], dst)
        return f"a whole {other} in its place"
    if how == "not-hdf5":
        shutil.copyfile(originals["image"], dst)
        return "a PNG image in its place"
    shutil.copyfile(src, dst)
    if how == "seal-only":
        os.truncate(dst, SEAL)
        return "only its 512-byte seal"
    if how == "truncate-512":
        os.truncate(dst, size - 512)
        return "last 512 bytes cut"
    if how == "truncate-1":
        os.truncate(dst, size - 1)
        return "last byte cut"
    if how == "truncate":
        n = rng.randrange(1, size)
        os.truncate(dst, n)
        return f"truncated to {n} of {size} bytes"
    if how == "flip-data":
        name, start, n = rng.choice(data_spans(src))
        at = start + rng.randrange(n)
        flip(dst, at, rng.randrange(8))
        return f"bit flip at {at} in /{name}"
    if how == "flip-any":
        at = rng.randrange(size)
        flip(dst, at, rng.randrange(8))
        return f"bit flip at {at}"
    if how == "overwrite-header":
        at = rng.randrange(0, min(size, SEAL + 4096))
        overwrite(dst, at, rng)
        return f"64 bytes overwritten at {at} (seal / HDF5 structures)"
    if how == "overwrite-data":
        name, start, n = rng.choice(data_spans(src))
        at = start + rng.randrange(n)
        overwrite(dst, at, rng)
        return f"64 bytes overwritten at {at} in /{name}"
    if how.startswith("rewrite-"):
        targets = rewrite_targets(src, case.kind)
        if how == "rewrite-string":
            # Strings in place of a string dataset of the same shape are not
            # another dtype but other values, sealed again: a free-text field
            # (a trial's error, its finishing time) edited that way is a
            # whole file no schema can tell from midge's own. So strings
            # replace datasets of another dtype only.
            with h5py.File(src, "r") as f:
                targets = [n for n in targets if h5py.check_string_dtype(f[n].dtype) is None]
        target = rng.choice(targets)
        rewrite(dst, target, how[len("rewrite-"):])
        return f"/{target} rewritten ({how[len('rewrite-'):]}) and sealed again"
    raise ValueError(how)


def link(src, dst):
    """An uncorrupted input beside a case's corrupted file: a hard link, not
    a copy (the sweep cases alone would copy ~12 GB of trials). Safe because
    midge never writes a result file in place: it writes a temporary file
    and renames it over the old name (io/atomic_file.h), which replaces the
    link and leaves the original alone; main() checks that it did."""
    os.link(src, dst)


def digests(work):
    """SHA-256 of every file of the two original runs, by path."""
    out = {}
    for top in ("base", "sw"):
        for dp, _, names in os.walk(os.path.join(work, top)):
            for n in names:
                with open(os.path.join(dp, n), "rb") as f:
                    out[os.path.join(dp, n)] = hashlib.file_digest(f, "sha256").hexdigest()
    return out


def reader_command(case, midge, common, work, originals):
    """(argv, cwd) of the reader; prepares the case's folder."""
    folder = os.path.join(work, case.folder)
    if case.reader == "predict":
        return [midge, "predict", "--model", case.file, "--out", f"{case.folder}/p.csv",
                "--threads", "1", originals["image"]], work
    if case.reader == "gradcam":
        return [midge, "gradcam", "--model", case.file, "--input", originals["image"],
                "--out", f"{case.folder}/g.h5"], work
    if case.reader == "pretrained":
        return [midge, "train", *common, "--set", f"model.pretrained={case.file}",
                "--set", "stage1.epochs=0", "--set", "stage2.epochs=1",
                "--out", f"{case.folder}/run"], work
    if case.reader == "resume":
        # The run that wrote the state.h5, interrupted after its last
        # checkpoint (no run.h5): the rerun reads state.h5. Every other case
        # keeps state.prev.h5, so the fall-back is exercised too.
        link(os.path.join(work, "base", "model.h5"), os.path.join(folder, "model.h5"))
        if case.index % 2 == 0:
            link(os.path.join(work, "base", "state.prev.h5"), os.path.join(folder, "state.prev.h5"))
        return [midge, "train", *common, "--out", case.folder], work
    if case.reader == "collect":
        return [midge, "collect", "base", case.folder, "--out", f"{case.folder}/summary.h5"], work
    if case.reader == "replay":
        link(os.path.join(work, "base", "model.h5"), os.path.join(folder, "model.h5"))
        return [midge, "replay", case.folder, "--out", f"{case.folder}/again"], work
    if case.reader == "sweep":
        shutil.copytree(os.path.join(work, "sw", "trials"), os.path.join(folder, "trials"),
                        copy_function=link)
        return [midge, "sweep", *common, "--sweep", "spec.ini", "--out", case.folder], work
    raise ValueError(case.reader)


UNCHANGED = []  # cases read with exit 0 whose contents h5py sees unchanged
# A resume that falls back names the file "is corrupt"; collect "skipped".
REFUSAL_WORDS = ("corrupt", "skipped", "unreadable", "not used")


def judge(case, rc, out, original, path):
    """None when the reader behaved; else what went wrong."""
    if rc < 0 or rc > 2:
        return f"crash: exit {rc}"
    if case.how == "none":
        return None if rc == 0 else f"a whole file refused (exit {rc})"
    named = case.file in out
    if rc != 0:
        return None if named else f"refused (exit {rc}) without naming {case.file}"
    lines = [l for l in out.splitlines() if case.file in l]
    if any(w in l for l in lines for w in REFUSAL_WORDS):
        return None
    # Every corruption but a rewrite changes bytes the seal covers: only a
    # rewrite (sealed again) may leave what h5py sees unchanged.
    if case.how.startswith("rewrite-") and same_contents(original, path):
        UNCHANGED.append(case.index)
        return None
    return "used silently: exit 0, the output does not name the file as not used"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--midge", required=True)
    ap.add_argument("--work", help="a folder to keep (default: a temporary one, removed on success)")
    ap.add_argument("--probe")
    ap.add_argument("--only-probe", action="store_true")
    ap.add_argument("--seed", type=int, default=26)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    midge = os.path.abspath(a.midge)
    work = a.work or __import__("tempfile").mkdtemp(prefix="midge-fuzz-")
    if a.probe:
        a.probe = os.path.abspath(a.probe)
    rng = random.Random(a.seed)
    t0 = time.time()
    os.makedirs(work, exist_ok=True)
    sh([midge, "synth", "--out", "S", "--classes", "4", "--per-class", "6", "--size", "32",
        "--seed", "5"], work)
    # The runs hold what real runs hold: a validation image no rank could
    # read (the 5th of a taxon goes to validation; eval/predicted -1) and a
    # held-out taxon (/split/holdout, open-set scores). One of the 3
    # validation images is unreadable: data.max_bad_fraction 0.5 lets it be.
    taxa = sorted(d for d in os.listdir(os.path.join(work, "S"))
                  if os.path.isdir(os.path.join(work, "S", d)))
    broken = sorted(os.listdir(os.path.join(work, "S", taxa[0])))[4]
    with open(os.path.join(work, "S", taxa[0], broken), "wb") as f:
        f.write(b"not an image")
    common = ["--set", "data.max_bad_fraction=0.5", "--set", f"data.holdout_taxa={taxa[-1]}",
              "--set", "data.root=S", "--set", "data.image_size=32", "--set", "model.arch=resnet18",
              "--set", "stage1.epochs=1", "--set", "stage2.epochs=1", "--set",
              "stage1.batch_size=6", "--set", "stage2.batch_size=6", "--set", "run.threads=1",
              "--set", "data.workers=0", "--set", "gradcam.max_images=2", "--set",
              "run.deterministic=true"]
    sh([midge, "train", *common, "--out", "base"], work)
    with open(os.path.join(work, "spec.ini"), "w") as f:
        f.write("[grid]\nstage2.lr = 0.0001, 0.0003\n")
    sh([midge, "sweep", *common, "--sweep", "spec.ini", "--out", "sw"], work)
    image = sorted(os.path.join(dp, n) for dp, _, ns in os.walk(os.path.join(work, "S"))
                   for n in ns if n.endswith(".png"))[0]
    originals = {"model.h5": os.path.join(work, "base/model.h5"),
                 "state.h5": os.path.join(work, "base/state.h5"),
                 "run.h5": os.path.join(work, "base/run.h5"),
                 "sweep.h5": os.path.join(work, "sw/sweep.h5"), "image": image}
    for k in ("model.h5", "state.h5", "run.h5", "sweep.h5"):
        if not os.path.exists(originals[k]):
            sys.exit(f"FAIL: the setup wrote no {originals[k]}")
    print(f"setup: {time.time() - t0:.0f} s", flush=True)
    before = digests(work)

    cases = plan(rng, originals)
    for c in cases:
        os.makedirs(os.path.join(work, c.folder))
        c.what = corrupt(c, rng, originals, work)

    def run_case(c):
        path = os.path.join(work, c.file)
        problems = []
        runs = []
        if a.probe:
            runs.append(("probe", [a.probe, c.file], work))
        if not a.only_probe:
            argv, cwd = reader_command(c, midge, common, work, originals)
            runs.append((c.reader, argv, cwd))
        for name, argv, cwd in runs:
            try:
                r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                                   env=dict(os.environ, OMP_NUM_THREADS="1"))
                rc, out = r.returncode, r.stdout + r.stderr
            except subprocess.TimeoutExpired:
                rc, out = 124, "timed out after 300 s"
            if name == "probe":
                bad = None if 0 <= rc <= 2 else f"crash: exit {rc}"
            else:
                bad = judge(c, rc, out, originals[c.kind], path)
            if bad:
                tail = "\n    ".join(out.strip().splitlines()[-8:])
                problems.append(f"case {c.index:03d} {c.kind} ({c.what}) under {name}: {bad}\n    {tail}")
            c.rc = getattr(c, "rc", {})
            c.rc[name] = rc
        return problems

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        problems = [p for ps in pool.map(run_case, cases) for p in ps]

    by_kind = {}
    for c in cases:
        if c.how == "none":
            continue
        for name, rc in c.rc.items():
            key = (c.kind, name)
            by_kind.setdefault(key, {}).setdefault(rc, 0)
            by_kind[key][rc] += 1
    for (kind, name), rcs in sorted(by_kind.items()):
        shown = ", ".join(f"exit {rc}: {n}" for rc, n in sorted(rcs.items()))
        print(f"{kind:9s} {name:10s} {sum(rcs.values()):4d} copies  {shown}")
    print(f"{sum(1 for c in cases if c.how != 'none')} corrupted files and "
          f"{sum(1 for c in cases if c.how == 'none')} unchanged controls, "
          f"{sum(len(c.rc) for c in cases)} reader runs, "
          f"{time.time() - t0:.0f} s", flush=True)
    if UNCHANGED:
        print(f"read with exit 0, contents unchanged for every reader: cases {sorted(UNCHANGED)}")
    after = digests(work)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        problems.append(f"an original changed under a hard link (a write in place?): {changed}")
    corruptions = sum(1 for c in cases if c.how != "none")
    if corruptions < 200:
        problems.append(f"only {corruptions} corruptions")
    for p in problems:
        print("FAIL:", p)
    if problems:
        sys.exit(1)
    print("OK: 0 crashes, 0 corrupted files used silently, every refusal names its file")
    if not a.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
