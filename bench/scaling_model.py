"""Scaling model of midge's data-parallel training to 8 and 64 GPUs, from
measured step time, copy bandwidth and allreduce bandwidth.

Per step and GPU:  t(p) = t_compute + t_staging + t_exposed(p)
  t_compute  measured step without any sync (bench/gpu/lease.sh: ResNet-50,
             512 px, batch 32 per GPU, bf16, multi-tensor SGD, H200)
  t_staging  measured extra time of the pinned-host staging path on the same
             GPU (sync on, one rank: copies + the queue drain before MPI)
  t_nccl     measured extra time of the NCCL path on the same GPU (sync on
             through NCCL, one rank: bucket copies, side stream, events)
  t_ar(p)    ring allreduce of S gradient bytes: 2 (p-1)/p * S / busbw
             + 2 (p-1) * latency per bucket (the nccl-tests convention)
  t_exposed  the part of t_ar not hidden behind backward: buckets go out
             during backward, which lasts ~2/3 of t_compute; the last bucket
             (ready when backward ends) is never hidden:
             max(t_ar - 2/3 t_compute, t_ar * last_bucket / S)
Efficiency = t_compute / t(p); images/s = p * batch / t(p).

Assumptions (each a flag): busbw of the host-staged MPI path within a node
is this machine's measured 2-rank shared-memory allreduce (bench/dist.sh;
a real GPU node has more memory bandwidth, so this is pessimistic); between
nodes a flat ring is limited by one node's NIC (default one 200 Gb/s HDR
port = 25 GB/s) since only one ring edge per node leaves it; 8 GPUs per
node. The NCCL rows (midge's dist.backend = nccl: its one-rank cost is
measured, its multi-GPU bandwidth is not, as no machine with several GPUs
was available; MODELLED) assume NCCL's published NVLink busbw 350 GB/s in
a node and 8 x 400 Gb/s NICs (= 50 GB/s per GPU) between nodes.
usage: python3 bench/scaling_model.py [--step-ms 40.25] [--staging-ms 5.02] ...
"""
import argparse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--step-ms", type=float, default=40.25, help="t_compute (bench/gpu, bf16)")
    p.add_argument("--staging-ms", type=float, default=5.02, help="t_staging (bench/gpu)")
    p.add_argument("--nccl-ms", type=float, default=1.54, help="t_nccl (bench/gpu, one rank)")
    p.add_argument("--batch", type=int, default=32, help="images per GPU per step")
    p.add_argument("--params", type=int, default=23_528_522, help="ResNet-50, 10 taxa")
    p.add_argument("--bucket-mb", type=float, default=25)
    p.add_argument("--mpi-busbw", type=float, default=3.97, help="GB/s, bench/dist.sh 25 MiB, 2 ranks")
    p.add_argument("--nic-gbps", type=float, default=25.0, help="GB/s per node between nodes")
    p.add_argument("--latency-us", type=float, default=10.0)
    p.add_argument("--nvlink-busbw", type=float, default=350.0)
    p.add_argument("--nccl-net-busbw", type=float, default=50.0)
    a = p.parse_args()
    s = a.params * 4
    buckets = max(1, round(s / (a.bucket_mb * 2**20) + 0.5))
    last = s - (buckets - 1) * a.bucket_mb * 2**20
    tc = a.step_ms / 1000

    def t_ar(n, busbw):
        return 2 * (n - 1) / n * s / (busbw * 1e9) + 2 * (n - 1) * a.latency_us * 1e-6 * buckets

    def row(name, n, busbw, staging):
        ar = t_ar(n, busbw) if n > 1 else 0.0
        exposed = max(ar - 2 / 3 * tc, ar * last / s) if n > 1 else 0.0
        t = tc + (staging if n > 1 else 0.0) + exposed
        bw = f"{busbw:g}" if n > 1 else "-"
        print(f"| {name} | {n} | {bw} | {ar * 1e3:.1f} | {exposed * 1e3:.1f} | "
              f"{t * 1e3:.1f} | {tc / t:.0%} | {n * a.batch / t:,.0f} |")

    print(f"gradients: {s / 1e6:.1f} MB in {buckets} buckets of {a.bucket_mb:g} MiB "
          f"(last {last / 1e6:.1f} MB); t_compute {a.step_ms} ms, t_staging {a.staging_ms} ms, "
          f"t_nccl {a.nccl_ms} ms")
    print()
    print("| path | GPUs | busbw GB/s | allreduce ms | exposed ms | step ms | efficiency | images/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    staging = a.staging_ms / 1000
    row("1 GPU, no sync", 1, 1, 0)
    row("midge MPI, host-staged, 1 node", 8, a.mpi_busbw, staging)
    row("midge MPI, host-staged, 8 nodes (NIC-bound)", 64, min(a.mpi_busbw, a.nic_gbps), staging)
    row("midge NCCL (modelled), 1 node NVLink", 8, a.nvlink_busbw, a.nccl_ms / 1000)
    row("midge NCCL (modelled), 8 nodes", 64, a.nccl_net_busbw, a.nccl_ms / 1000)


if __name__ == "__main__":
    main()
