#include "train/session.h"

#include <algorithm>
#include <filesystem>

#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "data/taxonomy.h"
#include "io/run_file.h"
#include "model/weights.h"
#include "train/progress.h"
#include "train/replica.h"

namespace midge::train {
namespace fs = std::filesystem;
namespace {

// dist.backend: auto takes NCCL for GPU gradients when every rank can use
// it, each on a GPU of its own, and MPI otherwise; nccl insists (and with
// one rank still starts NCCL, which checks that it works on this node,
// though one rank has nothing to reduce). The ranks decide together, as
// starting NCCL is collective.
void open_nccl(Session& s) {
  const std::string& backend = s.config.dist.backend;
  distributed::Communicator& world = s.world;
  // Conditions alike on every rank (configuration, world, the binary): no
  // rank leaves here while others go on to the collectives below.
  if (backend == "mpi" || (world.size() == 1 && backend != "nccl")) return;
  if (backend == "auto" && !distributed::nccl_built()) return;
  std::string why;
  bool usable = s.device.cuda;
  if (!usable) {
    why = "rank " + std::to_string(world.rank()) + " trains on the CPU";
  } else if (!distributed::nccl_available(&why)) {
    usable = false;
  }
  // NCCL refuses two ranks of a communicator on one GPU: every rank learns
  // every other's GPU (by UUID), one broadcast per rank.
  const std::uint64_t mine = usable ? distributed::gpu_key(s.device.device.index()) : 0;
  for (int r = 0; r < world.size(); ++r) {
    std::int64_t key = r == world.rank() ? static_cast<std::int64_t>(mine) : 0;
    world.broadcast(&key, 1, r);
    if (usable && r != world.rank() && static_cast<std::uint64_t>(key) == mine) {
      usable = false;
      why = text::format("ranks %d and %d drive the same GPU, and NCCL needs a GPU per rank",
                         std::min(r, world.rank()), std::max(r, world.rank()));
    }
  }
  const bool everywhere =
      world.allreduce_value<std::int64_t>(usable ? 1 : 0, distributed::ReduceOp::kMin) == 1;
  if (!everywhere) {
    const std::string reason = usable ? "another rank cannot use NCCL" : why;
    if (backend == "nccl") {
      throw UsageError("dist.backend = nccl on rank " + std::to_string(world.rank()) + ": " +
                       reason + "; use dist.backend = auto or mpi");
    }
    if (s.rank0() && s.device.cuda) log::info("gradients between GPUs through MPI: " + reason);
    return;
  }
  s.nccl = distributed::make_nccl_comm(world, s.device.device.index());
  if (s.rank0()) {
    log::info(text::format("gradients between GPUs through %s, %d rank(s)%s",
                           s.nccl->version().c_str(), s.nccl->size(),
                           world.size() == 1 ? " (one rank: nothing to reduce)" : ""));
  }
}

// run.amp = auto: bf16 when every rank's device computes it natively (all
// ranks train alike), else off. A resumed run keeps what it started with
// (train/checkpointer), whatever machine it continues on.
void choose_amp(Session& s) {
  if (s.config.run.amp != "auto") {
    s.amp = s.config.run.amp;
    return;
  }
  std::string what;
  const bool mine = s.device.cuda ? gpu_has_native_bf16(s.device.device.index(), &what)
                                  : cpu_has_native_bf16(&what);
  // The configuration is alike on every rank, so all of them reduce here.
  const bool everywhere =
      s.world.allreduce_value<std::int64_t>(mine ? 1 : 0, distributed::ReduceOp::kMin) == 1;
  s.amp = resolve_amp(s.config.run.amp, everywhere);
  if (s.rank0()) {
    const std::string where = s.device.cuda ? "GPU" : "CPU";
    const std::string why = everywhere ? where + " has " + what
                            : !mine    ? where + ": " + what
                                       : "another rank's " + where + " has no native bf16";
    log::info("run.amp = auto: " + s.amp + " (" + why + ")");
  }
}

void open_image_cache(Session& s) {
  const data::CacheMode mode = data::parse_cache_mode(s.config.data.cache);
  if (mode == data::CacheMode::kNone) return;
  std::string dir = s.config.data.cache_dir;
  if (dir.empty()) dir = s.cache_dir.empty() ? s.path("cache") : s.cache_dir;
  s.cache =
      data::ImageCache::open(data::image_spec_from(preprocessing_of(s.config.data)), mode, dir);
  s.cache->begin_run();
  if (s.rank0()) {
    const std::string where =
        mode == data::CacheMode::kFile ? ", parts in " + s.cache->folder() : std::string();
    log::info(text::format("image cache (%s): %lld image(s) held%s", s.config.data.cache.c_str(),
                           static_cast<long long>(s.cache->stats().entries), where.c_str()));
  }
}

}  // namespace

std::string Session::path(const char* name) const { return (fs::path(out) / name).string(); }

int Session::eval_batch() const {
  const StageConfig& last = config.stage2.epochs > 0 ? config.stage2 : config.stage1;
  return static_cast<int>(std::max<long long>(1, last.batch_size / world.size()));
}

data::LoaderOptions Session::loader_options(bool train, int per_rank_batch) const {
  data::LoaderOptions o;
  o.spec = data::image_spec_from(preprocessing_of(config.data));
  o.train = train;
  if (train) {
    o.augment = config.augment;
    o.balance = data::parse_balance(config.data.balance);
  }
  o.batch_size = per_rank_batch;
  o.workers = static_cast<int>(config.data.workers);
  o.prefetch = static_cast<int>(config.data.prefetch);
  o.seed = static_cast<std::uint64_t>(config.run.seed);
  o.rank = world.rank();
  o.world = world.size();
  o.max_bad_fraction = 1.0;  // counted over all ranks at the agreements
  o.allocator = batch_allocator(device);
  o.cache = cache;
  return o;
}

void check_backend_available(const Config& config) {
  if (config.dist.backend != "nccl") return;
  if (config.run.device == "cpu" || !torch::cuda::is_available()) {
    throw UsageError("dist.backend = nccl, but training runs on the CPU (no CUDA device visible)");
  }
  if (!distributed::nccl_built()) {
    throw UsageError(
        "dist.backend = nccl, but this midge was built without NCCL (it needs a CUDA LibTorch and "
        "NCCL's nccl.h at build time); use dist.backend = auto or mpi");
  }
}

namespace {

// Each rank's host, node-local rank, threads and device to every rank (a
// broadcast per rank, once per run), and one line naming the nodes.
void gather_places(Session& s) {
  const std::string mine =
      io::host_name() + '\t' + std::to_string(s.world.local_rank()) + '\t' +
      std::to_string(s.device.threads) + '\t' +
      (s.device.cuda ? "cuda:" + std::to_string(s.device.device.index()) : std::string("cpu"));
  s.places.clear();
  for (int r = 0; r < s.world.size(); ++r) {
    std::string line = r == s.world.rank() ? mine : std::string();
    s.world.broadcast(line, r);
    const std::vector<std::string> f = text::split(line, '\t');
    if (f.size() != 4) throw DistError("rank " + std::to_string(r) + " sent no placement");
    s.places.push_back({f[0], std::stoi(f[1]), std::stoi(f[2]), f[3]});
  }
  if (s.world.size() == 1 || !s.rank0()) return;
  // "4 ranks on 2 nodes: nodea (0, 1), nodeb (2, 3)", nodes in order of
  // their first rank.
  std::vector<std::pair<std::string, std::vector<std::string>>> nodes;
  for (std::size_t r = 0; r < s.places.size(); ++r) {
    auto it = std::find_if(nodes.begin(), nodes.end(),
                           [&](const auto& n) { return n.first == s.places[r].host; });
    if (it == nodes.end()) it = nodes.insert(nodes.end(), {s.places[r].host, {}});
    it->second.push_back(std::to_string(r));
  }
  std::vector<std::string> parts;
  for (const auto& n : nodes) parts.push_back(n.first + " (" + text::join(n.second, ", ") + ")");
  log::info(text::format("%d ranks on %zu node(s): %s", s.world.size(), nodes.size(),
                         text::join(parts, ", ").c_str()));
}

}  // namespace

void open_session(Session& s) {
  s.agree.phase("choosing the device", [&] {
    s.device = choose_device(s.config.run, s.world.local_rank(), s.world.cpu_sharers());
    // Peaks of this run alone (a sweep runs many in one process).
    reset_peak_memory(s.device);
  });
  gather_places(s);
  open_nccl(s);
  std::string encoded;
  s.rank0_phase("reading the data set",
                [&] { encoded = data::encode_split(data::split_for_run(s.config.data)); });
  s.world.broadcast(encoded, 0);
  s.split = data::decode_split(encoded);
  s.classes = static_cast<int>(s.split.classes.size());
  s.agree.phase("building the model", [&] {
    open_image_cache(s);
    torch::manual_seed(s.config.run.seed);
    s.net = model::ResNet(s.config.model.arch, s.classes, s.config.model.dropout);
    model::load_pretrained(s.net, s.config.model.pretrained);
    s.net->to(s.device.device);
    if (s.config.data.balance == "weighted") {
      std::vector<int> labels;
      for (const auto& sample : s.split.train) labels.push_back(sample.label);
      auto w = data::class_weights(labels, s.classes);
      s.class_weights = torch::tensor(w).to(s.device.device);
    }
    s.eval_loader = std::make_unique<data::Loader>(s.split.val, s.classes,
                                                   s.loader_options(false, s.eval_batch()));
  });
  broadcast_state(s.world, s.net);
  choose_amp(s);
  s.scaler = LossScaler(s.amp == "fp16");
}

void share_skipped(Session& s) {
  std::vector<data::SkippedImage> all;
  for (int r = 0; r < s.world.size(); ++r) {
    std::string lines;
    if (r == s.world.rank()) {
      for (const auto& i : s.train_loader->skipped()) lines += i.path + '\t' + i.reason + '\n';
    }
    s.world.broadcast(lines, r);
    for (const std::string& line : text::split(lines, '\n')) {
      if (line.empty()) continue;
      const std::size_t tab = line.find('\t');
      all.push_back({line.substr(0, tab), tab == std::string::npos ? "" : line.substr(tab + 1)});
    }
  }
  s.train_loader->add_skipped(all);
  s.known_bad = static_cast<std::int64_t>(s.train_loader->skipped_count());
}

void check_bad_images(Session& s, std::int64_t found) {
  const auto total = static_cast<double>(s.split.train.size());
  const std::int64_t bad = s.known_bad + found;
  if (bad == 0 || static_cast<double>(bad) / total <= s.config.data.max_bad_fraction) return;
  // Every rank is at the same point (the verdict is alike): the lists can
  // be exchanged, so that every rank names the same example.
  share_skipped(s);
  const std::vector<data::SkippedImage> all = s.train_loader->skipped();
  distributed::raise_alike<DataError>(
      s.world, text::format("too many unreadable images: %lld of %.0f training images on %d "
                            "rank(s) (above data.max_bad_fraction = %g); e.g. ",
                            static_cast<long long>(all.size()), total, s.world.size(),
                            s.config.data.max_bad_fraction) +
                   (all.empty() ? std::string("?") : all.front().reason));
}

void save_image_cache(Session& s) {
  if (!s.cache) return;
  std::size_t written = 0;
  try {
    written = s.cache->save();
  } catch (const std::exception& e) {
    // The cache saves decoding, nothing else: a full disk costs speed.
    log::warn(std::string("image cache: could not write a part: ") + e.what());
  }
  const data::CacheStats st = s.cache->stats();
  const auto decoded = s.world.allreduce_value<std::int64_t>(st.decoded);
  const auto hits = s.world.allreduce_value<std::int64_t>(st.hits);
  const auto parts = s.world.allreduce_value<std::int64_t>(written > 0 ? 1 : 0);
  if (s.rank0() && (parts > 0 || !s.cache_reported)) {
    const std::string written_text =
        parts > 0 ? text::format("; %lld new part(s)", static_cast<long long>(parts)) : "";
    log::info(text::format("image cache: %lld decoded, %lld from the cache in this run%s",
                           static_cast<long long>(decoded), static_cast<long long>(hits),
                           written_text.c_str()));
  }
  s.cache_reported = true;
}

}  // namespace midge::train
