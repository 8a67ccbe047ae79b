#include "data/hashing.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "core/errors.h"
#include "core/sha256.h"
#include "data/pack.h"

namespace midge::data {
namespace {

// An image inside a pack (data/pack.h) hashes to its file's hash: the
// same bytes.
std::string image_sha256(const std::string& path) {
  std::vector<unsigned char> bytes;
  if (!read_packed_image(path, &bytes)) return sha256_file(path);
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

std::vector<std::string> content_hashes(const std::vector<Sample>& samples, int threads,
                                        const std::function<bool()>& stop) {
  std::vector<std::string> out(samples.size());
  // Images inside packs (replay checks a run's images before anything
  // opens its data.root): the packs are opened here, before the threads.
  std::vector<std::string> paths;
  for (const auto& s : samples) paths.push_back(s.path);
  open_packs_of(paths);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < samples.size(); i = next++) {
      if (stop && stop()) return;
      try {
        out[i] = image_sha256(samples[i].path);
      } catch (const IoError&) {
        out[i].clear();
      } catch (const DataError&) {
        out[i].clear();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

RunHashes hash_run_files(const Split& split, const Config& config,
                         const std::function<bool()>& stop) {
  const int threads = static_cast<int>(std::clamp<long long>(config.data.workers, 1, 8));
  RunHashes h;
  h.train = content_hashes(split.train, threads, stop);
  h.val = content_hashes(split.val, threads, stop);
  h.holdout = content_hashes(split.holdout, threads, stop);
  const std::pair<const char*, const std::string*> inputs[] = {
      {"data.manifest", &config.data.manifest},
      {"data.taxonomy", config.data.level.empty() ? nullptr : &config.data.taxonomy},
      {"model.pretrained", &config.model.pretrained}};
  std::vector<Sample> files;
  for (const auto& [key, value] : inputs) {
    if (value == nullptr || value->empty() || *value == "none") continue;
    h.input_keys.emplace_back(key);
    h.input_paths.push_back(*value);
    files.push_back({*value, 0, "", ""});
  }
  h.input_sha256 = content_hashes(files, 1);
  return h;
}

}  // namespace midge::data
