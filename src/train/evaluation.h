// Evaluation of the validation set, and its per-taxon table.
//
// evaluate() first replaces each rank's BatchNorm running statistics by
// their mean over ranks (train/replica.h), then runs the network in eval
// mode, without gradients, over this rank's shard of the validation set in
// batches of the loader's size (the training batch per rank, so that
// evaluation never needs more memory than a training step). Results are
// exact over all ranks: the confusion matrix and loss are sums of per-rank
// sums, and each row of the logit table is filled by exactly one rank
// (the probabilities are its softmax, computed once gathered). A
// collective: every rank must call it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/loader.h"
#include "distributed/communicator.h"
#include "model/resnet.h"
#include "train/device.h"
#include "train/metrics.h"

namespace midge::train {

struct EvalResult {
  double loss_sum = 0;
  std::int64_t count = 0;               // images evaluated (unreadable ones are not)
  std::vector<std::int64_t> confusion;  // classes x classes
  std::vector<float> probabilities;     // rows x classes, loader order (with `collect`)
  std::vector<float> logits;            // rows x classes, float (with `collect`)
  std::vector<std::int64_t> predicted;  // rows; -1 for an image that could not be read
  double mean_loss() const { return count > 0 ? loss_sum / static_cast<double>(count) : 0; }
};

// `rows` = the number of samples of `loader` (all ranks together).
// `collect` = also gather per-image probabilities and predictions.
// `average_batchnorm` = false skips the averaging of BatchNorm statistics
// when the network was just evaluated (averaging equal values again could
// move them by an ulp with a rank count that is not a power of two).
EvalResult evaluate(model::ResNet& net, data::Loader& loader, const DeviceChoice& device,
                    const std::string& amp, distributed::Communicator& world, int classes,
                    std::size_t rows, bool collect, bool average_batchnorm = true);

// The table printed at the end of `midge train`: support, accuracy
// (recall), precision and F1 per taxon, then overall and balanced accuracy.
std::string per_taxon_table(const Metrics& metrics, const std::vector<std::string>& classes,
                            std::int64_t images);

}  // namespace midge::train
