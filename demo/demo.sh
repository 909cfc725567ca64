#!/bin/sh
# `make demo`: a small lab in network namespaces where a spoofing host tries
# to poison a node running arphad, and then the same node without it; then
# a second lab where two arphad nodes share an address and the master fails;
# then two firewalls where a TCP session survives the master's crash.
# Usage: demo/demo.sh [BUILD_DIR]   (default build; needs root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$(cd "$here/.." && pwd)/$build ;; esac
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it makes network namespaces); try: sudo make demo" >&2
	exit 1
fi
PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 "$here/demo.py" "$build"
