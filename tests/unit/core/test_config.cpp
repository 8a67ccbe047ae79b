#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/config.h"
#include "core/errors.h"
#include "support/temp_dir.h"

namespace midge {
namespace {

using midge::testing::TempDir;
using midge::testing::write_text;

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAreThePublishedRecipe) {
  Config c = resolve_config(std::nullopt, {});
  EXPECT_EQ(c.model.arch, "resnet50");
  EXPECT_EQ(c.data.image_size, 512);
  EXPECT_EQ(c.data.split_every, 5);
  EXPECT_EQ(c.data.split_offset, 4);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.5);
  EXPECT_GT(c.stage1.epochs, 0);
  EXPECT_GT(c.stage2.epochs, 0);
  EXPECT_LT(c.stage2.lr, c.stage1.lr);
  EXPECT_DOUBLE_EQ(c.data.mean[1], 0.456);
  EXPECT_EQ(c.value("run.device"), "auto");
}

TEST(Config, SetBeatsFileBeatsDefault) {
  TempDir dir;
  write_text(dir.path() / "a.ini", "[stage1]\nepochs = 3\nlr = 0.01\n[model]\narch = resnet18\n");
  Config from_file = resolve_config(dir.str("a.ini"), {});
  EXPECT_EQ(from_file.stage1.epochs, 3);
  EXPECT_EQ(from_file.model.arch, "resnet18");
  EXPECT_EQ(from_file.stage2.epochs, resolve_config(std::nullopt, {}).stage2.epochs);
  Config overridden =
      resolve_config(dir.str("a.ini"), {"stage1.epochs=4", "model.arch = resnet34"});
  EXPECT_EQ(overridden.stage1.epochs, 4);
  EXPECT_EQ(overridden.model.arch, "resnet34");
  EXPECT_DOUBLE_EQ(overridden.stage1.lr, 0.01);
  // Later --set wins over earlier --set.
  EXPECT_EQ(resolve_config(std::nullopt, {"run.seed=1", "run.seed=9"}).run.seed, 9);
}

TEST(Config, UnknownKeyInFileNamesFileKeyAndSuggestion) {
  TempDir dir;
  write_text(dir.path() / "typo.ini", "[stage1]\nlearning_rate = 0.1\nepochz = 3\n");
  const std::string msg = config_error([&] { resolve_config(dir.str("typo.ini"), {}); });
  EXPECT_NE(msg.find("typo.ini"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'stage1.learning_rate'"), std::string::npos) << msg;
  // Both errors are reported at once.
  EXPECT_NE(msg.find("unknown key 'stage1.epochz' (did you mean 'stage1.epochs'?)"),
            std::string::npos)
      << msg;
}

TEST(Config, UnknownOrMalformedSetIsAnError) {
  EXPECT_NE(config_error([] {
              resolve_config(std::nullopt, {"stage1.lrr=0.1"});
            }).find("--set: unknown key 'stage1.lrr' (did you mean 'stage1.lr'?)"),
            std::string::npos);
  EXPECT_NE(config_error([] {
              resolve_config(std::nullopt, {"stage1.lr"});
            }).find("expected section.key=value"),
            std::string::npos);
  const std::string msg = config_error([] { resolve_config(std::nullopt, {"data.image_size=8"}); });
  EXPECT_NE(msg.find("data.image_size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 4096]"), std::string::npos) << msg;
}

TEST(Config, FileProblemsAreNamed) {
  TempDir dir;
  EXPECT_NE(config_error([&] {
              resolve_config(dir.str("missing.ini"), {});
            }).find("config file not found"),
            std::string::npos);
  write_text(dir.path() / "dup.ini", "[run]\nseed = 1\nseed = 2\n");
  EXPECT_NE(config_error([&] {
              resolve_config(dir.str("dup.ini"), {});
            }).find("'run.seed' is given more than once"),
            std::string::npos);
  write_text(dir.path() / "syntax.ini", "[run]\nthis line has no equals sign\n");
  EXPECT_NE(config_error([&] { resolve_config(dir.str("syntax.ini"), {}); }).find("syntax.ini"),
            std::string::npos);
}

TEST(Config, ResolvedIniReadsBackIdentically) {
  Config c = resolve_config(std::nullopt, {"stage1.lr=3e-3", "data.mean=0.1,0.2,0.3",
                                           "augment.hflip=no", "data.root=/some/where"});
  Config back = resolve_config_text(c.resolved_ini(), "resolved", {});
  EXPECT_EQ(back.values, c.values);
  EXPECT_EQ(back.resolved_ini(), c.resolved_ini());
  EXPECT_NE(c.resolved_ini().find("[stage1]\nepochs = "), std::string::npos);
  EXPECT_NE(c.resolved_ini().find("lr = 0.003\n"), std::string::npos);
}

TEST(Config, ValidateChecksCrossFieldRules) {
  TempDir dir;
  auto valid = [&](const std::vector<std::string>& sets) {
    std::vector<std::string> all = {"data.root=" + dir.str()};
    all.insert(all.end(), sets.begin(), sets.end());
    validate(resolve_config(std::nullopt, all));
  };
  EXPECT_NO_THROW(valid({}));
  std::string msg = config_error([&] { valid({"stage1.lr=0.001", "stage2.lr=0.01"}); });
  EXPECT_NE(msg.find("stage2.lr (0.01) exceeds stage1.lr (0.001)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("stage2.allow_higher_lr"), std::string::npos) << msg;
  EXPECT_NO_THROW(valid({"stage1.lr=0.001", "stage2.lr=0.01", "stage2.allow_higher_lr=true"}));
  // Only one stage runs: the rule does not apply.
  EXPECT_NO_THROW(valid({"stage1.epochs=0", "stage2.lr=0.01"}));
  EXPECT_NE(config_error([&] {
              valid({"stage1.epochs=0", "stage2.epochs=0"});
            }).find("nothing to train"),
            std::string::npos);
  EXPECT_NE(config_error([&] {
              valid({"data.split_every=5", "data.split_offset=5"});
            }).find("data.split_offset (5) must be below data.split_every (5)"),
            std::string::npos);
  EXPECT_NE(config_error([&] { valid({"data.level=genus"}); }).find("needs data.taxonomy"),
            std::string::npos);
  EXPECT_NE(config_error([&] {
              valid({"run.device=cpu", "run.amp=fp16"});
            }).find("run.amp"),
            std::string::npos);
  EXPECT_NE(config_error([&] {
              valid({"run.device=cpu", "dist.backend=nccl"});
            }).find("dist.backend = nccl needs run.device = cuda or auto"),
            std::string::npos);
  EXPECT_NO_THROW(valid({"run.device=cpu", "dist.backend=mpi"}));
  EXPECT_NO_THROW(valid({"dist.backend=nccl"}));  // auto: decided by the machine at run time
}

TEST(Config, ValidateChecksPathsAndRequiredData) {
  TempDir dir;
  EXPECT_NE(
      config_error([] { validate(resolve_config(std::nullopt, {})); }).find("data.root: required"),
      std::string::npos);
  std::string msg = config_error([&] {
    validate(resolve_config(
        std::nullopt, {"data.root=" + dir.str("nope"), "model.pretrained=" + dir.str("w.pt")}));
  });
  EXPECT_NE(msg.find("data.root: folder or pack not found: " + dir.str("nope")), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("model.pretrained: file not found"), std::string::npos) << msg;
  ValidateOptions lax;
  lax.check_paths = false;
  EXPECT_NO_THROW(validate(resolve_config(std::nullopt, {"data.root=" + dir.str("nope")}), lax));
}

TEST(Config, ShippedRecipesResolveAndValidate) {
  TempDir data;
  for (const char* name : {"paper.ini", "demo.ini"}) {
    const std::string path = std::string(MIDGE_SOURCE_DIR) + "/configs/" + name;
    Config c = resolve_config(path, {"data.root=" + data.str()});
    EXPECT_NO_THROW(validate(c)) << name;
  }
  Config paper = resolve_config(std::string(MIDGE_SOURCE_DIR) + "/configs/paper.ini", {});
  EXPECT_EQ(paper.model.arch, "resnet50");
  EXPECT_EQ(paper.data.image_size, 512);
  EXPECT_GT(paper.model.dropout, 0.0);
  EXPECT_GT(paper.stage1.epochs, 0);
  EXPECT_GT(paper.stage2.epochs, 0);
}

TEST(Config, DocsConfigMdIsGeneratedFromTheDeclarations) {
  const std::string path = std::string(MIDGE_SOURCE_DIR) + "/docs/config.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " is missing; run: build/midge options --markdown > docs/config.md";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), option_table().markdown())
      << "docs/config.md is stale; run: build/midge options --markdown > docs/config.md";
}

}  // namespace
}  // namespace midge
