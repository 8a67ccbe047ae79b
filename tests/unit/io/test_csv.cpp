#include <gtest/gtest.h>

#include "core/errors.h"
#include "io/csv.h"
#include "support/temp_dir.h"

namespace midge::io {
namespace {

TEST(Csv, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(csv_line({"a", "b c", "1"}), "a,b c,1\n");
  EXPECT_EQ(csv_line({"x,y", "say \"hi\"", "two\nlines"}),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
}

TEST(Csv, RoundTripsAwkwardFields) {
  std::vector<CsvRow> rows = {{"path", "taxon"},
                              {"/data/a,b.png", "Chironomus \"plumosus\""},
                              {"", "empty first"},
                              {"multi\nline", "x"}};
  std::string text;
  for (const auto& r : rows) text += csv_line(r);
  EXPECT_EQ(parse_csv(text, "t"), rows);
  // CRLF files and a missing final newline parse the same.
  EXPECT_EQ(parse_csv("a,b\r\nc,d", "t"), (std::vector<CsvRow>{{"a", "b"}, {"c", "d"}}));
}

TEST(Csv, ErrorsNameTheFileAndLine) {
  try {
    parse_csv("a,b\n\"open,c\n", "manifest.csv");
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("manifest.csv:2: unterminated"), std::string::npos)
        << e.what();
  }
  midge::testing::TempDir dir;
  midge::testing::write_text(dir.path() / "m.csv", "file,label\nx,y\n");
  try {
    read_csv(dir.str("m.csv"), {"path", "taxon", "split"});
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("expected the header 'path,taxon,split'"),
              std::string::npos)
        << e.what();
  }
  midge::testing::write_text(dir.path() / "short.csv", "path,taxon,split\nx,y\n");
  EXPECT_THROW(read_csv(dir.str("short.csv"), {"path", "taxon", "split"}), IoError);
}

}  // namespace
}  // namespace midge::io
