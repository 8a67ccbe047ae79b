// `midge synth`: a synthetic taxon image set that behaves like specimen
// photographs, for demos, tests and benchmarks (no data set is checked in).
//
// Each image shows a head-capsule-like body on a mount background. Pose
// (position, rotation over the full circle, size, aspect), colours, internal
// blotches, eye spots, setae, debris, blur, noise and brightness vary at
// random and never depend on the taxon. What depends on the taxon is one
// small, localized structure at the capsule's anterior end (think of the
// teeth of the mentum): its shape family (teeth, knobs, bars, spines, rings
// = the genus) and the count of elements (= the species). The first five
// taxa are one species of each genus; taxa 6-15 add species that differ
// from another only in the count. A classifier therefore
// has to find and look at that structure, which regions.csv locates so
// Grad-CAM can be checked against it.
//
// Specimens: with views > 1 each of the per_taxon specimens is photographed
// `views` times: the same individual (size, colours, setae, blotches and,
// with marks, three dots of its own colour and places that say nothing
// about the taxon) in another pose, mount and lighting, named
// <taxon>_NNNN_vV.png, so data.specimen_pattern '_([0-9]+)_v' names it.
//
// Output under DIR:
//   <taxon>/<taxon>_NNNN.png|jpg   images (<taxon>_NNNN_vV with views > 1)
//   regions.csv    path,taxon,x0,y0,x1,y1,width,height (box of the structure,
//                  pixels, x1/y1 exclusive; path relative to DIR)
//   taxonomy.csv   species,genus,subfamily (one row per taxon folder)
// The same options give byte-identical files on every run and thread count:
// specimen (taxon k, index i) draws from derive_seed(seed, {k, i}) alone,
// and its view v also from derive_seed of that and {v}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::data {

// 5 shape families (genera) x 3 counts (species).
inline constexpr int kMaxSynthTaxa = 15;

struct SynthOptions {
  std::string out;
  int taxa = 5;
  int per_taxon = 50;
  int width = 256;
  int height = 256;
  std::uint64_t seed = 1;
  std::string format = "png";  // png|jpg
  int views = 1;               // images per specimen
  bool marks = false;          // individual marks (see above)
  int threads = 0;             // 0 = hardware concurrency
};

struct SynthTaxon {
  std::string species;  // folder name, e.g. "Dentimentum_alpha"
  std::string genus;
  std::string subfamily;
  int family = 0;  // 0 teeth, 1 knobs, 2 bars, 3 spines, 4 rings
  int count = 0;   // elements of the structure
};

// Taxon k (0 <= k < kMaxSynthTaxa).
SynthTaxon synth_taxon(int k);

// One rendered specimen, 8-bit BGR rows, with the box of its taxon-defining
// structure ([x0, x1) x [y0, y1), pixels).
struct SynthImage {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> bgr;
  int x0 = 0;
  int y0 = 0;
  int x1 = 0;
  int y1 = 0;
};

// Renders taxon k from one image seed. The random draws do not depend on k,
// so two taxa rendered from the same seed differ only around the structure.
SynthImage render_specimen(int taxon, std::uint64_t image_seed, int width, int height);

struct SynthSummary {
  std::size_t images = 0;
  std::string regions_csv;
  std::string taxonomy_csv;
};

// Writes the image set; throws UsageError for bad options, IoError when a
// file cannot be written.
SynthSummary synthesize(const SynthOptions& options);

}  // namespace midge::data
