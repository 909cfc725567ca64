#!/usr/bin/python3
"""A configuration reload, arpha against keepalived, real processes in
network namespaces: one node (n1, alone, master of everything) with 1000
VIPs in 50 groups of 20 on its LAN interface, and for arpha 10,000 Static
ARP entries too (keepalived has no ARP entries: its file holds the VIPs
alone); a client asks an unchanged VIP (198.18.100.0) for an ICMP echo
every millisecond throughout (tests/netns/probe.py).

Each round is one SIGHUP with the other of two files A and B, which
differ by: one VIP added and one removed (in groups the node holds), one
group's priority, and for arpha 100 entries added, 100 removed and 100
given another MAC. Per round:

  served    from the SIGHUP to the first answer of the added VIP (the
            client asks it every millisecond from just before the signal)
  arphad    the reload's own time, as arphad logs it (event=reload
            action=done us=, the file read and checked included)

and over all rounds the unchanged VIP's longest gap in answers. Then a
round of a file that changes by a comment alone (arpha: read, checked,
nothing to apply).

  bench/reload.py [BUILD_DIR] [--rounds N] [--only arpha|keepalived]

arpha runs twice: with the entries (the file the figure is asked for) and
with the VIPs alone (keepalived's file, for the ratio). Needs root and
keepalived (tools/deps.sh bench). About 3 minutes.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))

N_VIPS, N_GROUPS, N_ENTRIES, N_CHURN = 1000, 50, 10000, 100
NODE = ("198.18.0.1", "02:00:00:00:00:01")
CLIENT = ("198.18.0.10", "02:00:00:00:00:10")
STEADY = "198.18.100.0"


def vip_addr(i):
    return "198.18.%d.%d" % (100 + i // 250, i % 250)


def entry(i, alt=False):
    return "198.19.%d.%d" % (i // 250, i % 250), "02:01:%02x:%02x:%02x:%02x" % (
        (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF, 1 if alt else 0)


def variant(which):
    """The VIP indices, each group's priority and the entries (index, alt) of file A or B."""
    vips = list(range(N_VIPS))
    prio = {g: 200 for g in range(N_GROUPS)}
    ents = [(i, False) for i in range(N_ENTRIES)]
    if which == "B":
        vips = [i for i in vips if i != 7] + [N_VIPS]  # vip 7 out, vip 1000 in
        prio[3] = 210
        ents = ([(i, False) for i in range(N_CHURN, N_ENTRIES - N_CHURN)] +
                [(i, True) for i in range(N_ENTRIES - N_CHURN, N_ENTRIES)] +
                [(i, False) for i in range(N_ENTRIES, N_ENTRIES + N_CHURN)])
    return vips, prio, ents


def arpha_conf(which, sock, key, comment="", entries=True):
    vips, prio, ents = variant(which)
    ents = ents if entries else []
    out = ["[Daemon]", "ControlSocket=%s" % sock, "LogTarget=stderr", "LogLevel=notice",
           "RealtimePriority=0", comment,
           "[ARP]", "CacheSize=16384",
           "[Interface lan]", "Device=eth0",
           "[Cluster]", "NodeID=1", "Interface=eth0", "Group=239.192.74.13", "KeyFile=%s" % key,
           "HeartbeatInterval=100ms"]
    for i in vips:
        g = i % N_GROUPS
        out += ["[VIP v%d]" % i, "Address=%s/16" % vip_addr(i), "Interface=lan",
                "Group=g%d" % g, "Priority=%d" % prio[g],
                # garp alone: targeted ARP would ask each of the 10,000 entries
                "Announce=garp"]
    for i, alt in ents:
        ip, mac = entry(i, alt)
        out += ["[ARPEntry]", "Interface=lan", "IP=%s" % ip, "MAC=%s" % mac, "Mode=Static"]
    return "\n".join(out) + "\n"


def keepalived_conf(which, comment=""):
    vips, prio, _ents = variant(which)
    out = ["global_defs {", "  vrrp_version 3", "}", comment]
    for g in range(N_GROUPS):
        mine = [i for i in vips if i % N_GROUPS == g]
        out += ["vrrp_instance g%d {" % g, "  state MASTER", "  interface eth0",
                "  virtual_router_id %d" % (g + 1), "  priority %d" % prio[g],
                "  advert_int 0.1", "  virtual_ipaddress {"]
        out += ["    %s/16 dev eth0" % vip_addr(i) for i in mine]
        out += ["  }", "}"]
    return "\n".join(out) + "\n"


class Probe:
    def __init__(self, lab, target, duration, extra=()):
        from lab import PY, HERE as NETNS
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), PY, "-u", os.path.join(NETNS, "probe.py"),
             target, "--duration", str(duration)] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self, timeout=None):
        out, err = self.p.communicate(timeout=timeout)
        for line in out.splitlines()[::-1]:
            try:
                return json.loads(line)
            except ValueError:
                continue
        raise RuntimeError("probe gave no result: %s %s" % (out[-300:], err[-300:]))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        return self.result(timeout=10)


def log_lines(path, pattern):
    with open(path, errors="replace") as f:
        return [l for l in f.read().splitlines() if pattern in l]


def field(line, key):
    """The number of key=N in a log line, as ms (N in us)."""
    return int(line.split(" %s=" % key)[1].split()[0]) / 1000.0


def wait_answer(lab, ip, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = lab.exec("client", "ping", "-c1", "-W1", ip, check=False)
        if r.returncode == 0:
            return True
        time.sleep(0.2)
    return False


def run_system(name, build, rounds, entries=True):
    from lab import Lab, binary, run, stop_process
    hosts = {"n1": NODE, "client": CLIENT}
    res = {"served": [], "arphad": [], "read": [], "apply": [], "touch": None, "gap": None}
    with Lab("reload-" + name, hosts=hosts) as lab:
        if name == "arpha":
            key = os.path.join(lab.tmp, "cluster.key")
            run([binary("arpha"), "keygen", key])
            sock = os.path.join(lab.tmp, "n1.sock")
            conf = os.path.join(lab.tmp, "arphad.conf")
            logp = os.path.join(lab.tmp, "arphad.log")
            write = lambda w, c="": open(conf, "w").write(  # noqa: E731
                arpha_conf(w, sock, key, c, entries))
            write("A")
            logf = open(logp, "ab")
            p = subprocess.Popen(["ip", "netns", "exec", lab.ns("n1"), binary("arphad"), "-d",
                                  "-f", conf], stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT)
        else:
            conf = os.path.join(lab.tmp, "keepalived.conf")
            logp = os.path.join(lab.tmp, "keepalived.log")
            write = lambda w, c="": open(conf, "w").write(keepalived_conf(w, c))  # noqa
            write("A")
            logf = open(logp, "ab")
            t = lab.tmp
            p = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns("n1"), "keepalived", "-n", "-l", "-D", "-P",
                 "-G", "-f", conf, "-p", os.path.join(t, "ka.pid"),
                 "-r", os.path.join(t, "ka-vrrp.pid"), "-c", os.path.join(t, "ka-check.pid")],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        lab.ip("client", "route", "add", "198.18.0.0/16", "dev", "eth0")
        try:
            if not wait_answer(lab, STEADY, 60) or not wait_answer(lab, vip_addr(N_VIPS - 1), 30):
                with open(logp, errors="replace") as f:
                    tail = f.read().splitlines()[-10:]
                raise RuntimeError("%s: the VIPs never answered; log: %s" % (name, tail))
            time.sleep(1.0)
            steady = Probe(lab, STEADY, 600)
            time.sleep(1.0)
            which = "A"
            for r in range(rounds):
                which = "B" if which == "A" else "A"
                added = vip_addr(N_VIPS if which == "B" else 7)
                write(which)
                ready = os.path.join(lab.tmp, "ready-%d" % r)
                first = Probe(lab, added, 15, extra=("--ready-file", ready))
                time.sleep(0.3)
                t0 = time.monotonic()
                res.setdefault("hups", []).append(t0)
                p.send_signal(signal.SIGHUP)
                while not os.path.exists(ready) and time.monotonic() < t0 + 12:
                    time.sleep(0.01)
                fr = first.stop()
                if fr.get("first_answer_ms") is None:
                    raise RuntimeError("%s: the added VIP %s never answered" % (name, added))
                res["served"].append(fr["start"] + fr["first_answer_ms"] / 1000 - t0)
                time.sleep(1.0)
            if name == "arpha":
                done = log_lines(logp, "event=reload action=done")
                res["arphad"] = [field(l, "us") for l in done]
                res["read"] = [field(l, "read_us") for l in done]
                res["apply"] = [field(l, "apply_us") for l in done]
                write(which, "# a comment alone")
                n = len(res["arphad"])
                p.send_signal(signal.SIGHUP)
                time.sleep(1.0)
                v = [field(l, "us") for l in log_lines(logp, "event=reload action=done")]
                res["touch"] = v[n] if len(v) > n else None
            res["gap"] = steady.stop()
        finally:
            stop_process(p, 20)
            if os.environ.get("RELOAD_KEEP_LOG"):
                import shutil
                shutil.copy(logp, os.environ["RELOAD_KEEP_LOG"])
        if name == "arpha":
            bad = log_lines(logp, "reload_failed") + log_lines(logp, "reload_refused")
            if bad:
                raise RuntimeError("arphad refused a reload: %s" % bad[:3])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=None)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--only", choices=("arpha", "keepalived", "arpha-vips"))
    a = ap.parse_args()
    top = os.path.abspath(os.path.join(HERE, ".."))
    os.environ["ARPHA_BUILD"] = os.path.abspath(a.build or os.path.join(top, "build-bench"))
    systems = [a.only] if a.only else ["arpha", "keepalived"]
    out = {s: run_system(s, a.build, a.rounds) for s in systems if s != "arpha-vips"}
    if a.only in (None, "arpha", "arpha-vips"):
        out["arpha-vips"] = run_system("arpha", a.build, a.rounds, entries=False)
    print("reload: %d VIPs in %d groups, %d rounds (A<->B: 1 VIP added, 1 removed, 1 "
          "priority); the arpha column's file also has %d Static ARP entries (%d added, "
          "%d removed, %d changed a round); \"arpha, VIPs\" has the VIPs alone, as "
          "keepalived's" % (N_VIPS, N_GROUPS, a.rounds, N_ENTRIES, N_CHURN, N_CHURN, N_CHURN))
    med = lambda v: statistics.median(v) if v else float("nan")  # noqa: E731
    print("%-40s %12s %12s %12s %8s" % ("", "arpha", "arpha, VIPs", "keepalived",
                                          "ratio"))
    row = {s: out.get(s) for s in ("arpha", "arpha-vips", "keepalived")}

    def line(label, f):
        va = f(row["arpha"]) if row["arpha"] else None
        vv = f(row["arpha-vips"]) if row["arpha-vips"] else None
        vk = f(row["keepalived"]) if row["keepalived"] else None
        fmt = lambda v: "%.1f" % v if v is not None else "-"  # noqa: E731
        ratio = "%.2f" % (vv / vk) if vv is not None and vk else "-"
        print("%-40s %12s %12s %12s %8s" % (label, fmt(va), fmt(vv), fmt(vk), ratio))

    line("added VIP answers after SIGHUP, median ms", lambda r: med(r["served"]) * 1000)
    line("  max ms", lambda r: max(r["served"]) * 1000)
    line("unchanged VIP: longest gap, ms", lambda r: r["gap"]["longest_gap_ms"])
    for s in out:
        g, h = out[s]["gap"], out[s].get("hups", [])
        near = min(h, key=lambda t: abs(t - g["gap_start"])) if h else None
        print("  %s: the longest gap began %s%s" % (
            s, "%+.1f ms from a SIGHUP" % ((g["gap_start"] - near) * 1000) if near else "-",
            "" if g["recovered"] else " and lasted to the end"))
    line("  probe's own lateness, max ms", lambda r: r["gap"]["late_max_ms"])
    line("  answered %", lambda r: 100.0 * r["gap"]["received"] / max(1, r["gap"]["sent"]))
    for k, label in (("arpha", "with the entries"), ("arpha-vips", "VIPs alone")):
        if not row[k]:
            continue
        v = row[k]["arphad"]
        print("arphad's own reload time, %s: median %.1f ms (read and checked %.1f, applied "
              "%.1f), max %.1f ms; a file changed by a comment alone: %s ms" %
              (label, med(v), med(row[k]["read"]), med(row[k]["apply"]),
               max(v) if v else float("nan"),
               "%.1f" % row[k]["touch"] if row[k]["touch"] is not None else "-"))
    print("ratio: arpha with the VIPs alone / keepalived (the same VIPs)")


if __name__ == "__main__":
    main()
