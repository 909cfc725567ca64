#!/bin/sh
# make bench: run every benchmark and print its figures.
set -eu
B=${1:-build-bench}
echo "== bench/arp_engine ($(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
"$B/bench_arp_engine"
