"""Peer of `midge train` on CPU: configs/paper.ini's recipe written as a
current PyTorch 2.x + torchvision user would, for bench/peers.sh.

Data: the train/val split of a `midge split --out` manifest (path,taxon,
split), so midge and this script see identical images; torchvision.io.
decode_image and transforms.v2 on uint8 tensors (pad to a square, resize,
RandomAffine with rotation, translation, scale and shear, both flips,
ColorJitter brightness/contrast; no elastic deformation), a DataLoader with
worker processes and persistent workers (pinned memory only where a GPU
would use it). Model: torchvision ResNet-50 (no weights), dropout 0.5 and a
linear head; stage 1 the backbone frozen (BatchNorm in eval mode, as midge),
Adam 1e-3; stage 2 all layers, SGD (--opt2) at --lr2 (1e-4), momentum 0.9,
weight decay 1e-4.
bf16: torch.autocast("cpu", torch.bfloat16).

Prints one JSON line per epoch: training images/s of the epoch's training
loop (data loading included, validation excluded), training loss and
accuracy, validation accuracy;
then a summary with the last epoch's figures, peak RSS and versions.
"""
import argparse
import csv
import json
import os
import resource
import time

import torch
import torchvision
from torchvision.io import ImageReadMode, decode_image, read_file
from torchvision.transforms import v2

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class PadToSquare(torch.nn.Module):
    def forward(self, img):
        h, w = img.shape[-2:]
        side = max(h, w)
        left, top = (side - w) // 2, (side - h) // 2
        return v2.functional.pad(img, [left, top, side - w - left, side - h - top])


class Manifest(torch.utils.data.Dataset):
    def __init__(self, items, transform):
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        img = decode_image(read_file(path), mode=ImageReadMode.RGB)
        return self.transform(img), label


def transforms(size):
    """The training (augmenting) and validation transforms on uint8 CHW tensors."""
    shape = [PadToSquare(), v2.Resize((size, size), antialias=True)]
    finish = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    train = v2.Compose(shape + [
        v2.RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
        v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(),
        v2.ColorJitter(brightness=0.1, contrast=0.1)] + finish)
    return train, v2.Compose(shape + finish)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True, help="midge split --out CSV (path,taxon,split)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--stage1-epochs", type=int, default=1)
    p.add_argument("--stage2-epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=0, help="training steps per epoch (0: the whole set)")
    p.add_argument("--opt2", default="sgd", choices=["sgd", "adam"], help="stage 2 optimizer (paper.ini: sgd)")
    p.add_argument("--lr2", type=float, default=1e-4, help="stage 2 rate (paper.ini: 1e-4)")
    p.add_argument("--augment", default="paper", choices=["paper", "none"])
    p.add_argument("--amp", default="off", choices=["off", "bf16"])
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rows = list(csv.DictReader(open(a.manifest)))
    taxa = sorted({r["taxon"] for r in rows})
    base_dir = os.path.dirname(os.path.abspath(a.manifest))

    def part(name):
        return [(r["path"] if os.path.isabs(r["path"]) else os.path.join(base_dir, r["path"]),
                 taxa.index(r["taxon"])) for r in rows if r["split"] == name]

    train_tf, val_tf = transforms(a.size)
    if a.augment == "none":
        train_tf = val_tf
    loader = dict(batch_size=a.batch, num_workers=a.workers, persistent_workers=a.workers > 0,
                  pin_memory=torch.cuda.is_available())
    train = torch.utils.data.DataLoader(Manifest(part("train"), train_tf), shuffle=True, drop_last=True, **loader)
    val = torch.utils.data.DataLoader(Manifest(part("val"), val_tf), **loader)

    net = torchvision.models.resnet50(weights=None)
    net.fc = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2048, len(taxa)))
    net = net.to(memory_format=torch.channels_last)
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = []

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.amp == "bf16")

    for stage, n in ((1, a.stage1_epochs), (2, a.stage2_epochs)):
        if n == 0:
            continue
        for q in net.parameters():
            q.requires_grad = stage == 2
        for q in net.fc.parameters():
            q.requires_grad = True
        params = [q for q in net.parameters() if q.requires_grad]
        opt = (torch.optim.Adam(params, lr=1e-3) if stage == 1 else
               torch.optim.SGD(params, lr=a.lr2, momentum=0.9, weight_decay=1e-4) if a.opt2 == "sgd" else
               torch.optim.Adam(params, lr=a.lr2, weight_decay=1e-4))
        for epoch in range(n):
            net.train()
            if stage == 1:  # the frozen backbone keeps its BatchNorm statistics
                for m in net.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.eval()
            t0, steps, loss_sum, hits = time.perf_counter(), 0, 0.0, 0
            for x, y in train:
                x = x.to(memory_format=torch.channels_last)
                opt.zero_grad(set_to_none=True)
                with autocast():
                    logits = net(x)
                    loss = loss_fn(logits, y)
                loss.backward()
                opt.step()
                loss_sum += loss.item()
                hits += (logits.argmax(1) == y).sum().item()
                steps += 1
                if a.steps and steps == a.steps:
                    break
            seconds = time.perf_counter() - t0
            net.eval()
            correct = total = 0
            with torch.no_grad(), autocast():
                for x, y in val:
                    correct += (net(x.to(memory_format=torch.channels_last)).argmax(1) == y).sum().item()
                    total += len(y)
            row = {"stage": stage, "epoch": epoch + 1, "train_seconds": round(seconds, 3),
                   "images_per_second": round(steps * a.batch / seconds, 3),
                   "train_loss": round(loss_sum / steps, 4), "train_acc": round(hits / (steps * a.batch), 4),
                   "val_acc": round(correct / max(total, 1), 4)}
            epochs.append(row)
            print(json.dumps(row), flush=True)
    last = epochs[-1]
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
    print(json.dumps({"peer": "pytorch", "images_per_second": last["images_per_second"],
                      "val_acc": last["val_acc"], "peak_rss_bytes": peak,
                      "versions": f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}",
                      "amp": a.amp, "size": a.size, "batch": a.batch}), flush=True)


if __name__ == "__main__":
    main()
