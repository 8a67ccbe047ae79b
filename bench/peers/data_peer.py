"""What the data-path peers of bench/data.sh share (torchvision_data.py,
torch2_data.py, tf_data.py): the images of a taxon-per-folder tree as they
read them (sorted taxa, sorted files, the extensions midge accepts), their
command line, and the timed loop with its one JSON line in
midge_bench_data's format. Plain Python, so every peer's venv imports it."""
import argparse
import json
import os
import time

EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}


def list_images(root):
    """(paths, labels): every image under ROOT, labelled by its taxon's index."""
    paths, labels = [], []
    taxa = sorted(t for t in os.listdir(root) if os.path.isdir(os.path.join(root, t)))
    for label, taxon in enumerate(taxa):
        folder = os.path.join(root, taxon)
        for name in sorted(os.listdir(folder)):
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                paths.append(os.path.join(folder, name))
                labels.append(label)
    return paths, labels


def arguments(extra=None):
    """--data --size --workers --batch --epochs, plus what EXTRA(parser) adds."""
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    if extra:
        extra(p)
    return p.parse_args()


def time_epochs(a, batches, impl, **fields):
    """Times A.epochs passes over the iterable BATCHES (of (images, labels))
    after one warm-up batch (workers started, pipeline traced) and prints
    the JSON line: impl, workers, size, images, seconds, images/s."""
    it = iter(batches)
    next(it)
    images = 0
    t0 = time.perf_counter()
    for e in range(a.epochs):
        for x, _ in (it if e == 0 else batches):
            images += int(x.shape[0])
    seconds = time.perf_counter() - t0
    print(json.dumps({"impl": impl, **fields, "workers": a.workers, "size": a.size, "augment": "paper",
                      "images": images, "seconds": round(seconds, 3),
                      "images_per_second": round(images / seconds, 1)}))
