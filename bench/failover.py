#!/usr/bin/python3
"""Address failover, arpha against keepalived (VRRPv3), real processes in
network namespaces (tests/netns/vipnet.py): two nodes, n1 (priority 200,
master) and n2 (priority 100, backup), share 198.18.0.100/24; a client
asks it for an ICMP echo every millisecond (tests/netns/probe.py). The
client is either a plain Linux host or one that ignores gratuitous ARP
(drop_gratuitous_arp=1); either way it holds a fresh entry for the VIP
that points at n1, and it is alone on the LAN with the nodes (see
one_run). Then n1 fails,
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
  bench/failover.py [BUILD_DIR] --soak SECONDS [--interval 20ms]

Prints a table: interval | scenario | arpha median gap | keepalived median
gap | ratio (arpha / keepalived) | keepalived target. --soak runs each
system for SECONDS at a 20 ms interval with n1's CPU saturated by busy
loops (one per core) and counts the transitions the backup went through
(each one a spurious takeover or its undoing). Needs root and keepalived
(tools/deps.sh bench). The full run takes about 25 minutes, most of it
waiting for the gratuitous-ARP-ignoring client of keepalived (20-50 s).
"""
import argparse
import os
import random
import shutil
import signal
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
CLIENT_NAMES = {"client": "plain neighbour", "gclient": "neighbour ignoring gratuitous ARP"}
MAX_GAP = 75.0  # seconds a client may stay without answers before the run gives up


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def notify_script(lab, role):
    """A script that appends 'TIME ARGS...' to a file; returns (script, file)."""
    out = os.path.join(lab.tmp, "%s.notify" % role)
    # arphad runs only a script that only root can change: not under /tmp
    path = lab.script("notify-%s.sh" % role, '#!/bin/sh\necho "$(date +%%s.%%N) $*" >> %s\n' % out)
    return path, out


def read_states(path):
    """[(time, state)] from a notify file (state lower case)."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    out = []
    for l in lines:
        w = l.split()
        if len(w) < 3:
            continue
        # keepalived: TIME INSTANCE NAME STATE PRIO; arphad: TIME NAME STATE PRIO
        st = w[3] if w[1] in ("INSTANCE", "GROUP") and len(w) > 3 else w[2]
        out.append((float(w[0]), st.lower()))
    return out


class Arpha:
    name = "arpha"

    def __init__(self, lab, interval_ms, log_level="notice"):
        from lab import binary, run
        self.lab, self.interval_ms = lab, interval_ms
        self.key = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", self.key])
        self.d, self.notify = {}, {}
        self.log_level = log_level

    def start(self, role):
        import vipnet
        script, self.notify[role] = notify_script(self.lab, role)
        conf = vipnet.arpha_config(role, self.key, heartbeat="%gms" % self.interval_ms,
                                   notify=script, log_level=self.log_level)
        self.d[role] = self.lab.arphad(role, config=conf, name=role)

    def state(self, role):
        import vipnet
        return vipnet.vip_state(self.d[role])

    def crash(self, role):
        import vipnet
        t = vipnet.crash(self.lab, role)
        self.d[role].killed = True
        return t

    def graceful(self, role):
        t = time.monotonic()
        self.d[role].p.send_signal(signal.SIGTERM)
        return t

    def transitions(self, role):
        return read_states(self.notify[role])

    def diagnose(self, role):
        d = self.d[role]
        return "arphad %s; log tail: %s" % (
            "running" if d.alive() else "exited with %s" % d.p.returncode,
            " | ".join(d.log().strip().splitlines()[-8:]))

    def problems(self):
        return self.lab.daemon_problems()


class Keepalived:
    name = "keepalived"
    CONF = """global_defs {
    router_id %(role)s
    vrrp_version 3
    script_user root
    enable_script_security
}
vrrp_instance VI_1 {
    state %(state)s
    interface eth0
    virtual_router_id 51
    priority %(prio)d
    advert_int %(adv)s
    virtual_ipaddress {
        %(vip)s dev eth0
    }
    notify %(notify)s
}
"""

    def __init__(self, lab, interval_ms, log_level=None):
        self.lab, self.interval_ms = lab, interval_ms
        self.p, self.notify, self.logs = {}, {}, {}

    def start(self, role):
        import vipnet
        _id, _ip, _mac, prio = vipnet.NODES[role]
        script, self.notify[role] = notify_script(self.lab, role)
        conf = os.path.join(self.lab.tmp, "keepalived-%s.conf" % role)
        with open(conf, "w") as f:
            f.write(self.CONF % dict(role=role, state="MASTER" if prio > 100 else "BACKUP",
                                     prio=prio, adv="%g" % (self.interval_ms / 1000.0),
                                     vip=vipnet.VIP_CIDR, notify=script))
        t = self.lab.tmp
        self.logs[role] = os.path.join(t, "keepalived-%s.log" % role)
        logf = open(self.logs[role], "ab")
        self.p[role] = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.ns(role), "keepalived", "-n", "-l", "-D", "-P",
             "-G", "-f", conf, "-p", os.path.join(t, "ka-%s.pid" % role),
             "-r", os.path.join(t, "ka-%s-vrrp.pid" % role),
             "-c", os.path.join(t, "ka-%s-check.pid" % role)],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

    def state(self, role):
        s = read_states(self.notify[role])
        return s[-1][1] if s else None

    def crash(self, role):
        import vipnet
        return vipnet.crash(self.lab, role)

    def graceful(self, role):
        t = time.monotonic()
        self.p[role].send_signal(signal.SIGTERM)
        return t

    def transitions(self, role):
        return read_states(self.notify[role])

    def diagnose(self, role):
        with open(self.logs[role], errors="replace") as f:
            tail = f.read().strip().splitlines()[-8:]
        p = self.p[role]
        return "keepalived %s; log tail: %s" % (
            "running" if p.poll() is None else "exited with %s" % p.returncode, " | ".join(tail))

    def problems(self):
        out = []
        for r, p in self.p.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        return out


SYSTEMS = {"arpha": Arpha, "keepalived": Keepalived}


def wait_state(sysm, want, timeout):
    end = time.monotonic() + timeout
    while True:
        got = {r: sysm.state(r) for r in want}
        if got == want:
            return True, got
        if time.monotonic() > end:
            return False, got
        time.sleep(0.02)


def start_pair(lab, sysm, interval_ms):
    """n1 then n2; wait for n1 master and n2 backup, and a few heartbeats."""
    import vipnet
    sysm.start("n1")
    ok, got = wait_state(sysm, {"n1": "master"}, 10 + 5 * interval_ms / 1000)
    if not ok:
        raise RuntimeError("%s: n1 did not become master: %s" % (sysm.name, got))
    sysm.start("n2")
    ok, got = wait_state(sysm, {"n1": "master", "n2": "backup"}, 10 + 5 * interval_ms / 1000)
    if not ok:
        raise RuntimeError("%s: not n1 master + n2 backup: %s" % (sysm.name, got))
    time.sleep(3 * interval_ms / 1000 + 0.2)
    if not vipnet.node_has_vip(lab, "n1", dev=None):
        raise RuntimeError("%s: n1 is master but has no %s" % (sysm.name, vipnet.VIP))


def one_run(system, interval_ms, scenario, rng, client):
    """One failover seen by one client (alone on the LAN: the new master's
    own ARP requests, sent with the VIP as source address to reach another
    client, would update this client's entry as a side effect). Returns
    the client's longest gap in ms, None when answers did not come back."""
    import vipnet
    from lab import Lab
    with Lab("fo", hosts=vipnet.hosts((client,))) as lab:
        vipnet.setup_clients(lab, (client,))
        sysm = SYSTEMS[system](lab, interval_ms)
        try:
            start_pair(lab, sysm, interval_ms)
            n1_mac = vipnet.NODES["n1"][2]
            e = vipnet.fresh_entry(lab, client)
            if not e or e.get("lladdr") != n1_mac:
                raise RuntimeError("%s's entry for the VIP is %s, not n1's MAC" % (client, e))
            probe = vipnet.Probe(lab, client, duration=MAX_GAP + 30)
            if not probe.wait_answers(steady=0.3):
                raise RuntimeError("%s gets no answers from the VIP" % client)
            time.sleep(rng.uniform(0, interval_ms / 1000))
            t = sysm.crash("n1") if scenario == "crash" else sysm.graceful("n1")
            probe.wait_recovered(t, 5 * interval_ms / 1000 + 0.5, MAX_GAP)
            r = probe.stop()
            log("    %s" % vipnet.gap_line(client, r, t))
            st = sysm.state("n2")
            if st != "master":
                log("    n2 is %s after the failure, not master; %s" % (st, sysm.diagnose("n2")))
                return None
            return r["longest_gap_ms"] if r["recovered"] else None
        finally:
            probs = sysm.problems()
            if probs:
                log("    problems: %s" % "; ".join(probs))


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
    clients = ("client", "gclient")
    gaps = {}  # (system, interval, scenario, client) -> [ms]
    for iv in intervals:
        for sc in scenarios:
            for c in clients:
                for i in range(args.runs):
                    for s in systems:
                        log("%s %s %s %s run %d/%d" % (s, fmt_interval(iv), sc, c, i + 1,
                                                        args.runs))
                        try:
                            r = one_run(s, iv, sc, rng, c)
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
    print()
    print("All runs (ms):")
    for key in sorted(gaps, key=lambda k: (intervals.index(k[1]), scenarios.index(k[2]),
                                           k[3], k[0])):
        s, iv, sc, c = key
        print("  %-10s %-6s %-8s %-8s %s" % (s, fmt_interval(iv), sc, c, " ".join(
            "-" if v is None else "%.1f" % v for v in gaps[key])))


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
        sysm = SYSTEMS[system](lab, interval_ms)
        busy = []
        try:
            start_pair(lab, sysm, interval_ms)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=None, help="arpha build dir (default build-bench)")
    ap.add_argument("--quick", action="store_true", help="1 run each, intervals 100ms,20ms")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--intervals", default="1s,100ms,20ms")
    ap.add_argument("--scenarios", default="crash,graceful")
    ap.add_argument("--only", choices=sorted(SYSTEMS))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--soak", type=int, metavar="SECONDS")
    ap.add_argument("--interval", default="20ms", help="soak interval (default 20ms)")
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
    if args.soak:
        soak(args, systems)
    else:
        bench(args, systems)


if __name__ == "__main__":
    main()
