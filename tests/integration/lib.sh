# Helpers for integration tests: run the real `midge` binary and check exit
# codes and output. Sourced by the scripts next to it; CTest sets
# MIDGE_BINARY and MIDGE_SOURCE_DIR.
set -u
MIDGE=${MIDGE_BINARY:?MIDGE_BINARY not set}
SRC=${MIDGE_SOURCE_DIR:?MIDGE_SOURCE_DIR not set}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CHECKS=0

fail() { echo "FAIL: $*"; exit 1; }

# run CMD...: runs it, keeps stdout in $OUT, stderr in $ERR, exit code in $RC.
run() {
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  RC=$?
  OUT=$(cat "$WORK/stdout")
  ERR=$(cat "$WORK/stderr")
}
expect_rc() {
  CHECKS=$((CHECKS + 1))
  [ "$RC" -eq "$1" ] || fail "expected exit code $1, got $RC${2:+ ($2)}
stdout: $OUT
stderr: $ERR"
}
expect_out() {
  CHECKS=$((CHECKS + 1))
  grep -qF -- "$1" <<<"$OUT" || fail "stdout lacks '$1':
$OUT
stderr: $ERR"
}
expect_err() {
  CHECKS=$((CHECKS + 1))
  grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1':
$ERR"
}
done_ok() { echo "OK: $CHECKS checks"; }

# sweep_ids SPEC ARGS...: the trial ids of `midge sweep ARGS --sweep SPEC
# --dry-run`, one per line in order; the whole table stays in
# $WORK/table.txt. Use with mapfile and check the count (a failure inside
# process substitution cannot end the test).
sweep_ids() {
  local spec=$1
  shift
  "$MIDGE" sweep "$@" --sweep "$spec" --dry-run >"$WORK/table.txt" || fail "dry-run of $spec"
  awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9a-f]+$/ && NF == 3 {print $2}' "$WORK/table.txt"
}

# kill_rank LAUNCHER_PID LOG READY PATTERN ENV: once LOG contains READY (up
# to 60 s), SIGKILLs the process whose command line matches PATTERN and whose
# environment holds the line ENV (e.g. OMPI_COMM_WORLD_RANK=1), as the
# out-of-memory killer or a failing node would, then waits up to 60 s for the
# launcher to end. Sets KILL_RC (the launcher's exit code) and KILL_SECONDS
# (from the kill to the launcher's end).
kill_rank() {
  local launcher=$1 log=$2 ready=$3 pattern=$4 env=$5 victim="" pid start
  for _ in $(seq 1 600); do
    grep -q "$ready" "$log" 2>/dev/null && break
    sleep 0.1
  done
  for pid in $(pgrep -f "$pattern"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "$env"; then victim=$pid; fi
  done
  [ -n "$victim" ] || { kill "$launcher"; fail "no process of '$pattern' with $env found"; }
  start=$(date +%s)
  kill -9 "$victim"
  for _ in $(seq 1 600); do
    kill -0 "$launcher" 2>/dev/null || break
    sleep 0.1
  done
  wait "$launcher"
  KILL_RC=$?
  KILL_SECONDS=$(( $(date +%s) - start ))
}

# wait_for_job ID [SECONDS]: until Slurm no longer lists job ID or any of
# its array tasks (up to SECONDS, default 150); squeue failing fails the
# test. (`squeue -j ID` is an error once a finished job is purged, so all
# jobs are listed.)
wait_for_job() {
  local limit=${2:-150} queue deadline
  deadline=$(( $(date +%s) + limit ))
  while :; do
    queue=$(squeue -h -o '%i %F') || fail "squeue failed"
    awk -v id="$1" '$1 == id || $2 == id {found = 1} END {exit !found}' <<<"$queue" || return 0
    [ "$(date +%s)" -lt "$deadline" ] || fail "job $1 still queued or running after $limit s"
    sleep 0.5
  done
}

# wait_for_line LOG TEXT PID: waits (up to 120 s) until LOG contains TEXT
# (a fixed string). Fails if PID ends first or the time runs out.
wait_for_line() {
  local log=$1 text=$2 pid=$3 deadline=$(( $(date +%s) + 120 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ -f "$log" ] && grep -qF -- "$text" "$log" && return 0
    kill -0 "$pid" || fail "the process ended before '$text' appeared in $log: $(tail -5 "$log")"
    sleep 0.05
  done
  fail "'$text' did not appear in $log within 120 s"
}

# wait_for_checkpoint STATE_H5 STAGE EPOCH PID: waits (up to 120 s) until
# STATE_H5 is on disk and holds at least STAGE/EPOCH (state.h5 is written
# atomically, so a file that exists is whole). Fails if PID ends first or
# the time runs out.
wait_for_checkpoint() {
  local state=$1 stage=$2 epoch=$3 pid=$4 at deadline=$(( $(date +%s) + 120 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -f "$state" ]; then
      at=$(/usr/bin/python3 -c "
import h5py, sys
with h5py.File(sys.argv[1], 'r') as f:
    print(int(f['stage'][()]), int(f['epoch'][()]))" "$state")
      if [ "${at% *}" -gt "$stage" ] || { [ "${at% *}" -eq "$stage" ] && [ "${at#* }" -ge "$epoch" ]; }; then
        return 0
      fi
    fi
    kill -0 "$pid" || fail "the run ended before $state reached stage $stage epoch $epoch"
    sleep 0.05
  done
  fail "no checkpoint of stage $stage epoch $epoch in $state after 120 s"
}

# The accuracy recipe of train_accuracy.sh and open_set.sh, for `midge synth
# --classes 5 --per-class 80 --size 96 --seed 1` data in S: ResNet-18 from
# scratch at 64 px, stage 1 two epochs, stage 2 at most 12 (Adam, cosine,
# early stopping on val_acc), no augmentation, deterministic, one compute
# thread (each test holds one CTest processor; two threads were no faster
# alone, 47 s against 48 s, and took 65 core-seconds against 48). Measured
# to reach 0.95-1.0 validation accuracy (train_accuracy.sh).
ACCURACY_RECIPE=(--set data.root=S --set data.image_size=64 --set model.arch=resnet18
  --set model.dropout=0.2 --set data.workers=2
  --set stage1.epochs=2 --set stage1.batch_size=16 --set stage1.lr=0.003
  --set stage2.epochs=12 --set stage2.batch_size=16 --set stage2.optimizer=adam --set stage2.lr=0.002
  --set stage2.schedule=cosine --set stage2.early_stop_patience=12 --set stage2.early_stop_metric=val_acc
  --set augment.rotate_deg=0 --set augment.shift=0 --set augment.scale=0 --set augment.shear=0
  --set augment.brightness=0 --set augment.contrast=0 --set run.deterministic=true
  --set run.threads=1)

# tiny_config FILE [section.key=value ...]: the configuration of the tests
# that train through a launcher (Slurm, sweeps, status): ResNet-18 at 32 px
# on $WORK/S, one epoch per stage in batches of 4, one thread; each
# section.key=value replaces a default or adds a key. Written as INI.
tiny_config() {
  local file=$1 kv key section
  shift
  local -a keys=(data.root data.image_size model.arch stage1.epochs stage1.batch_size
    stage2.epochs stage2.batch_size run.threads)
  local -A value=([data.root]="$WORK/S" [data.image_size]=32 [model.arch]=resnet18
    [stage1.epochs]=1 [stage1.batch_size]=4 [stage2.epochs]=1 [stage2.batch_size]=4
    [run.threads]=1)
  for kv in "$@"; do
    key=${kv%%=*}
    [[ $key == *.* && $kv == *=* ]] || fail "tiny_config: not section.key=value: $kv"
    [ -n "${value[$key]+set}" ] || keys+=("$key")
    value[$key]=${kv#*=}
  done
  : >"$file"
  for section in data model stage1 stage2 run gradcam; do
    local header=0
    for key in "${keys[@]}"; do
      [ "${key%%.*}" = "$section" ] || continue
      [ $header -eq 1 ] || { echo "[$section]" >>"$file"; header=1; }
      echo "${key#*.} = ${value[$key]}" >>"$file"
    done
  done
  for key in "${keys[@]}"; do
    case ${key%%.*} in
      data | model | stage1 | stage2 | run | gradcam) ;;
      *) fail "tiny_config: section ${key%%.*} of $key not written" ;;
    esac
  done
}
