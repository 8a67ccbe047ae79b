// The rules across configuration keys and the file system, checked before
// any work starts (validate), and those that depend on the number of ranks
// (rank_rule_violations).
#include "core/config.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/text.h"

namespace midge {
namespace {

namespace fs = std::filesystem;

bool path_exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

}  // namespace

bool batchnorm_trains_on_one_image(long long image_size) {
  // A ResNet halves the side five times (stem conv, max pool, layer2..4),
  // rounding up: layer4's map is 1x1 exactly when the side is at most 32.
  return image_size > 32;
}

std::vector<std::string> rank_rule_violations(const Config& c, int ranks) {
  std::vector<std::string> out;
  const std::pair<const char*, const StageConfig*> stages[] = {{"stage1", &c.stage1},
                                                               {"stage2", &c.stage2}};
  for (const auto& [name, s] : stages) {
    if (s->epochs > 0 && ranks > 0 && s->batch_size % ranks != 0) {
      out.push_back(std::string(name) + ".batch_size (" + std::to_string(s->batch_size) +
                    ") must be divisible by the number of ranks (" + std::to_string(ranks) +
                    "): each rank takes an equal share of every batch");
    }
  }
  // Stage 2 trains BatchNorm, which normalizes over each rank's share.
  if (c.stage2.epochs > 0 && ranks > 0 && c.stage2.batch_size / ranks < 2 &&
      !batchnorm_trains_on_one_image(c.data.image_size)) {
    out.push_back("stage2.batch_size (" + std::to_string(c.stage2.batch_size) +
                  ") gives fewer than 2 images per rank on " + std::to_string(ranks) +
                  " rank(s): at data.image_size " + std::to_string(c.data.image_size) +
                  " (<= 32) layer4's feature map is 1x1 and BatchNorm cannot train on one value "
                  "per channel");
  }
  return out;
}

void validate(const Config& c, const ValidateOptions& opt) {
  std::vector<std::string> errors;
  auto fail = [&errors](const std::string& msg) { errors.push_back(msg); };

  if (opt.require_data && c.data.root.empty() && c.data.manifest.empty()) {
    fail(
        "data.root: required (a folder with one sub-folder per taxon), unless data.manifest "
        "is given");
  }
  if (c.data.split_offset >= c.data.split_every) {
    fail("data.split_offset (" + std::to_string(c.data.split_offset) +
         ") must be below data.split_every (" + std::to_string(c.data.split_every) + ")");
  }
  if (!c.data.level.empty() && c.data.taxonomy.empty()) {
    fail("data.level = " + c.data.level + " needs data.taxonomy (a CSV of taxonomic levels)");
  }
  if (c.stage1.epochs + c.stage2.epochs == 0) {
    fail("stage1.epochs and stage2.epochs are both 0: nothing to train");
  }
  if (c.stage1.epochs > 0 && c.stage2.epochs > 0 && c.stage2.lr > c.stage1.lr &&
      !c.stage2_allow_higher_lr) {
    fail("stage2.lr (" + text::format_double(c.stage2.lr) + ") exceeds stage1.lr (" +
         text::format_double(c.stage1.lr) +
         "); fine-tuning uses a smaller rate. Set stage2.allow_higher_lr = true to force it");
  }
  for (const auto& v : rank_rule_violations(c, opt.ranks)) fail(v);
  if (c.run.amp == "fp16" && c.run.device == "cpu") {
    fail("run.amp = fp16 needs run.device = cuda or auto (CPU autocast supports bf16 only)");
  }
  if (c.dist.backend == "nccl" && c.run.device == "cpu") {
    fail("dist.backend = nccl needs run.device = cuda or auto (NCCL reduces GPU memory)");
  }
  if (opt.check_paths) {
    // A folder of taxon folders, or a pack (data/pack.h), a file.
    if (!c.data.root.empty() && !fs::is_directory(c.data.root) &&
        !fs::is_regular_file(c.data.root)) {
      fail("data.root: folder or pack not found: " + c.data.root);
    }
    if (!c.data.manifest.empty() && !fs::is_regular_file(c.data.manifest)) {
      fail("data.manifest: file not found: " + c.data.manifest);
    }
    if (!c.data.taxonomy.empty() && !fs::is_regular_file(c.data.taxonomy)) {
      fail("data.taxonomy: file not found: " + c.data.taxonomy);
    }
    if (c.model.pretrained != "none" && !path_exists(c.model.pretrained)) {
      fail("model.pretrained: file not found: " + c.model.pretrained);
    }
  }
  if (!errors.empty()) throw ConfigError(text::join(errors, "\n"));
}
}  // namespace midge
