// Which validation images run.h5 keeps Grad-CAM heatmaps of
// (explain::choose_images_to_explain): every taxon in turn, mistakes first.
#include <gtest/gtest.h>

#include <vector>

#include "explain/gradcam.h"

namespace midge::explain {
namespace {

TEST(GradcamChoice, TaxaTakeTurnsAndMistakesComeFirst) {
  // Validation order: taxon 0 has 4 images (index 2 misclassified), taxon 1
  // has 3 (index 6 misclassified), taxon 2 has 3, of which image 8 was
  // unreadable.
  const std::vector<int> labels = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
  const std::vector<std::int64_t> predicted = {0, 0, 1, 0, 1, 1, 0, 2, -1, 2};
  EXPECT_EQ(choose_images_to_explain(labels, predicted, 3, 3), (std::vector<std::size_t>{2, 6, 7}));
  EXPECT_EQ(choose_images_to_explain(labels, predicted, 3, 7),
            (std::vector<std::size_t>{2, 6, 7, 0, 4, 9, 1}));
  // More than there are: every readable image once, never the unreadable one.
  const auto all = choose_images_to_explain(labels, predicted, 3, 100);
  EXPECT_EQ(all, (std::vector<std::size_t>{2, 6, 7, 0, 4, 9, 1, 5, 3}));
  EXPECT_TRUE(choose_images_to_explain(labels, predicted, 3, 0).empty());
}

}  // namespace
}  // namespace midge::explain
