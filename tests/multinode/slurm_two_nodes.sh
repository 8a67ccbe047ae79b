#!/usr/bin/env bash
# A two-node Slurm cluster on one machine (tests/multinode/nodes.sh): the
# controller and one slurmd on nodea, a second slurmd on nodeb, each in its
# node's network namespace under its host name, sharing this machine's
# munged (its socket is a file) and file system. On it:
#  - `sbatch --nodes=2 --ntasks-per-node=1 slurm/train.sbatch`: one training
#    of 2 ranks, one per node (run.h5 /ranks/host: nodea nodeb), from a pack
#    staged by one task per node (MIDGE_STAGE=1), bitwise equal to the same
#    training under `mpiexec -n 2` on one node from the folder;
#  - slurm/sweep.sbatch on the same 2 nodes (one group of 2 ranks across
#    them), SIGUSR2 in the middle of a trial (`scancel --batch --signal`, as
#    `--signal=B:USR2@T` delivers it before a time limit): the job requeues
#    itself and then completes every trial exactly once; staged as well,
#    the requeued run finds the pack's copy there already.
# Skipped (exit 77, saying why) without root, network namespaces or Slurm.
# The machine's own single-node Slurm (scripts/slurm-local.sh) is left
# alone: this cluster has its own slurm.conf (SLURM_CONF), state and ports
# inside the namespaces.
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/nodes.sh"
for tool in slurmctld slurmd sbatch srun; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
done
[ -x /usr/sbin/munged ] || { echo "SKIPPED: munge is not installed"; exit 77; }
srun --mpi=list 2>&1 | grep -q pmix || { echo "SKIPPED: this Slurm has no PMIx plugin (MpiDefault=pmix)"; exit 77; }
nodes_up
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"

# munged of this machine (scripts/slurm-local.sh starts it the same way).
# Started here, it stays up after the test (as after scripts/slurm-local.sh).
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || head -c 1024 /dev/urandom >/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged || fail "could not start munged"
fi
spool=$WORK/slurm
mkdir -p "$spool/ctld" "$spool/log"
export SLURM_CONF=$spool/slurm.conf
hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
cat >"$SLURM_CONF" <<CONF
# A two-node test cluster in network namespaces (tests/multinode/slurm_two_nodes.sh).
ClusterName=midgemn
SlurmctldHost=$NODE_A(${NODE_ADDR[$NODE_A]})
StateSaveLocation=$spool/ctld
SlurmdSpoolDir=$spool/%n/spool
SlurmctldPidFile=$spool/slurmctld.pid
SlurmdPidFile=$spool/slurmd.%n.pid
SlurmctldLogFile=$spool/log/slurmctld.log
SlurmdLogFile=$spool/log/slurmd.%n.log
CONF
grep -v '^#' "$SRC/scripts/slurm-test.conf" >>"$SLURM_CONF"
cat >>"$SLURM_CONF" <<CONF
NodeName=$NODE_A NodeAddr=${NODE_ADDR[$NODE_A]} $hw State=UNKNOWN
NodeName=$NODE_B NodeAddr=${NODE_ADDR[$NODE_B]} $hw State=UNKNOWN
PartitionName=two Nodes=$NODE_A,$NODE_B Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
daemon_on "$NODE_A" slurmctld || fail "slurmctld did not start: $(tail -5 "$spool/log/slurmctld.log")"
# Each slurmd reads its own copy of the configuration, whose mpi.conf gives
# the node a PMIx directory of its own: on a cluster /tmp is node-local,
# here both nodes share this machine's, and two nodes of one job step
# would both create /tmp/spmix_appdir_<uid>_<job>.<step>.
for node in $NODE_A $NODE_B; do
  mkdir -p "$spool/$node/etc" "$spool/$node/tmp" "$spool/$node/spool"
  cp "$SLURM_CONF" "$spool/$node/etc/slurm.conf"
  echo "PMIxCliTmpDirBase=$spool/$node/tmp" >"$spool/$node/etc/mpi.conf"
  daemon_on "$node" slurmd -f "$spool/$node/etc/slurm.conf" -N "$node" ||
    fail "slurmd on $node did not start: $(tail -5 "$spool/log/slurmd.$node.log")"
done
# The rest of the test runs on nodea, where the controller answers.
slurm() { on "$NODE_A" "$@"; }
deadline=$(($(date +%s) + 60))
until [ "$(slurm sinfo -h -o '%D %T' | awk '$2 == "idle" {n += $1} END {print n + 0}')" -eq 2 ]; do
  [ "$(date +%s)" -lt "$deadline" ] ||
    fail "the two nodes are not idle after 60 s: $(slurm sinfo); $(tail -5 "$spool"/log/*.log)"
  sleep 0.5
done
# wait_for_job of lib.sh, asking this cluster.
squeue() { slurm squeue "$@"; }

"$MIDGE" synth --out S --classes 3 --per-class 24 --size 48 >/dev/null || fail "synth"
"$MIDGE" pack S --out P.h5 >/dev/null || fail "pack"
# 60 training images in batches of 4 (2 per rank): 15 steps an epoch, so
# that a signal after step 2 lands inside the epoch.
tiny_config cfg.ini data.workers=1 run.deterministic=true gradcam.max_images=2

# One training on two nodes, against the same on one node.
run timeout 300 mpiexec -n 2 --oversubscribe "$MIDGE" train --config cfg.ini --out "$WORK/one"
expect_rc 0 "2 ranks on one node"
# Both nodes share this machine's disk: MIDGE_STAGE_DIR stands for the
# nodes' own scratch, and each node's task copies (or finds the other's).
stage=(MIDGE_STAGE=1 MIDGE_STAGE_DIR="$WORK/scratch")
job=$(slurm sbatch --parsable --nodes=2 --ntasks-per-node=1 --chdir="$WORK" \
  --export=ALL,MIDGE="$MIDGE","${stage[0]}","${stage[1]}" "$SRC/slurm/train.sbatch" cfg.ini "$WORK/two" \
  --set data.root="$WORK/P.h5") ||
  fail "sbatch --nodes=2 train.sbatch"
wait_for_job "$job" 200
log=midge-train-$job.out
[ -f two/run.h5 ] && [ "$($H5 attr two/run.h5 status)" = complete ] ||
  fail "the two-node job did not complete: $(grep -v "\] \[info\]" "$log" | tail -20); slurmd logs: $(tail -n 8 "$spool"/log/slurmd.*.log)"
[ "$($H5 get two/run.h5 ranks/host)" = "$NODE_A $NODE_B" ] ||
  fail "ranks of the two-node job ran on: $($H5 get two/run.h5 ranks/host)"
[ "$($H5 get two/run.h5 ranks/local_rank)" = "0 0" ] || fail "node-local ranks: $($H5 get two/run.h5 ranks/local_rank)"
for node in $NODE_A $NODE_B; do
  grep -q "staged $WORK/P.h5 on $node: $WORK/scratch/midge-stage-[0-9]*-[0-9a-f]*/P.h5" "$log" ||
    fail "no staging on $node: $(grep staged "$log")"
done
paths=$($H5 get two/run.h5 split/train/paths | tr ' ' '\n') || fail "no split/train/paths in two/run.h5"
[ "$(grep -c . <<<"$paths")" -eq 60 ] && ! grep -qv "^$WORK/scratch/midge-stage-[0-9]*-[0-9a-f]*/P.h5/" <<<"$paths" ||
  fail "the job did not read all 60 training images from the staged pack: $(head -3 <<<"$paths")"
$H5 same one/run.h5 two/run.h5 eval/probabilities eval/confusion stage2/history/train_loss gradcam/heatmaps \
  split/train/sha256 || fail "the job across two nodes differs from 2 ranks on one node"
[ -z "$($H5 changed one/model.h5 two/model.h5)" ] || fail "weights differ between one node and two"
CHECKS=$((CHECKS + 6))

# A sweep job across both nodes, stopped by SIGUSR2 inside a trial.
printf '[grid]\nstage2.lr = 0.0001, 0.001\n' >grid.ini
mapfile -t id < <(sweep_ids grid.ini --config cfg.ini)
[ ${#id[@]} -eq 2 ] || fail "expected 2 trials: ${id[*]}"
job=$(slurm sbatch --parsable --nodes=2 --ntasks-per-node=1 --chdir="$WORK" \
  --export=ALL,MIDGE="$MIDGE",RANKS_PER_TRIAL=2,"${stage[0]}",MIDGE_STAGE_DIR="$WORK/scratch-sweep" \
  "$SRC/slurm/sweep.sbatch" cfg.ini grid.ini "$WORK/sw" --set data.root="$WORK/P.h5" \
  --log-level debug) || fail "sbatch sweep.sbatch"
log=midge-sweep-${job}_4294967294.out
deadline=$(($(date +%s) + 120))
until [ -f "$log" ] && grep -qF "stage 2 epoch 1 batch 2/15 done" "$log"; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the sweep did not reach stage 2 within 120 s: $(tail -5 "$log")"
  sleep 0.1
done
slurm scancel --batch --signal=USR2 "$job" || fail "scancel --signal=USR2"
wait_for_job "$job" 300
grep -q "interrupted by SIGUSR2, resumes when the sweep is rerun" "$log" ||
  fail "the signal did not stop a trial: $(tail -20 "$log")"
grep -q "requeueing job $job (restart 1)" "$log" || fail "the sweep job was not requeued: $(tail -20 "$log")"
grep -q "resuming from $WORK/sw/trials/.*/state.h5: stage 2, 0 epoch(s) of it done, then [1-9][0-9]* batch(es) of epoch 1" "$log" ||
  fail "the requeued job did not resume the trial inside its epoch: $(tail -20 "$log")"
[ "$($H5 get sw/sweep.h5 trials/state)" = "complete complete" ] ||
  fail "after the requeue: $($H5 get sw/sweep.h5 trials/state); $(tail -20 "$log")"
for i in "${id[@]}"; do
  [ "$(grep -c "$i (.*) on group 0: starting" "$log")" -eq 1 ] || fail "trial $i started more than once"
  [ "$($H5 get "sw/trials/$i/run.h5" ranks/host)" = "$NODE_A $NODE_B" ] || fail "trial $i: not across both nodes"
done
[ "$(grep -c "on group 0: val acc" "$log")" -eq 2 ] || fail "not 2 trial completions: $(grep 'val acc' "$log")"
# A folder of its own for the sweep: its first run copies, its requeued
# run finds the copy on both nodes.
after_requeue=$(sed -n "/requeueing job $job/,\$p" "$log")
[ "$(grep -c "staged $WORK/P.h5 on .*(there already)" <<<"$after_requeue")" -eq 2 ] ||
  fail "the requeued sweep did not find the staged pack on both nodes: $(grep staged "$log")"
grep -q "staged $WORK/P.h5 on .*(copied" "$log" || fail "the sweep's first run copied nothing: $(grep staged "$log")"
CHECKS=$((CHECKS + 8))
done_ok
