#!/usr/bin/python3
"""Logs are where and how the docs say, and signals do what they say
(report items 10, 11, 12, 27):

  item10  LogTarget=stderr without -d: the lines go to syslog (and the
          start says so), not to /dev/null
  item11  -d with stderr on the journal (JOURNAL_STREAM): every line has
          its <N> priority; -d with LogTarget=syslog logs to syslog
  item12  SIGUSR1 logs the counters, SIGUSR2 is ignored: arphad lives on
  item27  every line is key=value; suppressed lines are reported when the
          window ends, without waiting for the next event

syslog is a datagram socket of the test's own, bind-mounted on /dev/log in
a private mount namespace (a tmpfs /dev holding only null and log), so the
host's syslog is never touched.
"""
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/logs"
need_root(SUITE)
res = Results(SUITE)

VALUE = r'("([^"\\]|\\.)*"|[^" ]+)'
# -d on a file or terminal: the local time first, ISO 8601 with milliseconds and the offset
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
KV_LINE = re.compile(r"^%s arphad: (err|warning|notice|info|debug): event=[a-z0-9_]+"
                     r"( [a-z0-9_]+=%s)*$" % (STAMP, VALUE))
JOURNAL_LINE = re.compile(r"^<[0-7]>event=[a-z0-9_]+( [a-z0-9_]+=%s)*$" % VALUE)
SIDE_IP = "198.18.1.1"
T0 = time.time()


def has_table(lab):
    return "table arp arpha" in lab.nft_tables()


class FakeSyslog:
    """A /dev/log of our own: collects the datagrams arphad sends."""

    count = 0

    def __init__(self, lab):
        FakeSyslog.count += 1
        self.path = os.path.join(lab.tmp, "devlog%d.sock" % FakeSyslog.count)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.1)
        self.lines = []

    def wrap(self, cmd):
        """cmd run in a mount namespace whose /dev/log is this socket."""
        script = ("mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && "
                  "touch /dev/log && mount --bind %s /dev/log && exec \"$@\"" % self.path)
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"] + cmd

    def wait(self, pattern, timeout=5.0):
        r = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            for l in self.lines:
                if r.search(l):
                    return l
            if time.monotonic() > end:
                return None
            try:
                self.lines.append(self.s.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass

    def close(self):
        self.s.close()


def write_conf(lab, name, target):
    path = os.path.join(lab.tmp, name + ".conf")
    sock = os.path.join(lab.tmp, name + ".sock")
    text = make_config(sock, log_level="info").replace("LogTarget=stderr",
                                                        "LogTarget=%s" % target)
    with open(path, "w") as f:
        f.write(text)
    return path, sock


def wait_gone(pid, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def pids_running(conf):
    """Processes whose command line names conf (the daemon we started)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if conf.encode() in f.read():
                        out.append(int(d))
            except OSError:
                pass
    return out


def answers(lab, sock):
    p = lab.exec("node", binary("arpha"), "-s", sock, "stats", check=False)
    return p.returncode == 0


with Lab("logs") as lab:
    atk = lab.agent("attacker")

    with res.case("item10/stderr-without-d-goes-to-syslog"):
        conf, sock = write_conf(lab, "bg", "stderr")
        sl = FakeSyslog(lab)
        pid = None
        try:
            p = run(sl.wrap(["ip", "netns", "exec", lab.ns("node"), binary("arphad"), "-f",
                             conf]), check=False, timeout=30)
            started = sl.wait(r"arphad\[\d+\]: event=started")
            m = re.search(r"arphad\[(\d+)\]", started or "")
            pid = int(m.group(1)) if m else None
            expect(p.returncode == 0, "arphad -f (no -d) exited %d: %s", p.returncode,
                   p.stderr.strip())
            expect("event=log_target target=syslog configured=stderr" in p.stderr,
                   "nothing said at start on stderr: %r", p.stderr)
            expect(started, "no start line in syslog; got %s", sl.lines)
            expect(sl.wait(r"event=log_target target=syslog"), "syslog has no notice: %s",
                   sl.lines)
            expect(answers(lab, sock), "the daemon does not answer")
        finally:
            for pid in [pid] if pid else pids_running(conf):
                os.kill(pid, signal.SIGTERM)
                wait_gone(pid)
            sl.close()

    with res.case("item10/failed-start-without-d-says-why"):
        conf, sock = write_conf(lab, "bad", "syslog")
        with open(conf) as f:
            text = f.read().replace("Device=eth0", "Device=nosuch9").replace(
                "LogLevel=info", "LogLevel=info\nDeviceTimeout=0")
        with open(conf, "w") as f:
            f.write(text)
        sl = FakeSyslog(lab)
        try:
            p = run(sl.wrap(["ip", "netns", "exec", lab.ns("node"), binary("arphad"), "-f",
                             conf]), check=False, timeout=30)
            logged = sl.wait(r"event=start_failed .*nosuch9", 2.0)
        finally:
            sl.close()
        expect(p.returncode == 1 and re.search(r"arphad: err: event=start_failed .*nosuch9.*"
                                               r"no such device", p.stderr),
               "rc %d, stderr %r", p.returncode, p.stderr)
        expect(logged, "not in syslog: %s", sl.lines)

    with res.case("item11/d-with-logtarget-syslog-logs-to-syslog"):
        conf, sock = write_conf(lab, "fgsys", "syslog")
        sl = FakeSyslog(lab)
        p = subprocess.Popen(sl.wrap(["ip", "netns", "exec", lab.ns("node"), binary("arphad"),
                                      "-d", "-f", conf]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            started = sl.wait(r"arphad\[\d+\]: event=started")
        finally:
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
            sl.close()
        expect(started, "no start line in syslog: %s; stderr %r", sl.lines, err[-500:])
        expect("event=started" not in err, "the lines went to stderr too: %r", err[-500:])

    with res.case("item11/journal-lines-carry-their-priority"):
        conf, sock = write_conf(lab, "journal", "stderr")
        conf_text = open(conf).read().replace("LogTarget=stderr\n", "")
        with open(conf, "w") as f:
            f.write(conf_text)  # the default: -d logs to stderr
        r, w = os.pipe()
        st = os.fstat(w)
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        p = subprocess.Popen(["ip", "netns", "exec", lab.ns("node"), binary("arphad"), "-d",
                              "-f", conf], stdout=w, stderr=w, env=env)
        os.close(w)
        try:
            end = time.monotonic() + 15
            while not answers(lab, sock) and time.monotonic() < end and p.poll() is None:
                time.sleep(0.05)
            # a frame that claims the node's own address: ip_collision, a warning
            atk.send(garp_reply(ATTACKER_MAC, NODE_IP))
            time.sleep(0.3)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(10)
        with os.fdopen(r, "r", errors="replace") as f:
            lines = f.read().splitlines()
        expect(any(l.startswith("<4>event=ip_collision ") for l in lines),
               "no <4> ip_collision line: %s", lines[-10:])
        expect(any(l.startswith("<5>event=started ") for l in lines),
               "no <5> start line: %s", lines[-10:])
        bad = [l for l in lines if not JOURNAL_LINE.match(l)]
        expect(not bad, "lines without a <N> priority or not key=value: %s", bad[:5])

    # one daemon for the rest; a second managed device that comes and goes
    lab.ip("node", "link", "add", "dum0", "type", "veth", "peer", "name", "dum0p")
    lab.ip("node", "link", "set", "dum0p", "up")
    lab.ip("node", "link", "set", "dum0", "up")
    lab.ip("node", "addr", "add", SIDE_IP + "/24", "dev", "dum0")
    # a kernel entry nobody vetted: arphad removes it at start, and says so
    lab.ip("node", "neigh", "replace", CLIENT_IP, "lladdr", CLIENT_MAC, "dev", "eth0",
           "nud", "reachable")
    # DropLog: each claim below is a drop line (with the default, Verify, one
    # check per address would be one line)
    d = lab.arphad(arp={"UnsolicitedARPReplies": "DropLog"},
                   extra="[Interface side]\nDevice=dum0\n", log_level="info")

    with res.case("item27/suppressed-count-on-timer"):
        mark = d.log_mark()
        frames = [garp_reply(ATTACKER_MAC, "198.18.0.%d" % (100 + i % 50)) for i in range(120)]
        atk.send(*frames)
        # nothing more arrives: the summary must come from the timer
        line = d.wait_log(r"event=log_suppressed recvif=lan count=\d+", mark, timeout=3.0)
        expect(line, "no log_suppressed line within 3 s: %s", d.log_since(mark)[-800:])
        n = sum(int(re.search(r"count=(\d+)", l).group(1)) for l in line)
        expect(n > 0 and n == d.stats()["log_suppressed"], "count=%d, stats %s", n,
               d.stats()["log_suppressed"])

    with res.case("item27/link-down-is-not-a-warning"):
        mark = d.log_mark()
        lab.ip("node", "link", "set", "eth0", "down")
        time.sleep(0.3)
        lab.ip("node", "link", "set", "eth0", "up")
        time.sleep(0.3)
        warn = d.log_lines(r"warning: .*(packet|Network is down)", mark)
        expect(not warn, "link down logged as a warning: %s", warn)

    with res.case("item27/device-gone-and-back"):
        mark = d.log_mark()
        lab.ip("node", "link", "del", "dum0")
        expect(d.wait_log(r"warning: event=device_gone iface=side device=dum0 ", mark),
               "no device_gone line: %s", d.log_since(mark))
        lab.ip("node", "link", "add", "dum0", "type", "veth", "peer", "name", "dum0p")
        lab.ip("node", "link", "set", "dum0", "up")
        expect(d.wait_log(r"info: event=iface_attach iface=side device=dum0 ifindex=\d+", mark),
               "no iface_attach line: %s", d.log_since(mark))

    with res.case("item12/sigusr1-logs-counters"):
        mark = d.log_mark()
        d.p.send_signal(signal.SIGUSR1)
        line = d.wait_log(r"notice: event=counters scope=iface iface=lan state=present "
                          r"entries=\d+ rx_frames=\d+", mark)
        expect(line, "no counters line: %s", d.log_since(mark))
        expect(d.wait_log(r"event=counters scope=iface iface=side ", mark),
               "no counters line for side: %s", d.log_since(mark))
        time.sleep(0.2)
        expect(d.alive() and has_table(lab), "arphad died or lost its table on SIGUSR1")
        expect(answers(lab, d.sock), "no answer after SIGUSR1")

    with res.case("item12/sigusr2-ignored"):
        d.p.send_signal(signal.SIGUSR2)
        time.sleep(0.3)
        expect(d.alive() and has_table(lab), "arphad died or lost its table on SIGUSR2")
        expect(answers(lab, d.sock), "no answer after SIGUSR2")

    with res.case("item27/every-line-key-value"):
        atk.send(garp_reply(ATTACKER_MAC, NODE_IP))  # ip_collision
        d.p.send_signal(signal.SIGHUP)
        d.wait_log(r"SIGHUP")
        time.sleep(0.2)
        rc = d.stop()
        expect(rc == 0, "exit status %s", rc)
        lines = d.log().splitlines()
        expect(any("event=neigh_flush iface=lan removed=1" in l for l in lines),
               "no neigh_flush line: %s", lines[:8])
        expect(any("event=stopping signal=SIGTERM" in l for l in lines), "no stopping line")
        bad = [l for l in lines if not KV_LINE.match(l)]
        expect(not bad, "%d lines are not key=value: %s", len(bad), bad[:6])

    with res.case("item37/d-lines-say-when"):
        # every line's time is the wall clock's while arphad ran, in order
        lines = d.log().splitlines()
        times = []
        for l in lines:
            m = re.match(r"^(%s) " % STAMP, l)
            if m:
                times.append(datetime.datetime.fromisoformat(m.group(1)).timestamp())
        expect(lines and len(times) == len(lines), "%d of %d lines have no time: %s",
               len(lines) - len(times), len(lines), [l for l in lines if not
                                                    re.match(STAMP, l)][:3])
        expect(times and T0 - 1 <= times[0] and times[-1] <= time.time() + 1,
               "times %s..%s, the test ran %s..%s", times[:1], times[-1:], T0, time.time())
        expect(times == sorted(times), "times out of order: %s", times)
        local = time.strftime("%z")
        expect(all(l[23:29] == local[:3] + ":" + local[3:] for l in lines),
               "offset is not the local one (%s): %s", local, lines[0])

    res.daemon_checks(lab)

res.exit()
