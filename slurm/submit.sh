#!/bin/bash
# Submits a sweep and, once it has ended well, the collect job that ranks
# its trials; prints both job ids and where the summary will be.
#
# usage: slurm/submit.sh CONFIG SPEC OUT [--retry failed] [--set key=value ...]
#   (--retry failed: run the sweep's failed trials again, docs/sweeps.md)
#   RANKS_PER_TRIAL=K      ranks per trial (default 1)
#   SWEEP_SBATCH="..."     extra sbatch options for the sweep job, e.g.
#                          "--ntasks=8 --gpus-per-task=1 --ntasks-per-node=4"
#                          or "--array=0-3%2" (4 parts, 2 at a time)
#   MIDGE=/path/to/midge   (default: midge on PATH; exported to both jobs)
# The collect job starts only when every task of the sweep job has
# succeeded (afterok); if the sweep fails it stays pending: scancel it and
# run `midge collect OUT` by hand. See docs/slurm.md.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: slurm/submit.sh CONFIG SPEC OUT [--set key=value ...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
out=$3
mkdir -p "$out"
# SWEEP_SBATCH is a list of options: split on blanks, never globbed.
read -ra options <<<"${SWEEP_SBATCH:-}"
sweep=$(sbatch --parsable --chdir="$PWD" --export=ALL ${options[@]+"${options[@]}"} \
  "$here/sweep.sbatch" "$@")
sweep=${sweep%%;*}
collect=$(sbatch --parsable --chdir="$PWD" --export=ALL --dependency="afterok:$sweep" \
  "$here/collect.sbatch" "$out")
collect=${collect%%;*}
echo "sweep job:   $sweep"
echo "collect job: $collect (after the sweep succeeds)"
echo "summary:     $out/summary.h5, $out/summary.csv, $out/ranking.csv"
