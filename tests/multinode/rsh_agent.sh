#!/usr/bin/env bash
# OpenMPI's remote launch agent for the two-node tests (plm_rsh_agent, in
# place of ssh): `rsh_agent.sh NODE COMMAND...` runs COMMAND (a shell
# command line, as ssh would hand it to the remote shell) on NODE, i.e. in
# NODE's network namespace with NODE as host name (tests/multinode/nodes.sh).
set -euo pipefail
node=$1
shift
source "$(dirname "$0")/nodes.sh"  # the namespaces' names
exec ip netns exec "$(node_ns "$node")" unshare --uts -- bash -c 'hostname "$0" && eval "$1"' "$node" "$*"
