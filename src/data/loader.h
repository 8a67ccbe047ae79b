// The per-rank batch loader: worker threads decode and augment images into
// batch buffers ahead of the training loop.
//
// Invariants:
// - A batch's content depends on (seed, epoch, rank, world size, batch size)
//   only, never on the number of workers or on timing: the epoch order and
//   sharding come from sampling.h, and the augmentation of the sample at
//   global position p of epoch e draws from derive_seed(seed, {augment, e, p}).
//   Batches come out in order.
// - At most `prefetch` batches are being prepared or waiting, so memory is
//   bounded at prefetch x batch x 3 x size^2 floats.
// - Every rank gets the same number of batches per epoch (train mode).
// - An image that cannot be decoded is logged once with its path and the
//   reason, left out of its batch (the batch is one shorter), and listed by
//   skipped(); once more distinct images than data.max_bad_fraction of the
//   data set have failed, next() throws DataError naming the count and an
//   example. Errors in worker threads surface in next(), never lost.
//
// Batches hold plain float memory from an Allocator, so the trainer can hand
// out pinned (page-locked) buffers for fast host-to-GPU copies and wrap them
// as tensors without a copy; data/ itself needs no torch. Buffers are
// recycled: when the consumer drops a batch, its buffer returns to the
// loader's pool instead of being freed (a fresh 100 MB batch buffer costs
// more in page faults than decoding its images, and pinned allocations are
// slower still).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "data/image_cache.h"
#include "data/sampling.h"
#include "data/split.h"
#include "data/transform.h"

namespace midge::data {

// Returns memory for `count` floats (shared ownership: the trainer may keep
// a batch's images alive in a tensor after the loader moved on).
using Allocator = std::function<std::shared_ptr<float>(std::size_t count)>;

Allocator default_allocator();

struct Batch {
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // batch number within the epoch on this rank
  int size = 0;            // images actually in the batch (skipped ones removed)
  int image_size = 0;
  std::shared_ptr<float> images;        // [size, 3, image_size, image_size], contiguous
  std::vector<std::int64_t> labels;     // [size]
  std::vector<std::int64_t> samples;    // index into the loader's sample list
  std::vector<std::int64_t> positions;  // global position in the epoch order
};

struct SkippedImage {
  std::string path;
  std::string reason;
};

struct LoaderOptions {
  ImageSpec spec;
  AugmentConfig augment;  // used when `train`
  bool train = true;      // shuffle + augment + even shards; false: fixed order, all samples
  int batch_size = 32;    // per rank
  int workers = 2;        // 0 = decode on the calling thread inside next()
  int prefetch = 2;       // batches ahead
  std::uint64_t seed = 1;
  int rank = 0;
  int world = 1;
  Balance balance = Balance::kNone;
  double max_bad_fraction = 0.01;
  Allocator allocator;  // default_allocator() when empty
  // Decoded, shaped images (data.cache); null decodes every time.
  std::shared_ptr<ImageCache> cache;
};

class Loader {
 public:
  Loader(std::vector<Sample> samples, int num_classes, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Plans epoch `epoch` (abandoning what is left of the previous one) and
  // starts preparing its batches from `first_batch` on (a run resumed in
  // the middle of an epoch): those batches are exactly the ones a start at
  // batch 0 would have produced from there.
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  // The next batch of the current epoch; false when the epoch is done.
  bool next(Batch* out);

  std::int64_t batches_per_epoch() const;
  std::int64_t samples_per_epoch() const;  // on this rank
  const std::vector<Sample>& samples() const { return samples_; }
  std::vector<SkippedImage> skipped() const;
  std::size_t skipped_count() const;
  // Images already found unreadable (by this loader in an earlier process
  // of a resumed run): never decoded again, listed by skipped() and counted
  // against max_bad_fraction as if this loader had found them.
  void add_skipped(const std::vector<SkippedImage>& images);

 private:
  struct Slot;
  struct Pending;
  class BufferPool;
  void worker_loop();
  void fill_slot(const Slot& slot, float* dest, std::string* error) const;
  bool next_work(std::unique_lock<std::mutex>& lock, Slot* slot);
  void finish_slot(const Slot& slot, const std::string& error);
  void run_slot(std::unique_lock<std::mutex>& lock, const Slot& slot);
  Pending& pending_for(std::int64_t batch);
  void record_bad(std::int64_t sample, const std::string& reason);

  std::vector<Sample> samples_;
  std::vector<int> labels_;
  int num_classes_;
  LoaderOptions options_;
  std::size_t floats_per_image_;
  std::shared_ptr<BufferPool> pool_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;
  std::int64_t epoch_ = -1;
  std::vector<std::int64_t> order_;      // epoch order (sample ids)
  std::vector<std::int64_t> positions_;  // this rank's positions
  std::int64_t next_item_ = 0;           // next position index to hand to a worker
  std::int64_t returned_ = 0;            // batches handed out by next()
  int in_flight_ = 0;
  std::map<std::int64_t, std::unique_ptr<Pending>> pending_;
  std::exception_ptr error_;
  std::map<std::string, std::string> bad_;  // path -> reason
  std::vector<std::thread> threads_;
};

}  // namespace midge::data
