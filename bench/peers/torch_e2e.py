"""Peer of `midge train` end to end on a GPU (bench/gpu/e2e.sh): the recipe
of configs/paper.ini as a PyTorch 2.x user would write it.

Data: every fifth image of each taxon (sorted by file name, offset 4) in
validation, as `midge split`; training images through torchvision_data.py's
transforms (PIL decode with draft mode, pad to a square, RandomAffine, flips,
ColorJitter, normalize) in a DataLoader with W worker processes, pinned
memory and persistent workers. Model: torchvision ResNet-50 with dropout
0.5 + linear head, channels-last, bf16 autocast. Stage 1: backbone frozen,
Adam 1e-3; stage 2: whole network, SGD 1e-4 momentum 0.9 weight decay
1e-4, cosine schedule. Validation after every epoch, as midge does.

Per epoch it reports, like midge's run.h5 history: training images/s of
the training loop (data loading included), the seconds the loop waited for
the DataLoader (`data_wait_seconds`) and the epoch's seconds with
validation. One JSON line per epoch, then a summary line.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torchvision
import torchvision.transforms as T

sys.path.insert(0, os.path.dirname(__file__))
from torchvision_data import FILL, MEAN, STD, Folder, PadToSquare  # noqa: E402


def split(items, every=5, offset=4):
    by_taxon = {}
    for path, label in items:
        by_taxon.setdefault(label, []).append((path, label))
    train, val = [], []
    for label in sorted(by_taxon):
        for i, item in enumerate(sorted(by_taxon[label])):
            (val if i % every == offset else train).append(item)
    return train, val


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--stage1-epochs", type=int, default=3)
    p.add_argument("--stage2-epochs", type=int, default=5)
    p.add_argument("--amp", default="bf16", choices=["bf16", "fp16", "off"])
    p.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke test of this script")
    a = p.parse_args()
    torch.manual_seed(1)
    torch.backends.cudnn.benchmark = True
    dev = torch.device(a.device)
    shape = [T.Resize(a.size - 1, max_size=a.size), PadToSquare(), T.Resize((a.size, a.size))]
    train_tf = T.Compose(shape + [
        T.RandomAffine(degrees=20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, fill=FILL),
        T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.ColorJitter(brightness=0.1, contrast=0.1),
        T.ToTensor(), T.Normalize(MEAN, STD)])
    eval_tf = T.Compose(shape + [T.ToTensor(), T.Normalize(MEAN, STD)])
    everything = Folder(a.data, None)
    train_items, val_items = split(everything.items)
    train_set, val_set = Folder(a.data, train_tf, draft_size=a.size), Folder(a.data, eval_tf, draft_size=a.size)
    train_set.items, val_set.items = train_items, val_items
    classes = len({label for _, label in everything.items})
    common = dict(num_workers=a.workers, pin_memory=a.device == "cuda", persistent_workers=a.workers > 0)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=a.batch, shuffle=True, **common)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=a.batch, shuffle=False, **common)

    model = torchvision.models.resnet50()
    model.fc = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(model.fc.in_features, classes))
    model = model.to(dev, memory_format=torch.channels_last)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.amp)
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        scaler = torch.amp.GradScaler("cuda", enabled=a.amp == "fp16")
    else:
        scaler = torch.cuda.amp.GradScaler(enabled=a.amp == "fp16")
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = []
    t_start = time.perf_counter()
    for stage, n in ((1, a.stage1_epochs), (2, a.stage2_epochs)):
        for name, param in model.named_parameters():
            param.requires_grad = stage == 2 or name.startswith("fc.")
        params = [q for q in model.parameters() if q.requires_grad]
        if stage == 1:
            opt = torch.optim.Adam(params, lr=1e-3)
            sched = None
        else:
            opt = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 * (1 + math.cos(math.pi * e / n)))
        for epoch in range(n):
            model.train()
            if stage == 1:  # frozen backbone: BatchNorm statistics frozen too, as in midge
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.eval()
            t0 = time.perf_counter()
            wait, images, loss_sum = 0.0, 0, 0.0
            asked = time.perf_counter()
            for x, y in train_loader:
                wait += time.perf_counter() - asked
                x = x.to(dev, non_blocking=True, memory_format=torch.channels_last)
                y = y.to(dev, non_blocking=True)
                opt.zero_grad(set_to_none=True)
                with torch.autocast(a.device, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss = loss_fn(model(x).float(), y)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                loss_sum += loss.item() * x.shape[0]  # midge also reads each step's loss
                images += x.shape[0]
                asked = time.perf_counter()
            train_s = time.perf_counter() - t0
            if sched:
                sched.step()
            model.eval()
            correct = seen = 0
            with torch.no_grad(), torch.autocast(a.device, dtype=amp_dtype, enabled=amp_dtype is not None):
                for x, y in val_loader:
                    x = x.to(dev, non_blocking=True, memory_format=torch.channels_last)
                    correct += (model(x).argmax(1).cpu() == y).sum().item()
                    seen += y.shape[0]
            row = {"peer": "pytorch", "torch": torch.__version__, "stage": stage, "epoch": epoch + 1,
                   "train_loss": round(loss_sum / images, 4), "val_acc": round(correct / seen, 4),
                   "images_per_second": round(images / train_s, 1), "data_wait_seconds": round(wait, 3),
                   "train_seconds": round(train_s, 3), "seconds": round(time.perf_counter() - t0, 3)}
            epochs.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"peer": "pytorch", "summary": True, "wall_seconds": round(time.perf_counter() - t_start, 2),
                      "peak_cuda_bytes": torch.cuda.max_memory_allocated() if a.device == "cuda" else 0,
                      "workers": a.workers,
                      "batch": a.batch, "amp": a.amp}), flush=True)


if __name__ == "__main__":
    main()
