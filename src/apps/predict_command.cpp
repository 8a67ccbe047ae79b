#include <filesystem>

#include "apps/commands.h"
#include "core/errors.h"
#include "explain/identify.h"

namespace midge::apps {

int run_predict(const std::vector<std::string>& args, dist::Communicator& world) {
  po::options_description desc(
      "midge predict --model FILE --input PATH... --out FILE [--top-k K]\n\n"
      "Identifies specimens with a trained model.h5: the K most probable taxa per image.\n"
      "Writes FILE as CSV (path,rank,taxon,probability,error) and the same next to it as\n"
      "HDF5 (FILE with .h5). Unreadable images are reported and listed; the others are\n"
      "still identified; the exit code is then 1.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("model", po::value<std::string>(),
                                                 "model.h5 written by midge train")(
      "input", po::value<std::vector<std::string>>()->multitoken(), "image files or folders")(
      "out", po::value<std::string>(), "CSV to write")("top-k", po::value<int>()->default_value(3),
                                                       "taxa per image")(
      "threads", po::value<int>()->default_value(0), "CPU threads (0 = all cores)");
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
  const std::string model = vm["model"].as<std::string>();
  if (!std::filesystem::is_regular_file(model))
    throw UsageError("midge predict: model not found: " + model);
  const auto images = explain::collect_images(vm["input"].as<std::vector<std::string>>());
  if (images.empty()) throw UsageError("midge predict: no images in the given inputs");
  if (world.rank() != 0) return kExitSuccess;  // one process is enough for inference
  explain::PredictOptions o;
  o.top_k = vm["top-k"].as<int>();
  o.threads = vm["threads"].as<int>();
  const auto predictions = explain::predict(model, images, o);
  const std::string out = vm["out"].as<std::string>();
  const std::string h5 = std::filesystem::path(out).replace_extension(".h5").string();
  explain::write_predictions_csv(predictions, out);
  explain::write_predictions_h5(predictions, model, h5);
  std::size_t failed = 0;
  for (const auto& p : predictions) failed += p.error.empty() ? 0 : 1;
  print_once(world, "identified " + std::to_string(predictions.size() - failed) + " of " +
                        std::to_string(predictions.size()) + " images\nCSV:  " + out +
                        "\nHDF5: " + h5 + "\n");
  return failed == 0 ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
