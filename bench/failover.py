#!/usr/bin/python3
"""Address failover, arpha against keepalived (VRRPv3), real processes in
network namespaces (tests/netns/vipnet.py): two nodes, n1 (priority 200,
master) and n2 (priority 100, backup), share 198.18.0.100/24; a client
asks it for an ICMP echo every millisecond (tests/netns/probe.py). The
client is a plain Linux host, one that ignores gratuitous ARP
(drop_gratuitous_arp=1), or one running arphad with
UnsolicitedARPReplies=DropLog or =Verify (the default); either way it holds a fresh entry for
the VIP that points at n1, and it is alone on the LAN with the nodes (see
vipnet.one_run). Then n1 fails,
after a random delay within one heartbeat so the failure falls at every
point of the cycle:

  crash     n1 goes silent on the wire at once and its daemon gets SIGKILL
  graceful  SIGTERM to n1's daemon

and each client's longest gap in answers is measured. arpha and
keepalived run at the same heartbeat / advertisement interval, each with
its default detection settings (arpha: MasterDeadInterval=2, DeadInterval=3;
keepalived: vrrp_version 3, everything else default).

  bench/failover.py [BUILD_DIR] [--quick] [--runs N] [--intervals 1s,100ms,20ms]
                    [--scenarios crash,graceful] [--only arpha|keepalived]
                    [--clients client,gclient,aclient,vclient]
  bench/failover.py [BUILD_DIR] --soak SECONDS [--interval 20ms]
  bench/failover.py [BUILD_DIR] --paths [--runs N] [--intervals ...]

Prints a table: interval | scenario | arpha median gap | keepalived median
gap | ratio (arpha / keepalived) | keepalived target; then per interval the
neighbour-compatibility matrix (neighbours x system and scenario, the
Verify neighbour's gap also as a ratio to the plain one's). --soak runs each
system for SECONDS at a 20 ms interval with n1's CPU saturated by busy
loops (one per core) and counts the transitions the backup went through
(each one a spurious takeover or its undoing). --paths times arpha's crash
gap seen by the plain neighbour with the cluster on two paths (a sync
link between the nodes, then the LAN) against one (the LAN), runs
interleaved (target: at most 1.1x). Needs root and keepalived
(tools/deps.sh bench). The full run takes about an hour, most of it
waiting for the neighbours that do not follow (the gratuitous-ARP-ignoring
one behind keepalived, the DropLog arphad: 20-50 s each).
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))

TARGETS = {  # keepalived, measured elsewhere: (scenario, client) -> {interval ms: text}
    ("crash", "client"): {1000: "~3100 ms", 100: "~310 ms", 20: "~64 ms"},
    ("graceful", "client"): {1000: "~611 ms", 100: "~63 ms", 20: "~18 ms"},
    ("crash", "gclient"): {1000: "22-51 s", 100: "22-51 s", 20: "22-51 s"},
    ("graceful", "gclient"): {1000: "22-51 s", 100: "22-51 s", 20: "22-51 s"},
}
CLIENT_NAMES = {"client": "plain neighbour", "gclient": "neighbour ignoring gratuitous ARP",
                "aclient": "neighbour running arphad, UnsolicitedARPReplies=DropLog",
                "vclient": "neighbour running arphad, UnsolicitedARPReplies=Verify (default)"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_ms(v):
    if v is None:
        return "no recovery"
    if v >= 10000:
        return "%.1f s" % (v / 1000)
    return "%.0f ms" % v if v >= 100 else "%.1f ms" % v


def median(vals):
    if not vals:
        return None
    if any(v is None for v in vals):
        fin = sorted(v for v in vals if v is not None)
        # a run without recovery counts as longer than any
        vals = fin + [float("inf")] * (len(vals) - len(fin))
    m = statistics.median_low(vals) if len(vals) % 2 == 0 else statistics.median(vals)
    return None if m == float("inf") else m


def fmt_interval(ms):
    return "%gs" % (ms / 1000) if ms >= 1000 else "%gms" % ms


def bench(args, systems):
    import vipnet
    rng = random.Random(args.seed)
    intervals = [vipnet.parse_ms(x) for x in args.intervals.split(",")]
    scenarios = args.scenarios.split(",")
    clients = args.clients.split(",")
    gaps = {}  # (system, interval, scenario, client) -> [ms]
    for iv in intervals:
        for sc in scenarios:
            for c in clients:
                for i in range(args.runs):
                    for s in systems:
                        log("%s %s %s %s run %d/%d" % (s, fmt_interval(iv), sc, c, i + 1,
                                                        args.runs))
                        try:
                            r = vipnet.one_run(s, iv, sc, rng, c, log=log)
                        except Exception as e:  # noqa: BLE001 - a bad run must not end it
                            log("    run failed: %s" % e)
                            r = None
                        gaps.setdefault((s, iv, sc, c), []).append(r)
    print()
    print("Longest gap in answers from the VIP seen by a client probing every 1 ms; median of "
          "%d run(s); failure at a random point of the heartbeat cycle; arpha %s with its "
          "default detection settings (nothing set but HeartbeatInterval), keepalived %s "
          "(vrrp_version 3, advert_int = the interval, defaults otherwise)." % (
              args.runs, arpha_version(), keepalived_version()))
    print()
    print("| interval | scenario | arpha median gap | keepalived median gap | ratio | "
          "keepalived target |")
    print("|---|---|---:|---:|---:|---|")
    for iv in intervals:
        for sc in scenarios:
            for c in clients:
                a = median(gaps.get(("arpha", iv, sc, c), []))
                k = median(gaps.get(("keepalived", iv, sc, c), []))
                ratio = "%.3g" % (a / k) if a is not None and k else "-"
                na = "arpha" not in systems
                print("| %s | %s, %s | %s | %s | %s | %s |" % (
                    fmt_interval(iv), sc, CLIENT_NAMES[c], "not run" if na else fmt_ms(a),
                    "not run" if "keepalived" not in systems else fmt_ms(k), ratio,
                    TARGETS.get((sc, c), {}).get(int(iv), "-")), flush=True)
    matrix(gaps, intervals, scenarios, clients, systems)
    print()
    print("All runs (ms):")
    for key in sorted(gaps, key=lambda k: (intervals.index(k[1]), scenarios.index(k[2]),
                                           k[3], k[0])):
        s, iv, sc, c = key
        print("  %-10s %-6s %-8s %-8s %s" % (s, fmt_interval(iv), sc, c, " ".join(
            "-" if v is None else "%.1f" % v for v in gaps[key])))


def matrix(gaps, intervals, scenarios, clients, systems):
    """The neighbour-compatibility matrix: per interval, neighbours x (system,
    scenario), the median gap; the Verify neighbour's beside the plain one's."""
    cols = [(s, sc) for s in systems for sc in scenarios]
    for iv in intervals:
        print()
        print("Neighbour compatibility at %s (median longest gap; for the Verify neighbour, "
              "its ratio to the plain neighbour's in the same column):" % fmt_interval(iv))
        print()
        print("| neighbour | %s |" % " | ".join("%s %s" % c for c in cols))
        print("|---|%s" % "---:|" * len(cols))
        for c in clients:
            cells = []
            for s, sc in cols:
                m = median(gaps.get((s, iv, sc, c), []))
                text = fmt_ms(m) if gaps.get((s, iv, sc, c)) else "not run"
                p = median(gaps.get((s, iv, sc, "client"), []))
                if c == "vclient" and m is not None and p:
                    text += " (%.2fx)" % (m / p)
                cells.append(text)
            print("| %s | %s |" % (CLIENT_NAMES.get(c, c), " | ".join(cells)), flush=True)


def arpha_version():
    from lab import binary
    p = subprocess.run([binary("arphad"), "-V"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return (p.stdout.split() or ["?"])[-1]


def keepalived_version():
    p = subprocess.run(["keepalived", "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    w = p.stdout.split()
    return w[1] if len(w) > 1 else "?"


def soak_one(system, seconds, interval_ms):
    import vipnet
    from lab import Lab, PY
    with Lab("soak", hosts=vipnet.hosts(("client",))) as lab:
        sysm = vipnet.SYSTEMS[system](lab, interval_ms)
        busy = []
        try:
            vipnet.start_pair(lab, sysm, interval_ms)
            before = {r: len(sysm.transitions(r)) for r in ("n1", "n2")}
            sched = scheduling(lab, "n1")
            probe = vipnet.Probe(lab, "client", duration=seconds + 60, status_ms=1000)
            probe.wait_answers(steady=0.3)
            for _ in range(os.cpu_count() or 1):
                busy.append(subprocess.Popen(["ip", "netns", "exec", lab.ns("n1"), PY, "-c",
                                              "while True: pass"]))
            log("  %s: %d busy loops on n1 for %d s" % (system, len(busy), seconds))
            t0, wall0 = time.monotonic(), time.time()
            while time.monotonic() - t0 < seconds:
                time.sleep(1)
            for b in busy:
                b.kill()
                b.wait()
            busy = []
            r = probe.stop()
            tr = {rl: sysm.transitions(rl)[before[rl]:] for rl in ("n1", "n2")}
            end_states = {rl: sysm.state(rl) for rl in ("n1", "n2")}
            return dict(n2=tr["n2"], n1=tr["n1"], gap=r["longest_gap_ms"],
                        recovered=r["recovered"], sent=r["sent"], received=r["received"],
                        end=end_states, sched=sched, t0=wall0)
        finally:
            for b in busy:
                b.kill()
                b.wait()
            probs = sysm.problems()
            if probs:
                log("    problems: %s" % "; ".join(probs))


def scheduling(lab, role):
    """'comm policy/rtprio' of the processes in role's namespace."""
    from lab import run
    pids = run(["ip", "netns", "pids", lab.ns(role)], check=False).stdout.split()
    if not pids:
        return "-"
    p = run(["ps", "-o", "comm=,cls=,rtprio=", "-p", ",".join(pids)], check=False)
    return ", ".join("%s %s/%s" % tuple(l.split()[:3]) for l in p.stdout.splitlines()
                     if len(l.split()) >= 3)


def soak(args, systems):
    import vipnet
    iv = vipnet.parse_ms(args.interval)
    print("Soak: %d s per system at %s heartbeats / adverts, n1 (master) CPU saturated by %d "
          "busy loops (one per core)." % (args.soak, fmt_interval(iv), os.cpu_count() or 1))
    print()
    print("| system | backup's transitions | backup became master | master's transitions | "
          "client's longest gap | answered | states at the end | n1's scheduling |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for s in systems:
        try:
            r = soak_one(s, args.soak, iv)
        except Exception as e:  # noqa: BLE001
            print("| %s | failed: %s | | | | | | |" % (s, e), flush=True)
            continue
        masters = sum(1 for _t, st in r["n2"] if st == "master")
        for rl in ("n1", "n2"):
            if r[rl]:
                log("  %s: %s went through: %s" % (s, rl, ", ".join(
                    "%s at +%.1f s" % (st, t - r["t0"]) for t, st in r[rl])))
        print("| %s | %d | %d | %d | %s | %d/%d | n1 %s, n2 %s | %s |" % (
            s, len(r["n2"]), masters, len(r["n1"]), fmt_ms(r["gap"]), r["received"], r["sent"],
            r["end"]["n1"], r["end"]["n2"], r["sched"]), flush=True)


def paths_row(args):
    """arpha's crash gap seen by the plain neighbour with the cluster on two
    paths (a sync link, then the LAN) against one (the LAN), runs
    interleaved; the target is at most 1.1x."""
    import vipnet
    rng = random.Random(args.seed)
    intervals = [vipnet.parse_ms(x) for x in args.intervals.split(",")]
    gaps = {}
    for iv in intervals:
        for i in range(args.runs):
            for paths in (1, 2):
                log("arpha %s crash client, %d path%s, run %d/%d" % (
                    fmt_interval(iv), paths, "s" if paths > 1 else "", i + 1, args.runs))
                try:
                    r = vipnet.one_run("arpha", iv, "crash", rng, "client", log=log, paths=paths)
                except Exception as e:  # noqa: BLE001 - a bad run must not end it
                    log("    run failed: %s" % e)
                    r = None
                gaps.setdefault((iv, paths), []).append(r)
    print()
    print("arpha, crash, plain neighbour: the cluster on one path (the LAN) and on two (a "
          "sync link and the LAN); median longest gap of %d run(s)." % args.runs)
    print()
    print("| interval | one path | two paths | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for iv in intervals:
        one, two = median(gaps.get((iv, 1), [])), median(gaps.get((iv, 2), []))
        ratio = "%.2f" % (two / one) if one and two is not None else "-"
        print("| %s | %s | %s | %s | <= 1.1 |" % (fmt_interval(iv), fmt_ms(one), fmt_ms(two),
                                                  ratio), flush=True)
    print()
    print("All runs (ms):")
    for (iv, paths), v in sorted(gaps.items()):
        print("  %-6s %d path(s)  %s" % (fmt_interval(iv), paths, " ".join(
            "%.1f" % x if x is not None else "none" for x in v)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=None, help="arpha build dir (default build-bench)")
    ap.add_argument("--quick", action="store_true", help="1 run each, intervals 100ms,20ms")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--intervals", default="1s,100ms,20ms")
    ap.add_argument("--scenarios", default="crash,graceful")
    ap.add_argument("--clients", default="client,gclient,aclient,vclient",
                    help="neighbour kinds (tests/netns/vipnet.py)")
    ap.add_argument("--only", choices=("arpha", "keepalived"))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--soak", type=int, metavar="SECONDS")
    ap.add_argument("--interval", default="20ms", help="soak interval (default 20ms)")
    ap.add_argument("--paths", action="store_true",
                    help="arpha's crash gap with the cluster on two paths against one")
    args = ap.parse_args()
    top = os.path.dirname(HERE)
    os.environ["ARPHA_BUILD"] = os.path.abspath(args.build or os.path.join(top, "build-bench"))
    if args.quick:
        args.runs, args.intervals = 1, "100ms,20ms"
    if os.geteuid() != 0:
        sys.exit("bench/failover.py: needs root (network namespaces)")
    import vipnet
    systems = [args.only] if args.only else ["arpha", "keepalived"]
    if "keepalived" in systems and not shutil.which("keepalived"):
        print("keepalived is not installed (tools/deps.sh bench): arpha only", flush=True)
        systems.remove("keepalived")
    if "arpha" in systems and not vipnet.arphad_accepts_vip():
        print("arphad in %s does not accept [VIP] yet: keepalived only" %
              os.environ["ARPHA_BUILD"], flush=True)
        systems.remove("arpha")
    if not systems:
        sys.exit("bench/failover.py: nothing to run")
    if args.paths:
        paths_row(args)
    elif args.soak:
        soak(args, systems)
    else:
        bench(args, systems)


if __name__ == "__main__":
    main()
