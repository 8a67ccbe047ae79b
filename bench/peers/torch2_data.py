"""Peer of midge_bench_data as a current PyTorch 2.x user writes it: the data
path of torch2_train.py (torchvision.io.decode_image and transforms.v2 on
uint8 tensors: pad to a square, resize, RandomAffine, both flips,
ColorJitter, normalize) in a DataLoader with W worker processes, over every
image of a taxon-per-folder tree. Prints one JSON line like
midge_bench_data.

Run with the PyTorch 2.x venv of bench/peers.sh (bench/data.sh does).
"""
import argparse
import json
import time

import torch
import torchvision

from folder import list_images
from torch2_train import Manifest, transforms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(1)
    train_tf, _ = transforms(a.size)
    loader = torch.utils.data.DataLoader(
        Manifest(list(zip(*list_images(a.data))), train_tf), batch_size=a.batch, shuffle=True,
        num_workers=a.workers, persistent_workers=True, prefetch_factor=4)
    it = iter(loader)
    next(it)  # warm-up: workers started
    images = 0
    t0 = time.perf_counter()
    for e in range(a.epochs):
        for x, _ in (it if e == 0 else loader):
            images += x.shape[0]
    seconds = time.perf_counter() - t0
    print(json.dumps({"impl": "torchvision-v2", "version": torchvision.__version__, "workers": a.workers,
                      "size": a.size, "augment": "paper", "images": images,
                      "seconds": round(seconds, 3), "images_per_second": round(images / seconds, 1)}))


if __name__ == "__main__":
    main()
