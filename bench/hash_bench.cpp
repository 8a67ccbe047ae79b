// Content hashing at the start of a run (run.h5 /split/*/sha256, what
// `midge replay` checks): SHA-256 of every image of a folder with
// data::content_hashes, the function the trainer calls, as one JSON line.
// bench/hash.sh runs it next to coreutils' sha256sum on the same files.
//
// usage: midge_bench_hash --data DIR [--threads 1] [--repeats 3]
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "data/hashing.h"
#include "data/image_set.h"
#include "data/split.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description desc("midge_bench_hash");
  desc.add_options()("data", po::value<std::string>()->required(), "image folder")(
      "threads", po::value<int>()->default_value(1), "hashing threads")(
      "repeats", po::value<int>()->default_value(3), "timed passes (the fastest is reported)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  const auto set = midge::data::scan_image_set(vm["data"].as<std::string>());
  std::vector<midge::data::Sample> samples;
  std::uintmax_t bytes = 0;
  for (const auto& taxon : set.taxa) {
    for (const auto& path : taxon.images) {
      samples.push_back({path, 0});
      bytes += std::filesystem::file_size(path);
    }
  }
  const int threads = vm["threads"].as<int>();
  using Clock = std::chrono::steady_clock;
  double best = 0;
  for (int r = 0; r < vm["repeats"].as<int>(); ++r) {
    const auto t0 = Clock::now();
    const auto hashes = midge::data::content_hashes(samples, threads);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (hashes.size() != samples.size()) return 1;
    if (r == 0 || s < best) best = s;
  }
  std::printf(
      "{\"impl\": \"midge\", \"threads\": %d, \"files\": %zu, \"bytes\": %ju, \"seconds\": %.4f, "
      "\"mb_per_second\": %.1f}\n",
      threads, samples.size(), bytes, best, static_cast<double>(bytes) / 1e6 / best);
  return 0;
}
