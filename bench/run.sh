#!/bin/sh
# make bench: run every benchmark and print its figures.
set -eu
B=${1:-build-bench}
echo "== bench/arp_engine ($(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
"$B/bench_arp_engine"
echo
echo "== bench/nbtable: the neighbour cache per operation and per entry, and the DHCP snooping path (about 20 s)"
"$B/bench_nbtable"
echo
echo "== bench/cluster_loss.py: the seed's induced-loss measurement, real processes (about 7 minutes)"
/usr/bin/python3 "$(dirname "$0")/cluster_loss.py" "$B" 60
echo
echo "== bench/failover.py: address failover, arpha against keepalived (about 30 minutes)"
/usr/bin/python3 "$(dirname "$0")/failover.py" "$B"
soak=${FAILOVER_SOAK:-600}
if [ "$soak" -gt 0 ]; then
	echo
	echo "== bench/failover.py --soak $soak: spurious takeovers under CPU load (set FAILOVER_SOAK=0 to skip)"
	/usr/bin/python3 "$(dirname "$0")/failover.py" "$B" --soak "$soak"
fi
echo
echo "== bench/reload.py: a reload of 1000 VIPs and 10,000 ARP entries, arpha against keepalived (under a minute)"
/usr/bin/python3 "$(dirname "$0")/reload.py" "$B"
echo
echo "== bench/flood.py: an ARP flood, arpha against the plain kernel (about 3 minutes)"
/usr/bin/python3 "$(dirname "$0")/flood.py" "$B"
echo
echo "== bench/flood.py --kinds dhcp: a DHCP flood against the neighbour cache's snooping (about 2 minutes)"
/usr/bin/python3 "$(dirname "$0")/flood.py" "$B" --kinds dhcp --only arpha
echo
echo "== bench/ctsync.py: connection-tracking sync, arpha against conntrackd + keepalived (about 17 minutes)"
/usr/bin/python3 "$(dirname "$0")/ctsync.py" "$B"
echo
echo "== bench/balance.py: the active-active data path per packet, arpha against xt_cluster (about 6 minutes)"
/usr/bin/python3 "$(dirname "$0")/balance.py" "$B"
echo
echo "== bench/aa_failover.py: a node's crash and return in an active-active cluster of three, arpha against xt_cluster + conntrackd + keepalived (about 4 minutes)"
/usr/bin/python3 "$(dirname "$0")/aa_failover.py" "$B"
