#!/usr/bin/python3
"""What arphad tells systemd (arphad.service is Type=notify with WatchdogSec=),
heard on a notify socket of the test's own, as systemd would hear it: one node
n1 with the VIP 198.18.0.100/24 alone in its cluster, HeartbeatInterval=500ms,
so its VIP group stays in init for 1.5 s before its first decision.

  ready      READY=1 comes once, after the interfaces are guarded (the
             nftables table exists) and after the VIP group's first
             decision (the log has event=vip_backup before event=ready,
             and `arpha vip` shows no group in init), with a STATUS= line
  watchdog   with WATCHDOG_USEC=400000 the loop pings WATCHDOG=1 every
             200 ms: no gap of 400 ms (systemd's limit) in 3 s; while the
             loop cannot run (SIGSTOP) no ping comes, so systemd restarts a
             hung arphad
  nowatchdog without WATCHDOG_USEC no ping at all
  stopping   SIGTERM: STOPPING=1 before arphad exits
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402
from vipnet import NODES  # noqa: E402
from notifysock import NotifySocket, start_notified  # noqa: E402

SUITE = "netns/sdnotify"
need_root(SUITE)
res = Results(SUITE)

HOSTS = {"n1": (NODES["n1"][1], NODES["n1"][2]), "client": vipnet.CLIENTS["client"]}


def start(d, notify_path, watchdog_usec=None):
    return start_notified(d.lab, d, notify_path, watchdog_usec)


def log_index(d, pattern):
    """The line number of the first log line matching pattern, or None."""
    import re
    r = re.compile(pattern)
    for i, l in enumerate(d.log().splitlines()):
        if r.search(l):
            return i
    return None


def run_ready_and_watchdog(lab, key):
    path = os.path.join(lab.tmp, "notify.sock")
    ns = NotifySocket(path)
    conf = vipnet.arpha_config("n1", key, heartbeat="500ms")
    d = lab.arphad("n1", config=conf, name="wd", start=False)
    try:
        t0 = start(d, path, watchdog_usec=400000)
        with res.case("ready/after-guard-and-first-decision"):
            got = wait_for(lambda: ns.with_line("READY=1"), 10)
            expect(got, "no READY=1 in 10 s; heard %s; log: %s", ns.all(), d.log()[-1500:])
            # at READY: the guard table exists and the group has decided
            expect("table arp arpha" in lab.nft_tables("n1"), "READY=1 without the guard table")
            state = vipnet.vip_state(d)
            expect(state in ("backup", "master"), "READY=1 while vip1 is %s", state)
            ready_at = got[0] - t0
            expect(ready_at >= 1.0, "READY=1 %.2f s after the start: before the 1.5 s of init "
                   "can have passed", ready_at)
            i_dec, i_ready = log_index(d, r"event=vip_backup "), log_index(d, r"event=ready ")
            expect(i_dec is not None and i_ready is not None and i_dec < i_ready,
                   "log order: vip_backup at line %s, ready at line %s: %s", i_dec, i_ready,
                   d.log()[-1500:])
            info("%s READY=1 %.2f s after the start" % (SUITE, ready_at))
        with res.case("ready/once-with-status"):
            time.sleep(0.6)  # the group becomes master meanwhile: no second READY
            expect(len(ns.with_line("READY=1")) == 1, "READY=1 %d times: %s",
                   len(ns.with_line("READY=1")), ns.all())
            ready_msg = [m for t, m in ns.all() if "READY=1" in m.split("\n")][0]
            expect("STATUS=guarding 1 interface, in the cluster" in ready_msg,
                   "READY message: %r", ready_msg)

        with res.case("watchdog/pings-every-half-interval"):
            a = time.monotonic()
            time.sleep(3)
            b = time.monotonic()
            pings = [t for t in ns.with_line("WATCHDOG=1") if a <= t <= b]
            gaps = [y - x for x, y in zip([a] + pings, pings + [b])]
            expect(len(pings) >= 12, "%d pings in 3 s (every 200 ms wanted)", len(pings))
            expect(max(gaps) < 0.4, "a gap of %.0f ms between pings: systemd would restart "
                   "arphad", max(gaps) * 1000)
            expect(d.log_lines(r"event=watchdog interval_ms=400 ping_ms=200"),
                   "no event=watchdog line: %s", d.log()[-800:])
            info("%s %d pings in 3 s, largest gap %.0f ms" % (SUITE, len(pings),
                                                            max(gaps) * 1000))
        with res.case("watchdog/no-ping-from-a-stopped-loop"):
            os.kill(d.p.pid, signal.SIGSTOP)
            try:
                a = time.monotonic()
                time.sleep(1)
                b = time.monotonic()
            finally:
                os.kill(d.p.pid, signal.SIGCONT)
            late = [t for t in ns.with_line("WATCHDOG=1") if a + 0.05 <= t <= b]
            expect(not late, "%d pings while arphad was stopped", len(late))
            expect(wait_for(lambda: [t for t in ns.with_line("WATCHDOG=1") if t > b], 1),
                   "no ping after SIGCONT")
        with res.case("stopping/on-sigterm"):
            rc = d.stop()
            expect(rc == 0, "arphad exited with %s", rc)
            expect(ns.with_line("STOPPING=1"), "no STOPPING=1: %s", ns.all()[-3:])
    finally:
        if d.alive():
            d.stop()
        ns.close()
    res.daemon_checks(lab, name="watchdog/arphad-clean")


def run_no_watchdog(lab, key):
    path = os.path.join(lab.tmp, "notify2.sock")
    ns = NotifySocket(path)
    conf = vipnet.arpha_config("n1", key, heartbeat="20ms")
    d = lab.arphad("n1", config=conf, name="nowd", start=False)
    try:
        start(d, path)
        with res.case("nowatchdog/ready-and-no-ping"):
            expect(wait_for(lambda: ns.with_line("READY=1"), 10), "no READY=1: %s; log: %s",
                   ns.all(), d.log()[-1000:])
            time.sleep(0.5)
            expect(not ns.with_line("WATCHDOG=1"), "pings without WATCHDOG_USEC")
            expect(not d.log_lines(r"event=watchdog"), "an event=watchdog line without it")
        res.daemon_checks(lab, alive=d, name="nowatchdog/arphad-clean")
    finally:
        if d.alive():
            d.stop()
        ns.close()


with Lab("sdnotify", hosts=HOSTS) as lab:
    key = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", key])
    run_ready_and_watchdog(lab, key)
    run_no_watchdog(lab, key)
res.exit()
