#!/usr/bin/python3
"""The active-active data path per packet, arpha against xt_cluster, in the
same topology and the same run (research/active-active-2026-12.md, 1g and
section 4 items 3, 7, 8):

  gen --veth--> node --veth--> sink
  (udpblast)    eth0 198.18.60.1/25        eth0 198.18.60.140/25
                eth1 198.18.60.129/25      (drops everything at netdev ingress)

The generator (bench/udpblast, pinned to one CPU) sends 60-byte UDP frames
from 198.18.60.10, FLOWS source ports round robin, to the sink's address
through the node, Ethernet destination the cluster MAC 01:00:5e:7f:00:01
(the node's own MAC for O0). On veth the node's and the sink's receive
work runs on the sender's CPU inside the send, so the wall time per frame
is the whole path's cost; the node's cost is the difference to D0, taken
pairwise in each round. Cases, the node's rules (every case but D0 has the
same stateful forward chain: conntrack, established or new UDP accepted,
policy drop):

  D0  drop at the node's netdev ingress, unconditionally (the baseline)
  O0  a plain single stateful firewall, unicast MAC
  M0  the same, frames to the cluster MAC made PACKET_HOST by one netdev
      ingress rule (what any multicast-MAC cluster pays before deciding)
  MP  M0 and a second base chain in prerouting at -150 (after conntrack,
      where a decision by ct mark has to be) holding one rule that reads
      the ct mark and never matches: the floor of such a decision
  AO  arpha, the node owns every bucket (a one-node cluster): forward
  AD  the same with the real arphad: a one-node cluster (sync link eth2, a
      veth pair inside the node), both sides' addresses active-active VIPs
      (198.18.60.2, .130, cluster MACs); every bucket the node's once its
      listening time is over
  AS  arpha, an owner in a 2-node cluster: the buckets of the blasted flows
      are the node's, every other bucket another node's (so its tables are
      those of a node that shadows others' first packets): forward
  AN  arpha, the node owns no bucket; the connections are decided (ct mark
      another node's, set by the rules at the first packet): drop
  AU  arpha, no bucket has an owner (a hand-over gap): undecided, hashed
      on every packet, drop
  X0  xt_cluster (iptables-nft, research 1d): -m cluster
      --cluster-total-nodes 2 --cluster-local-node L --cluster-hash-seed S
      -j MARK --set-mark 0xffff, then -m mark ! --mark 0xffff -j DROP, L
      the node that owns the source address: forward
  X1  the same with the other L: drop

arpha's tables are installed by the build's nftb_ctl (os/nft_buckets, the
same code and tables as arphad's, without the cluster protocol around it),
AD's by arphad itself.
Each case has a topology of its own (its namespaces, rules and conntrack),
set up once; a warm-up blast creates the FLOWS entries (and decides them).
Then ROUNDS rounds, each a blast through every case in turn (A B C ...,
the order rotated each round), so the cases are compared over seconds, on
a machine whose speed drifts; medians over the rounds, and for ratios the
median of each round's ratio.

Then the capacity model of research 1g for N = 2, 3, 4 nodes (node CPU
only, every node receives every frame, an even split):
  capacity(N) = O0 / ((1/N) * owner + ((N-1)/N) * non-owner)  (costs over D0)
and the bucket-map update of a full takeover (nftb_update: the b2m elements
that change and 1024 own elements added, one transaction), timed inside
nftb_ctl, UPDATES times; and the same as the survivor of two (every bucket
ours).

  bench/balance.py [BUILD_DIR] [--packets N] [--rounds R] [--flows F]
                   [--updates U] [--json FILE]

Prints the figures, the ratios and the targets (met / missed): a decided
non-owner drop cheaper than xt_cluster's; the owner's overhead over a plain
stateful firewall at most 15 %; a 2-node capacity of at least 1.3 times one
firewall; a full takeover's kernel update under 10 ms (median). Needs root,
nft, iptables (nf_tables backend), conntrack (tools/deps.sh bench). About
6 minutes.
"""
import argparse
import json
import os
import re
import signal
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "aab%d" % os.getpid()
CLUSTER_MAC = "01:00:5e:7f:00:01"
SRC_IP, SINK_IP = "198.18.60.10", "198.18.60.140"
SEED = 0x5eed
ME, OTHER, THIRD = 0x0101, 0x0201, 0x0301
BUCKETS = 1024
CASES = ("D0", "O0", "M0", "MP", "AO", "AD", "AS", "AN", "AU", "X0", "X1")
DESC = {
    "D0": "drop at netdev ingress (baseline)",
    "O0": "plain stateful firewall, unicast MAC",
    "M0": "the same, cluster MAC made host at ingress",
    "MP": "M0 + a prerouting chain reading ct mark",
    "AO": "arpha owner of every bucket: forward",
    "AD": "arpha owner of every bucket, arphad: forward",
    "AS": "arpha owner, 2-node split: forward",
    "AN": "arpha non-owner, decided: drop",
    "AU": "arpha non-owner, undecided: drop",
    "X0": "xt_cluster owner: forward",
    "X1": "xt_cluster non-owner: drop",
}

FW_TABLE = """table ip fw {
  chain forw {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    meta l4proto udp ct state new accept
  }
}
"""
SINK_TABLE = """table netdev sink {
  counter c { }
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    counter name "c" drop
  }
}
"""
DAEMON_CONF = """[Daemon]
ControlSocket=%(dir)s/arphad.sock
LogTarget=stderr
LogLevel=info

[Interface lan]
Device=eth0

[Interface dmz]
Device=eth1

[Cluster]
NodeID=1
Interface=eth2
Peers=198.18.61.2
KeyFile=%(key)s
HeartbeatInterval=20ms

[VIP outside]
Address=198.18.60.2/25
Interface=lan
Mode=active-active
ClusterMAC=01:00:5e:7f:00:01

[VIP inside]
Address=198.18.60.130/25
Interface=dmz
Mode=active-active
ClusterMAC=01:00:5e:7f:00:02
"""
M0_TABLE = """table netdev m0 {
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    meta pkttype multicast meta pkttype set host
  }
}
"""
MP_TABLE = """table ip mp {
  chain pre {
    type filter hook prerouting priority -150; policy accept;
    ct mark 0x12345678 accept
  }
}
"""
D0_TABLE = """table netdev d0 {
  chain in {
    type filter hook ingress device "eth0" priority -500; policy accept;
    drop
  }
}
"""


CPU = os.cpu_count() - 1  # the sender's, and so the whole path's


def ksoftirqd_ns(cpu):
    """CPU time (ns) ksoftirqd/cpu has run so far, 0 when not found."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "ksoftirqd/%d" % cpu:
                    continue
            with open("/proc/%s/schedstat" % pid) as f:
                return int(f.read().split()[0])
        except OSError:
            continue
    return 0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, check=True, input=None, timeout=120):
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))
    return r.stdout


class Lab:
    """One gen -> node -> sink topology, its namespaces named PREFIX TAG ROLE."""

    def __init__(self, build, tag):
        self.build = build
        self.ns = {r: "%s%s%s" % (PREFIX, tag, r) for r in ("g", "n", "s")}
        self.ctl = None
        self.made = []
        self.daemon = None
        self.tmp = None

    def x(self, role, *cmd, **kw):
        return sh(["ip", "netns", "exec", self.ns[role]] + list(cmd), **kw)

    def nft(self, role, text):
        self.x(role, "nft", "-f", "-", input=text)

    def up(self):
        for r in self.ns.values():
            sh(["ip", "netns", "add", r])
            self.made.append(r)
        sh(["ip", "link", "add", "g0", "netns", self.ns["g"], "type", "veth", "peer", "name",
            "eth0", "netns", self.ns["n"]])
        sh(["ip", "link", "add", "eth1", "netns", self.ns["n"], "type", "veth", "peer", "name",
            "eth0", "netns", self.ns["s"]])
        for role, ifs in (("g", ["lo", "g0"]), ("n", ["lo", "eth0", "eth1"]),
                          ("s", ["lo", "eth0"])):
            for i in ifs:
                self.x(role, "ip", "link", "set", i, "up")
        self.x("n", "ip", "addr", "add", "198.18.60.1/25", "dev", "eth0")
        self.x("n", "ip", "addr", "add", "198.18.60.129/25", "dev", "eth1")
        self.x("s", "ip", "addr", "add", SINK_IP + "/25", "dev", "eth0")
        for k, v in (("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.all.rp_filter", "0"),
                     ("net.ipv4.conf.eth0.rp_filter", "0"),
                     ("net.ipv4.conf.default.rp_filter", "0")):
            self.x("n", "sysctl", "-qw", "%s=%s" % (k, v))
        self.x("n", "ip", "neigh", "replace", SINK_IP, "lladdr", self.mac("s", "eth0"), "dev",
            "eth1", "nud", "permanent")
        self.nft("s", SINK_TABLE)
        self.node_mac = self.mac("n", "eth0")
        self.gen_mac = self.mac("g", "g0")

    def mac(self, role, dev):
        return self.x(role, "cat", "/sys/class/net/%s/address" % dev).strip()

    def down(self):
        self.stop_ctl()
        self.stop_daemon()
        for r in self.made:
            sh(["ip", "netns", "del", r], check=False)

    def sink_count(self):
        out = self.x("s", "nft", "list", "counter", "netdev", "sink", "c")
        return int(re.search(r"packets (\d+)", out).group(1))

    def rx_packets(self):
        return int(self.x("n", "cat", "/sys/class/net/eth0/statistics/rx_packets"))

    def blast(self, count, flows, unicast=False):
        """(wall ns, CPU ns) per frame; CPU: udpblast's own plus what its CPU's
        ksoftirqd ran meanwhile (the receive work the kernel deferred)."""
        dst = self.node_mac if unicast else CLUSTER_MAC
        k0 = ksoftirqd_ns(CPU)
        out = self.x("g", "taskset", "-c", str(CPU), os.path.join(self.build, "udpblast"), "g0",
                  dst, self.gen_mac, SRC_IP, SINK_IP, str(flows), str(count), timeout=600)
        k1 = ksoftirqd_ns(CPU)
        wall = float(re.search(r"ns_per_packet=([\d.]+)", out).group(1))
        cpu = float(re.search(r"cpu_ns_per_packet=([\d.]+)", out).group(1))
        return wall, cpu + (k1 - k0) / count

    # ------------------------------------------------------ arpha's tables

    def start_daemon(self):
        """arphad, a one-node cluster; returns once it owns every bucket."""
        self.tmp = tempfile.mkdtemp(prefix=PREFIX)
        self.x("n", "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "p2")
        for i in ("eth2", "p2"):
            self.x("n", "ip", "link", "set", i, "up")
        self.x("n", "ip", "addr", "add", "198.18.61.1/24", "dev", "eth2")
        key = os.path.join(self.tmp, "cluster.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(sh([os.path.join(self.build, "arpha"), "keygen"]))
        conf = os.path.join(self.tmp, "arphad.conf")
        with open(conf, "w") as f:
            f.write(DAEMON_CONF % {"dir": self.tmp, "key": key})
        self.daemon_log = os.path.join(self.tmp, "arphad.log")
        with open(self.daemon_log, "wb") as log_f:
            self.daemon = subprocess.Popen(
                ["ip", "netns", "exec", self.ns["n"], os.path.join(self.build, "arphad"), "-d",
                 "-f", conf], stdin=subprocess.DEVNULL, stdout=log_f, stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            with open(self.daemon_log) as f:
                if re.search(r"event=ranges action=claim buckets=%d\b" % BUCKETS, f.read()):
                    return
            if self.daemon.poll() is not None:
                break
            time.sleep(0.05)
        with open(self.daemon_log) as f:
            raise RuntimeError("arphad does not own every bucket:\n%s" % f.read()[-2000:])

    def stop_daemon(self):
        if self.daemon:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
            self.daemon = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def start_ctl(self, owner=ME):
        self.ctl = subprocess.Popen(
            ["ip", "netns", "exec", self.ns["n"], os.path.join(self.build, "nftb_ctl"), "-n",
             str(BUCKETS), "-s", str(SEED), "-o", str(owner), "-i", "eth0", "-i", "eth1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.ctl.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError("nftb_ctl: %s" % line)

    def ctl_cmd(self, cmd):
        self.ctl.stdin.write(cmd + "\n")
        self.ctl.stdin.flush()
        line = self.ctl.stdout.readline().strip()
        if not line.startswith("ok"):
            raise RuntimeError("nftb_ctl %s: %s" % (cmd.split()[0], line))
        return line

    def stop_ctl(self):
        if self.ctl:
            try:
                self.ctl.stdin.write("quit\n")
                self.ctl.stdin.flush()
                self.ctl.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.ctl.kill()
                self.ctl.wait()
            self.ctl = None

    # ------------------------------------------------------ the cases

    def clean(self):
        self.stop_ctl()
        self.stop_daemon()
        self.x("n", "nft", "flush", "ruleset")
        self.x("n", "conntrack", "-F", check=False)

    def xt_cluster(self, local):
        for rule in (["-m", "cluster", "--cluster-total-nodes", "2", "--cluster-local-node",
                      str(local), "--cluster-hash-seed", "0x%x" % SEED, "-j", "MARK",
                      "--set-mark", "0xffff"],
                     ["-m", "mark", "!", "--mark", "0xffff", "-j", "DROP"]):
            self.x("n", "iptables-nft", "-t", "mangle", "-A", "PREROUTING", "-i", "eth0", *rule)

    def setup(self, case, xt_owner):
        self.clean()
        if case == "D0":
            self.nft("n", D0_TABLE)
            return
        self.nft("n", FW_TABLE)
        if case in ("M0", "MP"):
            self.nft("n", M0_TABLE)
        if case == "MP":
            self.nft("n", MP_TABLE)
        if case == "AD":
            self.start_daemon()
        if case in ("AO", "AS", "AN", "AU"):
            self.start_ctl()
            if case == "AS":
                self.ctl_cmd("map " + " ".join(str(ME if b in self.flow_buckets else OTHER)
                                               for b in range(BUCKETS)))
            elif case == "AN":
                self.ctl_cmd("map " + " ".join([str(OTHER)] * BUCKETS))
            elif case == "AU":
                self.ctl_cmd("map " + " ".join(["0"] * BUCKETS))
        elif case == "X0":
            self.xt_cluster(xt_owner)
        elif case == "X1":
            self.xt_cluster(3 - xt_owner)

    def buckets(self, flows):
        """The buckets of the blasted flows (core/balance, as the rules hash them)."""
        lines = "".join("17 %s %s %d 9\n" % (SRC_IP, SINK_IP, 20000 + i) for i in range(flows))
        out = sh([os.path.join(self.build, "balance_calc"), "-n", str(BUCKETS), "-s", str(SEED),
                  "tuple"], input=lines)
        self.flow_buckets = {int(w) for w in out.split()}

    def xt_owner(self, flows):
        """Which xt_cluster node (1 or 2) owns SRC_IP (the hash is on it alone)."""
        self.setup("X0", 1)
        before = self.sink_count()
        self.blast(100, flows)
        return 1 if self.sink_count() > before else 2


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def per_packet(labs, args, cases):
    """Every case in a lab of its own, set up once; then the rounds, each a
    blast through every lab in turn (the order rotated each round), so the
    cases are compared over seconds, not minutes."""
    first = labs[cases[0]]
    xt_owner = labs["X0"].xt_owner(args.flows) if "X0" in labs else 1
    log("xt_cluster: node %d owns %s (seed 0x%x)" % (xt_owner, SRC_IP, SEED))
    first.buckets(args.flows)
    log("the %d flows fall in %d buckets" % (args.flows, len(first.flow_buckets)))
    for c in cases:
        labs[c].flow_buckets = first.flow_buckets
        labs[c].setup(c, xt_owner)
        labs[c].blast(max(20 * args.flows, 20000), args.flows, unicast=(c == "O0"))
    ns = {c: [] for c in cases}
    wall = {c: [] for c in cases}
    delivered = {c: [] for c in cases}
    rx_share = []
    for r in range(args.rounds):
        k = r % len(cases)
        for c in cases[k:] + cases[:k]:
            lab = labs[c]
            s0, rx0 = lab.sink_count(), lab.rx_packets()
            w, cpu = lab.blast(args.packets, args.flows, unicast=(c == "O0"))
            wall[c].append(w)
            ns[c].append(cpu)
            delivered[c].append((lab.sink_count() - s0) / args.packets)
            if c == "AN":
                rx_share.append((lab.rx_packets() - rx0) / args.packets)
        log("round %d: %s" % (r + 1, " ".join("%s %.0f" % (c, ns[c][-1]) for c in cases)))
    cost = {c: [ns[c][i] - ns["D0"][i] for i in range(args.rounds)] for c in cases}
    return ns, wall, cost, delivered, rx_share, xt_owner


def takeover(lab, updates):
    """nftb_update times (us) of a full takeover of OTHER's buckets, taken in
    turn: (one) bucket 0 left to a third node, so the transaction is the
    whole update; (all) every bucket ours, as the survivor of two."""
    lab.clean()
    lab.start_ctl()
    others = " ".join([str(OTHER)] * BUCKETS)
    allb = " ".join(str(b) for b in range(BUCKETS))
    maps = {"one": " ".join([str(THIRD)] + [str(ME)] * (BUCKETS - 1)),
            "all": " ".join([str(ME)] * BUCKETS)}
    us = {k: [] for k in maps}
    try:
        lab.ctl_cmd("map " + others)
        for _ in range(updates):
            for k, m in maps.items():
                line = lab.ctl_cmd("update %d %d %s %s" % (OTHER, BUCKETS, allb, m))
                us[k].append(int(re.search(r"us=(\d+)", line).group(1)))
                lab.ctl_cmd("forget %d" % OTHER)
                lab.ctl_cmd("map " + others)
    finally:
        lab.stop_ctl()
    return us


def capacity(o0, owner, non, n):
    return o0 / (owner / n + non * (n - 1) / n)


def verdict(ok):
    return "met" if ok else "missed"


def report(args, ns, wall, cost, delivered, rx_share, xt_owner, us):
    mc = {c: median(cost[c]) for c in cost}
    rounds = range(len(cost["D0"]))

    def rr(x, y):
        """x / y: the median of the ratios within each round (a round is
        seconds long: the machine's speed drifts less within it)"""
        return median([cost[x][i] / cost[y][i] for i in rounds])

    def rd(x, y):
        return median([cost[x][i] - cost[y][i] for i in rounds])

    def cap_of(owner, non, n):
        return median([capacity(cost["O0"][i], cost[owner][i], cost[non][i], n)
                       for i in rounds])
    print("Per-packet cost, %d flows, %d rounds x %d frames of 60 bytes, medians over the "
          "rounds; ns/packet = CPU time of the sender's CPU per frame (sender + its "
          "ksoftirqd), wall = wall time per frame; node cost = case - D0, paired per round. "
          "arpha's tables by nftb_ctl (os/nft_buckets), AD's by arphad." % (
              args.flows, args.rounds, args.packets))
    print()
    print("| case | | ns/packet | wall | node cost over D0 (ns) | min..max cost | delivered |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for c in ns:
        print("| %s | %s | %.0f | %.0f | %.0f | %.0f..%.0f | %.1f %% |" % (
            c, DESC[c], median(ns[c]), median(wall[c]), mc[c], min(cost[c]), max(cost[c]),
            100 * median(delivered[c])))
    print()
    print("Ratios and capacities: medians of the ratios within each round.")
    print()
    r = {}
    # the owner as it runs in a cluster of 2 or more (AS); AO where AS was not run
    own = "AS" if "AS" in mc else "AO"
    for c in ("AO", "AD", "AS"):
        if {c, "O0"} <= mc.keys():
            print("arpha owner (%s) / plain firewall: %.3f (overhead %+.1f %%)" % (
                c, rr(c, "O0"), 100 * (rr(c, "O0") - 1)))
    if {own, "O0"} <= mc.keys():
        r["owner_overhead"] = rr(own, "O0") - 1
    for c, what in (("AN", "decided"), ("AU", "undecided")):
        if {c, own} <= mc.keys():
            print("arpha %s non-owner / arpha owner (%s): %.3f" % (what, own,
                                                                  rr(c, own)))
        if {c, "X1"} <= mc.keys():
            print("non-owner drop, arpha %s / xt_cluster: %.3f" % (what, rr(c, "X1")))
    if {own, "X0"} <= mc.keys():
        print("owner forward, arpha (%s) / xt_cluster: %.3f" % (own, rr(own, "X0")))
    if {"M0", "O0"} <= mc.keys():
        print("plain firewall on the cluster MAC / on its own MAC: %.3f" % (rr("M0", "O0")))
    if {"MP", "M0"} <= mc.keys():
        print("a prerouting chain reading ct mark, on top of M0: %+.0f ns" % rd("MP", "M0"))
    if {own, "MP"} <= mc.keys():
        print("arpha owner (%s) over that floor (MP): %+.0f ns" % (own, rd(own, "MP")))
    if {"AS", "AO"} <= mc.keys():
        print("the egress hooks of a node that can shadow (AS - AO): %+.0f ns" % (
            rd("AS", "AO")))
    if {own, "M0"} <= mc.keys():
        print("arpha owner (%s) / plain firewall on the cluster MAC: %.3f" % (
            own, rr(own, "M0")))
    if {"X0", "O0"} <= mc.keys():
        print("xt_cluster owner / plain firewall: %.3f" % (rr("X0", "O0")))
    if {"X1", "X0"} <= mc.keys():
        print("xt_cluster non-owner / xt_cluster owner: %.3f" % (rr("X1", "X0")))
    print()
    cap = {}
    if {"O0", own, "AN", "X0", "X1"} <= mc.keys():
        print("Capacity model, O0 / ((1/N) owner + ((N-1)/N) non-owner), node CPU only, even "
              "split, arpha's owner = %s; every node receives 100 %% of the frames (the link "
              "does not scale; measured here: the non-owner's eth0 received %.1f %% of the "
              "frames sent):" % (own, 100 * median(rx_share)))
        print()
        print("| nodes | arpha (decided non-owner) | arpha (undecided) | xt_cluster | "
              "arpha / xt_cluster |")
        print("|---:|---:|---:|---:|---:|")
        for n in (2, 3, 4):
            a = cap_of(own, "AN", n)
            u = cap_of(own, "AU", n) if "AU" in mc else float("nan")
            x = cap_of("X0", "X1", n)
            cap[n] = (a, u, x)
            print("| %d | %.2fx | %.2fx | %.2fx | %.3f |" % (n, a, u, x, a / x))
        print()
    if us:
        one, full = us["one"], us["all"]
        print("Full takeover, kernel update (nftb_update: up to %d b2m elements changed, %d "
              "own elements added, one transaction), %d runs: median %.2f ms, max %.2f ms" % (
                  BUCKETS, BUCKETS, len(one), median(one) / 1000, max(one) / 1000))
        print("The same as the survivor of two (every bucket ours): median %.2f ms, "
              "max %.2f ms" % (median(full) / 1000, max(full) / 1000))
        print()
    print("| target | figure | |")
    print("|---|---|---|")
    if {"AN", "X1"} <= mc.keys():
        print("| non-owner drop cheaper than xt_cluster's | %.0f vs %.0f ns, ratio %.3f | %s |"
              % (mc["AN"], mc["X1"], rr("AN", "X1"), verdict(rr("AN", "X1") < 1)))
    if "owner_overhead" in r:
        print("| owner (%s) overhead over a plain stateful firewall <= 15 %% | %+.1f %% | %s |"
              % (own, 100 * r["owner_overhead"], verdict(r["owner_overhead"] <= 0.15)))
    if cap:
        print("| 2-node capacity >= 1.3x one firewall | %.2fx | %s |" % (
            cap[2][0], verdict(cap[2][0] >= 1.3)))
    if us:
        print("| full takeover kernel update < 10 ms | %.2f ms (median) | %s |" % (
            median(us["one"]) / 1000, verdict(median(us["one"]) < 10000)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ns": ns, "wall": wall, "cost": cost, "delivered": delivered, "rx_share": rx_share,
                       "xt_owner": xt_owner, "takeover_us": us}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build-bench"))
    ap.add_argument("--packets", type=int, default=300000)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--flows", type=int, default=1024)
    ap.add_argument("--updates", type=int, default=50)
    ap.add_argument("--cases", default=",".join(CASES),
                    help="comma-separated subset of %s (D0 is always run)" % ",".join(CASES))
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/balance.py: needs root (network namespaces)")
    for tool in ("udpblast", "nftb_ctl", "balance_calc", "arphad", "arpha"):
        if not os.access(os.path.join(args.build, tool), os.X_OK):
            sys.exit("bench/balance.py: no %s in %s (ninja -C %s)" % (tool, args.build,
                                                                       args.build))
    for prog in ("nft", "iptables-nft", "conntrack", "taskset"):
        if subprocess.run(["which", prog], capture_output=True).returncode != 0:
            sys.exit("bench/balance.py: %s is missing (tools/deps.sh bench)" % prog)
    cases = ["D0"] + [c for c in args.cases.split(",") if c in CASES and c != "D0"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    build = os.path.abspath(args.build)
    labs = {c: Lab(build, c.lower()) for c in cases}
    print("bench/balance.py: %s, %d cores, %s" % (os.uname().release, os.cpu_count(),
                                                  time.strftime("%Y-%m-%d %H:%M UTC",
                                                                time.gmtime())))
    try:
        for lab in labs.values():
            lab.up()
        ns, wall, cost, delivered, rx_share, xt_owner = per_packet(labs, args, cases)
        us = takeover(labs["D0"], args.updates) if args.updates > 0 else {}
    finally:
        for lab in labs.values():
            lab.down()
    report(args, ns, wall, cost, delivered, rx_share, xt_owner, us)


if __name__ == "__main__":
    main()
