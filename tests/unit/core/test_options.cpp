#include <gtest/gtest.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/options.h"

namespace midge {
namespace {

const OptionSpec& spec(const std::string& key) {
  const OptionSpec* s = option_table().find(key);
  if (s == nullptr) throw std::runtime_error("test: no key " + key);
  return *s;
}

std::string error_of(const OptionSpec& s, const std::string& value) {
  try {
    canonicalize(s, value);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Options, IntegersAreCheckedAgainstTheirBounds) {
  EXPECT_EQ(canonicalize(spec("stage1.epochs"), " 7 "), "7");
  EXPECT_EQ(canonicalize(spec("stage1.epochs"), "0"), "0");
  const std::string bad = error_of(spec("stage1.epochs"), "-1");
  EXPECT_NE(bad.find("stage1.epochs"), std::string::npos) << bad;
  EXPECT_NE(bad.find("'-1'"), std::string::npos) << bad;
  EXPECT_NE(bad.find("integer in [0, 100000]"), std::string::npos) << bad;
  EXPECT_NE(bad.find("out of range"), std::string::npos) << bad;
  EXPECT_NE(error_of(spec("data.image_size"), "2.5").find("integer"), std::string::npos);
}

TEST(Options, FloatsAreStoredCanonically) {
  EXPECT_EQ(canonicalize(spec("stage1.lr"), "1e-3"), "0.001");
  EXPECT_EQ(canonicalize(spec("stage1.lr"), "0.0010"), "0.001");
  EXPECT_NE(error_of(spec("stage1.lr"), "0").find("out of range"), std::string::npos);
  EXPECT_NE(error_of(spec("stage1.lr"), "fast").find("number in"), std::string::npos);
  EXPECT_NE(error_of(spec("model.dropout"), "1").find("model.dropout"), std::string::npos);
}

TEST(Options, BooleansChoicesAndListsAreNormalized) {
  EXPECT_EQ(canonicalize(spec("augment.hflip"), "Yes"), "true");
  EXPECT_EQ(canonicalize(spec("augment.hflip"), "off"), "false");
  EXPECT_NE(error_of(spec("augment.hflip"), "maybe").find("true|false"), std::string::npos);
  EXPECT_EQ(canonicalize(spec("model.arch"), "ResNet18"), "resnet18");
  const std::string bad = error_of(spec("model.arch"), "vgg16");
  EXPECT_NE(bad.find("resnet18|resnet34|resnet50|resnet101"), std::string::npos) << bad;
  EXPECT_EQ(canonicalize(spec("data.mean"), "0.5, 0.50,0.5"), "0.5,0.5,0.5");
  EXPECT_NE(error_of(spec("data.mean"), "0.5,0.5").find("got 2 values"), std::string::npos);
  EXPECT_NE(error_of(spec("data.std"), "0.2,0,0.2").find("out of range"), std::string::npos);
}

TEST(Options, PretrainedAcceptsNoneOrKnownFileTypes) {
  EXPECT_EQ(canonicalize(spec("model.pretrained"), "none"), "none");
  EXPECT_EQ(canonicalize(spec("model.pretrained"), "w/resnet50.pt"), "w/resnet50.pt");
  EXPECT_EQ(canonicalize(spec("model.pretrained"), "run/model.h5"), "run/model.h5");
  EXPECT_NE(error_of(spec("model.pretrained"), "weights.bin").find(".pt, .pth or .h5"),
            std::string::npos);
}

TEST(Options, UnknownKeysGetTheClosestSuggestion) {
  const auto& t = option_table();
  EXPECT_EQ(t.suggest("stage1.l"), " (did you mean 'stage1.lr'?)");
  EXPECT_EQ(t.suggest("stage1.epoch"), " (did you mean 'stage1.epochs'?)");
  // A bare or misplaced name points at every section that has it.
  EXPECT_EQ(t.suggest("lr"), " (did you mean 'stage1.lr' or 'stage2.lr'?)");
  EXPECT_EQ(t.suggest("train.dropout"), " (did you mean 'model.dropout'?)");
  EXPECT_EQ(t.suggest("completely.unrelated"), "");
}

TEST(Options, EveryDesignKeyIsDeclaredWithHelp) {
  // The keys of the documented config sections (docs/config.md), all of
  // which must exist.
  const char* keys[] = {"data.root",
                        "data.image_size",
                        "data.resize",
                        "data.mean",
                        "data.std",
                        "data.split_every",
                        "data.split_offset",
                        "data.manifest",
                        "data.taxonomy",
                        "data.level",
                        "data.balance",
                        "data.workers",
                        "data.prefetch",
                        "data.max_bad_fraction",
                        "model.arch",
                        "model.pretrained",
                        "model.dropout",
                        "augment.rotate_deg",
                        "augment.shift",
                        "augment.scale",
                        "augment.shear",
                        "augment.hflip",
                        "augment.vflip",
                        "augment.brightness",
                        "augment.contrast",
                        "augment.elastic_alpha",
                        "augment.elastic_sigma",
                        "run.seed",
                        "run.device",
                        "run.amp",
                        "run.threads",
                        "run.deterministic",
                        "run.checkpoint_every",
                        "run.checkpoint_seconds",
                        "run.cuda_graph",
                        "dist.bucket_mb",
                        "dist.overlap",
                        "gradcam.layer",
                        "gradcam.max_images"};
  for (const char* k : keys) EXPECT_NE(option_table().find(k), nullptr) << k;
  for (const char* stage : {"stage1", "stage2"}) {
    for (const char* k : {"epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
                          "schedule", "early_stop_patience"}) {
      EXPECT_NE(option_table().find(std::string(stage) + "." + k), nullptr) << stage << k;
    }
  }
  for (const auto& s : option_table().all()) {
    EXPECT_FALSE(s.help.empty()) << s.key;
    EXPECT_NE(option_table().help_text().find(s.name() + " = "), std::string::npos) << s.key;
    EXPECT_NE(option_table().markdown().find("`" + s.key + "`"), std::string::npos) << s.key;
  }
}

TEST(Options, DeclaringAKeyTwiceOrAnInvalidDefaultIsABug) {
  OptionTable t;
  OptionSpec s;
  s.key = "a.b";
  s.kind = OptionKind::kInt;
  s.min = 0;
  s.max = 10;
  s.default_value = "3";
  t.add(s);
  EXPECT_THROW(t.add(s), std::logic_error);
  OptionSpec bad = s;
  bad.key = "a.c";
  bad.default_value = "11";
  EXPECT_THROW(t.add(bad), ConfigError);
}

}  // namespace
}  // namespace midge
