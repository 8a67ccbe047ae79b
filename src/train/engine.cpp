#include "train/engine.h"

#include "core/log.h"
#include "core/random.h"
#include "core/text.h"
#include "train/forward.h"
#include "train/update.h"

namespace midge::train {

torch::Tensor training_loss(const torch::Tensor& logits, const torch::Tensor& labels,
                            const torch::Tensor& weights) {
  return torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().weight(weights));
}

StepForward TorchStepEngine::forward(data::Batch& b, int stage, std::int64_t epoch) {
  StepForward out;
  loss_ = torch::Tensor();
  p_.optimizer->zero_grad();
  if (b.size == 1 && stage == 2 && !batchnorm_trains_on_one_image(p_.image_size)) {
    if (!single_reported_) {
      log::warn(text::format(
          "stage 2 epoch %lld batch %lld: a single %lld px image on rank %d; BatchNorm cannot "
          "train on one value per channel, so it is left out of this step",
          static_cast<long long>(epoch + 1), static_cast<long long>(b.index + 1),
          static_cast<long long>(p_.image_size), p_.world->rank()));
      single_reported_ = true;
    }
    b.size = 0;
  }
  if (b.size == 0) return out;
  torch::manual_seed(
      derive_seed(p_.seed, {static_cast<std::uint64_t>(stage), static_cast<std::uint64_t>(epoch), 7,
                            static_cast<std::uint64_t>(b.index)}));
  torch::Tensor y = batch_labels(b, *p_.device);
  if (p_.graph != nullptr && b.size == p_.per_rank_batch) {
    // The captured step updates the weights itself; its loss is checked
    // after the update.
    const StepOutputs s = p_.graph->run(batch_input(b, *p_.device), y);
    out.loss = s.loss.item<double>();
    out.correct = s.correct.item<std::int64_t>();
    out.updated = true;
    return out;
  }
  torch::Tensor logits = forward_logits(*p_.net, b, *p_.device, p_.amp);
  loss_ = training_loss(logits, y, p_.class_weights);
  out.loss = loss_.item<double>();
  out.correct = logits.argmax(1).eq(y).sum().item<std::int64_t>();
  return out;
}

void TorchStepEngine::update(const data::Batch& b, const StepForward& /*forward*/) {
  if (b.size > 0 && loss_.defined()) {
    (p_.scaler->enabled() ? loss_ * p_.scaler->scale() : loss_).backward();
  }
  loss_ = torch::Tensor();
  exposed_ += apply_update(*p_.world, p_.sync, *p_.scaler, p_.params, *p_.optimizer);
}

StepFunction capturable_step(const EngineParts& parts) {
  return [parts](const torch::Tensor& x, const torch::Tensor& y) {
    parts.optimizer->zero_grad();
    torch::Tensor logits = forward_logits(*parts.net, x, *parts.device, parts.amp);
    torch::Tensor loss = training_loss(logits, y, parts.class_weights);
    loss.backward();
    apply_update(*parts.world, nullptr, *parts.scaler, parts.params, *parts.optimizer);
    return StepOutputs{loss.detach(), logits.argmax(1).eq(y).sum()};
  };
}

}  // namespace midge::train
