#include "model/weights.h"

#include <cmath>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "core/versions.h"
#include "io/hdf5.h"

namespace midge::model {

NamedTensors named_state(ResNet& model) {
  NamedTensors out;
  for (const auto& p : model->named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

std::string listed(const std::vector<std::string>& names) {
  const std::size_t show = std::min<std::size_t>(names.size(), 8);
  std::vector<std::string> head(names.begin(), names.begin() + static_cast<long>(show));
  std::string s = text::join(head, ", ");
  if (names.size() > show) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}

bool is_head(const std::string& name) { return name.rfind("fc.", 0) == 0; }

}  // namespace

void import_state(ResNet& model, const NamedTensors& source, ImportPolicy policy,
                  const std::string& origin) {
  std::map<std::string, torch::Tensor> src;
  for (const auto& [name, t] : source) src[name] = t;
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> misshaped;
  NamedTensors target = named_state(model);
  std::map<std::string, bool> known;
  for (const auto& [name, t] : target) {
    known[name] = true;
    if (policy == ImportPolicy::kDropHead && is_head(name)) continue;
    auto it = src.find(name);
    if (it == src.end()) {
      missing.push_back(name);
    } else if (!it->second.sizes().equals(t.sizes())) {
      misshaped.push_back(name + " " + shape_text(it->second) + " (expected " + shape_text(t) +
                          ")");
    }
  }
  for (const auto& [name, t] : src) {
    if (policy == ImportPolicy::kDropHead && is_head(name)) continue;
    if (known.count(name) == 0) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::string msg = "cannot load weights from " + origin + " into " + model->arch() + " with " +
                      std::to_string(model->num_classes()) + " taxa:";
    if (!misshaped.empty()) msg += "\n  wrong shape: " + listed(misshaped);
    if (!missing.empty()) msg += "\n  missing: " + listed(missing);
    if (!unexpected.empty()) msg += "\n  unexpected: " + listed(unexpected);
    throw DataError(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : target) {
    if (policy == ImportPolicy::kDropHead && is_head(name)) continue;
    t.copy_(src[name].to(t.device(), t.scalar_type()));
  }
}

void write_tensors(io::H5Node& node, const std::string& group, const NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    std::vector<std::uint64_t> dims(c.sizes().begin(), c.sizes().end());
    const std::string key = group + "/" + name;
    if (c.dim() == 0) {  // num_batches_tracked: a scalar dataset, as torchvision/h5py have it
      if (c.scalar_type() == torch::kLong) {
        node.write_scalar(key, c.item<std::int64_t>());
      } else {
        node.write_scalar(key, c.item<double>());
      }
    } else if (c.scalar_type() == torch::kLong) {
      node.write(key,
                 std::vector<std::int64_t>(c.data_ptr<std::int64_t>(),
                                           c.data_ptr<std::int64_t>() + c.numel()),
                 dims);
    } else {
      c = c.to(torch::kFloat);
      node.write(key, std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()),
                 dims);
    }
  }
}

NamedTensors read_tensors(const io::H5Node& node, const std::string& group) {
  NamedTensors out;
  for (const auto& name : node.children(group)) {
    const std::string key = group + "/" + name;
    auto dims = node.shape(key);
    std::vector<std::int64_t> sizes(dims.begin(), dims.end());
    if (text::ends_with(name, "num_batches_tracked")) {
      out.emplace_back(name, torch::tensor(node.read_int64s(key), torch::kLong).reshape(sizes));
    } else {
      out.emplace_back(name, torch::tensor(node.read_floats(key), torch::kFloat).reshape(sizes));
    }
  }
  return out;
}

void save_model_h5(ResNet& model, const ModelMeta& meta, const std::string& path) {
  io::H5Writer f(path);
  f.set_attr("", "schema_version", std::int64_t{1});
  f.set_attr("", "format", std::string("midge-model"));
  f.set_attr("", "midge_version", midge_version());
  f.set_attr("", "arch", meta.arch);
  f.set_attr("", "classes", meta.classes);
  const Preprocessing& p = meta.preprocessing;
  f.set_attr("", "image_size", static_cast<std::int64_t>(p.image_size));
  f.set_attr("", "resize", p.resize);
  f.set_attr("", "mean", std::vector<double>(p.mean.begin(), p.mean.end()));
  f.set_attr("", "std", std::vector<double>(p.std.begin(), p.std.end()));
  f.set_attr("", "dropout", meta.dropout);
  f.set_attr("", "temperature", meta.temperature);
  f.set_attr("", "open_set", meta.open_set);
  f.set_attr("", "open_set_threshold", meta.open_set_threshold);
  f.set_attr("", "accept_rate", meta.accept_rate);
  f.set_attr("", "coverage", meta.coverage);
  f.set_attr("", "set_threshold", meta.set_threshold);
  if (!std::isnan(meta.specimen_set_threshold))
    f.set_attr("", "specimen_set_threshold", meta.specimen_set_threshold);
  write_tensors(f, "weights", named_state(model));
  f.commit();
}

ModelMeta read_model_meta(const std::string& path) {
  io::H5Reader f(path);
  if (!f.has_attr("", "arch") || !f.exists("weights")) {
    throw DataError(path + " is not a midge model file (no arch attribute or /weights group)");
  }
  ModelMeta m;
  m.arch = f.attr_string("", "arch");
  m.classes = f.attr_strings("", "classes");
  Preprocessing& p = m.preprocessing;
  p.image_size = f.attr_int64("", "image_size");
  if (f.has_attr("", "resize")) {
    p.resize = f.attr_string("", "resize");
  } else {
    p.resize = "pad";
    log::warn(path + " does not record data.resize (written by an older midge): assuming pad");
  }
  auto mean = f.attr_doubles("", "mean");
  auto sd = f.attr_doubles("", "std");
  if (mean.size() != 3 || sd.size() != 3) throw DataError(path + ": mean/std must have 3 values");
  for (std::size_t i = 0; i < 3; ++i) {
    p.mean[i] = mean[i];
    p.std[i] = sd[i];
  }
  m.dropout = f.has_attr("", "dropout") ? f.attr_double("", "dropout") : 0.0;
  m.temperature = f.has_attr("", "temperature") ? f.attr_double("", "temperature") : 1.0;
  if (f.has_attr("", "open_set")) {
    m.open_set = f.attr_string("", "open_set");
    m.open_set_threshold = f.attr_double("", "open_set_threshold");
    m.accept_rate = f.attr_double("", "accept_rate");
    if (m.open_set != "msp" && m.open_set != "energy" && m.open_set != "off") {
      throw DataError(path + ": unknown open_set '" + m.open_set + "' (msp|energy|off)");
    }
  }
  if (f.has_attr("", "coverage")) {
    m.coverage = f.attr_double("", "coverage");
    m.set_threshold = f.attr_double("", "set_threshold");
  }
  if (f.has_attr("", "specimen_set_threshold"))
    m.specimen_set_threshold = f.attr_double("", "specimen_set_threshold");
  return m;
}

NamedTensors read_model_h5_state(const std::string& path) {
  io::H5Reader f(path);
  if (!f.exists("weights")) throw DataError(path + ": no /weights group");
  return read_tensors(f, "weights");
}

void load_pretrained(ResNet& model, const std::string& path) {
  if (path == "none" || path.empty()) return;
  if (text::ends_with(path, ".h5")) {
    import_state(model, read_model_h5_state(path), ImportPolicy::kDropHead, path);
  } else {
    import_state(model, read_torchscript_state(path), ImportPolicy::kDropHead, path);
  }
}

ResNet load_model(const std::string& path, ModelMeta* meta) {
  *meta = read_model_meta(path);
  ResNet model(meta->arch, static_cast<int>(meta->classes.size()), meta->dropout);
  import_state(model, read_model_h5_state(path), ImportPolicy::kExact, path);
  return model;
}

}  // namespace midge::model
