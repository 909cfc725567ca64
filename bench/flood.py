#!/usr/bin/python3
"""An ARP flood against a node, arpha against the plain kernel, real
processes in network namespaces (tests/netns/lab.py, vipnet.py).

arpha: n1 (master) and n2 (backup) share the VIP 198.18.0.100/24 at 20 ms
heartbeats. The plain kernel: n1 alone holds the same address, no arphad.
Every node also holds an address in 198.19.0.0/16, so the flood's random
senders (198.19.128.0/17) are on its network. On the same bridge: a client
that asks the VIP for an ICMP echo every millisecond (tests/netns/probe.py),
a neighbour nb that n1 itself pings every millisecond, a host "fresh" that
has never said a word, and the flood sender (tests/tools/arpflood, as fast
as one namespace sends). Each flood, in turn, for SECONDS:

  request   broadcast requests for the VIP from random senders
  reply     unsolicited replies for random addresses, to n1's MAC
  claim     replies claiming nb's address for the flood host's MAC, to n1

and, with --kinds dhcp (not among the default kinds: it adds four runs of
arphad), a DHCP flood:

  dhcp      broadcast DHCPv4 DISCOVERs of a Windows 10 PC (342 bytes) from
            NMACS clients in turn, each its own MAC (arpflood's dhcp)

against arphad alone, four times, each with a new pair of nodes: snooping on
(Snoop=yes, the default) and off (the control: no socket reads the frames),
with NMACS 400 at the default Size=400, and NMACS 65536 at Size=65536 (a big
table under churn). Printed for each: frames/s sent and received by n1,
arphad's CPU per frame (and the two apart), frames per wake-up and its
share of a core (and n2's share: the flood
is broadcast, n2 snoops it too), the neighbour cache's counters over the
flood (`arpha -j neighbors`: DHCP messages taken, socket drops, entries,
evictions, records sent to n2), the client's longest echo pause from the
VIP and the takeovers; then, for each NMACS, arphad's CPU per frame with
snooping on over that with it off, and the difference per message taken.

Printed for each ARP flood: frames/s sent and received by n1 (its eth0 counters);
arphad's CPU per frame received (utime+stime from /proc over the flood, and
the two apart), frames per wake-up (its context switches) and its share of
a core; the longest pause of the client's echoes from the VIP
and of n1's own echoes from nb; whether n1 resolves "fresh" in the middle of
the flood (ping; the kernel table must then hold fresh's true MAC); the
entries the flood left in n1's kernel table (and whether nb's was ever
poisoned, sampled every 50 ms; n1's kernel checks nb every second or two,
with a request to nb's MAC, during each flood); takeovers (the VIP's
transitions on n2 and n1). Targets: at most 1 us of arphad CPU per flood frame, no pause longer
than 50 ms, no takeover, the kernel table never filled nor poisoned.

  bench/flood.py [BUILD_DIR] [--seconds 8] [--kinds request,reply,claim,dhcp]
                 [--only arpha|kernel]

The flood host drops what it receives at its ingress (nftables), and the
switch sends unicast for an unknown MAC (the flood's random senders) to the
flood's port only, as a switch that learned them there; the lab's bridge
works inside the sending system call (veth), so what the switch does with
the node's answers counts as the node's CPU all the same.

Needs root. About 3 minutes with the defaults; --kinds dhcp --only arpha
about 1.5 minutes more at 8 s.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))

KINDS = ("request", "reply", "claim")
ALL_KINDS = KINDS + ("dhcp",)
# the DHCP flood's runs: (Snoop=, NMACS, Size= or None for the default)
# (snoop, clients, Size=, SnoopRateLimit=): the default limit, the limit lifted (what a message
# costs), and snooping off (the control), for the default table and a big one under churn
DHCP_RUNS = ((True, 400, None, None), (True, 400, None, 100000), (False, 400, None, None),
             (True, 65536, 65536, None), (True, 65536, 65536, 100000),
             (False, 65536, 65536, None))
SENDERS = "198.19.128.0/17"
EXTRA = {"n1": "198.19.0.1/16", "n2": "198.19.0.2/16"}
NB = ("198.18.0.20", "02:00:00:00:00:20")
FRESH = ("198.18.0.30", "02:00:00:00:00:30")
FLOOD = ("198.18.0.66", "02:00:00:00:00:66")
CPU_TARGET_US, PAUSE_TARGET_MS = 1.0, 50.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_s(pid):
    """(utime, stime, context switches) of pid: seconds, seconds, count."""
    with open("/proc/%d/stat" % pid) as f:
        w = f.read().rsplit(")", 1)[1].split()
    sw = 0
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                sw += int(l.split()[1])
    return int(w[11]) / CLK_TCK, int(w[12]) / CLK_TCK, sw


def rx_packets(lab, role):
    p = lab.exec(role, "cat", "/sys/class/net/eth0/statistics/rx_packets")
    return int(p.stdout.strip())


class TableWatch:
    """Samples n1's kernel table every 50 ms: the most entries seen, and
    whether nb's entry ever held another MAC than nb's."""

    def __init__(self, lab, known):
        self.lab, self.known = lab, known
        self.most, self.poisoned, self.stop_ = 0, False, False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_:
            try:
                t = self.lab.neigh("n1")
            except Exception:
                t = {}
            strange = [ip for ip in t if ip not in self.known]
            self.most = max(self.most, len(strange))
            mac = t.get(NB[0], {}).get("lladdr")
            if mac and mac != NB[1]:
                self.poisoned = True
            time.sleep(0.05)

    def stop(self):
        self.stop_ = True
        self.t.join()


def gc_thresh3(lab):
    """The kernel table's hard limit (one for every namespace: init_net's)."""
    with open("/proc/sys/net/ipv4/neigh/default/gc_thresh3") as f:
        return int(f.read())


def flood_args(kind, lab, seconds, nmacs=None):
    n1mac = lab.hosts["n1"][1]
    tail = {
        "request": ["request", "198.18.0.100", SENDERS],
        "reply": ["reply", n1mac, SENDERS],
        "claim": ["claim", n1mac, NB[0], FLOOD[1]],
        "dhcp": ["dhcp", str(nmacs)],
    }[kind]
    from lab import binary
    # ARPHA_ARPFLOOD: the tool of another build (for an arphad built before it)
    tool = os.environ.get("ARPHA_ARPFLOOD") or binary("arpflood")
    return [tool, "eth0", tail[0], "1000000000", str(seconds)] + tail[1:]


def nb_counters(daemon):
    """The neighbour cache's counters (`arpha -j neighbors`)."""
    return daemon.arpha_json("neighbors")["counters"]


def one_flood(lab, system, kind, seconds, arphad_pid, notify, nmacs=None, daemons=None):
    """daemons (the DHCP flood): n1's and n2's arphad, for the cache's
    counters and n2's CPU."""
    import vipnet
    known = {ip for ip, _m in lab.hosts.values()}
    for role in ("n1", "n2"):
        if role in lab.hosts:
            known.add(EXTRA[role].split("/")[0])
    known.add(vipnet.VIP)
    # the client and n1 answer, n1 knows nb, before the flood
    probe_vip = vipnet.Probe(lab, "client", target=vipnet.VIP, duration=seconds + 30)
    probe_nb = vipnet.Probe(lab, "n1", target=NB[0], duration=seconds + 30)
    if not (probe_vip.wait_answers(timeout=10) and probe_nb.wait_answers(timeout=10)):
        raise RuntimeError("%s/%s: no answers before the flood" % (system, kind))
    time.sleep(0.5)
    n_trans = len(read_notify(notify)) if notify else 0
    watch = TableWatch(lab, known)
    nb0 = daemons and nb_counters(daemons["n1"])
    n2cpu0 = daemons and cpu_s(daemons["n2"].p.pid)
    rx0, cpu0, t0 = rx_packets(lab, "n1"), arphad_pid and cpu_s(arphad_pid), time.monotonic()
    fl = subprocess.Popen(["ip", "netns", "exec", lab.ns("flood")] +
                          flood_args(kind, lab, seconds, nmacs),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds / 2)
    # a host n1 never saw, resolved in the middle of the flood
    resolved = lab.ping("n1", FRESH[0], count=1, wait=2)
    fresh_mac = lab.neigh_mac(FRESH[0], role="n1")
    out, err = fl.communicate(timeout=seconds + 30)
    t1, rx1 = time.monotonic(), rx_packets(lab, "n1")
    cpu1 = arphad_pid and cpu_s(arphad_pid)
    n2cpu1 = daemons and cpu_s(daemons["n2"].p.pid)
    time.sleep(0.3)
    nb1 = daemons and nb_counters(daemons["n1"])
    watch.stop()
    r_vip, r_nb = probe_vip.stop(), probe_nb.stop()
    try:
        sent = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("arpflood: %s %s" % (out, err))
    left = [ip for ip in lab.neigh("n1") if ip not in known]
    rx = rx1 - rx0
    dt = t1 - t0
    res = {
        "system": system, "kind": kind, "seconds": round(dt, 2),
        "sent_pps": sent["pps"], "received_pps": rx / dt, "received": rx,
        "cpu_us_per_frame": ((cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) * 1e6 / rx
                             if arphad_pid and rx else None),
        "user_us_per_frame": (cpu1[0] - cpu0[0]) * 1e6 / rx if arphad_pid and rx else None,
        "sys_us_per_frame": (cpu1[1] - cpu0[1]) * 1e6 / rx if arphad_pid and rx else None,
        "frames_per_wakeup": (rx / max(1, cpu1[2] - cpu0[2])) if arphad_pid else None,
        "core_share": (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / dt if arphad_pid else None,
        "vip_pause_ms": r_vip["longest_gap_ms"], "nb_pause_ms": r_nb["longest_gap_ms"],
        # the probes' own worst lateness: a pause no longer than this was
        # the probe waiting for a CPU, not the network
        "probe_late_ms": max(r_vip.get("late_max_ms", 0), r_nb.get("late_max_ms", 0)),
        "resolved_fresh": bool(resolved and fresh_mac == FRESH[1]),
        "fresh_mac": fresh_mac,
        "table_most": watch.most, "table_left": len(left), "gc_thresh3": gc_thresh3(lab),
        "nb_poisoned": watch.poisoned,
        "takeovers": (len(read_notify(notify)) - n_trans) if notify else None,
    }
    if daemons:
        res["n2_core_share"] = (n2cpu1[0] + n2cpu1[1] - n2cpu0[0] - n2cpu0[1]) / dt
        res["nb"] = {k: nb1[k] - nb0[k] for k in (
            "dhcp_messages", "dhcp_malformed", "dhcp_drops", "inserted", "updated",
            "evicted_inactive", "evicted_active", "sync_records_sent")}
        res["nb"]["entries"] = nb1["entries"]
        res["nb"]["size"] = nb1["size"]
    return res


def read_notify(path):
    try:
        with open(path) as f:
            return [l for l in f.read().splitlines() if l.strip()]
    except FileNotFoundError:
        return []


def base_hosts():
    import vipnet
    h = {"n1": vipnet.hosts(())["n1"], "client": vipnet.CLIENTS["client"], "nb": NB,
         "fresh": FRESH, "flood": FLOOD}
    return h


def node_setup(lab, role):
    """The node's kernel checks a neighbour it talks to every second or two
    (a short reachable time) instead of every 15-45 s, so each flood meets
    several of the kernel's probes of nb, which a claim must never win."""
    lab.exec(role, "sysctl", "-qw", "net.ipv4.neigh.eth0.base_reachable_time_ms=500",
             "net.ipv4.neigh.eth0.delay_first_probe_time=1")


def switch_setup(lab):
    """The switch: unicast to an unknown MAC (the flood's random senders)
    goes to the flood's port only, as on a switch that learned them there,
    not to every port (the software bridge would do that work inside the
    sending process, here arphad), and without the host's netfilter hooks
    (br_netfilter), as a switch."""
    lab.exec("sw", "sysctl", "-qw", "net.bridge.bridge-nf-call-arptables=0",
             "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0",
             check=False)
    # the flood host reads nothing: what the node answers it costs the
    # attacker's machine, not (inline in the veth) the node's sending process
    subprocess.run(["ip", "netns", "exec", lab.ns("flood"), "nft", "-f", "-"], check=True,
                   input="table netdev sink {\n chain in {\n  type filter hook ingress "
                   "device eth0 priority 0; policy drop;\n }\n}\n", text=True)
    for role in lab.hosts:
        if role != "flood":
            run_sw(lab, "bridge", "link", "set", "dev", "p-" + role[:13], "flood", "off")


def run_sw(lab, *cmd):
    from lab import run
    run(["bridge", "-n", lab.ns("sw")] + list(cmd[1:]))


def run_arpha(seconds, kinds, dhcp=None):
    """The ARP floods of kinds, or (dhcp: one of DHCP_RUNS) the DHCP flood."""
    import vipnet
    from lab import Lab, binary, run
    out = []
    hosts = base_hosts()
    hosts["n2"] = vipnet.hosts(())["n2"]
    neighbors = ""
    if dhcp:
        snoop, nmacs, size, limit = dhcp
        neighbors = "[Neighbors]\nSnoop=%s\n%s%s" % (
            "yes" if snoop else "no", "Size=%d\n" % size if size else "",
            "SnoopRateLimit=%d\n" % limit if limit else "")
    with Lab("flood", hosts=hosts) as lab:
        switch_setup(lab)
        for role in ("n1", "n2"):
            lab.ip(role, "addr", "add", EXTRA[role], "dev", "eth0")
            node_setup(lab, role)
        key = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", key])
        notify = {}
        daemons = {}
        for role in ("n1", "n2"):
            notify[role] = os.path.join(lab.tmp, "%s.notify" % role)
            # arphad runs only a script that only root can change: not under /tmp
            script = lab.script("notify-%s.sh" % role,
                                '#!/bin/sh\necho "$(date +%%s.%%N) $*" >> %s\n' % notify[role])
            conf = vipnet.arpha_config(role, key, heartbeat="20ms", notify=script,
                                       log_level="notice", extra=neighbors)
            daemons[role] = lab.arphad(role, config=conf, name=role)
        ok, st = vipnet.wait_vip_states(daemons, {"n1": "master", "n2": "backup"}, timeout=10)
        if not ok:
            raise RuntimeError("VIP states at start: %s" % st)
        time.sleep(1)
        for kind in kinds:
            log("arpha: %s flood%s" % (kind, " from %d clients, Snoop=%s, Size=%s, "
                                           "SnoopRateLimit=%s" % (
                nmacs, "yes" if snoop else "no", size or "default", limit or "default")
                if dhcp else ""))
            n1_before = len(read_notify(notify["n1"]))
            r = one_flood(lab, "arpha", kind, seconds, daemons["n1"].p.pid, notify["n2"],
                          nmacs=dhcp and nmacs, daemons=dhcp and daemons)
            if dhcp:
                r["snoop"], r["nmacs"], r["limit"] = snoop, nmacs, limit or 200
            r["takeovers"] += len(read_notify(notify["n1"])) - n1_before
            ok, st = vipnet.wait_vip_states(daemons, {"n1": "master", "n2": "backup"},
                                            timeout=1)
            if not ok:
                r["takeovers"] = max(r["takeovers"], 1)
            out.append(r)
            time.sleep(1)
        probs = lab.daemon_problems()
        if probs:
            log("\n".join(probs))
    return out


def run_kernel(seconds, kinds):
    import vipnet
    from lab import Lab
    out = []
    with Lab("floodk", hosts=base_hosts()) as lab:
        switch_setup(lab)
        lab.ip("n1", "addr", "add", EXTRA["n1"], "dev", "eth0")
        node_setup(lab, "n1")
        lab.ip("n1", "addr", "add", vipnet.VIP_CIDR, "dev", "eth0")
        for kind in kinds:
            log("plain kernel: %s flood" % kind)
            out.append(one_flood(lab, "kernel", kind, seconds, None, None))
            # the next flood starts from a clean table, as arphad's does
            lab.flush_neigh("n1")
            time.sleep(1)
    return out


def fmt(v, spec="%.2f", none="-"):
    return none if v is None else spec % v


def report(rows):
    hdr = ("system", "flood", "sent/s", "recv/s", "us/frame", "user+sys", "frames/wake", "core",
           "VIP pause", "nb pause", "probe late", "resolves", "table max/left", "nb poisoned",
           "takeovers")
    lines = [hdr]
    for r in rows:
        lines.append((
            r["system"], r["kind"], "%.0f" % r["sent_pps"], "%.0f" % r["received_pps"],
            fmt(r["cpu_us_per_frame"]),
            "-" if r["user_us_per_frame"] is None else "%.2f+%.2f" % (
                r["user_us_per_frame"], r["sys_us_per_frame"]),
            fmt(r["frames_per_wakeup"], "%.0f"),
            fmt(r["core_share"] and r["core_share"] * 100, "%.0f%%"),
            "%.1f ms" % r["vip_pause_ms"], "%.1f ms" % r["nb_pause_ms"],
            "%.1f ms" % r["probe_late_ms"],
            "yes" if r["resolved_fresh"] else "NO (%s)" % r["fresh_mac"],
            "%d/%d (of %d)" % (r["table_most"], r["table_left"], r["gc_thresh3"]),
            "YES" if r["nb_poisoned"] else "no", fmt(r["takeovers"], "%d")))
    w = [max(len(str(l[i])) for l in lines) for i in range(len(hdr))]
    for l in lines:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(l)).rstrip())
    print()
    arpha = [r for r in rows if r["system"] == "arpha"]
    if not arpha:
        return
    worst_cpu = max(r["cpu_us_per_frame"] or 0 for r in arpha)
    worst_pause = max(max(r["vip_pause_ms"], r["nb_pause_ms"]) for r in arpha)
    take = sum(r["takeovers"] or 0 for r in arpha)
    filled = [r for r in arpha if r["table_most"] >= r["gc_thresh3"] or r["nb_poisoned"]]
    unresolved = [r for r in arpha if not r["resolved_fresh"]]

    def t(name, ok, got):
        print("target %-52s %-8s (%s)" % (name, "met" if ok else "NOT MET", got))
    t("arphad CPU per flood frame <= %.0f us" % CPU_TARGET_US, worst_cpu <= CPU_TARGET_US,
      "worst %.2f us" % worst_cpu)
    t("no pause longer than %.0f ms" % PAUSE_TARGET_MS, worst_pause <= PAUSE_TARGET_MS,
      "worst %.1f ms" % worst_pause)
    t("no takeover", take == 0, "%d" % take)
    t("kernel table never filled nor poisoned", not filled,
      ", ".join(r["kind"] for r in filled) or "never")
    t("a host never seen is resolved during the flood", not unresolved,
      ", ".join(r["kind"] for r in unresolved) or "every flood")


def report_dhcp(rows):
    hdr = ("snoop", "limit/s", "clients", "size", "sent/s", "recv/s", "us/frame", "user+sys", "frames/wake",
           "core", "n2 core", "taken", "drops", "entries", "evicted inact/act", "sync records",
           "VIP pause", "probe late", "takeovers")
    lines = [hdr]
    for r in rows:
        nb = r["nb"]
        lines.append((
            "on" if r["snoop"] else "off", "%d" % r["limit"] if r["snoop"] else "-",
            "%d" % r["nmacs"], "%d" % nb["size"],
            "%.0f" % r["sent_pps"], "%.0f" % r["received_pps"], fmt(r["cpu_us_per_frame"]),
            "%.2f+%.2f" % (r["user_us_per_frame"], r["sys_us_per_frame"]),
            "%.1f" % r["frames_per_wakeup"], "%.0f%%" % (r["core_share"] * 100),
            "%.0f%%" % (r["n2_core_share"] * 100),
            "%d" % nb["dhcp_messages"], "%d" % nb["dhcp_drops"], "%d" % nb["entries"],
            "%d/%d" % (nb["evicted_inactive"], nb["evicted_active"]),
            "%d" % nb["sync_records_sent"], "%.1f ms" % r["vip_pause_ms"],
            "%.1f ms" % r["probe_late_ms"], fmt(r["takeovers"], "%d")))
    w = [max(len(str(l[i])) for l in lines) for i in range(len(hdr))]
    for l in lines:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(l)).rstrip())
    print()
    for n in sorted({r["nmacs"] for r in rows}):
        off = [r for r in rows if r["nmacs"] == n and not r["snoop"]]
        for a in [r for r in rows if r["nmacs"] == n and r["snoop"]]:
            if not (off and a["cpu_us_per_frame"] and off[0]["cpu_us_per_frame"]):
                continue
            b = off[0]
            taken = a["nb"]["dhcp_messages"]
            extra = (a["cpu_us_per_frame"] * a["received"] - b["cpu_us_per_frame"] *
                     b["received"] * a["seconds"] / b["seconds"])
            # the cost of a message shows only where many were taken (the limit lifted)
            print("%d clients, SnoopRateLimit=%d: arphad's CPU %.1f%% of a core (off: %.1f%%)%s" % (
                n, a["limit"], a["core_share"] * 100, b["core_share"] * 100,
                "; snooping %.2f us per message taken" % (extra / taken)
                if taken >= 10000 else ""))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default="build-bench")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="of %s (default %s)" % (",".join(ALL_KINDS), ",".join(KINDS)))
    ap.add_argument("--only", choices=("arpha", "kernel"))
    ap.add_argument("--json", action="store_true", help="print the rows as JSON lines too")
    a = ap.parse_args()
    os.environ["ARPHA_BUILD"] = os.path.abspath(a.build)
    if os.geteuid() != 0:
        sys.exit("bench/flood.py needs root (network namespaces)")
    kinds = [k for k in a.kinds.split(",") if k]
    for k in kinds:
        if k not in ALL_KINDS:
            sys.exit("unknown flood kind %r (expected %s)" % (k, ", ".join(ALL_KINDS)))
    arp = [k for k in kinds if k != "dhcp"]
    rows = []
    load0 = open("/proc/loadavg").read().split()[0]
    if a.only != "kernel" and arp:
        rows += run_arpha(a.seconds, arp)
    if a.only != "arpha" and arp:
        rows += run_kernel(a.seconds, arp)
    dhcp = []
    if a.only != "kernel" and "dhcp" in kinds:  # the plain kernel snoops nothing
        for run in DHCP_RUNS:
            dhcp += run_arpha(a.seconds, ["dhcp"], dhcp=run)
    rows += dhcp
    where = "%d cores (load average %s at the start, %s at the end)" % (
        os.cpu_count(), load0, open("/proc/loadavg").read().split()[0])
    if arp:
        print("ARP flood, %g s each, one sender namespace, %s" % (a.seconds, where))
        report([r for r in rows if r["kind"] != "dhcp"])
    if dhcp:
        print("DHCP flood against arphad, %g s each, one sender namespace, %s" % (
            a.seconds, where))
        report_dhcp(dhcp)
    if a.json:
        for r in rows:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
