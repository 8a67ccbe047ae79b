"""How much a fused BatchNorm(+add)+ReLU could save in ResNet-50's training
step (issue #30, deliverable 2), measured before writing the kernels.

For every distinct BatchNorm input of ResNet-50 at 512 px, batch 32,
channels-last (the shapes of the step midge and bench/peers/torch_step.py
time), forward + backward of
  bn_relu      relu(batch_norm(x))                 (after conv1/conv2 of a block)
  bn_add_relu  relu(batch_norm(x) + residual)      (after conv3)
  bn           batch_norm(x)                       (the downsample branch)
in training mode, timed with CUDA events, eager and under torch.compile
(Inductor's fused kernels: the upper bound torch.compile reaches on these
ops). Each shape is weighted by how often ResNet-50 has it, so the sum is
the step's BatchNorm+ReLU(+add) time. Also the HBM traffic of one pass
(bytes a fused kernel must move at least) over the H200's ~4.3 TB/s, the
floor no kernel can beat.

Prints one JSON line per shape and op, then a summary line.
usage: python3 bench/gpu/bn_fusion.py [--dtype bf16] [--compile] [--iters 20]
CPU smoke test: python3 bench/gpu/bn_fusion.py --device cpu --batch 2 --size 64 --iters 1
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

# ResNet-50 (torchvision v1.5) BatchNorm inputs as (channels, spatial
# divisor of the input size, op, count in the network).
SHAPES = [
    (64, 2, "bn_relu", 1),                                         # stem
    (64, 4, "bn_relu", 6), (256, 4, "bn_add_relu", 3), (256, 4, "bn", 1),   # layer1
    (128, 4, "bn_relu", 1), (128, 8, "bn_relu", 7), (512, 8, "bn_add_relu", 4), (512, 8, "bn", 1),  # layer2
    (256, 8, "bn_relu", 1), (256, 16, "bn_relu", 11), (1024, 16, "bn_add_relu", 6), (1024, 16, "bn", 1),  # layer3
    (512, 16, "bn_relu", 1), (512, 32, "bn_relu", 5), (2048, 32, "bn_add_relu", 3), (2048, 32, "bn", 1),  # layer4
]


def op_fn(op):
    def f(x, w, b, rm, rv, r):
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
        if op == "bn_add_relu":
            y = y + r
        if op != "bn":
            y = torch.relu(y)
        return y
    return f


def timed(fn, args, grad, iters, device):
    def once():
        y = fn(*args)
        y.backward(grad)

    for _ in range(3):
        once()
    if device == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            once()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / iters
    t0 = time.perf_counter()
    for _ in range(iters):
        once()
    return (time.perf_counter() - t0) * 1000 / iters


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--compile", action="store_true")
    p.add_argument("--bandwidth", type=float, default=4.3e12, help="HBM bytes/s for the floor")
    a = p.parse_args()
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    dev = torch.device(a.device)
    if a.device == "cuda":
        torch.backends.cudnn.benchmark = True
    total = {"eager_ms": 0.0, "compiled_ms": 0.0, "floor_ms": 0.0}
    t_compile = 0.0
    for channels, divisor, op, count in SHAPES:
        hw = a.size // divisor
        shape = (a.batch, channels, hw, hw)
        x = torch.randn(shape, device=dev, dtype=dtype).to(memory_format=torch.channels_last).requires_grad_()
        r = torch.randn(shape, device=dev, dtype=dtype).to(memory_format=torch.channels_last).requires_grad_()
        # As under autocast: BatchNorm's weights and statistics stay fp32.
        w = torch.ones(channels, device=dev, requires_grad=True)
        b = torch.zeros(channels, device=dev, requires_grad=True)
        rm, rv = torch.zeros(channels, device=dev), torch.ones(channels, device=dev)
        grad = torch.randn(shape, device=dev, dtype=dtype).to(memory_format=torch.channels_last)
        args = (x, w, b, rm, rv, r)
        fn = op_fn(op)
        row = {"case": "bn_fusion", "op": op, "shape": list(shape), "count": count, "dtype": a.dtype}
        row["eager_ms"] = timed(fn, args, grad, a.iters, a.device)
        # Fused minimum: forward reads x (+ r), writes y; backward reads x,
        # dy (and y for ReLU's mask), writes dx (+ dr).
        elements = x.numel()
        passes = {"bn": 4, "bn_relu": 5, "bn_add_relu": 7}[op]
        row["floor_ms"] = passes * elements * x.element_size() / a.bandwidth * 1000
        if a.compile and hasattr(torch, "compile"):
            # Every shape compiled afresh: Dynamo's recompile limit (8) would
            # otherwise leave the later shapes running eagerly.
            torch._dynamo.reset()
            t0 = time.perf_counter()
            compiled = torch.compile(fn, dynamic=False)
            timed(compiled, args, grad, 1, a.device)
            t_compile += time.perf_counter() - t0
            row["compiled_ms"] = timed(compiled, args, grad, a.iters, a.device)
            total["compiled_ms"] += count * row["compiled_ms"]
        total["eager_ms"] += count * row["eager_ms"]
        total["floor_ms"] += count * row["floor_ms"]
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    summary = {"case": "bn_fusion_total", "dtype": a.dtype, "batch": a.batch, "size": a.size,
               "per_step_eager_ms": round(total["eager_ms"], 3), "per_step_floor_ms": round(total["floor_ms"], 3),
               "device": torch.cuda.get_device_name() if a.device == "cuda" else "cpu", "torch": torch.__version__}
    if a.compile and hasattr(torch, "compile"):
        summary["per_step_compiled_ms"] = round(total["compiled_ms"], 3)
        summary["compile_s"] = round(t_compile, 1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
