#!/usr/bin/python3
"""The NotifyScript (report items 2, 4, 6, 7, 9b, 37): one node n1 with the
VIP 198.18.0.100/24 alone in its cluster (so it goes init -> backup ->
master), a client on the same switch.

  item2   the script leaves `sleep 300 &` behind on master; that child holds
          only fds 0, 1, 2, every fd of arphad is close-on-exec, and after
          kill -9 of arphad the `arp arpha` table is gone and the kernel
          answers ARP within 1 s
  item37  arphad started with an extra inherited fd does not keep it, and
          the script does not get it; nor does the daemon arphad forks
          without -d
  item6   the script runs SCHED_OTHER at nice 0 while arphad runs SCHED_RR
          (RealtimePriority=10), in a process group of its own
  item7   the calls of one group run one after another, in the order of the
          changes (backup, then master), even when the first one is slow
  timeout a script that hangs with a background child: at the timeout
          (10 s) its whole process group is killed
  item4   a command with arguments: the script gets them before the fixed
          ones (NAME STATE PRIORITY)
  item4/item9b  `arphad -n` (and the start) refuse a script that is missing,
          not executable, not a regular file, not owned by root, writable by
          group or others, or in a directory that is not root's alone
          (/tmp-like sticky ones included), each with FILE:LINE and the fix
"""
import os
import pwd
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402
from vipnet import VIP, NODES  # noqa: E402

SUITE = "netns/notify"
need_root(SUITE)
res = Results(SUITE)

N1_IP, N1_MAC = NODES["n1"][1], NODES["n1"][2]
HOSTS = {"n1": (N1_IP, N1_MAC), "client": vipnet.CLIENTS["client"]}
INHERITED_FD = 251
SCHED_OTHER, SCHED_RR = 0, 2
O_CLOEXEC = 0o2000000

# Records every call: "start TIME PID ARG|ARG|...|" ... "end TIME STATE".
# The first call is slow; on master it leaves a child behind.
RECORD_SH = """#!/bin/sh
D=%(dir)s
n=$(cat $D/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > $D/count
echo "start $(date +%%s.%%N) $$ $(printf '%%s|' "$@")" >> $D/calls
[ $n = 1 ] && sleep 0.5
chrt -p $$ > $D/sched.$n 2>&1
if [ "$2" = master ]; then
    sleep 300 >/dev/null 2>&1 &
    echo $! > $D/child.pid
fi
echo "end $(date +%%s.%%N) $2" >> $D/calls
"""

# Hangs on master, with a child in the background.
HANG_SH = """#!/bin/sh
D=%(dir)s
if [ "$2" = master ]; then
    echo $$ > $D/hang.pid
    sleep 300 >/dev/null 2>&1 &
    echo $! > $D/hang-child.pid
    sleep 600
fi
"""

# Records each state; the first call is slow, so the changes queue up.
SLOW_FIRST_SH = """#!/bin/sh
D=%(dir)s
if [ ! -e $D/first ]; then touch $D/first; sleep 8; fi
echo "$2" >> $D/states
"""

# Records its arguments, one per line, each call ending with "--".
ARGS_SH = """#!/bin/sh
for a in "$@"; do echo "$a"; done >> %(dir)s/args
echo -- >> %(dir)s/args
"""


def has_table(lab):
    return "table arp arpha" in lab.nft_tables("n1")


def stat_fields(pid):
    """/proc/PID/stat as a list, field 1 at index 1 (comm left out)."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    return [None, pid, None] + rest  # rest[0] is field 3 (state)


def sched_of(pid):
    """(policy, rt_priority, nice, pgid) of a process."""
    f = stat_fields(pid)
    return int(f[41]), int(f[40]), int(f[19]), int(f[5])


def fds_of(pid):
    """{fd: link target} of a process."""
    out = {}
    d = "/proc/%d/fd" % pid
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def fd_flags(pid, fd):
    with open("/proc/%d/fdinfo/%d" % (pid, fd)) as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    return 0


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, TypeError):
        pass


def config(lab, key, notify):
    text = vipnet.arpha_config("n1", key, notify=notify)
    return text.replace("LogLevel=info\n", "LogLevel=info\nRealtimePriority=10\n")


def notify_line(text):
    for i, l in enumerate(text.splitlines(), 1):
        if l.startswith("NotifyScript="):
            return i
    raise ValueError("no NotifyScript= line")


def start(d, pass_fds=()):
    """Arphad.start, with extra descriptors passed to arphad."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    d.logf = open(d.logpath, "ab")
    d.p = subprocess.Popen(["ip", "netns", "exec", d.lab.ns(d.role), binary("arphad"), "-d",
                            "-f", d.conf], stdin=subprocess.DEVNULL, stdout=d.logf,
                           stderr=subprocess.STDOUT, pass_fds=pass_fds, env=env)
    ok = wait_for(lambda: d.p.poll() is not None or
                  d.arpha("stats", check=False).returncode == 0, 15)
    if not ok or d.p.poll() is not None:
        raise RuntimeError("arphad did not start:\n%s" % d.log()[-2000:])
    return d


def calls(out):
    """[(kind, time, pid or None, state)] from the calls file."""
    got = []
    for l in read(os.path.join(out, "calls")).splitlines():
        w = l.split(" ", 3)
        if w[0] == "start" and len(w) == 4:
            args = w[3].split("|")
            got.append(("start", float(w[1]), int(w[2]), args[1] if len(args) > 1 else "?"))
        elif w[0] == "end" and len(w) == 3:
            got.append(("end", float(w[1]), None, w[2]))
    return got


# ---------------------------------------------------------------- arphad -n

def check_refusals(lab, key):
    sd = lab.script_dir()
    good = lab.script("good.sh", "#!/bin/sh\nexit 0\n")
    nobody = pwd.getpwnam("nobody").pw_uid

    def n_check(notify):
        text = config(lab, key, notify).replace("@SOCK@", os.path.join(lab.tmp, "n.sock"))
        conf = os.path.join(lab.tmp, "n.conf")
        with open(conf, "w") as f:
            f.write(text)
        p = run([binary("arphad"), "-n", "-f", conf], check=False)
        return p, "%s:%d: " % (conf, notify_line(text))

    def refused(name, notify, *words):
        with res.case(name):
            p, where = n_check(notify)
            msg = p.stderr.strip()
            expect(p.returncode == 1, "arphad -n exits %d: %r %r", p.returncode,
                   p.stdout.strip(), msg)
            expect(msg.startswith(where), "the message does not start with %r: %r", where, msg)
            for w in words:
                expect(w in msg, "the message does not say %r: %r", w, msg)

    ww = lab.script("ww.sh", "#!/bin/sh\nexit 0\n", mode=0o777)
    refused("item4/refuse-world-writable-script", ww, "writable by group or others",
            "chmod go-w " + ww)
    gw = lab.script("gw.sh", "#!/bin/sh\nexit 0\n", mode=0o775)
    refused("item4/refuse-group-writable-script", gw, "writable by group or others")
    nb = lab.script("nobody.sh", "#!/bin/sh\nexit 0\n")
    os.chown(nb, nobody, 0)
    refused("item4/refuse-script-owned-by-nobody", nb, "owned by uid %d" % nobody,
            "chown root " + nb)
    refused("item9b/refuse-missing-script", os.path.join(sd, "missing.sh"), "does not exist")
    nx = lab.script("noexec.sh", "#!/bin/sh\nexit 0\n", mode=0o644)
    refused("item9b/refuse-not-executable", nx, "not executable", "chmod u+x " + nx)
    refused("item9b/refuse-not-a-regular-file", sd, "not a regular file")
    wwd = os.path.join(sd, "open")
    os.mkdir(wwd)
    os.chmod(wwd, 0o777)
    s = os.path.join(wwd, "s.sh")
    with open(s, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(s, 0o755)
    refused("item4/refuse-script-in-world-writable-dir", s, "in %s, a directory writable" % wwd,
            "chmod go-w " + wwd)
    nbd = os.path.join(sd, "nobodys")
    os.mkdir(nbd, 0o755)
    os.chown(nbd, nobody, 0)
    s2 = os.path.join(nbd, "s.sh")
    with open(s2, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(s2, 0o755)
    refused("item4/refuse-script-in-dir-owned-by-nobody", s2,
            "in %s, a directory owned by uid %d" % (nbd, nobody))
    # lab.tmp is under /tmp (mode 1777): sticky, still not root's alone
    tmps = os.path.join(lab.tmp, "t.sh")
    with open(tmps, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(tmps, 0o755)
    refused("item4/refuse-script-under-tmp", tmps, "shared directory", "/etc/arpha")
    # through a symbolic link to a script in an unsafe place
    ln = os.path.join(sd, "link.sh")
    os.symlink(s, ln)
    refused("item4/refuse-link-to-script-in-unsafe-dir", ln, wwd)
    refused("item4/refuse-unbalanced-quote", good + " 'a b", "never closed")
    refused("item4/refuse-shell-syntax", good + " > /tmp/log", "no shell")

    with res.case("item4/accept-safe-command-with-arguments"):
        p, _ = n_check(good + " -t 'a b' \"c d\"")
        expect(p.returncode == 0 and "configuration OK" in p.stdout,
               "arphad -n exits %d: %r", p.returncode, (p.stderr or p.stdout).strip())

    with res.case("item4/daemon-start-refuses-unsafe-script"):
        text = config(lab, key, ww).replace("@SOCK@", os.path.join(lab.tmp, "r.sock"))
        conf = os.path.join(lab.tmp, "r.conf")
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.Popen(["ip", "netns", "exec", lab.ns("n1"), binary("arphad"), "-d", "-f",
                              conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=8)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise CaseFailed("arphad started with a world-writable NotifyScript: %s" %
                             err[-600:])
        expect(p.returncode == 1, "exit %s: %r", p.returncode, err[-600:])
        expect(err.strip().startswith("%s:%d: " % (conf, notify_line(text))) and
               "writable by group or others" in err, "message: %r", err.strip())
        expect(not has_table(lab), "the refused start installed its table: %s",
               lab.nft_tables("n1"))


# ---------------------------------------------------------------- the runs

def record_run(lab, key):
    """Items 2, 6, 7, 37 on one run of arphad with RECORD_SH."""
    out = os.path.join(lab.tmp, "rec")
    os.mkdir(out)
    script = lab.script("record.sh", RECORD_SH % dict(dir=out))
    d = lab.arphad("n1", config=config(lab, key, script), name="rec", start=False)
    r, w = os.pipe()
    os.dup2(w, INHERITED_FD)
    os.close(w)
    pipe_ino = os.fstat(INHERITED_FD).st_ino
    try:
        start(d, pass_fds=(INHERITED_FD,))
    finally:
        os.close(INHERITED_FD)
    child = None
    try:
        with res.case("setup/master-and-notified"):
            ok, got = vipnet.wait_vip_states({"n1": d}, {"n1": "master"}, 10)
            expect(ok, "n1 alone is not master: %s; log: %s", got, d.log()[-800:])
            ended = wait_for(lambda: any(c[0] == "end" and c[3] == "master" for c in calls(out)),
                             5)
            expect(ended, "no master call ended: calls %s; log: %s", calls(out),
                   d.log()[-1500:])
            child = wait_for(lambda: read(os.path.join(out, "child.pid")).strip(), 2)
            expect(child, "the script left no child")
            child = int(child)
            expect(pid_alive(child), "the script's child %d is not running", child)

        apid = d.p.pid
        with res.case("item37/arphad-drops-inherited-fd"):
            fds = fds_of(apid)
            leak = {n: t for n, t in fds.items() if t == "pipe:[%d]" % pipe_ino}
            expect(not leak, "arphad keeps the fd it inherited: %s (all: %s)", leak, fds)

        with res.case("item2/every-arphad-fd-close-on-exec"):
            fds = fds_of(apid)
            bad = {n: t for n, t in fds.items() if n > 2 and not fd_flags(apid, n) & O_CLOEXEC}
            expect(not bad, "arphad fds without close-on-exec: %s", bad)

        with res.case("item2/script-child-holds-only-stdio"):
            expect(child, "no child")
            fds = fds_of(child)
            expect(sorted(fds) == [0, 1, 2], "the script's child holds %s", fds)

        with res.case("item37/script-does-not-get-inherited-fd"):
            expect(child, "no child")
            fds = fds_of(child)
            expect("pipe:[%d]" % pipe_ino not in fds.values(), "the child holds %s", fds)

        with res.case("item6/script-runs-sched-other-nice-0"):
            pol, rtp, _nice, _pg = sched_of(apid)
            expect(pol == SCHED_RR and rtp == 10,
                   "arphad itself runs policy %d priority %d, not SCHED_RR 10", pol, rtp)
            text = read(os.path.join(out, "sched.2")) or read(os.path.join(out, "sched.1"))
            expect("SCHED_OTHER" in text, "the script's chrt -p says: %r", text)
            expect(child, "no child")
            pol, rtp, nice, _pg = sched_of(child)
            expect(pol == SCHED_OTHER and rtp == 0 and nice == 0,
                   "the script's child runs policy %d priority %d nice %d", pol, rtp, nice)

        with res.case("item6/script-in-own-process-group"):
            expect(child, "no child")
            starts = [c for c in calls(out) if c[0] == "start" and c[3] == "master"]
            expect(starts, "no master call")
            _pol, _rtp, _nice, pg = sched_of(child)
            _pol, _rtp, _nice, apg = sched_of(apid)
            expect(pg == starts[-1][2] and pg != apg,
                   "the child's process group is %d (script %d, arphad's group %d)", pg,
                   starts[-1][2], apg)

        with res.case("item7/calls-in-order-never-overlapping"):
            got = calls(out)
            seq = [(k, st) for k, _t, _p, st in got]
            expect(seq[:4] == [("start", "backup"), ("end", "backup"), ("start", "master"),
                               ("end", "master")],
                   "the calls, in the order they were recorded: %s", seq)
            times = [t for _k, t, _p, _s in got[:4]]
            expect(times == sorted(times), "times out of order: %s", got[:4])

        with res.case("item2/notify-child-keeps-no-table"):
            expect(child and pid_alive(child), "the script's child is gone already")
            atk = lab.agent("client")
            cip, cmac = HOSTS["client"]
            t0 = time.monotonic()
            rc = d.kill9()
            expect(rc == -signal.SIGKILL, "arphad exit status %s", rc)
            got = []
            while time.monotonic() - t0 < 1.0 and not got:
                got = atk.exchange([request(cmac, cip, N1_IP)],
                                   lambda f: f.ok and f.incoming and f.op == 2 and
                                   f.spa == N1_IP and f.sha == N1_MAC, timeout=0.1, linger=0)
            dt = time.monotonic() - t0
            tables = lab.nft_tables("n1")
            expect(pid_alive(child), "the script's child died with arphad")
            expect("table arp arpha" not in tables,
                   "the owner table outlived arphad (the script's child holds it): %s", tables)
            expect(got, "no ARP answer from the kernel within 1 s of kill -9")
            info("%s item2: kernel answered %.0f ms after kill -9" % (SUITE, dt * 1000))
    finally:
        kill_quietly(child)
        if d.alive():
            d.kill9()


def daemonized_run(lab, key):
    """Item 37 without -d: the daemon (the process after the fork) has no
    descriptor its starter passed on either."""
    d = lab.arphad("n1", config=config(lab, key, None), name="bg", start=False)
    r, w = os.pipe()
    os.dup2(w, INHERITED_FD)
    os.close(w)
    pipe_ino = os.fstat(INHERITED_FD).st_ino
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    pid = None
    try:
        p = subprocess.run(["ip", "netns", "exec", lab.ns("n1"), binary("arphad"), "-f", d.conf],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           pass_fds=(INHERITED_FD,), env=env, timeout=30)
    finally:
        os.close(INHERITED_FD)
        os.close(r)
    try:
        with res.case("item37/daemonized-arphad-drops-inherited-fd"):
            expect(p.returncode == 0, "arphad (no -d) exited %d: %s", p.returncode, p.stderr)

            def find():
                for n in os.listdir("/proc"):
                    if not n.isdigit():
                        continue
                    try:
                        with open("/proc/%s/cmdline" % n, "rb") as f:
                            argv = f.read().split(b"\0")
                    except OSError:
                        continue
                    if argv[:1] and argv[0].endswith(b"arphad") and d.conf.encode() in argv:
                        return int(n)
                return None
            pid = wait_for(find, 5)
            expect(pid, "no daemonized arphad running with %s", d.conf)
            expect(wait_for(lambda: d.arpha("stats", check=False).returncode == 0, 10),
                   "the daemon does not answer on its control socket")
            fds = fds_of(pid)
            leak = {n: t for n, t in fds.items() if t == "pipe:[%d]" % pipe_ino}
            expect(not leak, "the daemon keeps the fd it inherited: %s (all: %s)", leak, fds)
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not pid_alive(pid), 10)
            kill_quietly(pid)


def timeout_run(lab, key):
    out = os.path.join(lab.tmp, "hang")
    os.mkdir(out)
    script = lab.script("hang.sh", HANG_SH % dict(dir=out))
    d = lab.arphad("n1", config=config(lab, key, script), name="hang")
    pids = []
    try:
        with res.case("timeout/whole-process-group-killed"):
            ok = wait_for(lambda: read(os.path.join(out, "hang-child.pid")).strip(), 10)
            expect(ok, "the script did not start on master; log: %s", d.log()[-1000:])
            t0 = time.monotonic()
            pids = [int(read(os.path.join(out, "hang.pid"))),
                    int(read(os.path.join(out, "hang-child.pid")))]
            expect(all(pid_alive(p) for p in pids), "the script or its child ended early")
            gone = wait_for(lambda: not any(pid_alive(p) for p in pids), 14, step=0.2)
            alive = [p for p in pids if pid_alive(p)]
            expect(gone, "%.1f s after the script started, still running: %s (script %d, its "
                   "background child %d)", time.monotonic() - t0, alive, pids[0], pids[1])
            expect(d.log_lines(r"event=notify_timeout .*action=kill_group"),
                   "no notify_timeout line: %s", d.log()[-1000:])
        with res.case("timeout/arphad-goes-on"):
            expect(d.alive(), "arphad died: %s", d.log()[-1000:])
            expect(vipnet.vip_state(d) == "master", "n1 is %s", vipnet.vip_state(d))
    finally:
        for p in pids:
            kill_quietly(p)
    res.daemon_checks(lab, alive=d, name="timeout/arphad-clean")


def queue_run(lab, key):
    """Item 7: more changes than the queue holds while a call runs: the
    oldest waiting ones are dropped, each with a warning and a count, and
    the last call says the state the group is in."""
    out = os.path.join(lab.tmp, "queue")
    os.mkdir(out)
    script = lab.script("slow.sh", SLOW_FIRST_SH % dict(dir=out))
    lab.ip("n1", "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
    lab.ip("n1", "link", "set", "trk1", "up")
    lab.ip("n1", "link", "set", "trk0", "up")
    conf = config(lab, key, script).replace("Priority=200\n", "Priority=200\nTrackInterface=trk0\n")
    d = lab.arphad("n1", config=conf, name="queue")
    with res.case("item7/queue-bound-drops-loudly"):
        ok, got = vipnet.wait_vip_states({"n1": d}, {"n1": "master"}, 10)
        expect(ok, "n1 is not master: %s", got)
        for _ in range(14):  # master -> fault -> backup -> master, about 40 changes
            lab.ip("n1", "link", "set", "trk0", "down")
            wait_for(lambda: vipnet.vip_state(d) == "fault", 1, step=0.01)
            lab.ip("n1", "link", "set", "trk0", "up")
            wait_for(lambda: vipnet.vip_state(d) == "master", 1, step=0.01)
        ok, got = vipnet.wait_vip_states({"n1": d}, {"n1": "master"}, 5)
        expect(ok, "n1 is not master after the flaps: %s", got)

        def settled():
            v = vipnet.vip_view(d) or {}
            done = v.get("notify_runs", 0) + v.get("notify_dropped", 0) + v.get(
                "notify_failed", 0)
            n = len(read(os.path.join(out, "states")).split())
            return v if done == v.get("changes") and n == v.get("notify_runs") else None
        v = wait_for(settled, 10, step=0.1)
        v = v or vipnet.vip_view(d) or {}
        info("%s item7 queue: %s" % (SUITE, {k: v.get(k) for k in (
            "changes", "notify_runs", "notify_dropped", "notify_failed")}))
        states = read(os.path.join(out, "states")).split()
        dropped = d.log_lines(r"event=notify_dropped vip=vip1 .*reason=queue_full")
        expect(v.get("notify_dropped", 0) > 0 and len(dropped) == v.get("notify_dropped"),
               "%s dropped in arpha -j vip, %d notify_dropped lines", v.get("notify_dropped"),
               len(dropped))
        expect(v.get("notify_runs", 0) + v.get("notify_dropped", 0) == v.get("changes"),
               "runs + dropped != changes: %s", v)
        expect(len(states) == v.get("notify_runs"), "%d calls recorded, %s runs", len(states),
               v.get("notify_runs"))
        expect(states and states[-1] == "master", "the last call said %s (calls %s)",
               states[-1:], states)
    with res.case("item4/script-made-unsafe-later-is-not-run"):
        before = read(os.path.join(out, "states")).split()
        os.chmod(script, 0o777)
        mark = d.log_mark()
        lab.ip("n1", "link", "set", "trk0", "down")
        expect(wait_for(lambda: vipnet.vip_state(d) == "fault", 2), "no fault")
        got = d.wait_log(r"event=notify_failed vip=vip1 .*reason=unsafe .*writable", mark)
        time.sleep(0.3)
        expect(got, "no notify_failed line: %s", d.log_since(mark)[-800:])
        expect(read(os.path.join(out, "states")).split() == before,
               "the script ran after it became world-writable: %s",
               read(os.path.join(out, "states")).split()[len(before):])
    res.daemon_checks(lab, alive=d, name="queue/arphad-clean")
    lab.ip("n1", "link", "del", "trk0", check=False)


def args_run(lab, key):
    out = os.path.join(lab.tmp, "args")
    os.mkdir(out)
    script = lab.script("args.sh", ARGS_SH % dict(dir=out))
    d = lab.arphad("n1", config=config(lab, key, script + " 'fixed arg' \"two  words\" x\\ y"),
                   name="args")
    with res.case("item4/command-with-arguments"):
        wait_for(lambda: "--" in read(os.path.join(out, "args")), 5)
        vip = d.arpha_json("vip")
        got = read(os.path.join(out, "args")).split("--\n")[0].splitlines()
        expect(got == ["fixed arg", "two  words", "x y", "vip1", "backup", "200"],
               "the script's first call got %s; log: %s", got, d.log()[-600:])
        expect(vip and vip[0].get("notify_dropped") == 0 and vip[0].get("notify_runs", 0) >= 1,
               "arpha -j vip: %s", vip)
    res.daemon_checks(lab, alive=d, name="args/arphad-clean")


with Lab("notify", hosts=HOSTS) as lab:
    key = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", key])
    check_refusals(lab, key)
    record_run(lab, key)
    daemonized_run(lab, key)
    timeout_run(lab, key)
    queue_run(lab, key)
    args_run(lab, key)
    res.daemon_checks(lab)
res.exit()
