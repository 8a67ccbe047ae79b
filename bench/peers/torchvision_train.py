"""Peer of `midge train` for bench/train.sh: the same recipe in plain
PyTorch + torchvision, on the same files, threads and batch.

ResNet-50 (torchvision) with dropout + linear head, whole network trained
(midge's stage 2) with SGD (lr 1e-4, momentum 0.9, weight decay 1e-4),
cross-entropy; data as in torchvision_data.py (PIL decode, resize + pad,
RandomAffine, flips, ColorJitter, normalize) through a DataLoader with
W worker processes. Reports images/s of the last epoch's training steps.
Run with Debian's Python (/usr/bin/python3).
"""
import argparse
import json
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from torchvision_data import FILL, MEAN, STD, Folder, PadToSquare  # noqa: E402
import torchvision.transforms as T  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    transform = T.Compose([
        T.Resize(a.size - 1, max_size=a.size), PadToSquare(), T.Resize((a.size, a.size)),
        T.RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, fill=FILL),
        T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.ColorJitter(brightness=0.1, contrast=0.1),
        T.ToTensor(), T.Normalize(MEAN, STD)])
    data = Folder(a.data, transform)
    classes = len({label for _, label in data.items})
    model = getattr(torchvision.models, a.arch)()
    model.fc = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(model.fc.in_features, classes))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                         persistent_workers=a.workers > 0)
    loss_fn = torch.nn.CrossEntropyLoss()
    ips = 0.0
    for _ in range(a.epochs):
        images = 0
        t0 = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            images += x.shape[0]
        ips = images / (time.perf_counter() - t0)
    print(json.dumps({"impl": "pytorch", "arch": a.arch, "size": a.size, "batch": a.batch,
                      "threads": a.threads, "images_per_second": round(ips, 3)}))


if __name__ == "__main__":
    main()
