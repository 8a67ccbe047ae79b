#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/errors.h"
#include "data/decode.h"
#include "data/image_set.h"
#include "data/pack.h"
#include "data/specimens.h"
#include "io/byte_stream.h"
#include "io/hdf5.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;
using midge::testing::write_png;
using midge::testing::write_text;

std::vector<unsigned char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Pieces of every length around the chunk size, so that pieces start and
// end inside chunks and cross one or several chunk boundaries.
TEST(ByteStream, ChunksAreLocatedWhereTheirBytesLieInTheFile) {
  TempDir dir;
  const std::string file = dir.str("stream.h5");
  std::vector<unsigned char> all;
  std::vector<std::pair<std::uint64_t, std::size_t>> pieces;
  {
    io::H5Writer w(file);
    io::ByteStreamWriter stream(&w, "a/bytes", 7);
    for (std::size_t n : {0U, 1U, 6U, 7U, 8U, 20U, 3U, 14U}) {
      std::vector<unsigned char> piece(n);
      for (std::size_t i = 0; i < n; ++i) piece[i] = static_cast<unsigned char>(all.size() + i);
      pieces.emplace_back(stream.append(piece.data(), n), n);
      all.insert(all.end(), piece.begin(), piece.end());
    }
    stream.finish();
    EXPECT_EQ(stream.size(), all.size());
    w.commit();
  }
  io::H5Reader r(file);
  EXPECT_EQ(r.read_bytes("a/bytes"), all);
  const io::ChunkMap map = io::locate_chunks(r, "a/bytes", fs::file_size(file));
  EXPECT_EQ(map.chunk_bytes, 7U);
  EXPECT_EQ(map.size, all.size());
  ASSERT_EQ(map.file_offsets.size(), (all.size() + 6) / 7);
  const std::vector<unsigned char> raw = file_bytes(file);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::uint64_t at = map.file_offsets[i / 7] + i % 7;
    ASSERT_LT(at, raw.size());
    EXPECT_EQ(raw[at], all[i]) << "byte " << i;
  }
  EXPECT_EQ(pieces[3].first, 7U);
  EXPECT_THROW(io::locate_chunks(r, "a", fs::file_size(file)), CorruptFileError);

  // The map is checked against HDF5's own read of the first chunk: right
  // as located, refused when off by the seal's 512 bytes (what a wrong
  // guess of HDF5's address convention would give).
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NO_THROW(io::check_chunk_map(r, "a/bytes", map, fd));
  io::ChunkMap shifted = map;
  shifted.file_offsets[0] -= io::kSealBytes;
  EXPECT_THROW(io::check_chunk_map(r, "a/bytes", shifted, fd), CorruptFileError);
  ::close(fd);
}

struct Packed {
  TempDir dir;
  std::string folder = dir.str("images");
  std::string pack = dir.str("images.h5");
  Packed() {
    int value = 0;
    for (const char* taxon : {"Tanypus", "Chironomus"}) {
      for (const char* f : {"s1_v1.png", "s1_v2.png", "s2_v1.png", "img10.png", "img2.png"}) {
        write_png(fs::path(folder) / taxon / f, 9 + value % 5, 7, value * 11);
        ++value;
      }
    }
    write_text(fs::path(folder) / "Chironomus" / "notes.txt", "field notes");
  }
};

TEST(Pack, ImagesBytesOrderAndIgnoredFilesAreTheFoldersAndEveryThreadReadsThem) {
  Packed p;
  // Chunks of 100 bytes: every image spans several.
  const PackSummary s = write_pack(p.folder, p.pack, SpecimenPattern(), 100);
  EXPECT_EQ(s.images, 10U);
  EXPECT_EQ(s.taxa, 2U);
  EXPECT_EQ(s.ignored, 1U);
  EXPECT_EQ(s.specimens, 0U);
  EXPECT_TRUE(looks_like_pack(p.pack));
  EXPECT_FALSE(looks_like_pack(p.folder + "/Tanypus/img2.png"));

  const ImageSet folder = scan_image_set(p.folder);
  const ImageSet packed = scan_image_set(p.pack);  // through data.root's scan
  EXPECT_EQ(packed.root, p.pack);
  ASSERT_EQ(packed.taxa.size(), folder.taxa.size());
  EXPECT_EQ(packed.ignored_count(), 1U);
  for (std::size_t t = 0; t < folder.taxa.size(); ++t) {
    EXPECT_EQ(packed.taxa[t].name, folder.taxa[t].name);
    ASSERT_EQ(packed.taxa[t].images.size(), folder.taxa[t].images.size());
    EXPECT_TRUE(packed.taxa[t].specimens.empty());
    for (std::size_t i = 0; i < folder.taxa[t].images.size(); ++i) {
      const std::string rel = folder.taxa[t].images[i].substr(p.folder.size());
      EXPECT_EQ(packed.taxa[t].images[i], p.pack + rel);
    }
  }
  // Four threads read every image at once: the file's bytes each time.
  std::vector<std::thread> readers;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    readers.emplace_back([&, k] {
      for (int round = 0; round < 20; ++round) {
        for (std::size_t t = 0; t < folder.taxa.size(); ++t) {
          for (std::size_t i = 0; i < folder.taxa[t].images.size(); ++i) {
            if (read_image_bytes(packed.taxa[t].images[i]) !=
                file_bytes(folder.taxa[t].images[i])) {
              ++mismatches[k];
            }
          }
        }
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  const cv::Mat from_pack = decode_image(packed.taxa[0].images[0]).bgr;
  const cv::Mat from_file = decode_image(folder.taxa[0].images[0]).bgr;
  ASSERT_EQ(from_pack.size(), from_file.size());
  EXPECT_EQ(from_pack.cols, 12);  // img10.png of the second taxon written: 9 + 8 % 5
  EXPECT_EQ(cv::norm(from_pack, from_file, cv::NORM_INF), 0.0);
}

TEST(Pack, SpecimensNamedAtPackingAreStoredAndAPatternAtRunTimeStillWins) {
  Packed p;
  // img10.png and img2.png name no specimen: packing fails, naming one.
  try {
    write_pack(p.folder, p.pack, SpecimenPattern("^(s[0-9])_"), 100);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("img10.png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(p.pack));
  for (const char* taxon : {"Tanypus", "Chironomus"}) {
    fs::remove(fs::path(p.folder) / taxon / "img10.png");
    fs::remove(fs::path(p.folder) / taxon / "img2.png");
  }
  EXPECT_EQ(write_pack(p.folder, p.pack, SpecimenPattern("^(s[0-9])_"), 100).specimens, 4U);
  ImageSet set = scan_pack(p.pack);
  ASSERT_EQ(set.taxa.size(), 2U);
  EXPECT_EQ(set.taxa[0].specimens,
            (std::vector<std::string>{"Chironomus/s1", "Chironomus/s1", "Chironomus/s2"}));
  name_specimens(&set, SpecimenPattern("_(v[0-9])"));
  EXPECT_EQ(set.taxa[1].specimens,
            (std::vector<std::string>{"Tanypus/v1", "Tanypus/v2", "Tanypus/v1"}));
}

TEST(Pack, AMissingImageOrAFileThatIsNoPackIsAnErrorNamingIt) {
  Packed p;
  write_pack(p.folder, p.pack, SpecimenPattern(), 100);
  scan_pack(p.pack);
  std::vector<unsigned char> bytes;
  try {
    read_packed_image(p.pack + "/Tanypus/none.png", &bytes);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has no image Tanypus/none.png"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(read_packed_image(p.folder + "/Tanypus/img2.png", &bytes));
  try {
    scan_pack(p.folder + "/Chironomus/notes.txt");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("not a midge pack: " + p.folder + "/Chironomus/notes.txt"),
              std::string::npos)
        << e.what();
  }
}

TEST(Pack, StagingCopiesOncePerUserAndPackAndRemovesDeadStagersCopies) {
  Packed p;
  write_pack(p.folder, p.pack, SpecimenPattern(), 100);
  const std::string scratch = p.dir.str("scratch");
  const StagedPack first = stage_pack(p.pack, scratch);
  EXPECT_TRUE(first.copied);
  const std::string folder = fs::path(first.path).parent_path().filename().string();
  EXPECT_EQ(folder.rfind("midge-stage-" + std::to_string(::getuid()) + "-", 0), 0U) << folder;
  EXPECT_EQ(file_bytes(first.path), file_bytes(p.pack));
  EXPECT_EQ(scan_pack(first.path).image_count(), 10U);
  // Unchanged: found, not copied again.
  const StagedPack again = stage_pack(p.pack, scratch);
  EXPECT_EQ(again.path, first.path);
  EXPECT_FALSE(again.copied);
  // A copy left by a stager of this host whose process is gone goes; the
  // pack changed (newer), so it is copied again.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const fs::path stale = first.path + ".tmp-" + host + "-999999999";
  write_text(stale, "half a copy");
  fs::last_write_time(p.pack, fs::last_write_time(p.pack) + std::chrono::seconds(5));
  EXPECT_TRUE(stage_pack(p.pack, scratch).copied);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_THROW(stage_pack(p.folder, scratch), DataError);
}

TEST(Pack, ImagesUnderAPrefixAreATaxonOrOneImageOfThePack) {
  Packed p;
  write_pack(p.folder, p.pack, SpecimenPattern(), 100);
  EXPECT_EQ(packed_images_under(p.pack).size(), 10U);
  const auto taxon = packed_images_under(p.pack + "/Tanypus");
  ASSERT_EQ(taxon.size(), 5U);
  EXPECT_EQ(taxon.front(), p.pack + "/Tanypus/img10.png");
  EXPECT_EQ(packed_images_under(p.pack + "/Tanypus/img2.png"),
            std::vector<std::string>{p.pack + "/Tanypus/img2.png"});
  EXPECT_TRUE(packed_images_under(p.pack + "/Tanypu").empty());
  EXPECT_TRUE(packed_images_under(p.folder + "/Tanypus").empty());
}

// A pack written by hand in another order than the folder scan's: its
// split would differ from the folder's, so it is refused, naming the image.
TEST(Pack, APackOutOfScanOrderIsRefused) {
  TempDir dir;
  const std::string pack = dir.str("hand.h5");
  {
    io::H5Writer w(pack);
    io::ByteStreamWriter bytes(&w, "images/bytes", 16);
    const std::vector<unsigned char> data(10, 7);
    bytes.append(data.data(), data.size());
    bytes.append(data.data(), data.size());
    bytes.finish();
    w.write("images/path", std::vector<std::string>{"B/b.png", "A/a.png"});
    w.write("images/taxon", std::vector<std::string>{"B", "A"});
    w.write("images/specimen", std::vector<std::string>{"", ""});
    w.write("images/sha256", std::vector<std::string>{"", ""});
    w.write("images/offset", std::vector<std::int64_t>{0, 10});
    w.write("images/size", std::vector<std::int64_t>{10, 10});
    w.write("ignored", std::vector<std::string>{});
    w.set_attr("", "format", std::string("midge-pack"));
    w.set_attr("", "version", std::int64_t{1});
    w.commit();
  }
  try {
    scan_pack(pack);
    FAIL() << "no error";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find("image A/a.png is out of order (after B/b.png)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace midge::data
