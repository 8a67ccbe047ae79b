#include <filesystem>

#include "apps/commands.h"
#include "core/errors.h"
#include "core/text.h"
#include "data/synth.h"

namespace midge::apps {

namespace {

// "256" -> 256x256, "1024x768" -> width 1024, height 768.
void parse_size(const std::string& text, int* width, int* height) {
  auto parts = text::split(text::to_lower(text), 'x');
  long long w = 0;
  long long h = 0;
  bool ok = (parts.size() == 1 || parts.size() == 2) && text::parse_int64(parts[0], &w) &&
            text::parse_int64(parts.back(), &h);
  if (!ok || w <= 0 || h <= 0 || w > 100000 || h > 100000) {
    throw UsageError("midge synth: --size must be PX or WIDTHxHEIGHT, got '" + text + "'");
  }
  *width = static_cast<int>(w);
  *height = static_cast<int>(h);
}

}  // namespace

int run_synth(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge synth --out DIR [--classes N --per-class N --views V --size PX --seed S]\n\n"
      "Writes a synthetic taxon image set: DIR/<taxon>/*.png, DIR/regions.csv (box of the\n"
      "taxon-defining structure per image) and DIR/taxonomy.csv. Deterministic for a seed.\n"
      "With --views V each specimen is photographed V times (<taxon>_NNNN_vV.png; use\n"
      "data.specimen_pattern=_([0-9]+)_v); --marks gives each specimen marks of its own.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("out", po::value<std::string>(),
                                                 "output folder (created)")(
      "classes", po::value<int>()->default_value(5), "number of taxa (1-15)")(
      "per-class", po::value<int>()->default_value(50),
      "specimens per taxon (= images with one view)")("views", po::value<int>()->default_value(1),
                                                      "images of each specimen (1-100)")(
      "marks", "each specimen carries individual marks (colour dots unrelated to its taxon)")(
      "size", po::value<std::string>()->default_value("256"), "image size: PX or WIDTHxHEIGHT")(
      "seed", po::value<std::uint64_t>()->default_value(1), "random seed")(
      "format", po::value<std::string>()->default_value("png"), "png or jpg")(
      "threads", po::value<int>()->default_value(0), "rendering threads (0 = all cores)");
  auto vm = parse_args("synth", args, desc);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("out") == 0U) throw UsageError("midge synth: --out DIR is required");
  data::SynthOptions o;
  o.out = vm["out"].as<std::string>();
  o.taxa = vm["classes"].as<int>();
  o.per_taxon = vm["per-class"].as<int>();
  o.views = vm["views"].as<int>();
  o.marks = vm.count("marks") != 0U;
  parse_size(vm["size"].as<std::string>(), &o.width, &o.height);
  o.seed = vm["seed"].as<std::uint64_t>();
  o.format = text::to_lower(vm["format"].as<std::string>());
  o.threads = vm["threads"].as<int>();
  // One writer: under mpirun every rank would otherwise write the same files.
  if (world.rank() == 0) {
    auto summary = data::synthesize(o);
    const std::string specimens = o.views > 1
                                      ? " (" + std::to_string(o.taxa * o.per_taxon) +
                                            " specimens x " + std::to_string(o.views) + " views)"
                                      : "";
    print_once(world, "wrote " + std::to_string(summary.images) + " images" + specimens + " of " +
                          std::to_string(o.taxa) + " taxa to " + o.out + "\n" + "regions:  " +
                          summary.regions_csv + "\n" + "taxonomy: " + summary.taxonomy_csv + "\n");
  }
  world.barrier();
  return kExitSuccess;
}

}  // namespace midge::apps
