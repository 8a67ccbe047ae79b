#include "train/evaluation.h"

#include <torch/torch.h>

#include <cstdio>

#include "core/errors.h"
#include "core/fault.h"
#include "core/stop_request.h"
#include "core/table.h"
#include "train/forward.h"
#include "train/replica.h"

namespace midge::train {

EvalResult evaluate(model::ResNet& net, data::Loader& loader, const DeviceChoice& device,
                    const std::string& amp, distributed::Agreement& agree, int classes,
                    std::size_t rows, const EvalOptions& options) {
  distributed::Communicator& world = agree.comm();
  const bool collect = options.collect;
  // This rank's own BatchNorm statistics, kept while they are replaced by
  // the mean over ranks: a stop during the evaluation puts them back, so a
  // run saved there (train/checkpointer.h) resumes with what each rank had.
  model::NamedTensors own;
  if (options.average_batchnorm && world.size() > 1) {
    for (auto& b : net->named_buffers()) own.emplace_back(b.key(), b.value().detach().clone());
  }
  if (options.average_batchnorm) average_batchnorm(world, net);
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
  std::exception_ptr error;
  bool stop = false;
  try {
    loader.start_epoch(0);
    data::Batch b;
    while (!stop && loader.next(&b)) {
      if (options.fault_site != nullptr && fault::fault_here(options.fault_site)) {
        throw TrainError(fault::fault_message(options.fault_site));
      }
      if (options.stop_site != nullptr) fault::stop_here(options.stop_site);
      stop = stop_requested();
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
        stats::count(r.confusion, classes, b.labels[static_cast<std::size_t>(i)], k);
        if (collect) {
          const auto row = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
          predicted[row] = k + 1;
          std::copy(z[i].data_ptr<float>(), z[i].data_ptr<float>() + classes,
                    raw.begin() + static_cast<long>(row * c));
        }
      }
      r.count += b.size;
    }
  } catch (...) {
    error = std::current_exception();
  }
  const distributed::Verdict v =
      agree.agree(options.where, stop, error, static_cast<std::int64_t>(loader.skipped_count()));
  if (v.bad_images > 0 &&
      static_cast<double>(v.bad_images) / static_cast<double>(rows) > options.max_bad_fraction) {
    // The same example on every rank: the lowest rank with one names it.
    const auto first = world.allreduce_value<std::int64_t>(
        loader.skipped_count() > 0 ? world.rank() : world.size(), distributed::ReduceOp::kMin);
    std::string example = loader.skipped_count() > 0 ? loader.skipped().front().reason : "";
    world.broadcast(example, static_cast<int>(first));
    distributed::raise_alike<DataError>(
        world, "too many unreadable images: " + std::to_string(v.bad_images) + " of " +
                   std::to_string(rows) + " in " + options.where +
                   " (above data.max_bad_fraction = " + std::to_string(options.max_bad_fraction) +
                   "); e.g. " + example);
  }
  if (v.stop) {
    if (!own.empty()) restore_buffers(net, own, "this rank's BatchNorm statistics");
    r.stopped = true;
    return r;
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

std::string per_taxon_table(const stats::Metrics& m, const std::vector<std::string>& classes,
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
