// Keeping the model replicas of all ranks in step (world size 1: no-ops).
//
// broadcast_state copies rank 0's parameters and buffers to every rank at
// the start of a run (fresh or resumed), so all ranks start identical; the
// gradient allreduce (train/gradient_sync.h) then keeps the parameters
// identical. BatchNorm running statistics are the exception: each rank
// updates them from its own shard, so average_batchnorm replaces them with
// their mean over ranks before every evaluation and checkpoint.
//
// Both are coalesced: all floating-point tensors travel in one message
// (converted to float32 on the host), int64 buffers (num_batches_tracked)
// in another, instead of one collective per tensor (~320 for ResNet-50).
#pragma once

#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/resnet.h"
#include "model/weights.h"

namespace midge::train {

void broadcast_state(distributed::Communicator& world, model::ResNet& net);
void average_batchnorm(distributed::Communicator& world, model::ResNet& net);

// Every rank's buffers (BatchNorm running statistics and counters, as they
// stand on that rank, CPU copies) on rank 0, rank after rank; empty on the
// other ranks. Collective. For a run stopped inside an epoch, before the
// ranks' statistics are averaged (train/checkpoint.h).
std::vector<model::NamedTensors> gather_buffers(distributed::Communicator& world,
                                                model::ResNet& net);
// Copies `buffers` (names as in named_buffers) into `net`; `origin` names
// the source when a buffer is missing or has another shape.
void restore_buffers(model::ResNet& net, const model::NamedTensors& buffers,
                     const std::string& origin);

}  // namespace midge::train
