// Reading an image set's files, as the loader does (data::read_image_bytes
// after data::scan_image_set), from a folder or from a pack (data/pack.h):
// scan time, read time and bytes, as one JSON line. bench/pack.sh runs it
// on cold caches and counts the files it opens.
//
// usage: midge_bench_read --data DIR_OR_PACK [--threads 1]
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "data/decode.h"
#include "data/image_set.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description desc("midge_bench_read");
  desc.add_options()("data", po::value<std::string>()->required(), "image folder or pack")(
      "threads", po::value<int>()->default_value(1), "reading threads");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  const std::string root = vm["data"].as<std::string>();
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  // For a pack, the scan opens it: its seal check reads the whole file.
  const auto set = midge::data::scan_image_set(root);
  const auto t1 = Clock::now();
  std::vector<std::string> paths;
  for (const auto& taxon : set.taxa)
    paths.insert(paths.end(), taxon.images.begin(), taxon.images.end());
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> bytes{0};
  auto work = [&] {
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      bytes += midge::data::read_image_bytes(paths[i]).size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < vm["threads"].as<int>(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  const auto t2 = Clock::now();
  const auto s = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf(
      "{\"source\": \"%s\", \"images\": %zu, \"bytes\": %llu, \"threads\": %d, \"scan_s\": %.4f, "
      "\"read_s\": %.4f, \"total_s\": %.4f}\n",
      std::filesystem::is_directory(root) ? "folder" : "pack", paths.size(),
      static_cast<unsigned long long>(bytes.load()), vm["threads"].as<int>(), s(t1 - t0),
      s(t2 - t1), s(t2 - t0));
  return 0;
}
