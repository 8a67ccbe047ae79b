"""Measured fp32 matrix-multiply peak of this machine through LibTorch's
BLAS (the library midge and the PyTorch peer both use): GFLOP/s of a
2048 x 2048 x 2048 SGEMM with T threads, best of several runs."""
import json
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
n = 2048
a = torch.randn(n, n)
b = torch.randn(n, n)
torch.mm(a, b)
best = 0.0
for _ in range(5):
    t0 = time.perf_counter()
    for _ in range(4):
        torch.mm(a, b)
    best = max(best, 4 * 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
print(json.dumps({"threads": threads, "sgemm_gflops": round(best, 1)}))
