#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>

#include "core/errors.h"
#include "model/resnet.h"
#include "model/weights.h"
#include "support/temp_dir.h"

namespace midge::model {
namespace {

std::set<std::string> names(ResNet& m) {
  std::set<std::string> out;
  for (const auto& [n, t] : named_state(m)) out.insert(n);
  return out;
}

TEST(ResNet, ParameterCountsMatchTorchvision) {
  ResNet r50("resnet50", 1000, 0.5);
  EXPECT_EQ(parameter_count(*r50), 25557032);
  ResNet r18("resnet18", 1000, 0.0);
  EXPECT_EQ(parameter_count(*r18), 11689512);
  ResNet r34("resnet34", 1000, 0.0);
  EXPECT_EQ(parameter_count(*r34), 21797672);
  ResNet r101("resnet101", 1000, 0.0);
  EXPECT_EQ(parameter_count(*r101), 44549160);
  EXPECT_THROW(ResNet("resnet152", 10, 0.0), UsageError);
}

TEST(ResNet, NamesAreTorchvisionStateDictKeys) {
  ResNet r50("resnet50", 7, 0.5);
  auto n = names(r50);
  for (const char* key :
       {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv3.weight",
        "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var", "layer4.2.bn3.bias",
        "fc.weight", "fc.bias"}) {
    EXPECT_TRUE(n.count(key)) << key;
  }
  EXPECT_EQ(n.size(), 320U);  // torchvision resnet50 state_dict has 320 entries
  for (const auto& key : n) EXPECT_EQ(key.find("dropout"), std::string::npos) << key;
  ResNet r18("resnet18", 3, 0.0);
  EXPECT_EQ(names(r18).size(), 122U);
  EXPECT_TRUE(names(r18).count("layer2.0.downsample.0.weight"));
  EXPECT_FALSE(names(r18).count("layer1.0.downsample.0.weight"));
  EXPECT_EQ(r50->forward(torch::zeros({2, 3, 64, 64})).sizes(), (std::vector<std::int64_t>{2, 7}));
}

TEST(ResNet, ComputesChannelsLastAndSavesWeightsInTorchvisionOrder) {
  testing::TempDir dir;
  torch::manual_seed(5);
  ResNet m("resnet18", 3, 0.0);
  for (const auto& [name, t] : named_state(m)) {
    if (t.dim() == 4) {
      EXPECT_TRUE(t.is_contiguous(at::MemoryFormat::ChannelsLast)) << name;
      // Not also plain NCHW (a 1x1 kernel is both).
      if (t.size(2) > 1) EXPECT_FALSE(t.is_contiguous()) << name;
    }
  }
  // An NCHW input comes out of the backbone channels-last.
  torch::Tensor x = torch::randn({2, 3, 64, 64});
  ASSERT_TRUE(x.is_contiguous());
  EXPECT_TRUE(m->features(x).is_contiguous(at::MemoryFormat::ChannelsLast));
  // So does Grad-CAM's path to its target layer.
  EXPECT_TRUE(m->forward_with("layer2", x).first.is_contiguous(at::MemoryFormat::ChannelsLast));
  // model.h5 holds each weight in logical [out, in, kh, kw] order, as
  // torchvision's state_dict would, not the channels-last memory order.
  ModelMeta meta;
  meta.arch = "resnet18";
  meta.classes = {"a", "b", "c"};
  save_model_h5(m, meta, dir.str("model.h5"));
  std::map<std::string, torch::Tensor> saved;
  for (const auto& [name, t] : read_model_h5_state(dir.str("model.h5"))) saved[name] = t;
  auto live = named_state(m);
  ASSERT_EQ(saved.size(), live.size());
  for (const auto& [name, t] : live) {
    ASSERT_TRUE(saved.count(name)) << name;
    EXPECT_TRUE(saved[name].is_contiguous()) << name;
    EXPECT_TRUE(torch::equal(saved[name], t)) << name;
  }
  // And reading them back into a model keeps its channels-last layout.
  ModelMeta back_meta;
  ResNet back = load_model(dir.str("model.h5"), &back_meta);
  for (const auto& [name, t] : named_state(back)) {
    if (t.dim() == 4) EXPECT_TRUE(t.is_contiguous(at::MemoryFormat::ChannelsLast)) << name;
  }
}

TEST(ResNet, FrozenBackboneKeepsWeightsAndStatisticsWhileTheHeadLearns) {
  torch::manual_seed(0);
  ResNet m("resnet18", 4, 0.3);
  auto before = named_state(m);
  std::vector<torch::Tensor> copies;
  for (auto& [n, t] : before) copies.push_back(t.clone());
  m->set_backbone_frozen(true);
  m->train();
  torch::optim::SGD opt(m->head_parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    torch::Tensor x = torch::randn({4, 3, 48, 48});
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(m->forward(x), torch::tensor({0, 1, 2, 3}));
    loss.backward();
    opt.step();
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto& [name, t] = before[i];
    const bool same = torch::equal(t, copies[i]);
    if (name.rfind("fc.", 0) == 0) {
      EXPECT_FALSE(same) << name << " should have learned";
    } else {
      EXPECT_TRUE(same) << name << " changed under a frozen backbone";
    }
  }
  for (const auto& p : m->backbone_parameters()) EXPECT_FALSE(p.grad().defined());
  // Unfrozen: the backbone trains again.
  m->set_backbone_frozen(false);
  m->train();
  torch::optim::SGD all(m->parameters(), torch::optim::SGDOptions(0.1));
  all.zero_grad();
  torch::nn::functional::cross_entropy(m->forward(torch::randn({4, 3, 48, 48})),
                                       torch::tensor({0, 1, 2, 3}))
      .backward();
  all.step();
  EXPECT_FALSE(torch::equal(named_state(m)[0].second, copies[0]));  // conv1.weight
}

TEST(Weights, ModelFileRoundTripsExactlyAndRefusesOtherTaxa) {
  testing::TempDir dir;
  torch::manual_seed(3);
  ResNet m("resnet18", 3, 0.25);
  {
    torch::NoGradGuard g;
    for (auto& b : m->named_buffers()) {
      if (b.value().is_floating_point()) b.value().uniform_(0.5, 1.5);
    }
  }
  ModelMeta meta;
  meta.arch = "resnet18";
  meta.classes = {"Chironomus", "Procladius", "Tanytarsus"};
  meta.preprocessing.image_size = 96;
  meta.preprocessing.resize = "crop";
  meta.preprocessing.mean = {0.5, 0.5, 0.5};
  meta.preprocessing.std = {0.25, 0.25, 0.25};
  meta.dropout = 0.25;
  meta.temperature = 1.75;
  save_model_h5(m, meta, dir.str("model.h5"));
  ModelMeta back;
  ResNet loaded = load_model(dir.str("model.h5"), &back);
  EXPECT_EQ(back.classes, meta.classes);
  EXPECT_EQ(back.preprocessing.image_size, 96);
  EXPECT_EQ(back.preprocessing.resize, "crop");
  EXPECT_DOUBLE_EQ(back.preprocessing.std[2], 0.25);
  EXPECT_DOUBLE_EQ(back.temperature, 1.75);
  auto a = named_state(m);
  auto b = named_state(loaded);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
  // Another class count: a clear error naming the head's shapes.
  ResNet four("resnet18", 4, 0.0);
  try {
    import_state(four, read_model_h5_state(dir.str("model.h5")), ImportPolicy::kExact, "model.h5");
    FAIL() << "a 3-taxon checkpoint loaded into a 4-taxon model";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("wrong shape: fc.weight [3, 512] (expected [4, 512])"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("4 taxa"), std::string::npos) << msg;
  }
  // As a pretrained backbone the head is dropped and the rest copied.
  EXPECT_NO_THROW(load_pretrained(four, dir.str("model.h5")));
  EXPECT_TRUE(torch::equal(named_state(four)[0].second, a[0].second));
  // Another architecture: every mismatch is listed.
  ResNet r34("resnet34", 3, 0.0);
  try {
    load_pretrained(r34, dir.str("model.h5"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing: layer1.2.conv1.weight"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace midge::model
