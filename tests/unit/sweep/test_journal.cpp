// The sweep journal (sweep.h5) read back as written, and a journal of an
// older midge, without the parts/halving attributes, read as one part
// without halving instead of failing.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <vector>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io/integrity.h"
#include "support/temp_dir.h"
#include "sweep/journal.h"

namespace midge::sweep {
namespace {

Journal example() {
  Journal j;
  j.spec_path = "jobs/tiny.ini";
  j.spec_text = "[grid]\nstage2.lr = 0.1, 0.2\n";
  j.base_config = "[data]\nroot = S\n";
  j.sweep_seed = 7;
  j.world_size = 4;
  j.ranks_per_trial = 2;
  j.parts = 3;
  j.rungs = 0;
  j.halving_rate = 3;
  j.started = "2026-11-28T10:00:00Z";
  for (const char* id : {"a1", "b2"}) {
    TrialRecord t;
    t.id = id;
    t.slug = std::string("stage2.lr=") + id;
    j.trials.push_back(t);
  }
  j.trials[0].state = TrialState::kComplete;
  j.trials[0].accuracy = 0.75;
  j.trials[1].attempt = 3;
  j.trials[1].earlier_errors = "attempt 1: loss is NaN\nattempt 2: rank 1 died";
  return j;
}

TEST(SweepJournal, ReadsBackWhatWasWritten) {
  testing::TempDir dir;
  write_journal(dir.str("sweep.h5"), example());
  const Journal j = read_journal(dir.str("sweep.h5"));
  EXPECT_EQ(j.parts, 3);
  EXPECT_EQ(j.halving_rate, 3);
  EXPECT_EQ(j.world_size, 4);
  ASSERT_EQ(j.trials.size(), 2U);
  EXPECT_EQ(j.trials[0].state, TrialState::kComplete);
  EXPECT_DOUBLE_EQ(j.trials[0].accuracy, 0.75);
  EXPECT_EQ(j.trials[1].slug, "stage2.lr=b2");
  EXPECT_EQ(j.trials[0].attempt, 1);
  EXPECT_EQ(j.trials[1].attempt, 3);
  EXPECT_EQ(j.trials[1].earlier_errors, "attempt 1: loss is NaN\nattempt 2: rank 1 died");
}

TEST(SweepJournal, AJournalFromBeforeRetriesHasEveryTrialOnItsFirstAttempt) {
  testing::TempDir dir;
  const std::string path = dir.str("sweep.h5");
  write_journal(path, example());
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char* d : {"trials/attempt", "trials/earlier_errors"})
    EXPECT_GE(H5Ldelete(f, d, H5P_DEFAULT), 0) << d;
  H5Fclose(f);
  io::seal_file(path);
  const Journal j = read_journal(path);
  ASSERT_EQ(j.trials.size(), 2U);
  EXPECT_EQ(j.trials[1].attempt, 1);
  EXPECT_EQ(j.trials[1].earlier_errors, "");
}

TEST(SweepJournal, AnOlderJournalWithoutPartsOrHalvingIsOnePartWithoutHalving) {
  testing::TempDir dir;
  const std::string path = dir.str("sweep.h5");
  write_journal(path, example());
  // What midge wrote before sweep parts and halving: the same file without
  // these three attributes.
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char* a : {"parts", "rungs", "halving_rate"}) EXPECT_GE(H5Adelete(f, a), 0) << a;
  H5Fclose(f);
  io::seal_file(path);  // as the older midge's file would read: whole
  const Journal j = read_journal(path);
  EXPECT_EQ(j.parts, 1);
  EXPECT_EQ(j.rungs, 0);
  EXPECT_EQ(j.halving_rate, 0);
  ASSERT_EQ(j.trials.size(), 2U);
  EXPECT_EQ(j.trials[0].state, TrialState::kComplete);
}

TEST(SweepJournal, APerTrialDatasetOfAnotherLengthIsRefusedByName) {
  testing::TempDir dir;
  const std::string path = dir.str("sweep.h5");
  write_journal(path, example());
  // /trials/state with one value for two trials, sealed again: a crafted
  // file that passes the checksum but not the schema.
  {
    io::H5Editor e(path);
    ASSERT_GE(H5Ldelete(e.id(), "trials/state", H5P_DEFAULT), 0);
    e.write("trials/state", std::vector<std::string>{"complete"});
    e.commit();
  }
  try {
    (void)read_journal(path);
    FAIL() << "a crafted journal was read";
  } catch (const CorruptFileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/trials/state"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace midge::sweep
