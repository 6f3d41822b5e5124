# netns.sh: test hosts made of network namespaces on this machine, sourced
# by tests/launch/netns_test.sh and tests/slurm/slurm_cluster.sh (root only).
#
#   netns_switch SW [ADDR/PREFIX]   a namespace SW holding the bridge br0 (with
#                                   an address of its own when given)
#   netns_host SW NS LINK ADDR/PREFIX
#                                   a host namespace NS on SW's bridge: a veth
#                                   pair (LINKv, LINKp), its end in NS named
#                                   eth0 with ADDR, loopback up

netns_switch() {
  local sw=$1 address=${2:-}
  ip netns list | grep -qw "^$sw" || ip netns add "$sw" || return 1
  ip netns exec "$sw" ip link add br0 type bridge
  [ -z "$address" ] || ip netns exec "$sw" ip addr add "$address" dev br0
  ip netns exec "$sw" ip link set br0 up
  ip netns exec "$sw" ip link set lo up
}

netns_host() {
  local sw=$1 ns=$2 link=$3 address=$4
  ip netns add "$ns" || return 1
  ip link add "${link}v" type veth peer name "${link}p"
  ip link set "${link}v" netns "$ns"
  ip link set "${link}p" netns "$sw"
  ip netns exec "$ns" ip link set "${link}v" name eth0
  ip netns exec "$ns" ip addr add "$address" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$sw" ip link set "${link}p" master br0
  ip netns exec "$sw" ip link set "${link}p" up
}
