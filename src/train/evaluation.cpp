#include "train/evaluation.h"

#include <torch/torch.h>

#include <cstdio>

#include "core/table.h"
#include "train/forward.h"
#include "train/replica.h"

namespace midge::train {

EvalResult evaluate(model::ResNet& net, data::Loader& loader, const DeviceChoice& device,
                    const std::string& amp, distributed::Communicator& world, int classes,
                    std::size_t rows, bool collect, bool average) {
  if (average) average_batchnorm(world, net);
  net->eval();
  torch::NoGradGuard no_grad;
  EvalResult r;
  const auto c = static_cast<std::size_t>(classes);
  r.confusion.assign(c * c, 0);
  // Per-image rows, each filled by the one rank that read the image; the
  // probabilities are derived from the gathered logits afterwards.
  // predicted holds class + 1, so that a row no rank filled stays 0.
  std::vector<float> raw;
  std::vector<std::int64_t> predicted;
  if (collect) {
    raw.assign(rows * c, 0.0F);
    predicted.assign(rows, 0);
  }
  loader.start_epoch(0);
  data::Batch b;
  while (loader.next(&b)) {
    if (b.size == 0) continue;
    torch::Tensor y = batch_labels(b, device);
    torch::Tensor logits = forward_logits(net, b, device, amp);
    r.loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    torch::Tensor pred = logits.argmax(1).to(torch::kCPU);
    torch::Tensor z = logits.to(torch::kCPU).contiguous();
    for (int i = 0; i < b.size; ++i) {
      const std::int64_t k = pred[i].item<std::int64_t>();
      count(r.confusion, classes, b.labels[static_cast<std::size_t>(i)], k);
      if (collect) {
        const auto row = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
        predicted[row] = k + 1;
        std::copy(z[i].data_ptr<float>(), z[i].data_ptr<float>() + classes,
                  raw.begin() + static_cast<long>(row * c));
      }
    }
    r.count += b.size;
  }
  world.allreduce(r.confusion);
  double totals[2] = {r.loss_sum, static_cast<double>(r.count)};
  world.allreduce(totals, 2);
  r.loss_sum = totals[0];
  r.count = static_cast<std::int64_t>(totals[1]);
  if (collect) {
    world.allreduce(raw);
    world.allreduce(predicted);
    // softmax on the CPU, as `midge predict` computes it; a row no rank
    // filled (an image that could not be read) keeps zeros and -1.
    torch::Tensor z = torch::from_blob(raw.data(), {static_cast<std::int64_t>(rows), classes});
    torch::Tensor p = torch::softmax(z, 1).contiguous();
    r.probabilities.assign(p.data_ptr<float>(), p.data_ptr<float>() + rows * c);
    for (std::size_t i = 0; i < rows; ++i) {
      predicted[i] -= 1;
      if (predicted[i] < 0) {
        std::fill(r.probabilities.begin() + static_cast<long>(i * c),
                  r.probabilities.begin() + static_cast<long>((i + 1) * c), 0.0F);
      }
    }
    r.logits = std::move(raw);
    r.predicted = std::move(predicted);
  }
  return r;
}

std::string per_taxon_table(const Metrics& m, const std::vector<std::string>& classes,
                            std::int64_t images) {
  TextTable table({{"taxon"}, {"support", 7}, {"accuracy", 8}, {"precision", 9}, {"f1", 6}});
  auto fixed = [](double v) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.3f", v);
    return std::string(b);
  };
  for (std::size_t k = 0; k < classes.size(); ++k) {
    table.add_row({classes[k], std::to_string(m.support[k]), fixed(m.recall[k]),
                   fixed(m.precision[k]), fixed(m.f1[k])});
  }
  char tail[160];
  std::snprintf(tail, sizeof(tail),
                "accuracy %.4f, balanced accuracy %.4f (%lld validation images)\n", m.accuracy,
                m.balanced_accuracy, static_cast<long long>(images));
  return table.str() + tail;
}

}  // namespace midge::train
