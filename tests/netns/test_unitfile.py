#!/usr/bin/python3
"""arphad.service as systemd reads it (contrib/arphad.service.in, its
@SBINDIR@ the build's; ARPHA_UNIT_IN=PATH checks another file). No network
namespace and no systemd as PID 1: systemd-analyze reads the file, and
systemd's start limit is replayed on the unit's numbers.

  verify     systemd-analyze verify finds nothing to say
  order      early: After= and Wants= network-pre.target, Before=
             network.target; not after network.target or
             network-online.target, and not bound to a device unit (arphad
             waits for its devices itself, DeviceTimeout=)
  restarts   Restart=on-failure; replaying systemd's start limit
             (StartLimitIntervalSec=, StartLimitBurst=, RestartSec=): a
             start that fails at once (a bad configuration) is given up
             within 5 minutes; one that fails after waiting DeviceTimeout=
             (30 s) for a device, or a crash after a minute of running, is
             tried again for an hour and more
  security   systemd-analyze security --offline=yes rates it 3.0 or lower
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Results, binary, expect, info, need_root, unit_values  # noqa: E402

SUITE = "netns/unitfile"
need_root(SUITE)
res = Results(SUITE)
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT_IN = os.environ.get("ARPHA_UNIT_IN") or os.path.join(TOP, "contrib", "arphad.service.in")
DEVICE_TIMEOUT_S = 30  # [Daemon] DeviceTimeout= by default (arphad.conf(5))


def sh(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def values(text):
    """{key: [values]} of a unit (every section together)."""
    return unit_values(text)


def seconds(v, default):
    """A systemd time span ("5s", "2min", "1", "500ms") in seconds."""
    if v is None:
        return default
    total = 0.0
    for num, unit in re.findall(r"([\d.]+)\s*([a-z]*)", v):
        total += float(num) * {"": 1, "s": 1, "sec": 1, "ms": 0.001, "min": 60, "m": 60,
                               "h": 3600}[unit]
    return total


def attempts(restart_s, interval_s, burst, runs_s, horizon_s=3600.0):
    """systemd's start limit replayed: every start fails after runs_s, the
    next comes restart_s later; a start beyond burst within interval_s of the
    window's first is refused and the unit stays failed. The starts made
    within horizon_s, and whether it gave up."""
    t, begin, count, n = 0.0, None, 0, 0
    while t < horizon_s:
        if begin is None or t - begin >= interval_s:
            begin, count = t, 0
        if count >= burst:
            return n, True
        count += 1
        n += 1
        t += runs_s + restart_s
    return n, False


tmp = tempfile.mkdtemp(prefix="arpha-unitfile-")
try:
    with open(UNIT_IN) as f:
        text = f.read().replace("@SBINDIR@", os.path.dirname(binary("arphad")))
    path = os.path.join(tmp, "arphad.service")
    with open(path, "w") as f:
        f.write(text)
    u = values(text)

    with res.case("verify"):
        r = sh(["systemd-analyze", "verify", "--man=no", path])
        expect(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
               "rc %d: %s%s", r.returncode, r.stdout, r.stderr)

    with res.case("order"):
        after = " ".join(u.get("After", [])).split()
        wants = " ".join(u.get("Wants", [])).split()
        before = " ".join(u.get("Before", [])).split()
        expect("network-pre.target" in after and "network-pre.target" in wants,
               "After=%s Wants=%s", after, wants)
        expect("network.target" in before, "Before=%s", before)
        late = [x for x in after if x in ("network.target", "network-online.target")]
        expect(not late, "ordered after %s: the interfaces would be guarded late", late)
        dev = [k for k in ("BindsTo", "Requires", "After")
               for x in " ".join(u.get(k, [])).split() if x.endswith(".device")]
        expect(not dev, "bound to device units in %s", dev)

    with res.case("restarts"):
        expect(u.get("Restart") == ["on-failure"], "Restart=%s", u.get("Restart"))
        restart = seconds((u.get("RestartSec") or [None])[-1], 0.1)
        interval = seconds((u.get("StartLimitIntervalSec") or [None])[-1], 10)
        burst = int((u.get("StartLimitBurst") or ["5"])[-1])
        quick, quick_gave_up = attempts(restart, interval, burst, 0.2, horizon_s=300)
        dev, dev_gave_up = attempts(restart, interval, burst, DEVICE_TIMEOUT_S + 0.2)
        crash, crash_gave_up = attempts(restart, interval, burst, 60)
        info("%s RestartSec=%gs StartLimitIntervalSec=%gs StartLimitBurst=%d: a quick "
             "failure is tried %d times%s; a device wait %d times in an hour%s; a crash "
             "after a minute %d times in an hour%s" %
             (SUITE, restart, interval, burst, quick, "" if quick_gave_up else " (no end)",
              dev, " then given up" if dev_gave_up else "", crash,
              " then given up" if crash_gave_up else ""))
        expect(restart >= 2, "RestartSec=%gs: a failing start is retried %g times a second",
               restart, 1 / restart if restart else float("inf"))
        expect(quick_gave_up, "a start that fails at once is retried for ever")
        expect(not dev_gave_up, "a device missing after DeviceTimeout= stops the retries "
               "after %d starts", dev)
        expect(not crash_gave_up, "a crash after a minute stops the retries after %d starts",
               crash)

    with res.case("security"):
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, "lib/systemd/system"))
        shutil.copy(path, os.path.join(root, "lib/systemd/system/arphad.service"))
        r = sh(["systemd-analyze", "security", "--offline=yes", "--root=" + root,
                "arphad.service"])
        m = re.search(r"Overall exposure level for arphad\.service: ([\d.]+)", r.stdout)
        expect(m, "systemd-analyze security: rc %d: %s%s", r.returncode, r.stdout[-500:],
               r.stderr[-500:])
        info("%s systemd-analyze security arphad.service: %s" % (SUITE, m.group(1)))
        expect(float(m.group(1)) <= 3.0, "rated %s (3.0 or lower wanted)", m.group(1))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
res.exit()
