#!/usr/bin/env bash
# Starts a real single-node Slurm on this machine for the Slurm tests and
# for trying slurm/ scripts: munged, slurmctld and slurmd (Debian's
# slurm-wlm 22.05), node = this host at 127.0.0.1, one partition "debug".
# Idempotent: if the node already answers, nothing is changed. Needs root
# (installs nothing; scripts/install-deps.sh does). Prints the node's state.
#
# The settings that matter, and why, are in scripts/slurm-test.conf.
set -euo pipefail
if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  sinfo
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "slurm-local: needs root" >&2; exit 2; }
host=$(hostname -s)
conf=/etc/slurm/slurm.conf
spool=/var/spool/midge-slurm
mkdir -p /run/munge /var/log/munge /var/lib/munge "$spool/ctld" "$spool/d"
chown munge:munge /run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; }
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
# The node's size as slurmd sees it (CPUs, sockets, cores, memory).
hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
cat >"$conf" <<CONF
# Written by midge scripts/slurm-local.sh: a single-node test cluster.
ClusterName=midge
SlurmctldHost=$host(127.0.0.1)
StateSaveLocation=$spool/ctld
SlurmdSpoolDir=$spool/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurmctld.log
SlurmdLogFile=/var/log/slurmd.log
CONF
grep -v '^#' "$(dirname "$0")/slurm-test.conf" >>"$conf"
cat >>"$conf" <<CONF
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    sinfo
    exit 0
  fi
  sleep 0.5
done
echo "slurm-local: the node did not come up; see /var/log/slurmctld.log and /var/log/slurmd.log" >&2
sinfo >&2 || true
exit 1
