// Applying a trained model.h5 to new images: `midge predict` (top-k taxa
// with probabilities) and `midge gradcam` (heatmaps and overlays).
//
// Inputs are files or folders (searched recursively for images, sorted).
// Each image is decoded and shaped exactly as in training (the model file
// records image size, resize mode, mean and std; data::image_spec_from
// builds the same ImageSpec from them as training did). An image that cannot
// be read is reported with its path and reason and left out; the others are
// still processed.
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace midge::explain {

// Files named by `inputs`: image files as given, folders searched
// recursively for images; sorted and de-duplicated. Throws UsageError for a
// path that does not exist.
std::vector<std::string> collect_images(const std::vector<std::string>& inputs);

struct Prediction {
  std::string path;
  std::string error;                  // non-empty: not processed
  std::vector<std::string> taxa;      // top k, most probable first
  std::vector<double> probabilities;  // same order
  // Open set (stats/open_set.h): the image's score under the model's
  // predict.open_set and whether it reaches the model's threshold; an image
  // below it is reported as an unknown taxon (taxa still lists the
  // candidates). Always accepted, score NaN, when the model has open_set =
  // off.
  double score = 0;
  bool accepted = true;
  // Conformal prediction set (stats/conformal.h): every taxon whose
  // calibrated probability reaches the model's set threshold, most
  // probable first; it holds the true taxon with probability
  // model.h5 coverage (predict.coverage at training time). Empty when the
  // model has no sets (coverage 0) or probabilities are uncalibrated
  // (has_set false), and empty too when no taxon reaches the threshold.
  bool has_set = false;
  std::vector<std::string> set;
  // Every taxon's probability (model.h5 class order), for fusing a
  // specimen's images; empty when not read.
  std::vector<double> all;
};

struct SpecimenPrediction;  // explain/specimen_predictions.h

// Probabilities are softmax(logits / T) with the temperature T fitted on
// the validation images at training time (model.h5 attribute temperature),
// unless `calibrated` is false; the open-set score does not depend on it.
struct PredictOptions {
  int top_k = 3;
  bool calibrated = true;
  int batch_size = 16;
  int threads = 0;              // 0 = all cores
  std::string device = "auto";  // auto (CUDA when visible) | cpu | cuda
};

// What `midge predict` reports of the model: its taxa and the coverage of
// its prediction sets (model.h5 coverage; 0 when it has none).
struct ModelSummary {
  std::vector<std::string> classes;
  double coverage = 0;
  // model.h5 specimen_set_threshold (NaN: no specimen sets).
  double specimen_set_threshold = std::numeric_limits<double>::quiet_NaN();
};
ModelSummary model_summary(const std::string& model_file);

std::vector<Prediction> predict(const std::string& model_file,
                                const std::vector<std::string>& images,
                                const PredictOptions& options);

// Refuses (UsageError) output paths that would overwrite something other
// than an earlier prediction: the model file itself, or an existing file
// that is not a midge predictions CSV/HDF5 (e.g. a model.h5 or run.h5 next
// to --out). Call before any work.
void check_prediction_outputs(const std::string& csv, const std::string& h5,
                              const std::string& model_file);

// CSV (path,rank,taxon,probability,error,accepted,score,set: k rows per
// image; set = the prediction set's taxa joined by ';', the same on each of
// an image's rows) and HDF5 (/paths, /top_taxa [N,k], /top_probabilities
// [N,k], /errors, /accepted [N] 1|0, /scores [N], /sets [N] (joined by ';'),
// /set_sizes [N] (-1: no set); attributes classes, model, format = midge-predictions,
// open_set, open_set_threshold, temperature, calibrated, coverage (0: no
// sets)) renderings.
void write_predictions_csv(const std::vector<Prediction>& predictions, const std::string& path);
// With `specimens`, also /specimens/names, /specimens/images,
// /specimens/top_taxa [S,k], /specimens/top_probabilities [S,k],
// /specimens/sets [S] (joined by ';') and /specimens/set_sizes [S] (-1:
// no set).
void write_predictions_h5(const std::vector<Prediction>& predictions, const std::string& model_file,
                          const std::string& path, bool calibrated,
                          const std::vector<SpecimenPrediction>* specimens = nullptr);

// One line per image for the terminal: "path: taxon (p)", or "path: unknown
// (candidates: a p, b p, ...)" below the open-set threshold, or "path:
// not read: reason"; with a prediction set "; set: a, b" ("; set: none"
// when it is empty).
std::string describe_prediction(const Prediction& p);

struct GradcamOptions {
  std::string layer = "layer4";
  int batch_size = 16;
  std::string png_dir;          // empty: no overlays
  std::string device = "auto";  // auto (CUDA when visible) | cpu | cuda
};

struct GradcamSummary {
  std::size_t images = 0;
  std::vector<std::string> failed;  // "path: reason"
  std::vector<std::string> pngs;
};

// Heatmaps for the predicted taxon of every image into `out` (HDF5, the
// /gradcam layout of run.h5 plus /gradcam/probabilities), and optionally
// colour-map overlays blended on the shaped input as PNGs.
GradcamSummary gradcam_images(const std::string& model_file, const std::vector<std::string>& images,
                              const std::string& out, const GradcamOptions& options);

}  // namespace midge::explain
