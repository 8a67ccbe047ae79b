// The loader's sharding with real ranks: every rank reads its shard of the
// same epoch order; together the shards cover the data set exactly once and
// every rank gets the same number of batches.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "data/image_set.h"
#include "data/loader.h"
#include "data/split.h"
#include "data/synth.h"
#include "mpi/mpi_world.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::mpi_world;

TEST(LoaderShards, RanksCoverTheEpochOnceWithEqualBatchCounts) {
  auto& w = mpi_world();
  // Rank 0 writes real images; the others wait and use the same folder.
  std::string root;
  if (w.rank() == 0) {
    root =
        (fs::temp_directory_path() / ("midge-mpi-loader-" + std::to_string(::getpid()))).string();
    SynthOptions o;
    o.out = root;
    o.taxa = 3;
    o.per_taxon = 10;
    o.width = o.height = 48;
    synthesize(o);
  }
  w.broadcast(root, 0);
  Split split = split_image_set(scan_image_set(root), 5, 4);  // 24 training images

  LoaderOptions opt;
  opt.spec.size = 32;
  opt.augment.rotate_deg = 10;
  opt.batch_size = 2;
  opt.workers = 1;
  opt.rank = w.rank();
  opt.world = w.size();
  Loader loader(split.train, 3, opt);
  std::vector<std::int64_t> visits(split.train.size(), 0);
  std::int64_t batches = 0;
  loader.start_epoch(4);
  Batch b;
  while (loader.next(&b)) {
    ++batches;
    for (auto s : b.samples) ++visits[static_cast<std::size_t>(s)];
  }
  EXPECT_EQ(batches, loader.batches_per_epoch());
  EXPECT_EQ(w.allreduce_value(batches, distributed::ReduceOp::kMax),
            w.allreduce_value(batches, distributed::ReduceOp::kMin));
  w.allreduce(visits);
  const std::size_t kept =
      split.train.size() - split.train.size() % static_cast<std::size_t>(w.size());
  std::size_t once = 0;
  for (auto v : visits) {
    EXPECT_LE(v, 1) << "a sample was read by two ranks";
    once += static_cast<std::size_t>(v);
  }
  EXPECT_EQ(once, kept);
  w.barrier();
  if (w.rank() == 0) fs::remove_all(root);
}

}  // namespace
}  // namespace midge::data
