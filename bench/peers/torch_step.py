"""Peer of midge's step benchmark (bench/step_bench.cpp) in plain PyTorch:
the same training step on a fixed random batch - autocast forward
(bf16/fp16/off), cross-entropy, backward, SGD (lr 1e-4, momentum 0.9) -
with channels-last input on CUDA and cuDNN benchmark mode, as midge. Uses
torchvision's ResNet when installed; otherwise the same architecture built
here (torchvision's layer layout; the parity of midge's ResNet with
torchvision's is tested in tests/unit/model). Prints one JSON line.
"""
import argparse
import contextlib
import json
import time

import torch
import torch.nn as nn


def bottleneck_resnet(blocks, classes):
    """ResNet-50/101 as torchvision builds it (v1.5: stride in the 3x3)."""

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            cout = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            return self.relu(self.bn3(self.conv3(y)) + idt)

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for i, (n, width) in enumerate(zip(blocks, [64, 128, 256, 512])):
        for j in range(n):
            layers.append(Bottleneck(cin, width, 2 if (j == 0 and i > 0) else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def make_model(arch, classes):
    try:
        import torchvision
        m = getattr(torchvision.models, arch)(num_classes=classes)
        m.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(m.fc.in_features, classes))
        return m, "torchvision"
    except ImportError:
        if arch not in ("resnet50", "resnet101"):
            raise
        return bottleneck_resnet([3, 4, 6, 3] if arch == "resnet50" else [3, 4, 23, 3], classes), "local"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--amp", default="bf16", choices=["off", "bf16", "fp16"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    a = p.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    model, source = make_model(a.arch, a.classes)
    model = model.to(dev).train()
    x = torch.randn(a.batch, 3, a.size, a.size).to(dev)
    if dev.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, a.classes, (a.batch,)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    use_scaler = a.amp == "fp16" and dev.type == "cuda"
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    else:
        scaler = torch.cuda.amp.GradScaler(enabled=use_scaler)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.amp)
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        opt.zero_grad()
        ctx = torch.autocast(dev.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with ctx:
            logits = model(x)
        loss = nn.functional.cross_entropy(logits.float(), y)
        loss.item()  # midge checks every loss for NaN before backward
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    s = (time.perf_counter() - t0) / a.steps
    print(json.dumps({"case": "peer step", "peer": f"pytorch {torch.__version__} ({source} model)",
                      "arch": a.arch, "image_size": a.size, "global_batch": a.batch, "amp": a.amp,
                      "step_s": round(s, 5), "images_per_second": round(a.batch / s, 3)}))


if __name__ == "__main__":
    main()
