#!/bin/sh
# Install, with apt-get, every Debian package arpha needs to build, test,
# demonstrate and benchmark. Idempotent: installs only what is missing.
# keepalived is one of them: tests/netns/test_neighbours.py moves an address
# with it too. tests/netns/test_nbcache.py runs real DHCP clients against a
# DHCP server: dnsmasq-base, isc-dhcp-client and dhcpcd-base (the binaries
# only: dnsmasq and dhcpcd5 would enable a service on this host), and sends
# crafted requests with python3-scapy. tests/netns/test_metrics.py reads
# arphad's Prometheus endpoint with the parser of Prometheus's own Python
# client (python3-prometheus-client), besides its own strict check of the
# format: a second reader that is not ours. `tools/deps.sh bench` also installs
# what only the benchmarks use (keepalived, the comparison in
# bench/failover.py; conntrackd, the one in bench/ctsync.py; tcpdump, its
# timestamps of the packets that make a connection established; iptables,
# for xt_cluster, the comparison in bench/balance.py; all but tcpdump, the
# xt_cluster cluster of bench/aa_failover.py). `tools/deps.sh picture`
# installs gnuplot, for docs/ranges.png (docs/ranges.md) only. libsystemd-dev:
# arphad tells systemd when it is ready and pings its watchdog (sd_notify).
# strace: tests/netns/test_sandbox.py checks arphad's system calls against
# the unit's SystemCallFilter= (systemd-analyze, from systemd, expands it).
# `tools/deps.sh deb` adds what `make deb` needs to build and check the
# packages (debhelper, lintian, and systemd-analyze from systemd);
# tests/netns/test_deb.py runs it too.
set -eu
PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libevent-dev libmnl-dev libinih-dev libnftables-dev libsodium-dev libcmocka-dev
libnetfilter-conntrack-dev libsystemd-dev
ieee-data nftables iproute2 iputils-ping python3 jq procps conntrack keepalived
dnsmasq-base isc-dhcp-client dhcpcd-base python3-scapy strace systemd
python3-prometheus-client"
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS keepalived conntrackd tcpdump iptables"
fi
if [ "${1:-}" = deb ]; then
	PKGS="$PKGS debhelper dpkg-dev fakeroot lintian systemd"
fi
if [ "${1:-}" = picture ]; then
	PKGS="$PKGS gnuplot-nox"
fi
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "arpha: missing Debian packages:$missing" >&2
	echo "arpha: run 'make' as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "arpha: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
