#include "support/synth_images.h"

#include "data/image_set.h"
#include "data/synth.h"

namespace midge::testing {

std::vector<data::Sample> synth_jpeg_samples(const std::string& folder, int taxa, int per_taxon,
                                             int width, int height) {
  data::SynthOptions o;
  o.out = folder;
  o.taxa = taxa;
  o.per_taxon = per_taxon;
  o.width = width;
  o.height = height;
  o.format = "jpg";
  data::synthesize(o);
  data::Split s = data::split_image_set(data::scan_image_set(o.out), 5, 4);
  std::vector<data::Sample> all = s.train;
  all.insert(all.end(), s.val.begin(), s.val.end());
  return all;
}

}  // namespace midge::testing
