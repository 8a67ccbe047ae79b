#include <filesystem>

#include "apps/commands.h"
#include "core/errors.h"
#include "explain/identify.h"

namespace midge::apps {

int run_gradcam(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge gradcam --model FILE --input PATH... --out FILE [--png DIR] [--layer layer4]\n\n"
      "Grad-CAM heatmaps (in [0,1], input size) for the predicted taxon of each image,\n"
      "written to FILE (HDF5, /gradcam/...); --png also writes colour-map overlays on the\n"
      "shaped input images.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("model", po::value<std::string>(),
                                                 "model.h5 written by midge train")(
      "input", po::value<std::vector<std::string>>()->multitoken(), "image files or folders")(
      "out", po::value<std::string>(), "HDF5 file to write")("png", po::value<std::string>(),
                                                             "folder for overlay PNGs")(
      "layer", po::value<std::string>()->default_value("layer4"), "layer1|layer2|layer3|layer4")(
      "device", po::value<std::string>()->default_value("auto"),
      "auto|cpu|cuda (auto: the GPU when one is visible)");
  po::positional_options_description pos;
  pos.add("input", -1);
  auto vm = parse_args("gradcam", args, desc, &pos);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  for (const char* k : {"model", "input", "out"}) {
    if (vm.count(k) == 0U) throw UsageError(std::string("midge gradcam: --") + k + " is required");
  }
  const std::string layer = vm["layer"].as<std::string>();
  if (layer != "layer1" && layer != "layer2" && layer != "layer3" && layer != "layer4") {
    throw UsageError("midge gradcam: --layer must be layer1|layer2|layer3|layer4, got '" + layer +
                     "'");
  }
  const std::string model = vm["model"].as<std::string>();
  if (!std::filesystem::is_regular_file(model))
    throw UsageError("midge gradcam: model not found: " + model);
  const auto images = explain::collect_images(vm["input"].as<std::vector<std::string>>());
  if (images.empty()) throw UsageError("midge gradcam: no images in the given inputs");
  const std::string device = device_option("gradcam", vm["device"].as<std::string>());
  if (world.rank() != 0) return kExitSuccess;
  explain::GradcamOptions o;
  o.layer = layer;
  o.device = device;
  if (vm.count("png") != 0U) o.png_dir = vm["png"].as<std::string>();
  const auto s = explain::gradcam_images(model, images, vm["out"].as<std::string>(), o);
  std::string msg =
      "heatmaps of " + std::to_string(s.images) + " images: " + vm["out"].as<std::string>() + "\n";
  if (!s.pngs.empty())
    msg += "overlays: " + std::to_string(s.pngs.size()) + " PNGs in " + o.png_dir + "\n";
  print_once(world, msg);
  return s.failed.empty() ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
