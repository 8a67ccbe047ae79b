#include "explain/identify.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "data/decode.h"
#include "data/image_set.h"
#include "data/pack.h"
#include "data/transform.h"
#include "explain/gradcam.h"
#include "explain/specimen_predictions.h"
#include "io/csv.h"
#include "io/hdf5.h"
#include "model/weights.h"
#include "stats/conformal.h"
#include "stats/open_set.h"

namespace midge::explain {
namespace fs = std::filesystem;

std::vector<std::string> collect_images(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        if (!data::has_image_extension(e.path().filename().string())) continue;
        // An image-named entry whose status cannot be read (a symlink loop,
        // a dangling link) is kept: reading it fails, and it is listed with
        // that reason like any other unreadable image.
        std::error_code status_error;
        if (e.is_regular_file(status_error) || status_error) out.push_back(e.path().string());
      }
    } else if (auto packed = data::packed_images_under(in); !packed.empty()) {
      // A pack, a taxon in one, or one image of one (data/pack.h).
      out.insert(out.end(), packed.begin(), packed.end());
    } else if (fs::exists(in, ec)) {
      out.push_back(in);
    } else {
      throw UsageError("input not found: " + in);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

struct LoadedModel {
  model::ResNet net{nullptr};
  model::ModelMeta meta;
  data::ImageSpec spec;
  torch::Device device{torch::kCPU};
};

// device: auto | cpu | cuda, as run.device. Inference runs in float32 on
// either; on CUDA cuDNN may pick other (TF32) algorithms than the CPU, so
// probabilities agree with a CPU run only to about 1e-3.
LoadedModel load(const std::string& model_file, int threads, const std::string& device) {
  if (threads <= 0) threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  const bool have_cuda = torch::cuda::is_available();
  if (device == "cuda" && !have_cuda) {
    throw UsageError("--device cuda, but no CUDA device is visible (or this LibTorch has no CUDA)");
  }
  LoadedModel m;
  m.net = model::load_model(model_file, &m.meta);
  m.net->eval();
  if (device == "cuda" || (device == "auto" && have_cuda)) {
    m.device = torch::Device(torch::kCUDA, 0);
    m.net->to(m.device);
  }
  m.spec = data::image_spec_from(m.meta.preprocessing);
  return m;
}

// Decodes and shapes images[first, first + n); failures go to `errors`.
struct Prepared {
  torch::Tensor batch;             // [k, 3, S, S]
  std::vector<std::size_t> index;  // which images made it
  std::vector<cv::Mat> shaped;     // 8-bit BGR at S x S (for overlays)
};

Prepared prepare(const LoadedModel& m, const std::vector<std::string>& images, std::size_t first,
                 std::size_t n, std::vector<std::string>* errors, bool keep_shaped) {
  Prepared p;
  const int s = m.spec.size;
  std::vector<float> buf;
  for (std::size_t i = first; i < first + n; ++i) {
    try {
      data::DecodedImage img = data::decode_image(images[i], s, m.spec.resize);
      // The overlay of a heatmap uses exactly the pixels the network saw.
      const cv::Mat shaped = data::shape_image(img.bgr, m.spec);
      std::vector<float> one(3U * s * s);
      data::render_sample(shaped, m.spec, nullptr, one.data());
      buf.insert(buf.end(), one.begin(), one.end());
      p.index.push_back(i);
      if (keep_shaped) p.shaped.push_back(shaped.clone());
    } catch (const DataError& e) {
      (*errors)[i] = e.what();
      log::warn(e.what());
    } catch (const cv::Exception& e) {
      (*errors)[i] = "cannot shape image " + images[i] + ": OpenCV: " + e.what();
      log::warn((*errors)[i]);
    } catch (const std::bad_alloc&) {
      (*errors)[i] = "cannot shape image " + images[i] + ": not enough memory";
      log::warn((*errors)[i]);
    }
  }
  if (!p.index.empty()) {
    p.batch =
        torch::from_blob(buf.data(), {static_cast<std::int64_t>(p.index.size()), 3, s, s}).clone();
  }
  return p;
}

}  // namespace

ModelSummary model_summary(const std::string& model_file) {
  const model::ModelMeta meta = model::read_model_meta(model_file);
  return {meta.classes, meta.coverage, meta.specimen_set_threshold};
}

std::vector<Prediction> predict(const std::string& model_file,
                                const std::vector<std::string>& images,
                                const PredictOptions& options) {
  LoadedModel m = load(model_file, options.threads, options.device);
  const int c = static_cast<int>(m.meta.classes.size());
  const int k = std::clamp(options.top_k, 1, c);
  std::vector<Prediction> out(images.size());
  std::vector<std::string> errors(images.size());
  torch::NoGradGuard no_grad;
  for (std::size_t first = 0; first < images.size();
       first += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t n =
        std::min<std::size_t>(static_cast<std::size_t>(options.batch_size), images.size() - first);
    Prepared p = prepare(m, images, first, n, &errors, false);
    if (p.index.empty()) continue;
    torch::Tensor logits =
        m.net->forward(p.batch.to(m.device)).to(torch::kFloat).cpu().contiguous();
    const double t = options.calibrated ? m.meta.temperature : 1.0;
    torch::Tensor probs = torch::softmax(logits / t, 1);
    auto [values, indices] = probs.topk(k, 1);
    std::vector<double> scores;
    if (m.meta.open_set != "off") {
      const std::vector<float> z(logits.data_ptr<float>(),
                                 logits.data_ptr<float>() + logits.numel());
      scores = stats::open_set_scores(z, c, m.meta.open_set, m.meta.temperature);
    }
    const bool sets = options.calibrated && m.meta.coverage > 0;
    const torch::Tensor all = probs.contiguous();
    for (std::size_t j = 0; j < p.index.size(); ++j) {
      Prediction& pr = out[p.index[j]];
      {
        const float* row = all.data_ptr<float>() + static_cast<std::ptrdiff_t>(j) * c;
        pr.all.assign(row, row + c);
      }
      if (sets) {
        pr.has_set = true;
        const float* row = all.data_ptr<float>() + static_cast<std::ptrdiff_t>(j) * c;
        for (int taxon : stats::prediction_set(row, c, m.meta.set_threshold))
          pr.set.push_back(m.meta.classes[static_cast<std::size_t>(taxon)]);
      }
      pr.score = std::numeric_limits<double>::quiet_NaN();  // open_set = off: no score
      if (!scores.empty()) {
        pr.score = scores[j];
        pr.accepted = scores[j] >= m.meta.open_set_threshold;
      }
      for (int r = 0; r < k; ++r) {
        pr.taxa.push_back(m.meta.classes[static_cast<std::size_t>(
            indices[static_cast<long>(j)][r].item<std::int64_t>())]);
        pr.probabilities.push_back(values[static_cast<long>(j)][r].item<double>());
      }
    }
  }
  for (std::size_t i = 0; i < images.size(); ++i) {
    out[i].path = images[i];
    out[i].error = errors[i];
  }
  return out;
}

namespace {

const std::vector<std::string> kCsvHeader = {"path",  "rank",     "taxon", "probability",
                                             "error", "accepted", "score", "set"};
// Written by earlier versions (before the open-set columns, before the
// set column); still recognized as a predictions file --out may overwrite.
const std::vector<std::vector<std::string>> kOldCsvHeaders = {
    {"path", "rank", "taxon", "probability", "error"},
    {"path", "rank", "taxon", "probability", "error", "accepted", "score"}};

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

bool is_predictions_h5(const std::string& path) {
  try {
    io::H5Reader f(path);
    return f.exists("top_probabilities") && f.exists("paths");
  } catch (const std::exception&) {
    return false;  // not HDF5 at all
  }
}

bool is_predictions_csv(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  if (first + "\n" == io::csv_line(kCsvHeader)) return true;
  for (const auto& old : kOldCsvHeaders) {
    if (first + "\n" == io::csv_line(old)) return true;
  }
  return false;
}

}  // namespace

void check_prediction_outputs(const std::string& csv, const std::string& h5,
                              const std::string& model_file) {
  for (const std::string& out : {csv, h5}) {
    if (same_file(out, model_file)) {
      throw UsageError("midge predict: " + out + " is the model file; choose another --out");
    }
  }
  std::error_code ec;
  if (fs::exists(csv, ec) && !is_predictions_csv(csv)) {
    throw UsageError("midge predict: " + csv +
                     " exists and is not a midge predictions CSV; choose another --out");
  }
  if (fs::exists(h5, ec) && !is_predictions_h5(h5)) {
    throw UsageError("midge predict: " + h5 +
                     " exists and is not a midge predictions file; choose another --out");
  }
}

void write_predictions_csv(const std::vector<Prediction>& predictions, const std::string& path) {
  std::string text = io::csv_line(kCsvHeader);
  for (const auto& p : predictions) {
    if (!p.error.empty()) {
      text += io::csv_line({p.path, "", "", "", p.error, "", "", ""});
      continue;
    }
    char score[32];
    std::snprintf(score, sizeof(score), "%.6g", p.score);
    for (std::size_t r = 0; r < p.taxa.size(); ++r) {
      char prob[32];
      std::snprintf(prob, sizeof(prob), "%.6f", p.probabilities[r]);
      text += io::csv_line({p.path, std::to_string(r + 1), p.taxa[r], prob, "",
                            p.accepted ? "1" : "0", score, text::join(p.set, ";")});
    }
  }
  io::write_file_atomic(path, text);
}

std::string describe_prediction(const Prediction& p) {
  if (!p.error.empty()) return p.path + ": not read: " + p.error;
  // An empty set (no taxon reaches the threshold) is said, not left out:
  // it tells the image is unlike the calibration images.
  const std::string set =
      !p.has_set ? "" : "; set: " + (p.set.empty() ? std::string("none") : text::join(p.set, ", "));
  std::string out = p.path + ": ";
  if (p.accepted) {
    return out + p.taxa.front() + text::format(" (%.3f)", p.probabilities.front()) + set;
  }
  out += "unknown (candidates:";
  for (std::size_t r = 0; r < p.taxa.size(); ++r)
    out += text::format("%s %s %.3f", r == 0 ? "" : ",", p.taxa[r].c_str(), p.probabilities[r]);
  return out + ")" + set;
}

void write_predictions_h5(const std::vector<Prediction>& predictions, const std::string& model_file,
                          const std::string& path, bool calibrated,
                          const std::vector<SpecimenPrediction>* specimens) {
  const model::ModelMeta meta = model::read_model_meta(model_file);
  std::size_t k = 0;
  for (const auto& p : predictions) k = std::max(k, p.taxa.size());
  std::vector<std::string> paths;
  std::vector<std::string> errors;
  std::vector<std::string> taxa;
  std::vector<double> probs;
  std::vector<std::int64_t> accepted;
  std::vector<double> scores;
  std::vector<std::string> sets;
  std::vector<std::int64_t> set_sizes;
  for (const auto& p : predictions) {
    sets.push_back(text::join(p.set, ";"));
    set_sizes.push_back(p.has_set ? static_cast<std::int64_t>(p.set.size()) : -1);
    paths.push_back(p.path);
    errors.push_back(p.error);
    accepted.push_back(p.error.empty() && p.accepted ? 1 : 0);
    scores.push_back(p.error.empty() ? p.score : std::numeric_limits<double>::quiet_NaN());
    for (std::size_t r = 0; r < k; ++r) {
      taxa.push_back(r < p.taxa.size() ? p.taxa[r] : "");
      probs.push_back(r < p.probabilities.size() ? p.probabilities[r] : 0.0);
    }
  }
  io::H5Writer f(path);
  f.set_attr("", "format", std::string("midge-predictions"));
  f.set_attr("", "model", model_file);
  f.set_attr("", "classes", meta.classes);
  f.write("paths", paths);
  f.write("errors", errors);
  f.write("top_taxa", taxa, {paths.size(), k});
  f.write("top_probabilities", probs, {paths.size(), k});
  f.write("accepted", accepted);
  f.write("scores", scores);
  f.write("sets", sets);
  f.write("set_sizes", set_sizes);
  f.set_attr("", "coverage", calibrated ? meta.coverage : 0.0);
  if (specimens != nullptr && !specimens->empty()) {
    std::vector<std::string> names;
    std::vector<std::int64_t> counts;
    std::vector<std::string> top;
    std::vector<double> top_p;
    std::vector<std::string> specimen_sets;
    std::vector<std::int64_t> specimen_set_sizes;
    for (const auto& s : *specimens) {
      names.push_back(s.name);
      counts.push_back(s.images);
      specimen_sets.push_back(text::join(s.set, ";"));
      specimen_set_sizes.push_back(s.has_set ? static_cast<std::int64_t>(s.set.size()) : -1);
      for (std::size_t r = 0; r < k; ++r) {
        top.push_back(r < s.taxa.size() ? s.taxa[r] : "");
        top_p.push_back(r < s.probabilities.size() ? s.probabilities[r] : 0.0);
      }
    }
    f.write("specimens/names", names);
    f.write("specimens/images", counts);
    f.write("specimens/top_taxa", top, {names.size(), k});
    f.write("specimens/top_probabilities", top_p, {names.size(), k});
    f.write("specimens/sets", specimen_sets);
    f.write("specimens/set_sizes", specimen_set_sizes);
  }
  f.set_attr("", "open_set", meta.open_set);
  f.set_attr("", "open_set_threshold", meta.open_set_threshold);
  f.set_attr("", "temperature", meta.temperature);
  f.set_attr("", "calibrated", static_cast<std::int64_t>(calibrated ? 1 : 0));
  f.commit();
}

GradcamSummary gradcam_images(const std::string& model_file, const std::vector<std::string>& images,
                              const std::string& out, const GradcamOptions& options) {
  LoadedModel m = load(model_file, 0, options.device);
  const int s = m.spec.size;
  const int c = static_cast<int>(m.meta.classes.size());
  GradcamSummary summary;
  std::vector<std::string> errors(images.size());
  std::vector<float> heatmaps;
  std::vector<float> probabilities;
  std::vector<std::string> paths;
  std::vector<std::int64_t> predicted;
  if (!options.png_dir.empty()) fs::create_directories(options.png_dir);
  for (std::size_t first = 0; first < images.size();
       first += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t n =
        std::min<std::size_t>(static_cast<std::size_t>(options.batch_size), images.size() - first);
    Prepared p = prepare(m, images, first, n, &errors, !options.png_dir.empty());
    if (p.index.empty()) continue;
    GradcamResult r = gradcam(m.net, p.batch.to(m.device), options.layer);
    torch::Tensor maps = r.heatmaps.cpu().contiguous();
    torch::Tensor pr = r.probabilities.cpu().contiguous();
    r.predicted = r.predicted.cpu();
    heatmaps.insert(heatmaps.end(), maps.data_ptr<float>(), maps.data_ptr<float>() + maps.numel());
    probabilities.insert(probabilities.end(), pr.data_ptr<float>(),
                         pr.data_ptr<float>() + pr.numel());
    for (std::size_t j = 0; j < p.index.size(); ++j) {
      const std::string& path = images[p.index[j]];
      paths.push_back(path);
      const std::int64_t pred = r.predicted[static_cast<long>(j)].item<std::int64_t>();
      predicted.push_back(pred);
      if (options.png_dir.empty()) continue;
      // Colour map (jet) of the heatmap blended 45:55 on the shaped input.
      cv::Mat heat(s, s, CV_32F, maps[static_cast<long>(j)].data_ptr<float>());
      cv::Mat heat8;
      heat.convertTo(heat8, CV_8U, 255.0);
      cv::Mat colour;
      cv::applyColorMap(heat8, colour, cv::COLORMAP_JET);
      cv::Mat overlay;
      cv::addWeighted(colour, 0.45, p.shaped[j], 0.55, 0.0, overlay);
      const std::string name = fs::path(path).stem().string() + "_" +
                               m.meta.classes[static_cast<std::size_t>(pred)] + ".png";
      const std::string png = (fs::path(options.png_dir) / name).string();
      if (!cv::imwrite(png, overlay)) throw IoError("cannot write " + png);
      summary.pngs.push_back(png);
    }
  }
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (!errors[i].empty()) summary.failed.push_back(errors[i]);
  }
  summary.images = paths.size();
  io::H5Writer f(out);
  f.set_attr("", "model", model_file);
  f.set_attr("", "classes", m.meta.classes);
  f.write("gradcam/heatmaps", heatmaps,
          {paths.size(), static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(s)});
  f.set_attr("gradcam/heatmaps", "layer", options.layer);
  f.set_attr("gradcam/heatmaps", "input_size", static_cast<std::int64_t>(s));
  f.write("gradcam/paths", paths);
  f.write("gradcam/predicted", predicted);
  f.write("gradcam/probabilities", probabilities, {paths.size(), static_cast<std::uint64_t>(c)});
  f.commit();
  return summary;
}

}  // namespace midge::explain
