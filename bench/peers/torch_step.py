"""Peer of midge's step benchmark (bench/step_bench.cpp) in plain PyTorch:
the same training step on a fixed random batch - autocast forward
(bf16/fp16/off), cross-entropy, backward, SGD (lr 1e-4, momentum 0.9) -
with channels-last input on CUDA and cuDNN benchmark mode, as midge. Uses
torchvision's ResNet when installed; otherwise the same architecture built
here (torchvision's layer layout; the parity of midge's ResNet with
torchvision's is tested in tests/unit/model). Prints one JSON line.

--compile MODE wraps the model in torch.compile (default, or
max-autotune-no-cudagraphs); the warm-up steps, which compile, are timed
separately as compile_s. --profile adds a breakdown of further steps: GPU
time of forward, backward and optimizer (CUDA events around each phase)
and, from torch.profiler, the summed kernel time, kernels per step and the
longest kernels (cuDNN's algorithm choices show in their names).
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


def profile_steps(step, steps=5):
    """Runs `steps` more steps; returns the phase and kernel breakdown."""
    from torch.profiler import ProfilerActivity, profile
    phases = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    for _ in range(steps):
        ev = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
        step(ev)
        torch.cuda.synchronize()
        phases["forward"] += ev[0].elapsed_time(ev[1])
        phases["backward"] += ev[1].elapsed_time(ev[2])
        phases["optimizer"] += ev[2].elapsed_time(ev[3])
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step(None)
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    busy_us = sum(e.time_range.elapsed_us() for e in kernels)
    by_name = {}
    for e in kernels:
        by_name[e.name] = by_name.get(e.name, 0.0) + e.time_range.elapsed_us()
    top = sorted(by_name.items(), key=lambda kv: -kv[1])[:8]
    return {"forward_ms": round(phases["forward"] / steps, 3),
            "backward_ms": round(phases["backward"] / steps, 3),
            "optimizer_ms": round(phases["optimizer"] / steps, 3),
            "kernel_ms": round(busy_us / 1000 / steps, 3),
            "kernels_per_step": round(len(kernels) / steps, 1),
            "top_kernels": [[n[:90], round(t / 1000 / steps, 3)] for n, t in top]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--amp", default="bf16", choices=["off", "bf16", "fp16"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--compile", default="none", choices=["none", "default", "max-autotune-no-cudagraphs"])
    p.add_argument("--profile", action="store_true")
    a = p.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    model, source = make_model(a.arch, a.classes)
    model = model.to(dev).train()
    if a.compile != "none":
        model = torch.compile(model, mode=a.compile)
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

    def step(ev=None):
        if ev:
            ev[0].record()
        opt.zero_grad()
        ctx = torch.autocast(dev.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with ctx:
            logits = model(x)
        loss = nn.functional.cross_entropy(logits.float(), y)
        if ev:
            ev[1].record()
        loss.item()  # midge checks every loss for NaN before backward
        scaler.scale(loss).backward()
        if ev:
            ev[2].record()
        scaler.step(opt)
        scaler.update()
        if ev:
            ev[3].record()

    t_start = time.perf_counter()
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            compile_s = t0 - t_start
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    s = (time.perf_counter() - t0) / a.steps
    row = {"case": "peer step", "peer": f"pytorch {torch.__version__} ({source} model)",
           "arch": a.arch, "image_size": a.size, "global_batch": a.batch, "amp": a.amp,
           "compile": a.compile, "warmup_s": round(compile_s, 2),
           "step_s": round(s, 5), "images_per_second": round(a.batch / s, 3)}
    if a.profile and dev.type == "cuda":
        row["profile"] = profile_steps(step)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
