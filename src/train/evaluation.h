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
//
// The loop over this rank's shard calls no collective; it ends in one
// agreement of all ranks (distributed/agreement.h) before the results are
// reduced, carrying a stop request (checked after every batch, so a stop
// is seen within a batch), a failure on any rank, and the unreadable
// images of all ranks, which may not exceed `max_bad_fraction` of `rows`.
// A stop ends the loop early on every rank: the result is then
// incomplete and `stopped` says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/loader.h"
#include "distributed/agreement.h"
#include "distributed/communicator.h"
#include "model/resnet.h"
#include "stats/metrics.h"
#include "train/device.h"

namespace midge::train {

struct EvalResult {
  double loss_sum = 0;
  std::int64_t count = 0;               // images evaluated (unreadable ones are not)
  std::vector<std::int64_t> confusion;  // classes x classes
  std::vector<float> probabilities;     // rows x classes, loader order (with `collect`)
  std::vector<float> logits;            // rows x classes, float (with `collect`)
  std::vector<std::int64_t> predicted;  // rows; -1 for an image that could not be read
  bool stopped = false;                 // a stop was agreed: the result is incomplete
  double mean_loss() const { return count > 0 ? loss_sum / static_cast<double>(count) : 0; }
};

struct EvalOptions {
  std::string where = "validation";  // the agreement's name, for messages
  bool collect = false;              // also gather per-image probabilities and predictions
  // false skips the averaging of BatchNorm statistics when the network was
  // just evaluated (averaging equal values again could move them by an ulp
  // with a rank count that is not a power of two).
  bool average_batchnorm = true;
  double max_bad_fraction = 1.0;     // of `rows`, over all ranks
  const char* fault_site = nullptr;  // core/fault.h site checked per batch (tests)
  const char* stop_site = nullptr;   // core/fault.h stop site checked per batch (tests)
};

// `rows` = the number of samples of `loader` (all ranks together).
EvalResult evaluate(model::ResNet& net, data::Loader& loader, const DeviceChoice& device,
                    const std::string& amp, distributed::Agreement& agree, int classes,
                    std::size_t rows, const EvalOptions& options);

// The table printed at the end of `midge train`: support, accuracy
// (recall), precision and F1 per taxon, then overall and balanced accuracy.
std::string per_taxon_table(const stats::Metrics& metrics, const std::vector<std::string>& classes,
                            std::int64_t images);

}  // namespace midge::train
