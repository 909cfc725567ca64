#!/usr/bin/python3
"""arphad inside the sandbox of its unit (contrib/arphad.service.in), as far
as it can be checked without systemd as PID 1: arphad runs under strace in a
namespace (one node n1 with a VIP, [ConnSync], RealtimePriority=10 and a
NotifyScript that runs on backup and master), is asked by arpha and stopped,
and every system call it and its script made must pass the unit's
SystemCallFilter= (expanded by systemd-analyze syscall-filter), every socket
it opened must be of a family in RestrictAddressFamilies=.

  filter     no system call outside @system-service, none of @privileged
  families   every socket() of the five families the unit allows
  control    a unit without the ~@privileged line, or a filter without
             @resources, is told apart (sched_setscheduler), so the check
             can fail
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402
from vipnet import NODES  # noqa: E402

SUITE = "netns/sandbox"
need_root(SUITE)
res = Results(SUITE)
HOSTS = {"n1": (NODES["n1"][1], NODES["n1"][2]), "client": vipnet.CLIENTS["client"]}
UNIT = os.path.join(os.path.dirname(binary("arphad")), "arphad.service")


def unit_values(key):
    vals = []
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith(key + "="):
                vals.append(line.split("=", 1)[1].strip())
    return vals


_sets = {}


def expand(name):
    """The system calls of a name or a @group (recursively)."""
    if not name.startswith("@"):
        return {name}
    if name not in _sets:
        r = run(["systemd-analyze", "syscall-filter", name])
        got = set()
        for line in r.stdout.splitlines()[1:]:
            w = line.strip()
            if not w or w.startswith("#"):
                continue
            got |= expand(w.split()[0])
        _sets[name] = got
    return _sets[name]


def allowed(filters):
    """What SystemCallFilter= lines allow: an allow list, then ~ deny lists."""
    allow, deny = set(), set()
    for v in filters:
        neg = v.startswith("~")
        for w in v.lstrip("~").split():
            (deny if neg else allow).update(expand(w))
    return allow - deny


def syscalls(trace):
    """{name} and [(socket family)] from strace -f output."""
    names, families = set(), []
    for line in trace.splitlines():
        line = re.sub(r"^\d+\s+", "", line)
        m = re.match(r"<\.\.\. (\w+) resumed>", line) or re.match(r"(\w+)\(", line)
        if m:
            names.add(m.group(1))
        m = re.match(r"socket\((AF_\w+)", line)
        if m:
            families.append(m.group(1))
    return names, families


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


with Lab("sandbox", hosts=HOSTS) as lab:
    key = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", key])
    out = os.path.join(lab.tmp, "notify.out")
    script = lab.script("n.sh", "#!/bin/sh\necho \"$@\" >> %s\n" % out)
    conf = vipnet.arpha_config("n1", key, notify=script, extra="[ConnSync]\n")
    conf = conf.replace("LogLevel=info\n", "LogLevel=info\nRealtimePriority=10\n")
    d = lab.arphad("n1", config=conf, name="st", start=False)
    trace = os.path.join(lab.tmp, "strace.out")
    logf = open(d.logpath, "ab")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")  # no LSan under ptrace
    p = subprocess.Popen(["ip", "netns", "exec", lab.ns("n1"), "strace", "-f", "-qq", "-o", trace,
                          binary("arphad"), "-d", "-f", d.conf], stdout=logf,
                         stderr=subprocess.STDOUT, env=env)
    try:
        with res.case("setup/master-and-notified"):
            ok, got = vipnet.wait_vip_states({"n1": d}, {"n1": "master"}, 15)
            expect(ok, "n1 is not master: %s; log: %s", got, d.log()[-800:])
            end = time.monotonic() + 5
            while "master" not in (open(out).read() if os.path.exists(out) else ""):
                expect(time.monotonic() < end, "the NotifyScript did not run on master")
                time.sleep(0.05)
            for c in ("stats", "vip", "conns", "cluster"):
                d.arpha(c, check=False)
    finally:
        for c in children(p.pid):
            os.kill(c, signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        logf.close()
    with open(trace) as f:
        names, families = syscalls(f.read())
    filters = unit_values("SystemCallFilter")
    ok_calls = allowed(filters)
    info("%s %d system calls, socket families %s" % (SUITE, len(names), sorted(set(families))))
    with res.case("filter/every-syscall-allowed"):
        expect(filters, "no SystemCallFilter= in %s", UNIT)
        expect(len(names) > 20, "strace saw only %s", sorted(names))
        bad = sorted(names - ok_calls)
        expect(not bad, "arphad (or its script) calls what %s forbids: %s", UNIT, bad)
    with res.case("families/every-socket-allowed"):
        fam = set(" ".join(unit_values("RestrictAddressFamilies")).split())
        expect(fam, "no RestrictAddressFamilies= in %s", UNIT)
        bad = sorted(set(families) - fam)
        expect(not bad, "sockets of families the unit forbids: %s", bad)
    with res.case("control/the-check-can-fail"):
        expect("sched_setscheduler" in names, "RealtimePriority=10 made no sched_setscheduler")
        narrow = allowed(["@system-service", "~@privileged @resources"])
        expect("sched_setscheduler" in names - narrow,
               "a filter without @resources is not caught")
    res.daemon_checks(lab)
res.exit()
