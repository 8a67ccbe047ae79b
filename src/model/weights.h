// Moving weights in and out of a ResNet by torchvision name.
//
// model.h5 (docs/results-schema.md): group /weights with one dataset per parameter and
// buffer named exactly as torchvision's state_dict keys, and root
// attributes arch, classes, the preprocessing of training (image_size,
// resize, mean, std) plus dropout, temperature, schema_version,
// midge_version. A model.h5
// written before `resize` was recorded is read as pad (what predict applied
// to it then), with a warning. A TorchScript archive (torch.jit.save of a
// scripted or traced torchvision ResNet; analysis/export_torchvision.py
// writes one) is read with torch::jit::load and copied by name.
//
// Import policy: as a pretrained backbone (model.pretrained) the source's
// fc.* is dropped and the new head keeps its fresh initialization; for
// prediction or resuming everything must match. Any other missing,
// unexpected or mis-shaped tensor is an error listing them all, so a wrong
// architecture or a checkpoint for another set of taxa never loads
// silently.
#pragma once

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "core/config.h"
#include "model/resnet.h"

namespace midge::io {
class H5Node;
}

namespace midge::model {

struct ModelMeta {
  std::string arch;
  std::vector<std::string> classes;
  Preprocessing preprocessing;  // as in training (core/config.h)
  double dropout = 0;
  // The validation temperature of the run that wrote the model
  // (stats/calibration.h); 1 (no scaling) in files written before it.
  double temperature = 1;
  // Open-set rejection chosen at training time (stats/open_set.h):
  // msp|energy|off ("off" in files written before it), the score below
  // which `midge predict` calls an image unknown, and the share of known
  // validation images that threshold accepted.
  std::string open_set = "off";
  double open_set_threshold = 0;
  double accept_rate = 1;
  // Conformal prediction sets (stats/conformal.h): the coverage asked
  // (predict.coverage; 0 = none, as in files written before them) and the
  // LAC threshold on the calibrated probabilities: the set of an image is
  // every taxon with probability >= 1 - threshold.
  double coverage = 0;
  double set_threshold = 0;
  // The threshold of a specimen's set (its images fused, stats/fusion.h),
  // calibrated on the validation specimens; NaN when the run knew no
  // specimens (attribute absent).
  double specimen_set_threshold = std::numeric_limits<double>::quiet_NaN();
};

enum class ImportPolicy { kExact, kDropHead };

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Every parameter and buffer of `model`, in registration order.
NamedTensors named_state(ResNet& model);

// Copies `source` into `model` under `policy`; `origin` names the source in
// errors. Tensors are converted to the model's dtype and device.
void import_state(ResNet& model, const NamedTensors& source, ImportPolicy policy,
                  const std::string& origin);

// Tensors as datasets <group>/<name> of an HDF5 file (float32; int64 for
// num_batches_tracked; 0-d tensors as scalar datasets), and back with the
// stored shapes. model.h5 and state.h5 both store weights this way.
void write_tensors(io::H5Node& node, const std::string& group, const NamedTensors& tensors);
NamedTensors read_tensors(const io::H5Node& node, const std::string& group);

// model.h5 (written atomically).
void save_model_h5(ResNet& model, const ModelMeta& meta, const std::string& path);
ModelMeta read_model_meta(const std::string& path);
NamedTensors read_model_h5_state(const std::string& path);

// A TorchScript archive's parameters and buffers.
NamedTensors read_torchscript_state(const std::string& path);

// Loads model.pretrained (none, .pt/.pth TorchScript, or .h5) into `model`,
// dropping the source's head.
void load_pretrained(ResNet& model, const std::string& path);

// A model rebuilt from a model.h5: architecture and taxa from the file.
ResNet load_model(const std::string& path, ModelMeta* meta);

}  // namespace midge::model
