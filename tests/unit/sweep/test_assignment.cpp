// Which trial a free rank group takes next and successive halving's
// decisions at a rung (sweep/assignment.h), on journals built in memory.
#include <gtest/gtest.h>

#include <string>

#include "sweep/assignment.h"

namespace midge::sweep {
namespace {

Journal journal_of(int trials, std::int64_t rungs, std::int64_t rate) {
  Journal j;
  j.rungs = rungs;
  j.halving_rate = rate;
  for (int i = 0; i < trials; ++i) {
    TrialRecord t;
    t.id = "t" + std::to_string(i);
    j.trials.push_back(t);
  }
  return j;
}

TEST(SweepAssignment, RungsOfAStage) {
  EXPECT_EQ(rungs_of(2, 1), 2);  // before stage-2 epochs 0 and 1
  EXPECT_EQ(rungs_of(5, 2), 3);  // before epochs 0, 2 and 4
  EXPECT_EQ(rungs_of(0, 1), 0);
  EXPECT_EQ(rung_at(4, 2), 2);
  EXPECT_EQ(rung_at(3, 2), -1);
}

TEST(SweepAssignment, InterruptedFirstThenPendingInOrderThenWaitThenDone) {
  Journal j = journal_of(3, 0, 0);
  j.trials[0].state = TrialState::kComplete;
  j.trials[2].state = TrialState::kInterrupted;  // its job died mid-trial
  j.trials[2].started = "2026-11-28T10:00:00Z";
  Assignment a = next_assignment(j);
  ASSERT_EQ(a.action, Action::kRun);
  EXPECT_EQ(a.trial, 2U);
  take(j, 2, 1, "now");
  EXPECT_EQ(j.trials[2].state, TrialState::kRunning);
  EXPECT_EQ(j.trials[2].group, 1);
  EXPECT_EQ(j.trials[2].started, "2026-11-28T10:00:00Z");  // kept
  a = next_assignment(j);
  ASSERT_EQ(a.action, Action::kRun);
  EXPECT_EQ(a.trial, 1U);
  take(j, 1, 0, "now");
  EXPECT_EQ(j.trials[1].started, "now");
  EXPECT_EQ(next_assignment(j).action, Action::kWait);
  j.trials[1].state = TrialState::kFailed;
  j.trials[2].state = TrialState::kComplete;
  EXPECT_EQ(next_assignment(j).action, Action::kDone);
}

TEST(SweepAssignment, PromotionWaitsForEnoughScoresAtTheRung) {
  Journal j = journal_of(4, 2, 3);
  for (std::size_t i = 0; i < 3; ++i) take(j, i, 0, "now");
  // One score at rung 0: the best floor(1/3) = 0 go on, so it pauses.
  EXPECT_FALSE(reach_rung(j, 0, 0, 0.5, 1.0));
  EXPECT_EQ(j.trials[0].state, TrialState::kPaused);
  EXPECT_FALSE(reach_rung(j, 1, 0, 0.9, 0.7));
  // The third score: the best of three (trial 1) may go on; trial 2 is not
  // it, so trial 2 pauses and a free group promotes trial 1.
  EXPECT_FALSE(reach_rung(j, 2, 0, 0.5, 0.9));
  Assignment a = next_assignment(j);
  ASSERT_EQ(a.action, Action::kRun);
  EXPECT_EQ(a.trial, 1U);
  take(j, 1, 0, "now");
  EXPECT_EQ(j.trials[1].promoted, 1);
  // Promoted past rung 0: reaching it again (a resumed run) decides nothing.
  EXPECT_TRUE(reach_rung(j, 1, 0, 0.1, 9.0));
  EXPECT_DOUBLE_EQ(j.trials[1].rung_accuracy[0], 0.9);  // the first score stays
  // Nothing else is promotable at rung 0: the last pending trial is next.
  a = next_assignment(j);
  EXPECT_EQ(a.trial, 3U);
}

TEST(SweepAssignment, TiesGoByLowerLossThenByOrder) {
  Journal j = journal_of(3, 1, 3);
  for (std::size_t i = 0; i < 3; ++i) take(j, i, 0, "now");
  EXPECT_FALSE(reach_rung(j, 0, 0, 0.5, 0.8));
  EXPECT_FALSE(reach_rung(j, 1, 0, 0.5, 0.6));
  // Trial 2 arrives third with the same accuracy and a loss between: the
  // best of three is trial 1 (lowest loss), so trial 2 pauses too.
  EXPECT_FALSE(reach_rung(j, 2, 0, 0.5, 0.7));
  EXPECT_EQ(next_assignment(j).trial, 1U);
  // Had trial 2 had the lowest loss, it would have gone straight on.
  Journal k = journal_of(3, 1, 3);
  for (std::size_t i = 0; i < 3; ++i) take(k, i, 0, "now");
  EXPECT_FALSE(reach_rung(k, 0, 0, 0.5, 0.8));
  EXPECT_FALSE(reach_rung(k, 1, 0, 0.5, 0.6));
  EXPECT_TRUE(reach_rung(k, 2, 0, 0.5, 0.5));
  EXPECT_EQ(k.trials[2].state, TrialState::kRunning);
  EXPECT_EQ(k.trials[2].promoted, 1);
}

TEST(SweepAssignment, HigherRungsArePromotedFirstAndTheRestStopAtTheEnd) {
  Journal j = journal_of(6, 2, 2);
  for (std::size_t i = 0; i < 6; ++i) take(j, i, 0, "now");
  // Rung 0: trials 0 and 1 (rate 2: the best of two goes on).
  EXPECT_FALSE(reach_rung(j, 0, 0, 0.2, 1.0));
  EXPECT_TRUE(reach_rung(j, 1, 0, 0.8, 1.0));
  // Rung 1: trial 1 alone pauses; trials 2 and 3 at rung 0, trial 2 best.
  EXPECT_FALSE(reach_rung(j, 1, 1, 0.8, 1.0));
  EXPECT_FALSE(reach_rung(j, 2, 0, 0.1, 1.0));
  EXPECT_FALSE(reach_rung(j, 3, 0, 0.05, 1.0));
  // Trial 4, promoted from rung 0 earlier, paused at rung 1 (set by hand):
  j.trials[4].rung_accuracy = {0.9, 0.9};
  j.trials[4].rung_loss = {1.0, 0.5};
  j.trials[4].promoted = 1;
  j.trials[4].rung = 1;
  j.trials[4].state = TrialState::kPaused;
  // Two scores at rung 1: trial 4 (0.9) may go on, before anything at rung 0.
  EXPECT_EQ(next_assignment(j).trial, 4U);
  j.trials[4].state = TrialState::kComplete;
  j.trials[5].state = TrialState::kComplete;
  // Rung 0 has five scores: floor(5/2) = 2 may go on: trials 1 (promoted)
  // and 4 (promoted); no paused trial is among them, and nothing runs.
  EXPECT_EQ(next_assignment(j).action, Action::kDone);
  stop_paused(j);
  EXPECT_EQ(j.trials[0].state, TrialState::kStopped);
  EXPECT_EQ(j.trials[1].state, TrialState::kStopped);
  EXPECT_EQ(j.trials[1].rung, 1);
  EXPECT_EQ(j.trials[2].state, TrialState::kStopped);
}

TEST(SweepAssignment, APartTakesOnlyItsTrialsAndIsDoneWhenTheyAre) {
  Journal j = journal_of(5, 0, 0);
  const Part odd{1, 2};  // trials 1 and 3
  EXPECT_TRUE(odd.has(3));
  EXPECT_FALSE(odd.has(4));
  j.trials[0].state = TrialState::kRunning;  // another part's: never waited for
  Assignment a = next_assignment(j, odd);
  ASSERT_EQ(a.action, Action::kRun);
  EXPECT_EQ(a.trial, 1U);
  take(j, 1, 0, "now");
  EXPECT_EQ(next_assignment(j, odd).trial, 3U);
  take(j, 3, 0, "now");
  EXPECT_EQ(next_assignment(j, odd).action, Action::kWait);
  j.trials[1].state = TrialState::kComplete;
  j.trials[3].state = TrialState::kComplete;
  EXPECT_EQ(next_assignment(j, odd).action, Action::kDone);
  EXPECT_EQ(next_assignment(j).trial, 2U);  // the whole sweep still has work
}

}  // namespace
}  // namespace midge::sweep
