#!/bin/sh
# make bench: run every benchmark and print its figures.
set -eu
B=${1:-build-bench}
echo "== bench/arp_engine ($(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
"$B/bench_arp_engine"
echo
echo "== bench/cluster_loss.py: the seed's induced-loss measurement, real processes (about 7 minutes)"
/usr/bin/python3 "$(dirname "$0")/cluster_loss.py" "$B" 60
