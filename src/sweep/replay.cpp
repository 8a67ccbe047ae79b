#include "sweep/replay.h"

#include <algorithm>
#include <filesystem>

#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "data/hashing.h"
#include "data/split.h"
#include "io/atomic_file.h"
#include "io/compare.h"
#include "io/run_file.h"
#include "train/trainer.h"

namespace midge::sweep {
namespace fs = std::filesystem;
namespace {

// Every recorded image hashed again: "path: why" for each that differs.
std::vector<std::string> check_images(const io::RunRecord& rec, std::size_t* checked) {
  std::vector<data::Sample> samples;
  std::vector<std::string> recorded;
  auto add = [&](const std::vector<std::string>& paths, const std::vector<std::string>& hashes) {
    for (std::size_t i = 0; i < paths.size() && i < hashes.size(); ++i) {
      samples.push_back({paths[i], 0, "", ""});
      recorded.push_back(hashes[i]);
    }
  };
  add(rec.train_paths, rec.train_sha256);
  add(rec.val_paths, rec.val_sha256);
  add(rec.holdout_paths, rec.holdout_sha256);
  add(rec.input_paths, rec.input_sha256);
  const std::vector<std::string> now = data::content_hashes(samples, 4);
  std::vector<std::string> changed;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (now[i] == recorded[i]) continue;
    if (now[i].empty()) {
      changed.push_back(samples[i].path + ": missing or unreadable now");
    } else if (recorded[i].empty()) {
      changed.push_back(samples[i].path + ": could not be read when the run trained");
    } else {
      changed.push_back(samples[i].path + ": content changed (SHA-256 " +
                        recorded[i].substr(0, 12) + "... then, " + now[i].substr(0, 12) +
                        "... now)");
    }
  }
  *checked = samples.size();
  return changed;
}

// What differs between the two runs' settings.
std::vector<std::string> setting_differences(const io::RunRecord& a, const io::RunRecord& b,
                                             const Config& config, bool images_changed) {
  std::vector<std::string> out;
  if (a.midge_version != b.midge_version) {
    out.push_back("midge version: " + a.midge_version + " then, " + b.midge_version +
                  " now (its computations may have changed)");
  }
  if (a.versions != b.versions)
    out.push_back("library versions: '" + a.versions + "' then, '" + b.versions + "' now");
  if (!a.device.empty() && a.device != b.device)
    out.push_back("hardware: '" + a.device + "' then, '" + b.device + "' now");
  if (a.amp != b.amp) out.push_back("precision: " + a.amp + " then, " + b.amp + " now");
  if (a.world_size != b.world_size) {
    out.push_back(text::format("ranks: %lld then, %lld now (gradients are summed in another order)",
                               static_cast<long long>(a.world_size),
                               static_cast<long long>(b.world_size)));
  }
  if (!config.run.deterministic) {
    out.push_back(
        "run.deterministic = false: LibTorch may pick kernels whose sums vary from run to run");
  }
  if (images_changed) out.push_back("files changed since the run trained (listed above)");
  return out;
}

std::string bullet_list(const std::vector<std::string>& lines, std::size_t limit = 50) {
  std::string out;
  for (std::size_t i = 0; i < lines.size() && i < limit; ++i) out += "  " + lines[i] + "\n";
  if (lines.size() > limit) out += text::format("  ... and %zu more\n", lines.size() - limit);
  return out;
}

}  // namespace

ReplayReport replay_run(const std::string& run_dir, const std::string& out,
                        distributed::Communicator& world, const ReplayOptions& options) {
  const std::string original = (fs::path(run_dir) / "run.h5").string();
  if (!fs::is_regular_file(original)) throw UsageError("midge replay: no run.h5 in " + run_dir);
  const io::RunRecord rec = io::read_run_file(original);
  if (rec.status != io::RunStatus::kComplete) {
    throw UsageError("midge replay: " + original + " is " + io::run_status_name(rec.status) +
                     ", not complete; replay compares finished runs");
  }
  const std::string original_model = (fs::path(run_dir) / "model.h5").string();
  if (!fs::is_regular_file(original_model)) {
    throw UsageError("midge replay: no model.h5 in " + run_dir + " to compare the weights with");
  }
  if (fs::exists(fs::path(out) / "run.h5") || fs::exists(fs::path(out) / "state.h5") ||
      fs::exists(fs::path(out) / "state.prev.h5")) {
    throw UsageError("midge replay: " + out + " already holds a run; choose a new --out");
  }
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(out, run_dir, ec)) {
    throw UsageError("midge replay: --out must not be the run being replayed");
  }
  Config config = resolve_config_text(rec.config, original + " (config)", {});
  ValidateOptions v;
  v.ranks = world.size();
  validate(config, v);

  ReplayReport report;
  std::string text = "replay of " + run_dir + " into " + out + "\n";
  if (rec.train_sha256.empty()) {
    text +=
        "images: not checked (this run.h5 records no image hashes; it was written before schema "
        "2)\n";
  } else {
    // Rank 0 hashes; the others learn the verdict (all must agree on training).
    std::int64_t changed = 0;
    if (world.rank() == 0) {
      report.changed_images = check_images(rec, &report.images_checked);
      changed = static_cast<std::int64_t>(report.changed_images.size());
    }
    world.broadcast(&changed, 1, 0);
    if (world.rank() == 0) {
      const std::size_t inputs = rec.input_paths.size();
      text += text::format("images: %zu checked against their recorded SHA-256%s, %zu changed\n",
                           report.images_checked - inputs,
                           inputs > 0 ? text::format(" (and %zu input files of data.manifest, "
                                                     "data.taxonomy, model.pretrained)",
                                                     inputs)
                                            .c_str()
                                      : "",
                           report.changed_images.size());
      text += bullet_list(report.changed_images);
    }
    if (changed > 0 && !options.force) {
      text +=
          "not replayed: the run would not see the files it was trained on (--force replays "
          "anyway; relative paths are resolved from the folder midge runs in)\n";
      report.text = text;
      return report;
    }
  }
  const train::TrainOutcome result = train::train_run(config, world, out);
  report.trained = true;
  if (result.interrupted)
    throw TrainError(
        "midge replay: stopped on request before the end; run it again with a new --out");
  if (world.rank() == 0) {
    const io::RunRecord now = io::read_run_file(result.run_file);
    const std::vector<std::string> timing = {"seconds", "images_per_second", "data_wait_seconds"};
    const io::FileComparison runs = io::compare_h5(
        original, result.run_file,
        {"classes", "split", "stage1/history", "stage2/history", "eval", "gradcam"}, timing);
    const io::FileComparison models =
        io::compare_h5(original_model, result.model_file, {"weights"});
    report.datasets_compared = runs.compared + models.compared;
    // An original of an older schema lacks what this version adds; that is
    // no difference in the results.
    std::size_t newer = 0;
    for (const auto& d : runs.differences) {
      if (rec.schema_version < io::kRunSchemaVersion && d.what == "only in the replay") {
        ++newer;
        continue;
      }
      report.differences.push_back("run.h5:" + d.path + ": " + d.what);
    }
    if (newer > 0) {
      text += text::format(
          "the original is of schema %lld: %zu datasets this version adds were not compared\n",
          static_cast<long long>(rec.schema_version), newer);
    }
    for (const auto& d : models.differences)
      report.differences.push_back("model.h5:" + d.path + ": " + d.what);
    report.equal = report.differences.empty();
    report.reasons = setting_differences(rec, now, config, !report.changed_images.empty());
    if (report.equal) {
      text += text::format(
          "bitwise equal: all %zu datasets (metrics, per-epoch history without timings, "
          "probabilities, calibration, open set, Grad-CAM, weights) are the same, value for "
          "value\n",
          report.datasets_compared);
    } else {
      text += text::format("NOT bitwise equal: %zu of the datasets differ:\n",
                           report.differences.size());
      text += bullet_list(report.differences);
      text += report.reasons.empty()
                  ? "no difference in the setting was found (same versions, hardware, precision, "
                    "ranks and images; run.deterministic = true)\n"
                  : "what differs in the setting:\n" + bullet_list(report.reasons);
    }
    if (report.equal && !report.reasons.empty()) {
      text += "though the setting differs:\n" + bullet_list(report.reasons);
    }
    io::write_file_atomic((fs::path(out) / "replay.txt").string(), text);
  }
  // Every rank returns rank 0's verdict (the exit code of each process).
  std::int64_t equal = report.equal ? 1 : 0;
  world.broadcast(&equal, 1, 0);
  report.equal = equal == 1;
  report.text = text;
  return report;
}

}  // namespace midge::sweep
