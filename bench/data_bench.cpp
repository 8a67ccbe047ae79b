// Data-path throughput: decode + augment + batch with midge's Loader,
// images per second over whole epochs, as one JSON line. bench/data.sh runs
// it next to the torchvision peer on the same files.
//
// usage: midge_bench_data --data DIR [--size 512] [--workers 1] [--batch 32]
//                         [--epochs 2] [--augment paper|off|elastic]
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "core/config.h"
#include "data/image_set.h"
#include "data/loader.h"
#include "data/split.h"

namespace po = boost::program_options;
using midge::data::Batch;
using midge::data::Loader;
using midge::data::LoaderOptions;

int main(int argc, char** argv) {
  po::options_description desc("midge_bench_data");
  desc.add_options()("data", po::value<std::string>()->required(), "image folder")(
      "size", po::value<int>()->default_value(512), "output side")(
      "workers", po::value<int>()->default_value(1), "worker threads")(
      "batch", po::value<int>()->default_value(32), "batch size")(
      "epochs", po::value<int>()->default_value(2), "timed epochs (after one warm-up batch)")(
      "augment", po::value<std::string>()->default_value("paper"), "paper|off|elastic")(
      "cache", po::value<std::string>()->default_value("none"),
      "none|memory: with memory, one untimed epoch fills the cache first");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);

  const auto set = midge::data::scan_image_set(vm["data"].as<std::string>());
  auto split = midge::data::split_image_set(set, 5, 4);
  std::vector<midge::data::Sample> samples = split.train;
  samples.insert(samples.end(), split.val.begin(), split.val.end());

  // The paper recipe's augmentation (configs/paper.ini), from the declared defaults.
  midge::Config config = midge::resolve_config(std::nullopt, {});
  LoaderOptions o;
  o.spec.size = vm["size"].as<int>();
  o.spec.resize = midge::data::ResizeMode::kPad;
  o.augment = config.augment;
  const std::string aug = vm["augment"].as<std::string>();
  if (aug == "off") o.augment = midge::AugmentConfig{};
  if (aug == "elastic") o.augment.elastic_alpha = 4;
  o.batch_size = vm["batch"].as<int>();
  o.workers = vm["workers"].as<int>();
  o.prefetch = 4;
  const std::string cache = vm["cache"].as<std::string>();
  if (midge::data::parse_cache_mode(cache) != midge::data::CacheMode::kNone) {
    o.cache =
        std::make_shared<midge::data::ImageCache>(o.spec, midge::data::CacheMode::kMemory, "");
    o.cache->begin_run();
  }
  Loader loader(samples, static_cast<int>(split.classes.size()), o);

  using Clock = std::chrono::steady_clock;
  Batch b;
  loader.start_epoch(0);
  loader.next(&b);  // warm-up: threads started
  if (o.cache) {
    while (loader.next(&b)) {  // the rest of the epoch: every image decoded once
    }
  }
  const int first = o.cache ? 1 : 0;
  std::int64_t images = 0;
  const auto t0 = Clock::now();
  for (int e = first; e < first + vm["epochs"].as<int>(); ++e) {
    if (e > 0) loader.start_epoch(e);
    while (loader.next(&b)) images += b.size;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "{\"impl\": \"midge\", \"workers\": %d, \"size\": %d, \"augment\": \"%s\", \"cache\": "
      "\"%s\", \"images\": %lld, \"seconds\": %.3f, \"images_per_second\": %.1f}\n",
      o.workers, o.spec.size, aug.c_str(), cache.c_str(), static_cast<long long>(images), seconds,
      static_cast<double>(images) / seconds);
  return 0;
}
