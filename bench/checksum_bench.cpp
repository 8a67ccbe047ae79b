// What the checksums of result files cost (docs/results-schema.md,
// "Checksums"): saving and loading a model.h5 and a state.h5 of a real
// architecture, split into the part the checks add and the rest, in the same
// process and on the same files. One JSON line per file kind.
//
//   save: save_model_h5 / save_state as midge calls them (CRC-32 of each
//         dataset while writing, the SHA-256 seal at commit); the seal's
//         share is timed by sealing the written file again, the CRC's by
//         computing it over the same tensors.
//   load: load_model / load_state with the seal checked (first read of the
//         file in a process) and without (the same file read again: the
//         check is remembered per file until it changes). The file's time
//         is touched before each checked load so the check runs again.
// The page cache holds the file in every timing (it was just written).
//
// usage: midge_bench_checksums --dir DIR [--arch resnet50] [--classes 10] [--repeats 3]
#include <torch/torch.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "io/integrity.h"
#include "model/resnet.h"
#include "model/weights.h"
#include "train/checkpoint.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double seconds(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void touch(const fs::path& p) {
  fs::last_write_time(p, fs::last_write_time(p) + std::chrono::seconds(1));
}

struct Figures {
  double save = 1e300, seal = 1e300, crc = 1e300, load_checked = 1e300, load_unchecked = 1e300;
  void keep_best(const Figures& o) {
    save = std::min(save, o.save);
    seal = std::min(seal, o.seal);
    crc = std::min(crc, o.crc);
    load_checked = std::min(load_checked, o.load_checked);
    load_unchecked = std::min(load_unchecked, o.load_unchecked);
  }
};

double crc_of(const midge::model::NamedTensors& tensors) {
  return seconds([&] {
    std::uint32_t sink = 0;
    for (const auto& [name, t] : tensors) {
      const auto c = t.contiguous();
      sink ^= midge::io::values_crc(c.data_ptr(), static_cast<std::size_t>(c.nbytes()));
    }
    if (sink == 0xFFFFFFFFU) std::printf(" ");
  });
}

void report(const char* kind, const fs::path& file, const Figures& f) {
  std::printf(
      "{\"file\": \"%s\", \"mb\": %.1f, \"save\": %.4f, \"seal\": %.4f, \"crc\": %.4f, "
      "\"load_checked\": %.4f, \"load_unchecked\": %.4f}\n",
      kind, static_cast<double>(fs::file_size(file)) / 1e6, f.save, f.seal, f.crc, f.load_checked,
      f.load_unchecked);
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("midge_bench_checksums");
  desc.add_options()("dir", po::value<std::string>()->required(), "scratch folder")(
      "arch", po::value<std::string>()->default_value("resnet50"), "architecture")(
      "classes", po::value<int>()->default_value(10), "taxa")(
      "repeats", po::value<int>()->default_value(3), "timed passes (the fastest is reported)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  torch::set_num_threads(1);
  const fs::path dir = vm["dir"].as<std::string>();
  fs::create_directories(dir);
  midge::model::ResNet net(vm["arch"].as<std::string>(), vm["classes"].as<int>(), 0.5);
  midge::model::ModelMeta meta;
  meta.arch = vm["arch"].as<std::string>();
  for (int i = 0; i < vm["classes"].as<int>(); ++i)
    meta.classes.push_back("taxon" + std::to_string(i));
  const auto tensors = midge::model::named_state(net);
  // A state of stage 2: the weights, early stopping's best weights and an
  // optimizer state the size of Adam's two moments.
  midge::train::TrainState state;
  state.stage = 2;
  state.has_best = true;
  for (const auto& [name, t] : tensors) state.best.emplace_back(name, t.clone());
  std::int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  state.optimizer.assign(static_cast<std::size_t>(params) * 2 * sizeof(float), 7);
  state.classes = meta.classes;
  state.world_size = 1;
  state.config = "[model]\narch = " + meta.arch + "\n";

  const fs::path model_file = dir / "model.h5";
  const fs::path state_file = dir / "state.h5";
  Figures model_best;
  Figures state_best;
  for (int r = 0; r < vm["repeats"].as<int>(); ++r) {
    Figures m;
    m.save = seconds([&] { midge::model::save_model_h5(net, meta, model_file.string()); });
    m.seal = seconds([&] { midge::io::seal_file(model_file); });
    m.crc = crc_of(tensors);
    touch(model_file);
    midge::model::ModelMeta read_meta;
    m.load_checked =
        seconds([&] { (void)midge::model::load_model(model_file.string(), &read_meta); });
    m.load_unchecked =
        seconds([&] { (void)midge::model::load_model(model_file.string(), &read_meta); });
    model_best.keep_best(m);

    Figures s;
    s.save = seconds([&] { midge::train::save_state(state_file.string(), net, state); });
    s.seal = seconds([&] { midge::io::seal_file(state_file); });
    s.crc = crc_of(tensors) * 2 + seconds([&] {
              (void)midge::io::values_crc(state.optimizer.data(), state.optimizer.size());
            });
    touch(state_file);
    s.load_checked = seconds([&] { (void)midge::train::load_state(state_file.string(), net); });
    s.load_unchecked = seconds([&] { (void)midge::train::load_state(state_file.string(), net); });
    state_best.keep_best(s);
  }
  report("model.h5", model_file, model_best);
  report("state.h5", state_file, state_best);
  return 0;
}
