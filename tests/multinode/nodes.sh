# Two "nodes" on one machine for the multi-node tests (sourced): each a
# network namespace of its own with its own address, joined by a veth pair
# to a bridge in a third namespace (the "switch"), so that traffic goes
# only between namespaces this script made; a command runs "on" a node
# under `ip netns exec` (which also binds /etc/netns/<ns>/hosts over
# /etc/hosts, so the node names resolve there) and `unshare --uts`, so
# that it sees the node's host name. The file system is the machine's:
# both nodes see every path, as on a cluster with a shared file system.
#
#   nodes_up       makes $NODE_A and $NODE_B (10.199.7.1 and .2); removes them on exit
#   on NODE CMD..  runs CMD on NODE (a node name, with its host name)
#   daemon_on NODE CMD..  the same, keeping the machine's /sys (slurmd)
#   node_ns NODE   the namespace of NODE
#
# Needs root, `ip`, `unshare` and `nsenter`, and a kernel that makes veth
# pairs and bridges: without them nodes_up skips the test (exit 77, saying
# why). One user of the nodes at a time (CTest: RESOURCE_LOCK multinode;
# two build folders testing at once would remove each other's nodes);
# names and addresses are fixed so that a cluster configuration can name
# them.
NODE_A=nodea
NODE_B=nodeb
NODE_NET=10.199.7
NODE_PREFIX=midge-mn
declare -A NODE_ADDR=([$NODE_A]=$NODE_NET.1 [$NODE_B]=$NODE_NET.2)

node_ns() { echo "$NODE_PREFIX-$1"; }

nodes_down() {
  local ns
  for ns in "$NODE_PREFIX-$NODE_A" "$NODE_PREFIX-$NODE_B" "$NODE_PREFIX-switch"; do
    if ip netns list | grep -qw "$ns"; then
      # Whatever still runs there (daemons of a failed test) ends with it.
      ip netns pids "$ns" | xargs -r kill -9
      ip netns delete "$ns"
    fi
    rm -rf "/etc/netns/$ns"
  done
}

# net STEP...: one setup step; a kernel or container that refuses it
# (no veth or bridge support) skips the test, saying which step.
net() {
  "$@" 2>"$WORK/netns.err" && return 0
  echo "SKIPPED: cannot make the two nodes here: '$*' failed: $(cat "$WORK/netns.err")"
  exit 77
}

nodes_up() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: the multi-node tests make network namespaces, which needs root"
    exit 77
  fi
  local tool
  for tool in ip unshare nsenter; do
    command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is not installed"; exit 77; }
  done
  nodes_down
  # Removed on every way out from here on, also when a step below fails.
  # (A test killed by CTest's time-out leaves them; the next nodes_up
  # removes them first, with whatever still runs inside.)
  trap 'nodes_down; rm -rf "$WORK"' EXIT
  local sw=$NODE_PREFIX-switch
  net ip netns add "$sw"
  # A bridge without STP (the default) forwards as soon as its ports are up.
  net ip -n "$sw" link add br0 type bridge
  net ip -n "$sw" link set br0 up
  local node ns i=0
  {
    echo "127.0.0.1 localhost"
    for node in $NODE_A $NODE_B; do echo "${NODE_ADDR[$node]} $node"; done
  } >"$WORK/hosts"
  for node in $NODE_A $NODE_B; do
    ns=$(node_ns "$node")
    i=$((i + 1))
    net ip netns add "$ns"
    # One end in the node, the other on the switch's bridge.
    net ip -n "$ns" link add eth0 type veth peer name "port$i" netns "$sw"
    net ip -n "$sw" link set "port$i" master br0 up
    net ip -n "$ns" addr add "${NODE_ADDR[$node]}/24" dev eth0
    net ip -n "$ns" link set eth0 up
    net ip -n "$ns" link set lo up
    mkdir -p "/etc/netns/$ns"
    cp "$WORK/hosts" "/etc/netns/$ns/hosts"
  done
}

# daemon_on NODE CMD...: the same for a daemon that needs the machine's
# /sys as it is (slurmd reads /sys/fs/cgroup, which `ip netns exec` hides
# behind a fresh sysfs): only the network namespace is entered, so names
# resolve through the machine's /etc/hosts (give daemons addresses).
daemon_on() {
  local node=$1
  shift
  nsenter --net="/run/netns/$(node_ns "$node")" unshare --uts -- \
    bash -c 'hostname "$0" && exec "$@"' "$node" "$@"
}

# on NODE CMD...: CMD in NODE's network namespace with NODE as host name.
on() {
  local node=$1
  shift
  ip netns exec "$(node_ns "$node")" unshare --uts -- \
    bash -c 'hostname "$0" && exec "$@"' "$node" "$@"
}
