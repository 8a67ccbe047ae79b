#include "data/synth.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "core/random.h"
#include "data/decode.h"
#include "io/atomic_file.h"
#include "io/csv.h"

namespace midge::data {
namespace fs = std::filesystem;

namespace {

constexpr int kShift = 4;  // OpenCV fixed-point drawing: 1/16 pixel
constexpr double kOne = 1 << kShift;

// Pose of the capsule: local x points to the anterior end.
struct Pose {
  double cx = 0;
  double cy = 0;
  double cos_t = 1;
  double sin_t = 0;
  cv::Point2d to_image(double x, double y) const {
    return {cx + cos_t * x - sin_t * y, cy + sin_t * x + cos_t * y};
  }
};

cv::Point fixed(cv::Point2d p) {
  return {static_cast<int>(std::lround(p.x * kOne)), static_cast<int>(std::lround(p.y * kOne))};
}

cv::Scalar scaled(const cv::Scalar& c, double f) {
  return {std::clamp(c[0] * f, 0.0, 255.0), std::clamp(c[1] * f, 0.0, 255.0),
          std::clamp(c[2] * f, 0.0, 255.0)};
}

// A filled polygon given in capsule coordinates; its image points are also
// appended to `extent` (for the bounding box of the structure).
void fill_local(cv::Mat& img, const Pose& pose, const std::vector<cv::Point2d>& local,
                const cv::Scalar& colour, std::vector<cv::Point2d>* extent) {
  std::vector<cv::Point> pts;
  for (const auto& p : local) {
    cv::Point2d q = pose.to_image(p.x, p.y);
    pts.push_back(fixed(q));
    if (extent != nullptr) extent->push_back(q);
  }
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{pts}, colour, cv::LINE_AA, kShift);
}

// Polygon approximating a circle (so it shares the code path, and the box).
std::vector<cv::Point2d> circle_local(double x, double y, double r) {
  std::vector<cv::Point2d> pts;
  for (int i = 0; i < 24; ++i) {
    const double a = 2 * M_PI * i / 24;
    pts.emplace_back(x + r * std::cos(a), y + r * std::sin(a));
  }
  return pts;
}

// A bar from (x0,y0) to (x1,y1) of width w, as a polygon.
std::vector<cv::Point2d> bar_local(double x0, double y0, double x1, double y1, double w) {
  const double dx = x1 - x0;
  const double dy = y1 - y0;
  const double len = std::max(1e-9, std::hypot(dx, dy));
  const double nx = -dy / len * w / 2;
  const double ny = dx / len * w / 2;
  return {{x0 + nx, y0 + ny}, {x1 + nx, y1 + ny}, {x1 - nx, y1 - ny}, {x0 - nx, y0 - ny}};
}

struct Box {
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;
};

// Draws the taxon-defining structure: a dark plate at the anterior end and,
// on it, `count` elements of the taxon's shape family.
Box draw_structure(cv::Mat& img, const Pose& pose, const SynthTaxon& taxon, double a, double b,
                   const cv::Scalar& dark, const cv::Scalar& hole_colour, Rng& rng) {
  std::vector<cv::Point2d> extent;
  const double base = a * 0.80;                  // plate's front edge (local x)
  const double w = b * rng.uniform(0.85, 0.95);  // width across the capsule
  const double h = a * rng.uniform(0.55, 0.65);  // how far elements reach forward
  fill_local(img, pose,
             {{base - a * 0.10, -w / 2}, {base, -w / 2}, {base, w / 2}, {base - a * 0.10, w / 2}},
             dark, &extent);
  const int n = taxon.count;
  const double cell = w / n;
  for (int i = 0; i < n; ++i) {
    const double y = -w / 2 + cell * (i + 0.5);
    switch (taxon.family) {
      case 0: {  // teeth: triangles
        const double tip = h * (i == n / 2 ? 1.0 : 0.8);
        fill_local(img, pose,
                   {{base - 1, y - cell * 0.48}, {base + tip, y}, {base - 1, y + cell * 0.48}},
                   dark, &extent);
        break;
      }
      case 1: {  // knobs: discs
        const double r = std::min(cell * 0.42, h * 0.5);
        fill_local(img, pose, circle_local(base + r * 0.9, y, r), dark, &extent);
        break;
      }
      case 2: {  // bars: long narrow rectangles
        fill_local(img, pose, bar_local(base - 1, y, base + h * 1.1, y, cell * 0.45), dark,
                   &extent);
        break;
      }
      case 4: {  // rings: hollow discs
        const double r = std::min(cell * 0.45, h * 0.5);
        std::vector<cv::Point2d> ring = circle_local(base + r * 0.9, y, r);
        std::vector<cv::Point2d> hole = circle_local(base + r * 0.9, y, r * 0.5);
        fill_local(img, pose, ring, dark, &extent);
        fill_local(img, pose, hole, hole_colour, nullptr);
        break;
      }
      default: {  // spines: thin lines fanning out
        const double spread = (n == 1) ? 0 : (static_cast<double>(i) / (n - 1) - 0.5) * 1.4;
        const double len = h * 1.15;
        fill_local(img, pose,
                   bar_local(base - 1, y * 0.5, base + len * std::cos(spread),
                             y * 0.5 + len * std::sin(spread), std::max(1.0, cell * 0.25)),
                   dark, &extent);
        break;
      }
    }
  }
  double x0 = 1e9;
  double y0 = 1e9;
  double x1 = -1e9;
  double y1 = -1e9;
  for (const auto& p : extent) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  // One pixel of margin for anti-aliasing, clipped to the image.
  Box box;
  box.x0 = std::clamp(static_cast<int>(std::floor(x0)) - 1, 0, img.cols);
  box.y0 = std::clamp(static_cast<int>(std::floor(y0)) - 1, 0, img.rows);
  box.x1 = std::clamp(static_cast<int>(std::ceil(x1)) + 2, 0, img.cols);
  box.y1 = std::clamp(static_cast<int>(std::ceil(y1)) + 2, 0, img.rows);
  return box;
}

// Draws from two streams: `ind` for what belongs to the individual (size,
// colours, setae, blotches, eyes, the structure's proportions, its marks)
// and `view` for what a photograph adds (mount, pose, debris, optics). One
// image per specimen passes the same stream twice, which keeps the draws
// (and files) of sets made before views existed.
cv::Mat render(const SynthTaxon& taxon, Rng& ind, Rng& view, int width, int height, bool marks,
               Box* box) {
  const double s = std::min(width, height);
  // Mount background: pale, tinted, with a gradient and soft blobs.
  const cv::Scalar bg(view.uniform(175, 235), view.uniform(175, 235), view.uniform(175, 235));
  cv::Mat img(height, width, CV_32FC3, bg);
  {
    const double angle = view.uniform(0, 2 * M_PI);
    const double amp = view.uniform(0, 25);
    for (int y = 0; y < height; ++y) {
      auto* row = img.ptr<cv::Vec3f>(y);
      for (int x = 0; x < width; ++x) {
        const double t =
            ((x - width / 2.0) * std::cos(angle) + (y - height / 2.0) * std::sin(angle)) / s;
        const float d = static_cast<float>(amp * t);
        row[x] += cv::Vec3f(d, d, d);
      }
    }
  }
  cv::Mat canvas;
  img.convertTo(canvas, CV_8UC3);
  const int blobs = view.uniform_int(1, 4);
  for (int i = 0; i < blobs; ++i) {
    cv::Point2d c(view.uniform(0, width), view.uniform(0, height));
    const double r = s * view.uniform(0.1, 0.3);
    cv::circle(canvas, fixed(c), static_cast<int>(r * kOne), scaled(bg, view.uniform(0.9, 1.05)),
               cv::FILLED, cv::LINE_AA, kShift);
  }
  // Capsule pose; the structure must stay inside the image.
  const double a = s * ind.uniform(0.24, 0.30);
  const double b = a * ind.uniform(0.60, 0.80);
  // Slide mounts show the head capsule in ventral view, anterior end up or
  // down, tilted by up to 20 degrees.
  const double theta =
      -M_PI / 2 + view.uniform(-M_PI / 9, M_PI / 9) + (view.bernoulli(0.5) ? M_PI : 0);
  Pose pose;
  pose.cos_t = std::cos(theta);
  pose.sin_t = std::sin(theta);
  const double reach = a * 1.55;  // capsule plus structure, from the centre
  pose.cx = std::clamp(width / 2.0 + view.normal() * 0.05 * s, reach + 2, width - reach - 2);
  pose.cy = std::clamp(height / 2.0 + view.normal() * 0.05 * s, reach + 2, height - reach - 2);

  // Debris on the mount (nuisance that looks like small dark structures).
  const int debris = view.uniform_int(0, 4);
  for (int i = 0; i < debris; ++i) {
    cv::Point2d p(view.uniform(0, width), view.uniform(0, height));
    const double ang = view.uniform(0, 2 * M_PI);
    const double len = s * view.uniform(0.01, 0.06);
    cv::line(canvas, fixed(p), fixed(p + cv::Point2d(std::cos(ang), std::sin(ang)) * len),
             scaled(bg, view.uniform(0.55, 0.8)), std::max(1, static_cast<int>(s / 200)),
             cv::LINE_AA, kShift);
  }

  // Capsule body: yellow-brown fill, darker rim.
  const cv::Scalar body(ind.uniform(40, 95), ind.uniform(105, 165), ind.uniform(145, 215));
  const cv::Scalar rim = scaled(body, ind.uniform(0.45, 0.65));
  const cv::Scalar dark = scaled(body, ind.uniform(0.15, 0.3));
  // Setae: thin hairs from the rim, away from the anterior structure.
  const int setae = ind.uniform_int(1, 5);
  for (int i = 0; i < setae; ++i) {
    const double phi = ind.uniform(0.35 * M_PI, 1.65 * M_PI);  // not the front
    const cv::Point2d from(a * std::cos(phi), b * std::sin(phi));
    const double len = a * ind.uniform(0.15, 0.45);
    const double dir = phi + ind.uniform(-0.4, 0.4);
    fill_local(canvas, pose,
               bar_local(from.x, from.y, from.x + len * std::cos(dir), from.y + len * std::sin(dir),
                         std::max(0.8, s / 250)),
               rim, nullptr);
  }
  cv::ellipse(canvas, fixed({pose.cx, pose.cy}),
              cv::Size(static_cast<int>(a * kOne), static_cast<int>(b * kOne)), theta * 180 / M_PI,
              0, 360, body, cv::FILLED, cv::LINE_AA, kShift);
  // Internal blotches (texture of the cuticle).
  const int spots = ind.uniform_int(2, 7);
  for (int i = 0; i < spots; ++i) {
    const double x = ind.uniform(-0.6, 0.5) * a;
    const double y = ind.uniform(-0.6, 0.6) * b;
    const double r = s * ind.uniform(0.01, 0.04);
    fill_local(canvas, pose, circle_local(x, y, r), scaled(body, ind.uniform(0.75, 1.15)), nullptr);
  }
  // Eye spots: a pair, present in every taxon.
  const double eye_x = a * ind.uniform(0.05, 0.35);
  const double eye_r = b * ind.uniform(0.07, 0.12);
  for (double side : {-1.0, 1.0}) {
    fill_local(canvas, pose, circle_local(eye_x, side * b * 0.55, eye_r), rim, nullptr);
  }
  cv::ellipse(canvas, fixed({pose.cx, pose.cy}),
              cv::Size(static_cast<int>(a * kOne), static_cast<int>(b * kOne)), theta * 180 / M_PI,
              0, 360, rim, std::max(1, static_cast<int>(s / 90)), cv::LINE_AA, kShift);
  *box = draw_structure(canvas, pose, taxon, a, b, dark, body, ind);
  // Individual marks (--marks): three bright dots of the individual's own
  // colour at its own places on the posterior half, the same in every
  // view. They say nothing about the taxon: a network that learns them
  // recognises individuals, which only helps when validation shows
  // individuals that training saw (an image-by-image split of specimens).
  if (marks) {
    const cv::Scalar mark(ind.uniform(0, 255), ind.uniform(0, 255), ind.uniform(0, 255));
    for (int i = 0; i < 3; ++i) {
      const double x = ind.uniform(-0.75, -0.1) * a;
      const double y = ind.uniform(-0.6, 0.6) * b;
      fill_local(canvas, pose, circle_local(x, y, b * ind.uniform(0.12, 0.2)), mark, nullptr);
    }
  }

  // Optics and sensor: blur, brightness, noise.
  const double blur = view.uniform(0.0, 0.8) * s / 128.0;
  if (blur > 0.3) cv::GaussianBlur(canvas, canvas, cv::Size(0, 0), blur);
  const double gain = view.uniform(0.85, 1.12);
  const double sigma = view.uniform(1.0, 5.0);
  for (int y = 0; y < height; ++y) {
    auto* row = canvas.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double v = row[x][c] * gain + view.normal() * sigma;
        row[x][c] = static_cast<unsigned char>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return canvas;
}

constexpr int kFamilies = 5;
const char* const kGenera[kFamilies] = {"Dentimentum", "Nodimentum", "Virgimentum", "Spinimentum",
                                        "Anulimentum"};
const char* const kEpithets[] = {"alpha", "beta", "gamma"};
const int kCountBase[kFamilies] = {3, 1, 2, 3, 1};
const int kCountStep[kFamilies] = {2, 1, 1, 2, 1};

}  // namespace

SynthTaxon synth_taxon(int k) {
  if (k < 0 || k >= kMaxSynthTaxa) {
    throw UsageError("synthetic taxon index " + std::to_string(k) + " outside [0, " +
                     std::to_string(kMaxSynthTaxa - 1) + "]");
  }
  SynthTaxon t;
  t.family = k % kFamilies;
  const int variant = k / kFamilies;
  t.count = kCountBase[t.family] + kCountStep[t.family] * variant;
  t.genus = kGenera[t.family];
  t.species = t.genus + "_" + kEpithets[variant];
  t.subfamily = (t.family % 2 == 0) ? "Synthochironominae" : "Synthotanypodinae";
  return t;
}

SynthImage render_specimen(int taxon, std::uint64_t image_seed, int width, int height) {
  Box box;
  Rng rng(image_seed);
  cv::Mat img = render(synth_taxon(taxon), rng, rng, width, height, false, &box);
  SynthImage out;
  out.width = width;
  out.height = height;
  out.bgr.assign(img.data, img.data + img.total() * img.elemSize());
  out.x0 = box.x0;
  out.y0 = box.y0;
  out.x1 = box.x1;
  out.y1 = box.y1;
  return out;
}

SynthSummary synthesize(const SynthOptions& o) {
  if (o.out.empty()) throw UsageError("synth: --out is required");
  if (o.taxa < 1 || o.taxa > kMaxSynthTaxa) {
    throw UsageError("synth: --classes must be in [1, " + std::to_string(kMaxSynthTaxa) +
                     "], got " + std::to_string(o.taxa));
  }
  if (o.per_taxon < 1) {
    throw UsageError("synth: --per-class must be at least 1, got " + std::to_string(o.per_taxon));
  }
  if (o.width < 32 || o.height < 32 || o.width > 8192 || o.height > 8192) {
    throw UsageError("synth: --size must be between 32 and 8192 pixels per side");
  }
  if (o.views < 1 || o.views > 100) {
    throw UsageError("synth: --views must be in [1, 100], got " + std::to_string(o.views));
  }
  if (o.format != "png" && o.format != "jpg") {
    throw UsageError("synth: --format must be png or jpg, got '" + o.format + "'");
  }
  std::vector<SynthTaxon> taxa;
  for (int k = 0; k < o.taxa; ++k) {
    taxa.push_back(synth_taxon(k));
    std::error_code ec;
    fs::create_directories(fs::path(o.out) / taxa.back().species, ec);
    if (ec)
      throw IoError("cannot create " + (fs::path(o.out) / taxa.back().species).string() + ": " +
                    ec.message());
  }
  const auto views = static_cast<std::size_t>(o.views);
  const std::size_t total =
      static_cast<std::size_t>(o.taxa) * static_cast<std::size_t>(o.per_taxon) * views;
  std::vector<io::CsvRow> regions(total);
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::string first_error;
  auto work = [&]() {
    for (std::size_t j = next++; j < total; j = next++) {
      const std::size_t specimen = j / views;
      const int v = static_cast<int>(j % views);
      const int k = static_cast<int>(specimen / static_cast<std::size_t>(o.per_taxon));
      const int i = static_cast<int>(specimen % static_cast<std::size_t>(o.per_taxon));
      const SynthTaxon& taxon = taxa[static_cast<std::size_t>(k)];
      Box box;
      // The individual from (taxon, specimen) alone; each view adds its own
      // stream. One view: one stream, as before views existed.
      const std::uint64_t seed =
          derive_seed(o.seed, {static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(i)});
      Rng ind(seed);
      Rng view(derive_seed(seed, {static_cast<std::uint64_t>(v)}));
      cv::Mat img = render(taxon, ind, views == 1 ? ind : view, o.width, o.height, o.marks, &box);
      char name[64];
      if (views == 1) {
        std::snprintf(name, sizeof(name), "_%04d.", i);
      } else {
        std::snprintf(name, sizeof(name), "_%04d_v%d.", i, v);
      }
      const std::string rel = taxon.species + "/" + taxon.species + name + o.format;
      std::vector<unsigned char> bytes;
      std::vector<int> params = o.format == "png" ? std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 3}
                                                  : std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 92};
      const fs::path path = fs::path(o.out) / rel;
      // Images are written directly (no fsync per file: data sets have
      // thousands); the CSVs that describe them are written atomically last.
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      if (!cv::imencode("." + o.format, img, bytes, params) || !out ||
          !out.write(reinterpret_cast<const char*>(bytes.data()),
                     static_cast<std::streamsize>(bytes.size()))) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.empty()) first_error = "cannot write " + path.string();
        return;
      }
      regions[j] = {rel,
                    taxon.species,
                    std::to_string(box.x0),
                    std::to_string(box.y0),
                    std::to_string(box.x1),
                    std::to_string(box.y1),
                    std::to_string(o.width),
                    std::to_string(o.height)};
    }
  };
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(total)));
  std::vector<std::thread> pool;
  prepare_codecs();
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.empty()) throw IoError(first_error);

  SynthSummary summary;
  summary.images = total;
  summary.regions_csv = (fs::path(o.out) / "regions.csv").string();
  summary.taxonomy_csv = (fs::path(o.out) / "taxonomy.csv").string();
  std::string csv = io::csv_line({"path", "taxon", "x0", "y0", "x1", "y1", "width", "height"});
  for (const auto& r : regions) csv += io::csv_line(r);
  io::write_file_atomic(summary.regions_csv, csv);
  std::string tax = io::csv_line({"species", "genus", "subfamily"});
  for (const auto& t : taxa) tax += io::csv_line({t.species, t.genus, t.subfamily});
  io::write_file_atomic(summary.taxonomy_csv, tax);
  return summary;
}

}  // namespace midge::data
