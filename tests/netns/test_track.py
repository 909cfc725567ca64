#!/usr/bin/python3
"""Health-checked VIPs (issue 16): n1 (Priority 200) and n2 (Priority 100)
share the VIP 198.18.0.100/24 at 20 ms heartbeats; a client on the switch
asks it for an ICMP echo every millisecond.

  script      [Track web] Script= (exits 0 while a file of the test exists,
              Interval=200ms, Fall=2, Rise=2) followed by the VIP with
              Track=web:150: the file removed on n1, n1's priority drops to
              50 and n2 takes the address; the file back, n1 takes it again
              (Preempt=yes); the client's echoes come back both times; the
              log says track_failing (with the exit status) and
              track_healthy; `arpha -j vip` shows the check failing, the
              priority 50 and "-150 web"
  fault       [Track maint] File= (a number, 0 healthy) with weight 0: a 1
              in n1's file puts n1 in fault (priority 0), n2 takes over; 0
              again and n1 is back
  control     the same file removed on n2 only: n2's priority drops, n1
              keeps the address (a failing check on the backup moves nothing)
  timeout     a Script= that hangs past Timeout= counts as failing ("killed
              at Timeout=")
  demote      `arpha vip demote web` on n1: n2 takes over; `arpha vip
              promote web`: n1 back; both logged; a group that does not
              exist and N out of range are refused
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402

SUITE = "netns/track"
need_root(SUITE)
res = Results(SUITE)

CHECK_SH = """#!/bin/sh
# healthy while the file exists; hangs while %(dir)s/hang-$1 exists
[ -e %(dir)s/hang-$1 ] && sleep 30
exec test -e %(dir)s/ok-$1
"""


def vip(d):
    return vipnet.vip_view(d) or {}


def wait_master(daemons, master, backup, timeout=5.0):
    ok, st = vipnet.wait_vip_states(daemons, {master: "master", backup: "backup"},
                                    timeout=timeout)
    return ok, st


def main():
    with Lab("track", hosts=vipnet.hosts(("client",))) as lab:
        vipnet.setup_clients(lab, ("client",))
        sdir = lab.script_dir()
        check = lab.script("check.sh", CHECK_SH % {"dir": sdir})
        for role in ("n1", "n2"):
            open(os.path.join(sdir, "ok-%s" % role), "w").close()
            with open(os.path.join(lab.tmp, "maint-%s" % role), "w") as f:
                f.write("0\n")
        key = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", key])
        daemons = {}
        for role in ("n1", "n2"):
            extra = ("[Track web]\nScript=%s %s\nInterval=200ms\nTimeout=150ms\nFall=2\nRise=2\n"
                     "[Track maint]\nFile=%s\nInterval=200ms\n" % (
                         check, role, os.path.join(lab.tmp, "maint-%s" % role)))
            conf = vipnet.arpha_config(role, key, heartbeat="20ms", vip="Track=web:150 maint\n",
                                       extra=extra, log_level="info")
            daemons[role] = lab.arphad(role, config=conf, name=role)
        n1, n2 = daemons["n1"], daemons["n2"]

        with res.case("start"):
            ok, st = wait_master(daemons, "n1", "n2", timeout=10)
            expect(ok, "states at start: %s", st)
            v = vip(n1)
            expect(v.get("priority") == 200 and v.get("health") == "ok",
                   "n1 at start: priority %s, health %r", v.get("priority"), v.get("health"))
            checks = {c["name"]: c for c in v.get("checks", [])}
            expect(set(checks) == {"web", "maint"} and checks["web"]["weight"] == 150 and
                   checks["maint"]["weight"] == 0, "checks: %s", checks)

        probe = vipnet.Probe(lab, "client", duration=60.0)
        try:
            with res.case("probe-start"):
                expect(probe.wait_answers(timeout=5.0), "no answers from the VIP")

            with res.case("script-fails-moves"):
                os.unlink(os.path.join(sdir, "ok-n1"))
                ok, st = wait_master(daemons, "n2", "n1", timeout=3.0)
                expect(ok, "after n1's check failed: %s", st)
                v = vip(n1)
                web = next((c for c in v.get("checks", []) if c["name"] == "web"), {})
                expect(v.get("priority") == 50 and v.get("configured_priority") == 200 and
                       v.get("health") == "-150 web" and web.get("state") == "failing" and
                       "exit status 1" in web.get("last_failure", ""),
                       "n1: priority %s, health %r, web %s", v.get("priority"),
                       v.get("health"), web)
                expect(probe.wait_answers(timeout=3.0), "the client's echoes did not come back")
                expect(n1.wait_log(r'event=track_failing track=web reason="exit status 1"',
                                   timeout=1.0), "no track_failing line in n1's log")

            with res.case("script-recovers-back"):
                open(os.path.join(sdir, "ok-n1"), "w").close()
                ok, st = wait_master(daemons, "n1", "n2", timeout=3.0)
                expect(ok, "after n1's check recovered: %s", st)
                expect(vip(n1).get("priority") == 200, "n1's priority %s",
                       vip(n1).get("priority"))
                expect(probe.wait_answers(timeout=3.0), "the client's echoes did not come back")
                expect(n1.wait_log("event=track_healthy track=web", timeout=1.0),
                       "no track_healthy line in n1's log")

            with res.case("control-backup-fails"):
                os.unlink(os.path.join(sdir, "ok-n2"))
                deadline = time.monotonic() + 1.5
                while time.monotonic() < deadline and vip(n2).get("priority") != 1:
                    time.sleep(0.05)
                v2 = vip(n2)
                expect(v2.get("priority") == 1, "n2's priority %s (100 - 150, at least 1)",
                       v2.get("priority"))
                time.sleep(0.5)
                ok, st = wait_master(daemons, "n1", "n2", timeout=0.5)
                expect(ok, "a failing check on the backup moved the VIP: %s", st)
                open(os.path.join(sdir, "ok-n2"), "w").close()

            with res.case("file-fault"):
                with open(os.path.join(lab.tmp, "maint-n1"), "w") as f:
                    f.write("1\n")
                ok, st = wait_master(daemons, "n2", "n1", timeout=3.0)
                v = vip(n1)
                expect(v.get("state") == "fault" and v.get("priority") == 0,
                       "n1 with maint=1: state %s priority %s (want fault, 0); states %s",
                       v.get("state"), v.get("priority"), st)
                expect(vipnet.vip_state(n2) == "master", "n2: %s", vipnet.vip_state(n2))
                maint = next((c for c in v.get("checks", []) if c["name"] == "maint"), {})
                expect("holds 1" in maint.get("last_failure", ""), "maint: %s", maint)
                with open(os.path.join(lab.tmp, "maint-n1"), "w") as f:
                    f.write("0\n")
                ok, st = wait_master(daemons, "n1", "n2", timeout=3.0)
                expect(ok, "after maint=0: %s", st)

            with res.case("timeout-fails"):
                open(os.path.join(sdir, "hang-n1"), "w").close()
                ok, st = wait_master(daemons, "n2", "n1", timeout=3.0)
                web = next((c for c in vip(n1).get("checks", []) if c["name"] == "web"), {})
                expect(ok and "killed at Timeout=150ms" in web.get("last_failure", ""),
                       "a hanging check: states %s, web %s", st, web)
                os.unlink(os.path.join(sdir, "hang-n1"))
                ok, st = wait_master(daemons, "n1", "n2", timeout=3.0)
                expect(ok, "after the hang ended: %s", st)

            with res.case("demote-promote"):
                r = n1.arpha("vip", "demote", "vip1", json_out=True, check=False)
                expect(r.returncode == 0, "vip demote: rc %d %s", r.returncode, r.stderr)
                ok, st = wait_master(daemons, "n2", "n1", timeout=3.0)
                expect(ok, "after demote: %s", st)
                v = vip(n1)
                expect(v.get("priority") == 1 and v.get("demoted_by_hand") == 253 and
                       "-253 demoted" in v.get("health", ""),
                       "n1 demoted: priority %s, health %r", v.get("priority"), v.get("health"))
                expect(probe.wait_answers(timeout=3.0), "the client's echoes did not come back")
                r = n1.arpha("vip", "promote", "vip1", check=False)
                expect(r.returncode == 0, "vip promote: rc %d %s", r.returncode, r.stderr)
                ok, st = wait_master(daemons, "n1", "n2", timeout=3.0)
                expect(ok, "after promote: %s", st)
                expect(n1.wait_log("event=vip_demote group=vip1 by=253 priority=1", timeout=1.0)
                       and n1.wait_log("event=vip_promote group=vip1", timeout=1.0),
                       "no vip_demote/vip_promote lines in n1's log")
                r = n1.arpha("vip", "demote", "nosuch", check=False)
                expect(r.returncode == 1 and "no VIP group \"nosuch\"" in r.stderr,
                       "an unknown group: rc %d %r", r.returncode, r.stderr)
                r = n1.arpha("vip", "demote", "vip1", "300", check=False)
                expect(r.returncode == 2 and "1..253" in r.stderr,
                       "N out of range: rc %d %r", r.returncode, r.stderr)
                r = n1.arpha("vip", "demote", "vip1", "30", check=False)
                v = vip(n1)
                expect(r.returncode == 0 and v.get("priority") == 170 and
                       vipnet.vip_state(n1) == "master",
                       "demote by 30: rc %d, priority %s, state %s", r.returncode,
                       v.get("priority"), vipnet.vip_state(n1))
                n1.arpha("vip", "promote", "vip1", check=False)
        finally:
            probe.stop()

        res.daemon_checks(lab)


main()
res.exit()
