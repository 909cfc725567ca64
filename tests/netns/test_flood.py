#!/usr/bin/python3
"""Flood: while a host floods the node with unsolicited ARP replies for
random addresses (tests/tools/arpflood, as fast as one namespace sends),
the node resolves hosts it never saw. Their replies answer the kernel's own
requests, which arphad reads on a socket of their own (NFLOG) that the
flood cannot fill: each must be judged solicited, so the kernel table holds the hosts'
true MACs, and none of the flood's senders gets into it. Then a flood of
replies claiming the client's address while the kernel keeps checking the
client with requests sent to its MAC: the flood must never win. Not timed:
the flood only has to outrun arphad now and then (socket_drops is
printed)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/flood"
need_root(SUITE)
res = Results(SUITE)

FLOOD_NET = "198.19.128.0/17"  # the flood's senders: on the node's second network
FRESH = [("fresh%d" % i, "198.18.0.%d" % (30 + i), "02:00:00:00:00:%02x" % (0x30 + i))
         for i in range(1, 6)]
# ARPHA_ARPFLOOD: the flood tool of another build (to run this test on an
# arphad built before the tool existed)
ARPFLOOD = os.environ.get("ARPHA_ARPFLOOD") or binary("arpflood")
FLOOD_SECONDS = 30  # at most: stopped once the hosts are resolved

with Lab("flood") as lab:
    for role, ip, mac in FRESH:
        lab.add_host(role, ip, mac)
    lab.ip("node", "addr", "add", "198.19.0.1/16", "dev", "eth0")
    lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.base_reachable_time_ms=500",
             "net.ipv4.neigh.eth0.delay_first_probe_time=1")
    d = lab.arphad()

    with res.case("baseline-node-learns-client"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client with arphad running")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel entry for the client: %s",
               lab.neigh("node").get(CLIENT_IP))

    before = d.stats()
    fl = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("attacker"), ARPFLOOD, "eth0", "reply",
         "100000000", str(FLOOD_SECONDS), NODE_MAC, FLOOD_NET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    for role, ip, mac in FRESH:
        with res.case("resolves-unseen-host-during-flood/" + role):
            expect(fl.poll() is None, "the flood ended early (exit %s)", fl.returncode)
            expect(lab.neigh("node").get(ip) is None, "the node knew %s before", ip)
            # one second: the kernel's first request must do (it asks again after 1 s)
            ok = lab.ping("node", ip, count=1, wait=1)
            e = lab.neigh("node").get(ip)
            expect(ok, "the node cannot ping %s during the flood (kernel entry %s)", ip, e)
            expect(e and e["lladdr"] == mac, "kernel entry for %s: %s (true MAC %s)", ip, e, mac)
            s = d.show().get(ip)
            expect(s and s["type"] == "dynamic" and s["mac"] == mac, "arpha show: %s", s)
        time.sleep(0.5)
    fl.terminate()
    out, err = fl.communicate(timeout=30)
    after = d.stats()
    print("# flood: %s; arphad: rx_frames +%d, socket_drops +%d, kernel_requests +%d" % (
        out.strip() or err.strip(), after["rx_frames"] - before["rx_frames"],
        after["socket_drops"] - before["socket_drops"],
        after["kernel_requests"] - before["kernel_requests"]))

    with res.case("flood-senders-not-in-kernel-table"):
        expect(fl.returncode == 0 and '"sent"' in out, "arpflood: %s %s", out, err)
        t = lab.neigh("node")
        strange = [ip for ip in t if ip.startswith("198.19.")]
        expect(not strange, "%d of the flood's senders in the kernel table: %s", len(strange),
               strange[:5])
        expect(t.get(CLIENT_IP, {}).get("lladdr") == CLIENT_MAC, "client entry: %s",
               t.get(CLIENT_IP))
        # the default, Verify: each claim is checked or counted as not checked
        judged = sum(after[k] - before[k] for k in (
            "drop_unsolicited_reply", "verify_started", "verify_repeated", "verify_limited"))
        expect(judged > 0, "the flood's replies were not judged unsolicited")
        # what the checks cost: VerifyRate's second of burst, then 100 a second
        sent = after["verify_started"] - before["verify_started"]
        expect(sent <= 100 * (FLOOD_SECONDS + 1), "%d checks during the flood", sent)
        print("# flood: %d checks, %d claims not checked" % (
            sent, after["verify_limited"] - before["verify_limited"]))

    # A flood of replies claiming the client, while the node keeps talking
    # to it: the kernel checks the client again and again with a request
    # sent to the client's MAC (every second or two here: the short
    # reachable time set at the start), and the flood's replies come before
    # the client's own answer.
    before = d.stats()
    fl = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("attacker"), ARPFLOOD, "eth0", "claim", "100000000",
         "30", NODE_MAC, CLIENT_IP, ATTACKER_MAC],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pinger = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("node"), "ping", "-n", "-q", "-i", "0.05", "-w", "8",
         CLIENT_IP], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = set()
    end = time.monotonic() + 8
    while time.monotonic() < end:
        seen.add(lab.neigh("node").get(CLIENT_IP, {}).get("lladdr"))
        time.sleep(0.1)
    pinger.wait(timeout=30)
    fl.terminate()
    out, err = fl.communicate(timeout=30)
    after = d.stats()
    probes = after["kernel_requests"] - before["kernel_requests"]
    print("# claim flood: %s; kernel requests during it: %d; MACs seen for the client: %s" % (
        out.strip() or err.strip(), probes, sorted(str(m) for m in seen)))
    with res.case("claim-flood-never-wins-the-kernels-probe"):
        expect(probes >= 2, "the kernel checked the client only %d times", probes)
        expect(ATTACKER_MAC not in seen, "the kernel table held the flood's MAC for %s: %s",
               CLIENT_IP, sorted(str(m) for m in seen))
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "client entry after the flood: %s",
               lab.neigh("node").get(CLIENT_IP))

    res.daemon_checks(lab, alive=d)

res.exit()
