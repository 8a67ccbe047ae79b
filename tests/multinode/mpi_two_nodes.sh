#!/usr/bin/env bash
# midge across two nodes (tests/multinode/nodes.sh: network namespaces with
# host names nodea and nodeb; OpenMPI's TCP transport between them, its
# daemons started through `ip netns exec` in place of ssh):
#  - `midge train` on 4 ranks, 2 per node, is bitwise equal to the same run
#    on 4 ranks of one node; run.h5 says where each rank ran (/ranks: hosts
#    nodea nodea nodeb nodeb, node-local ranks 0 1 0 1); with
#    run.threads = 0 one rank on each node takes all of its node's CPUs;
#  - `midge sweep --ranks-per-trial 2` on 4 ranks: one group per node; on
#    2 ranks, one per node: one group that spans both. The trials of both
#    sweeps are bitwise equal (the same 2-rank training whether its ranks
#    share a node or not), and each trial's run.h5 names its group's hosts.
# Skipped (exit 77, saying why) without root or network namespaces.
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/nodes.sh"
command -v mpirun >/dev/null || { echo "SKIPPED: mpirun (OpenMPI) is not installed"; exit 77; }
nodes_up
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 8 --size 48 --seed 4 >/dev/null || fail "synth"
base=(--set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set data.workers=1 --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=8
      --set stage2.batch_size=8 --set run.deterministic=true --set run.threads=1
      --set gradcam.max_images=2)

# mpirun_nodes HOSTS N MIDGE_ARGS...: mpirun on nodea with N ranks on HOSTS
# (e.g. nodea:2,nodeb:2), TCP between the nodes only.
mpirun_nodes() {
  local hosts=$1 n=$2
  shift 2
  on "$NODE_A" timeout 300 mpirun --host "$hosts" -n "$n" \
    --mca plm_rsh_agent "$SRC/tests/multinode/rsh_agent.sh" \
    --mca btl tcp,self,vader --mca btl_tcp_if_include "$NODE_NET.0/24" \
    --mca oob_tcp_if_include "$NODE_NET.0/24" ${MPIRUN_EXTRA[@]+"${MPIRUN_EXTRA[@]}"} "$MIDGE" "$@"
}
MPIRUN_EXTRA=()
# column FILE DATASET: the dataset's values, space-separated.
column() { $H5 get "$1" "$2"; }

# Training: 4 ranks on one node, then 2 on each of two.
run timeout 300 mpiexec -n 4 --oversubscribe "$MIDGE" train "${base[@]}" --out one
expect_rc 0 "4 ranks on one node"
run mpirun_nodes "$NODE_A:2,$NODE_B:2" 4 train "${base[@]}" --out two
expect_rc 0 "4 ranks on two nodes"
expect_err "4 ranks on 2 node(s): $NODE_A (0, 1), $NODE_B (2, 3)"
[ "$(column two/run.h5 ranks/host)" = "$NODE_A $NODE_A $NODE_B $NODE_B" ] ||
  fail "/ranks/host: $(column two/run.h5 ranks/host)"
[ "$(column two/run.h5 ranks/local_rank)" = "0 1 0 1" ] ||
  fail "/ranks/local_rank: $(column two/run.h5 ranks/local_rank)"
[ "$(column two/run.h5 ranks/threads)" = "1 1 1 1" ] || fail "/ranks/threads: $(column two/run.h5 ranks/threads)"
[ "$(column two/run.h5 ranks/device)" = "cpu cpu cpu cpu" ] || fail "/ranks/device"
[ "$($H5 attr two/run.h5 host)" = "$NODE_A" ] || fail "run.h5 host: $($H5 attr two/run.h5 host)"
h=$(hostname)
[ "$(column one/run.h5 ranks/host)" = "$h $h $h $h" ] || fail "one node's /ranks/host: $(column one/run.h5 ranks/host)"
[ "$(column one/run.h5 ranks/local_rank)" = "0 1 2 3" ] || fail "one node's /ranks/local_rank"
$H5 same one/run.h5 two/run.h5 eval/probabilities eval/confusion stage1/history/train_loss \
  stage2/history/train_loss stage2/history/val_loss gradcam/heatmaps ||
  fail "4 ranks on two nodes differ from 4 ranks on one"
[ -z "$($H5 changed one/model.h5 two/model.h5)" ] || fail "weights differ between one node and two"
CHECKS=$((CHECKS + 9))

# Threads follow each node's own ranks (run.threads = 0): one rank on each
# node, not bound to a core (mpirun binds 2 ranks to a core each by
# default, and midge keeps to a rank's binding), has all of its node's
# CPUs, where 2 ranks on one node would have half each.
MPIRUN_EXTRA=(--bind-to none)
run mpirun_nodes "$NODE_A:1,$NODE_B:1" 2 train "${base[@]}" --set run.threads=0 \
  --set stage2.epochs=0 --set gradcam.max_images=0 --out alone_each
MPIRUN_EXTRA=()
expect_rc 0 "one rank on each node"
n=$(nproc)
[ "$(column alone_each/run.h5 ranks/threads)" = "$n $n" ] ||
  fail "one rank per node: /ranks/threads $(column alone_each/run.h5 ranks/threads), expected $n $n"
[ "$(column alone_each/run.h5 ranks/local_rank)" = "0 0" ] || fail "one rank per node: local ranks"
CHECKS=$((CHECKS + 2))

# Sweeps of 2 trials on groups of 2 ranks: a group on each node, then one
# group across both nodes.
printf '[grid]\nstage2.lr = 0.0001, 0.001\n' >grid.ini
mapfile -t id < <(sweep_ids grid.ini "${base[@]}")
[ ${#id[@]} -eq 2 ] || fail "expected 2 trials: ${id[*]}"
run mpirun_nodes "$NODE_A:2,$NODE_B:2" 4 sweep "${base[@]}" \
  --sweep grid.ini --ranks-per-trial 2 --out per_node
expect_rc 0 "sweep, a group per node"
expect_err "sweep of 2 trials on 2 group(s) of 2 rank(s)"
run mpirun_nodes "$NODE_A:1,$NODE_B:1" 2 sweep "${base[@]}" \
  --sweep grid.ini --ranks-per-trial 2 --out spanning
expect_rc 0 "sweep, one group across both nodes"
[ "$(column per_node/sweep.h5 trials/state)" = "complete complete" ] || fail "per-node sweep states"
[ "$(column spanning/sweep.h5 trials/state)" = "complete complete" ] || fail "spanning sweep states"
hosts_seen=""
for i in "${id[@]}"; do
  a=per_node/trials/$i b=spanning/trials/$i
  hosts=$(column "$a/run.h5" ranks/host)
  case "$hosts" in
    "$NODE_A $NODE_A" | "$NODE_B $NODE_B") hosts_seen+=" ${hosts%% *}" ;;
    *) fail "trial $i of the per-node sweep ran on '$hosts', not on one node" ;;
  esac
  [ "$(column "$b/run.h5" ranks/host)" = "$NODE_A $NODE_B" ] ||
    fail "trial $i of the spanning sweep: /ranks/host $(column "$b/run.h5" ranks/host)"
  [ "$(column "$b/run.h5" ranks/local_rank)" = "0 0" ] || fail "trial $i: spanning local ranks"
  $H5 same "$a/run.h5" "$b/run.h5" eval/probabilities stage2/history/train_loss stage2/history/val_loss ||
    fail "trial $i: its group on one node and across two differ"
  [ -z "$($H5 changed "$a/model.h5" "$b/model.h5")" ] || fail "trial $i: weights differ"
done
# Groups take trials as they free up: both may take one, or one both.
echo "per-node sweep: trials ran on$hosts_seen; spanning sweep: on $NODE_A and $NODE_B"
CHECKS=$((CHECKS + 6))
done_ok
