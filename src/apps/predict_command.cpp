#include <filesystem>
#include <limits>

#include "apps/commands.h"
#include "core/errors.h"
#include "core/text.h"
#include "data/specimens.h"
#include "explain/identify.h"
#include "explain/specimen_predictions.h"

namespace midge::apps {

namespace {

struct PredictOutputs {
  std::string csv;
  std::string h5;
};

// --out's extension says which format it is; the other format goes beside
// it. Both paths always differ, so one output never overwrites the other;
// explain::check_prediction_outputs keeps them off anything else.
PredictOutputs prediction_outputs(const std::string& out) {
  namespace fs = std::filesystem;
  const std::string ext = text::to_lower(fs::path(out).extension().string());
  if (ext == ".csv") return {out, fs::path(out).replace_extension(".h5").string()};
  if (ext == ".h5" || ext == ".hdf5")
    return {fs::path(out).replace_extension(".csv").string(), out};
  throw UsageError(
      "midge predict: --out must end in .csv, .h5 or .hdf5 (it chooses the format), got '" + out +
      "'");
}

}  // namespace

int run_predict(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge predict --model FILE --input PATH... --out FILE [--top-k K]\n\n"
      "Identifies specimens with a trained model.h5: the K most probable taxa per image,\n"
      "with probabilities calibrated by the temperature fitted at training time. An image\n"
      "scoring below the model's open-set threshold (predict.open_set, predict.accept_rate\n"
      "at training) is reported as unknown, its candidates still listed.\n"
      "FILE's extension chooses its format: .csv (path,rank,taxon,probability,error,\n"
      "accepted,score,set) or .h5/.hdf5 (/paths, /top_taxa, /top_probabilities, /errors,\n"
      "/accepted, /scores, /sets); the other format is written next to it (same name, the other\n"
      "extension). One line per image is printed. Unreadable images are reported and\n"
      "listed; the others are still identified; the exit code is then 1. With a prediction\n"
      "set in the model (predict.coverage at training) each image also gets the set of\n"
      "taxa that holds its true taxon with that probability (CSV column set).\n"
      "With --specimen-pattern or --specimens, each specimen's images are also fused into one\n"
      "line with its own set (calibrated on the validation specimens): <out>.specimens.csv\n"
      "(specimen,images,rank,taxon,probability,set) and HDF5 /specimens.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("model", po::value<std::string>(),
                                                 "model.h5 written by midge train")(
      "input", po::value<std::vector<std::string>>()->multitoken(), "image files or folders")(
      "out", po::value<std::string>(), "output file: .csv or .h5 (the other is written beside it)")(
      "top-k", po::value<int>()->default_value(3), "taxa per image")(
      "specimen-pattern", po::value<std::string>()->default_value(""),
      "regular expression over file names naming each image's specimen (as "
      "data.specimen_pattern): adds one line per specimen, its images fused, and "
      "<out>.specimens.csv")(
      "specimens", po::value<std::string>()->default_value(""),
      "CSV naming each image's specimen (columns path and specimen; others, e.g. a "
      "training manifest's, are ignored): as --specimen-pattern")(
      "uncalibrated", "report the network's raw softmax probabilities (temperature 1)")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all cores)")(
      "device", po::value<std::string>()->default_value("auto"),
      "auto|cpu|cuda (auto: the GPU when one is visible)");
  po::positional_options_description pos;
  pos.add("input", -1);
  auto vm = parse_args("predict", args, desc, &pos);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  for (const char* k : {"model", "input", "out"}) {
    if (vm.count(k) == 0U) throw UsageError(std::string("midge predict: --") + k + " is required");
  }
  if (vm["top-k"].as<int>() < 1) throw UsageError("midge predict: --top-k must be at least 1");
  const PredictOutputs outputs = prediction_outputs(vm["out"].as<std::string>());
  const std::string model = vm["model"].as<std::string>();
  if (!std::filesystem::is_regular_file(model))
    throw UsageError("midge predict: model not found: " + model);
  explain::check_prediction_outputs(outputs.csv, outputs.h5, model);
  const data::SpecimenPattern pattern(vm["specimen-pattern"].as<std::string>());
  const std::string table_file = vm["specimens"].as<std::string>();
  if (!pattern.empty() && !table_file.empty())
    throw UsageError("midge predict: give --specimen-pattern or --specimens, not both");
  const bool by_specimen = !pattern.empty() || !table_file.empty();
  const std::string specimens_csv =
      std::filesystem::path(outputs.csv).replace_extension(".specimens.csv").string();
  if (by_specimen) explain::check_specimens_output(specimens_csv);
  const auto images = explain::collect_images(vm["input"].as<std::vector<std::string>>());
  if (images.empty()) throw UsageError("midge predict: no images in the given inputs");
  const std::string device = device_option("predict", vm["device"].as<std::string>());
  if (world.rank() != 0) return kExitSuccess;  // one process is enough for inference
  explain::PredictOptions o;
  o.top_k = vm["top-k"].as<int>();
  o.threads = vm["threads"].as<int>();
  o.device = device;
  o.calibrated = vm.count("uncalibrated") == 0U;
  // Every image's specimen before any work: a file the pattern or the
  // table does not name is an error that names it.
  std::vector<std::string> specimens;
  if (!table_file.empty()) {
    const data::SpecimenTable table(table_file);
    for (const auto& image : images) specimens.push_back(table.specimen_of(image));
  } else {
    for (const auto& image : images) specimens.push_back(pattern.specimen_of(image));
  }
  const auto predictions = explain::predict(model, images, o);
  const explain::ModelSummary summary = explain::model_summary(model);
  std::vector<explain::SpecimenPrediction> fused;
  if (by_specimen) {
    // Sets need the calibrated probabilities the threshold was fitted on.
    const double threshold = o.calibrated && summary.coverage > 0
                                 ? summary.specimen_set_threshold
                                 : std::numeric_limits<double>::quiet_NaN();
    fused = explain::fuse_predictions(predictions, specimens, summary.classes, o.top_k, threshold);
  }
  explain::write_predictions_csv(predictions, outputs.csv);
  explain::write_predictions_h5(predictions, model, outputs.h5, o.calibrated, &fused);
  if (!fused.empty()) explain::write_specimens_csv(fused, specimens_csv);
  std::size_t failed = 0;
  std::size_t unknown = 0;
  std::string lines;
  for (const auto& p : predictions) {
    failed += p.error.empty() ? 0 : 1;
    unknown += p.error.empty() && !p.accepted ? 1 : 0;
    lines += explain::describe_prediction(p) + "\n";
  }
  // The sets' coverage, when the model has sets (stats/conformal.h).
  std::string sets;
  const double coverage = summary.coverage;
  if (o.calibrated && coverage > 0) {
    sets = text::format(
        "sets: the taxa that hold the true one with probability %.3f (conformal, calibrated on "
        "the training run's validation images)\n",
        coverage);
  }
  for (const auto& s : fused) {
    if (s.taxa.empty()) {
      lines += "specimen " + s.name + ": no image read\n";
      continue;
    }
    lines += text::format("specimen %s (%lld images): %s (%.3f)", s.name.c_str(),
                          static_cast<long long>(s.images), s.taxa.front().c_str(),
                          s.probabilities.front());
    for (std::size_t r = 1; r < s.taxa.size(); ++r)
      lines += text::format(", %s %.3f", s.taxa[r].c_str(), s.probabilities[r]);
    if (s.has_set)
      lines += "; set: " + (s.set.empty() ? std::string("none") : text::join(s.set, ", "));
    lines += "\n";
  }
  print_once(world, lines + "identified " + std::to_string(predictions.size() - failed) + " of " +
                        std::to_string(predictions.size()) + " images, " + std::to_string(unknown) +
                        " of them as an unknown taxon\n" + sets + "CSV:  " + outputs.csv +
                        "\nHDF5: " + outputs.h5 + "\n" +
                        (fused.empty() ? "" : "specimens: " + specimens_csv + "\n"));
  return failed == 0 ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
