// Data-parallel step throughput on CPU ranks: bench/dist.sh runs it as
// 1 rank x 2 threads and as 2 ranks x 1 thread (mpiexec) on the same
// global batch, with gradient overlap on and off, and prints one JSON line
// (rank 0). --allreduce-mb measures MPI allreduce bandwidth instead.
//
// usage: midge_bench_dist [--arch resnet50] [--size 224] [--batch 8]
//                         [--threads N] [--steps 6] [--warmup 2]
//                         [--bucket-mb 25] [--overlap on|off] [--sync auto|on|off]
//        midge_bench_dist --allreduce-mb 100 [--repeat 10]
#include <torch/torch.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include "core/config.h"
#include "distributed/runtime.h"
#include "step_bench.h"
#include "train/device.h"

namespace po = boost::program_options;

namespace {

// Ring-allreduce convention (as nccl-tests): algbw = bytes / time;
// busbw = algbw * 2 (p - 1) / p, the bandwidth each link must carry.
void allreduce_bandwidth(midge::distributed::Communicator& world, double mb, int repeat) {
  std::vector<float> v(static_cast<std::size_t>(mb * 1024 * 1024 / sizeof(float)), 1.0F);
  world.allreduce(v);  // warm-up: connections, page faults
  world.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) world.allreduce(v);
  world.barrier();
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeat;
  const double bytes = static_cast<double>(v.size() * sizeof(float));
  const double p = world.size();
  if (world.rank() == 0) {
    std::printf(
        "{\"allreduce_mb\": %g, \"ranks\": %d, \"seconds\": %.6f, \"algbw_gbps\": %.3f, "
        "\"busbw_gbps\": %.3f}\n",
        mb, world.size(), s, bytes / s / 1e9, bytes / s / 1e9 * 2 * (p - 1) / p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  midge::distributed::Runtime runtime(&argc, &argv);
  midge::distributed::Communicator& world = runtime.world();
  po::options_description desc("midge_bench_dist");
  midge::bench::StepBenchOptions o;
  std::string overlap = "on";
  int threads = 0;
  double allreduce_mb = 0;
  int repeat = 10;
  desc.add_options()("arch", po::value(&o.arch)->default_value(o.arch), "resnet18|34|50|101")(
      "size", po::value(&o.image_size)->default_value(224), "image side")(
      "batch", po::value(&o.global_batch)->default_value(8), "global batch")(
      "threads", po::value(&threads)->default_value(0), "threads per rank (0: cores / ranks)")(
      "steps", po::value(&o.steps)->default_value(6), "timed steps")(
      "warmup", po::value(&o.warmup)->default_value(2), "untimed steps first")(
      "bucket-mb", po::value(&o.bucket_mb)->default_value(25), "dist.bucket_mb")(
      "overlap", po::value(&overlap)->default_value("on"), "dist.overlap on|off")(
      "sync", po::value(&o.sync)->default_value("auto"), "auto|on|off")(
      "allreduce-mb", po::value(&allreduce_mb)->default_value(0), "measure allreduce instead")(
      "repeat", po::value(&repeat)->default_value(10), "allreduce repetitions");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  o.overlap = overlap == "on";
  // Threads and allocator tuning exactly as `midge train` sets them.
  midge::Config config = midge::resolve_config(std::nullopt, {});
  config.run.device = "cpu";
  config.run.threads = threads;
  midge::train::choose_device(config.run, world.local_rank(), world.cpu_sharers());
  if (allreduce_mb > 0) {
    allreduce_bandwidth(world, allreduce_mb, repeat);
  } else {
    const auto r = midge::bench::run_step_bench(world, o);
    if (world.rank() == 0) std::cout << r.json(o) << std::endl;
  }
  runtime.finalize();
  return 0;
}
