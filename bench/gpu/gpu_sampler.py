"""Samples GPU 0's utilisation and memory through NVML every --interval
seconds until terminated; one CSV line per sample (unix time, utilisation %,
memory used in bytes), flushed at once so a killed sampler loses nothing.
Used by bench/gpu/e2e.sh; needs nvidia-ml-py (pynvml)."""
import argparse
import signal
import sys
import time

import pynvml


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--interval", type=float, default=0.1)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    with open(a.out, "w") as f:
        f.write("time,util_percent,memory_used_bytes\n")
        while True:
            u = pynvml.nvmlDeviceGetUtilizationRates(h)
            m = pynvml.nvmlDeviceGetMemoryInfo(h)
            f.write(f"{time.time():.3f},{u.gpu},{m.used}\n")
            f.flush()
            time.sleep(a.interval)


if __name__ == "__main__":
    main()
