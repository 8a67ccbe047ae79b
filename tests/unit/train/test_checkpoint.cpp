// state.h5 round trips and the resume rules (train/checkpoint.h,
// train/resume.h): everything a resumed run needs comes back, and a
// checkpoint of another experiment is refused with every difference named.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "core/errors.h"
#include "model/resnet.h"
#include "support/temp_dir.h"
#include "train/checkpoint.h"
#include "train/precision.h"
#include "train/resume.h"

namespace midge::train {
namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TrainState some_state() {
  TrainState s;
  s.stage = 2;
  s.epoch = 3;
  s.config = resolve_config(std::nullopt, {"data.root=x"}).resolved_ini();
  s.classes = {"Chironomus", "Procladius", "Tanytarsus"};
  s.world_size = 2;
  s.optimizer = {1, 2, 3};
  return s;
}

TEST(Checkpoint, LossScalerStateRoundTrips) {
  // An fp16 scaler after overflows and clean steps: not its initial state.
  LossScaler scaler(true);
  scaler.update(false);  // 65536 -> 32768
  scaler.update(false);  // -> 16384
  for (int i = 0; i < 7; ++i) scaler.update(true);
  ASSERT_EQ(scaler.scale(), 16384.0);
  testing::TempDir dir;
  model::ResNet net("resnet18", 3, 0.0);
  TrainState s = some_state();
  s.scaler = scaler.state();
  save_state(dir.str("state.h5"), net, s);

  model::ResNet again("resnet18", 3, 0.0);
  const TrainState back = load_state(dir.str("state.h5"), again);
  EXPECT_EQ(back.scaler.scale, 16384.0);
  EXPECT_EQ(back.scaler.clean_steps, 7);
  LossScaler resumed(true);
  resumed.restore(back.scaler);
  EXPECT_EQ(resumed.scale(), 16384.0);
  // 1993 more clean steps complete the 2000 that double the scale.
  for (int i = 0; i < 1992; ++i) resumed.update(true);
  EXPECT_EQ(resumed.scale(), 16384.0);
  resumed.update(true);
  EXPECT_EQ(resumed.scale(), 32768.0);
  EXPECT_EQ(back.world_size, 2);
  EXPECT_EQ(back.stage, 2);
  EXPECT_EQ(back.epoch, 3);
  const TrainState header = read_state_header(dir.str("state.h5"));
  EXPECT_EQ(header.classes, s.classes);
  EXPECT_EQ(header.world_size, 2);
}

TEST(Resume, RefusesOtherTaxaListingTheDifferences) {
  const TrainState saved = some_state();
  const Config config = resolve_config(std::nullopt, {"data.root=x"});
  const std::string msg = message_of([&] {
    check_resumable(saved, config, {"Chironomus", "Procladius", "Tanypus"}, 2, "out/state.h5");
  });
  EXPECT_NE(msg.find("out/state.h5 was written for other taxa (only in the checkpoint: "
                     "Tanytarsus; only in this run: Tanypus)"),
            std::string::npos)
      << msg;
}

TEST(Resume, RefusesAnotherNumberOfRanksWhileTrainingRemains) {
  TrainState saved = some_state();
  const Config config = resolve_config(std::nullopt, {"data.root=x"});
  const std::string msg =
      message_of([&] { check_resumable(saved, config, saved.classes, 1, "out/state.h5"); });
  EXPECT_NE(msg.find("was written by a run on 2 rank(s); this run has 1"), std::string::npos)
      << msg;
  EXPECT_EQ(message_of([&] { check_resumable(saved, config, saved.classes, 2, "s"); }),
            "(no error)");
  // No training epoch left: only the evaluation remains, any rank count may
  // finish. Both after stage 2 (stage 3) and at the end of stage 2.
  saved.stage = 2;
  saved.epoch = config.stage2.epochs;
  EXPECT_EQ(message_of([&] { check_resumable(saved, config, saved.classes, 1, "s"); }),
            "(no error)");
  saved.stage = 3;
  saved.epoch = 0;
  EXPECT_EQ(message_of([&] { check_resumable(saved, config, saved.classes, 1, "s"); }),
            "(no error)");
  // With stage 2 switched off a checkpoint after stage 1 stays at stage 2.
  const Config no_stage2 = resolve_config(std::nullopt, {"data.root=x", "stage2.epochs=0"});
  TrainState after_stage1 = some_state();
  after_stage1.config = no_stage2.resolved_ini();
  after_stage1.epoch = 0;
  EXPECT_EQ(message_of([&] { check_resumable(after_stage1, no_stage2, saved.classes, 1, "s"); }),
            "(no error)");
}

TEST(Resume, RefusesAnotherConfigurationNamingTheKeyButNotWorkers) {
  const TrainState saved = some_state();
  const Config lr = resolve_config(std::nullopt, {"data.root=x", "stage2.lr=0.5"});
  const std::string msg =
      message_of([&] { check_resumable(saved, lr, saved.classes, 2, "out/state.h5"); });
  EXPECT_NE(msg.find("another configuration: stage2.lr ("), std::string::npos) << msg;
  const Config workers = resolve_config(std::nullopt, {"data.root=x", "data.workers=7"});
  EXPECT_EQ(message_of([&] { check_resumable(saved, workers, saved.classes, 2, "s"); }),
            "(no error)");
  // Capturing the step or not changes the speed, not the experiment.
  const Config graph = resolve_config(std::nullopt, {"data.root=x", "run.cuda_graph=true"});
  EXPECT_EQ(message_of([&] { check_resumable(saved, graph, saved.classes, 2, "s"); }),
            "(no error)");
}

}  // namespace
}  // namespace midge::train
