#include "data/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <opencv2/core/utility.hpp>

#include "core/errors.h"
#include "core/random.h"
#include "data/decode.h"
#include "data/pack.h"

namespace midge::data {

Allocator default_allocator() {
  return [](std::size_t count) {
    return std::shared_ptr<float>(new float[count], std::default_delete<float[]>());
  };
}

// Batch buffers of one size, reused. A handed-out buffer returns here when
// its last user drops it, unless the loader (and so the pool) is gone.
class Loader::BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  BufferPool(Allocator allocator, std::size_t count, std::size_t keep)
      : allocator_(std::move(allocator)), count_(count), keep_(keep) {}

  std::shared_ptr<float> acquire() {
    std::shared_ptr<float> raw;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        raw = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!raw) raw = allocator_(count_);
    float* data = raw.get();
    std::weak_ptr<BufferPool> weak = shared_from_this();
    return std::shared_ptr<float>(data, [weak, raw](float*) mutable {
      if (auto pool = weak.lock()) pool->release(std::move(raw));
    });
  }

 private:
  void release(std::shared_ptr<float> raw) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < keep_) free_.push_back(std::move(raw));
  }

  Allocator allocator_;
  std::size_t count_;
  std::size_t keep_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<float>> free_;
};

struct Loader::Slot {
  std::int64_t batch = 0;
  int index = 0;              // within the batch
  std::int64_t position = 0;  // global position in the epoch order
  std::int64_t sample = 0;
  std::int64_t epoch = 0;
};

struct Loader::Pending {
  std::shared_ptr<float> images;
  int capacity = 0;
  int remaining = 0;
  std::vector<bool> ok;
  std::vector<std::int64_t> samples;
  std::vector<std::int64_t> positions;
};

Loader::Loader(std::vector<Sample> samples, int num_classes, LoaderOptions options)
    : samples_(std::move(samples)), num_classes_(num_classes), options_(std::move(options)) {
  if (samples_.empty()) throw DataError("loader: no images to load");
  if (options_.batch_size < 1) throw UsageError("loader: batch size must be at least 1");
  if (options_.prefetch < 1) options_.prefetch = 1;
  if (!options_.allocator) options_.allocator = default_allocator();
  for (const auto& s : samples_) {
    if (s.label < 0 || s.label >= num_classes_) {
      throw DataError("loader: label " + std::to_string(s.label) + " of " + s.path +
                      " outside [0, " + std::to_string(num_classes_) + ")");
    }
    labels_.push_back(s.label);
  }
  // Images inside packs: opened here, before the workers read them (on
  // ranks other than 0 nothing else has: rank 0 scans data.root).
  std::vector<std::string> paths;
  paths.reserve(samples_.size());
  for (const auto& s : samples_) paths.push_back(s.path);
  open_packs_of(paths);
  floats_per_image_ = 3U * static_cast<std::size_t>(options_.spec.size) * options_.spec.size;
  pool_ = std::make_shared<BufferPool>(
      options_.allocator, floats_per_image_ * static_cast<std::size_t>(options_.batch_size),
      static_cast<std::size_t>(options_.prefetch) + 2);
  if (options_.workers > 0) {
    // Our workers are the parallelism; OpenCV's own thread pool inside each
    // warp would only oversubscribe the cores.
    cv::setNumThreads(0);
    prepare_codecs();
    for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
  }
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::int64_t Loader::samples_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (epoch_ >= 0) return static_cast<std::int64_t>(positions_.size());
  const std::int64_t total =
      static_cast<std::int64_t>(epoch_order(labels_, num_classes_, options_.seed, 0, options_.train,
                                            options_.train ? options_.balance : Balance::kNone)
                                    .size());
  return static_cast<std::int64_t>(
      shard_positions(total, options_.rank, options_.world, options_.train).size());
}

std::int64_t Loader::batches_per_epoch() const {
  const std::int64_t n = samples_per_epoch();
  return (n + options_.batch_size - 1) / options_.batch_size;
}

void Loader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  // Abandon the rest of the previous epoch: hand out no more work, wait for
  // the images being decoded right now.
  next_item_ = static_cast<std::int64_t>(positions_.size());
  done_cv_.wait(lock, [this] { return in_flight_ == 0; });
  pending_.clear();
  epoch_ = epoch;
  const Balance balance = options_.train ? options_.balance : Balance::kNone;
  order_ = epoch_order(labels_, num_classes_, options_.seed, epoch, options_.train, balance);
  positions_ = shard_positions(static_cast<std::int64_t>(order_.size()), options_.rank,
                               options_.world, options_.train);
  // Batches before first_batch are never prepared: the batch boundaries,
  // positions and augmentation seeds are those of the whole epoch.
  const auto size = static_cast<std::int64_t>(positions_.size());
  const std::int64_t batches = (size + options_.batch_size - 1) / options_.batch_size;
  if (first_batch < 0 || first_batch > batches) {
    throw std::invalid_argument("Loader::start_epoch: batch " + std::to_string(first_batch) +
                                " of an epoch of " + std::to_string(batches));
  }
  next_item_ = std::min(size, first_batch * options_.batch_size);
  returned_ = first_batch;
  lock.unlock();
  work_cv_.notify_all();
}

Loader::Pending& Loader::pending_for(std::int64_t batch) {
  auto it = pending_.find(batch);
  if (it != pending_.end()) return *it->second;
  auto p = std::make_unique<Pending>();
  const std::int64_t first = batch * options_.batch_size;
  p->capacity = static_cast<int>(std::min<std::int64_t>(
      options_.batch_size, static_cast<std::int64_t>(positions_.size()) - first));
  p->remaining = p->capacity;
  p->ok.assign(static_cast<std::size_t>(p->capacity), true);
  p->samples.resize(static_cast<std::size_t>(p->capacity));
  p->positions.resize(static_cast<std::size_t>(p->capacity));
  p->images = pool_->acquire();
  return *pending_.emplace(batch, std::move(p)).first->second;
}

// Under the lock: the next (batch, slot) a worker may prepare, if any is
// within the prefetch window.
bool Loader::next_work(std::unique_lock<std::mutex>& /*lock*/, Slot* slot) {
  if (stop_ || next_item_ >= static_cast<std::int64_t>(positions_.size())) return false;
  const std::int64_t batch = next_item_ / options_.batch_size;
  if (batch >= returned_ + options_.prefetch) return false;
  Pending& p = pending_for(batch);
  slot->batch = batch;
  slot->index = static_cast<int>(next_item_ % options_.batch_size);
  slot->position = positions_[static_cast<std::size_t>(next_item_)];
  slot->sample = order_[static_cast<std::size_t>(slot->position)];
  slot->epoch = epoch_;
  p.samples[static_cast<std::size_t>(slot->index)] = slot->sample;
  p.positions[static_cast<std::size_t>(slot->index)] = slot->position;
  ++next_item_;
  ++in_flight_;
  return true;
}

void Loader::fill_slot(const Slot& slot, float* dest, std::string* error) const {
  const Sample& s = samples_[static_cast<std::size_t>(slot.sample)];
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = bad_.find(s.path);
    if (it != bad_.end()) {
      *error = it->second;
      return;
    }
  }
  try {
    // Decoded and shaped once per run (or sweep) with a cache, else now.
    const cv::Mat square =
        options_.cache
            ? options_.cache->shaped(s.path)
            : shape_image(decode_image(s.path, options_.spec.size, options_.spec.resize).bgr,
                          options_.spec);
    if (options_.train && !augment_is_off(options_.augment)) {
      const AugmentDraw draw =
          draw_augment(options_.augment,
                       derive_seed(options_.seed, {static_cast<std::uint64_t>(Stream::kAugment),
                                                   static_cast<std::uint64_t>(slot.epoch),
                                                   static_cast<std::uint64_t>(slot.position)}));
      render_sample(square, options_.spec, &draw, dest);
    } else {
      render_sample(square, options_.spec, nullptr, dest);
    }
  } catch (const DataError& e) {
    *error = e.what();
  } catch (const cv::Exception& e) {
    *error = "cannot shape image " + s.path + ": OpenCV: " + e.what();
  } catch (const std::bad_alloc&) {
    *error = "cannot shape image " + s.path + ": not enough memory";
  }
}

void Loader::record_bad(std::int64_t sample, const std::string& reason) {
  const std::string& path = samples_[static_cast<std::size_t>(sample)].path;
  if (bad_.emplace(path, reason).second) {
    spdlog::warn("skipping unreadable image: {}", reason);
  }
}

void Loader::finish_slot(const Slot& slot, const std::string& error) {
  --in_flight_;
  auto it = pending_.find(slot.batch);
  if (it != pending_.end() && slot.epoch == epoch_) {
    Pending& p = *it->second;
    if (!error.empty()) {
      p.ok[static_cast<std::size_t>(slot.index)] = false;
      record_bad(slot.sample, error);
    }
    --p.remaining;
  }
  done_cv_.notify_all();
}

// Called and returning with the lock held; prepares `slot` without it.
void Loader::run_slot(std::unique_lock<std::mutex>& lock, const Slot& slot) {
  float* dest =
      pending_[slot.batch]->images.get() + floats_per_image_ * static_cast<std::size_t>(slot.index);
  lock.unlock();
  std::string error;
  std::exception_ptr failure;
  try {
    fill_slot(slot, dest, &error);
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  if (failure && !error_) error_ = failure;
  finish_slot(slot, failure ? "internal error" : error);
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    Slot slot;
    work_cv_.wait(lock, [&] { return stop_ || next_work(lock, &slot); });
    if (stop_) return;
    run_slot(lock, slot);
  }
}

bool Loader::next(Batch* out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (epoch_ < 0) throw std::logic_error("Loader::next before start_epoch");
  const std::int64_t batches =
      (static_cast<std::int64_t>(positions_.size()) + options_.batch_size - 1) /
      options_.batch_size;
  if (returned_ >= batches) return false;
  const std::int64_t b = returned_;
  if (threads_.empty()) {
    // No workers: prepare this batch here, one image after another.
    Slot slot;
    while (!error_ && next_item_ / options_.batch_size == b && next_work(lock, &slot)) {
      run_slot(lock, slot);
    }
  } else {
    work_cv_.notify_all();
  }
  done_cv_.wait(lock, [&] {
    if (error_) return true;
    auto it = pending_.find(b);
    return it != pending_.end() && it->second->remaining == 0;
  });
  if (error_) std::rethrow_exception(error_);
  std::unique_ptr<Pending> p = std::move(pending_[b]);
  pending_.erase(b);
  ++returned_;
  lock.unlock();
  work_cv_.notify_all();  // the prefetch window moved

  // Compact: drop the slots of unreadable images.
  out->epoch = epoch_;
  out->index = b;
  out->image_size = options_.spec.size;
  out->labels.clear();
  out->samples.clear();
  out->positions.clear();
  int n = 0;
  for (int i = 0; i < p->capacity; ++i) {
    if (!p->ok[static_cast<std::size_t>(i)]) continue;
    if (n != i) {
      std::memmove(p->images.get() + floats_per_image_ * static_cast<std::size_t>(n),
                   p->images.get() + floats_per_image_ * static_cast<std::size_t>(i),
                   floats_per_image_ * sizeof(float));
    }
    const std::int64_t sample = p->samples[static_cast<std::size_t>(i)];
    out->samples.push_back(sample);
    out->positions.push_back(p->positions[static_cast<std::size_t>(i)]);
    out->labels.push_back(labels_[static_cast<std::size_t>(sample)]);
    ++n;
  }
  out->size = n;
  out->images = std::move(p->images);

  lock.lock();
  const double fraction = static_cast<double>(bad_.size()) / static_cast<double>(samples_.size());
  if (!bad_.empty() && fraction > options_.max_bad_fraction) {
    throw DataError("too many unreadable images: " + std::to_string(bad_.size()) + " of " +
                    std::to_string(samples_.size()) + " (above data.max_bad_fraction = " +
                    std::to_string(options_.max_bad_fraction) + "); e.g. " + bad_.begin()->second);
  }
  return true;
}

void Loader::add_skipped(const std::vector<SkippedImage>& images) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& image : images) bad_.emplace(image.path, image.reason);
}

std::size_t Loader::skipped_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bad_.size();
}

std::vector<SkippedImage> Loader::skipped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SkippedImage> out;
  for (const auto& [path, reason] : bad_) out.push_back({path, reason});
  return out;
}

}  // namespace midge::data
