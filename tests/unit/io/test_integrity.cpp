#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/integrity.h"
#include "support/temp_dir.h"

namespace midge::io {
namespace {
namespace fs = std::filesystem;

void write_example(const std::string& path) {
  H5Writer f(path);
  f.set_attr("", "format", std::string("midge-example"));
  f.write("weights/a", std::vector<float>(4096, 0.5F), {64, 64});
  f.write("names", std::vector<std::string>{"Chironomus", "Tanytarsus"});
  f.commit();
}

// Where dataset `name`'s values start in the file (HDF5 counts from the
// end of the seal).
std::uint64_t offset_of(const std::string& path, const std::string& name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const haddr_t at = H5Dget_offset(ds);
  H5Dclose(ds);
  H5Fclose(file);
  return kSealBytes + at;
}

void flip_byte(const std::string& path, std::uint64_t at) {
  std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  io.get(c);
  io.seekp(static_cast<std::streamoff>(at));
  io.put(static_cast<char>(c ^ 0x20));
}

std::string refusal(const std::string& path) {
  try {
    H5Reader f(path);
  } catch (const CorruptFileError& e) {
    return e.what();
  }
  return "";
}

TEST(Integrity, AWrittenFileIsSealedAndReadsBack) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  std::ifstream in(path, std::ios::binary);
  std::string head(16, '\0');
  in.read(head.data(), 16);
  EXPECT_EQ(head, "midge-checksum 1");
  EXPECT_EQ(check_seal(path), SealState::kWhole);
  H5Reader f(path);
  EXPECT_EQ(f.read_floats("weights/a").size(), 4096U);
  const auto crc = static_cast<std::uint32_t>(f.attr_int64("weights/a", "crc32"));
  const std::vector<float> values(4096, 0.5F);
  EXPECT_EQ(crc, values_crc(values.data(), values.size() * sizeof(float)));
  EXPECT_EQ(static_cast<std::uint32_t>(f.attr_int64("names", "crc32")),
            strings_crc({"Chironomus", "Tanytarsus"}));
  EXPECT_EQ(verify_file(path).verdict, FileCheck::Verdict::kOk);
}

TEST(Integrity, AFlippedByteIsRefusedNamingTheDataset) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  flip_byte(path, offset_of(path, "weights/a") + 1000);
  const std::string why = refusal(path);
  EXPECT_NE(why.find(path + " is corrupt: dataset /weights/a does not match its CRC-32"),
            std::string::npos)
      << why;
  const auto check = verify_file(path);
  EXPECT_EQ(check.verdict, FileCheck::Verdict::kCorrupt);
  EXPECT_NE(check.detail.find("/weights/a"), std::string::npos);
}

TEST(Integrity, AFileChangedInPlaceWithItsTimeSetBackIsCheckedAgain) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  EXPECT_EQ(check_seal(path), SealState::kWhole);  // remembered as whole
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  // The file system's clock ticks coarsely (a few ms): wait until a file
  // written now gets another change time, so the edit below is told apart.
  for (;;) {
    std::ofstream(dir.str("tick")) << "x";
    struct stat tick {};
    ASSERT_EQ(::stat(dir.str("tick").c_str(), &tick), 0);
    if (tick.st_ctim.tv_sec != st.st_ctim.tv_sec || tick.st_ctim.tv_nsec != st.st_ctim.tv_nsec) {
      break;
    }
  }
  flip_byte(path, offset_of(path, "weights/a") + 10);
  // Same size, modification time set back (as cp -p or rsync -t do): only
  // the change time tells.
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  EXPECT_THROW(check_seal(path), CorruptFileError);
}

TEST(Integrity, TruncatedEmptyForeignAndDamagedSealsAreNamed) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 10);
  EXPECT_NE(refusal(path).find("truncated: " + std::to_string(size - 10) + " of " +
                               std::to_string(size) + " bytes written"),
            std::string::npos);
  fs::resize_file(path, 0);
  EXPECT_NE(refusal(path).find("it is empty"), std::string::npos);
  std::ofstream(dir.str("text.h5")) << "not a model";
  EXPECT_NE(refusal(dir.str("text.h5")).find("not an HDF5 file midge wrote"), std::string::npos);
  write_example(path);
  flip_byte(path, 20);  // inside the seal's text
  EXPECT_NE(refusal(path).find("its seal (the checksum in the first 512 bytes) is damaged"),
            std::string::npos);
}

TEST(Integrity, AFileWithoutSealIsReadAsLegacy) {
  testing::TempDir dir;
  const std::string path = dir.str("old.h5");
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Fclose(file);
  EXPECT_EQ(check_seal(path), SealState::kLegacy);
  EXPECT_EQ(verify_file(path).verdict, FileCheck::Verdict::kLegacy);
  EXPECT_NO_THROW(H5Reader{path});
}

TEST(Integrity, AValueOfAnotherTypeIsRefusedNamingFileAndDataset) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  H5Reader f(path);
  try {
    (void)f.read_doubles("weights/a");
    FAIL() << "float32 read as float64";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":/weights/a is"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)f.read_int64s("names"), CorruptFileError);
}

TEST(Integrity, CommitKeepingLeavesTheReplacedFileAsThePreviousGeneration) {
  testing::TempDir dir;
  const std::string path = dir.str("state.h5");
  const std::string prev = dir.str("state.prev.h5");
  for (double v : {1.0, 2.0}) {
    H5Writer f(path);
    f.write_scalar("v", v);
    f.commit_keeping(prev);
  }
  EXPECT_DOUBLE_EQ(H5Reader(path).read_double("v"), 2.0);
  EXPECT_DOUBLE_EQ(H5Reader(prev).read_double("v"), 1.0);
  EXPECT_EQ(check_seal(prev), SealState::kWhole);
}

TEST(Integrity, AnEditedFileIsSealedAgain) {
  testing::TempDir dir;
  const std::string path = dir.str("x.h5");
  write_example(path);
  {
    H5Editor e(path);
    e.set_attr("", "format", std::string("edited"));
    e.commit();
  }
  EXPECT_EQ(verify_file(path).verdict, FileCheck::Verdict::kOk);
  EXPECT_EQ(H5Reader(path).attr_string("", "format"), "edited");
}

}  // namespace
}  // namespace midge::io
