#!/usr/bin/python3
"""Connection-tracking sync, arpha against conntrackd (FT-FW) + keepalived,
real processes in the two-firewall lab of tests/netns/fwlab.py: a client
(198.18.1.10) talks to a server (198.18.2.10) through fw1 (master of the
gateway VIPs 198.18.1.1 and 198.18.2.1) or fw2 (backup); both firewalls
drop established TCP they hold no state for (nf_conntrack_tcp_loose=0).

  arpha       arphad on each firewall, [ConnSync] with its defaults,
              HeartbeatInterval=20ms, defaults otherwise.
  conntrackd  conntrackd (Sync Mode FTFW, multicast on the sync link eth2,
              external cache) on each firewall, and keepalived (vrrp_version
              3, advert_int 0.02, one vrrp_sync_group of the two VIPs) whose
              notify script does what conntrackd's primary-backup.sh does:
              master: -c (commit the external cache), -f, -R, -B;
              backup: -s (or start it), -t, -n; fault: -t.

For each size N (1k, 5k, 20k established TCP connections), each system in
its own fresh namespaces, the labs of both up at once (the CPU of one
measured while the other rests; the lag samples interleaved; then one crash
after the other):

  cpu       /proc/PID/task/*/schedstat (CPU time in ns; /proc/PID/stat
            utime+stime, in clock ticks, is printed beside it) of the
            daemons on fw1 (the sender: its kernel has the connections) and
            fw2 (the receiver), before the client opens N connections (each
            carries one message both ways) and once fw2 holds all N and its
            counters rested; minus the daemons' idle CPU over the same time
            (heartbeats / adverts, measured over 3 s beforehand); / N.
            conntrackd's figure includes keepalived's (its failover half;
            normally ~0 after the idle subtraction).
  lag       sample connections opened one at a time (the table holding the
            N), each once everything is quiet, one through each system's
            lab in turn (so whatever else the host does at one moment falls
            on both alike): t0 = the kernel's receive timestamp, on fw1,
            of the client's ACK that completes the handshake, whose passage
            makes the entry ESTABLISHED and the kernel send the event that
            both daemons sync (tcpdump in fw1, into a file); t1 = the first
            moment fw2's daemon reports the last
            change that connection caused (fw2's control socket polled in
            a tight loop from this process, ~0.1-1 ms apart: arpha `j conns`
            records_in new+update+delete+new_resync; conntrackd `-s` the
            external cache's created+updated objects). lag = t1 - t0.
  crash     SIGKILL to every process in fw1's namespace (arphad; or
            conntrackd and keepalived) and fw1's three switch ports down,
            at the same instant; from then every connection sends one
            message, the sends spread evenly over --spread seconds (1 s;
            0: all at once), as live traffic would (those sent into the
            failure are retransmitted by TCP); a connection survives when
            its echo comes back within the deadline (10 s); the time from
            each connection's own send to its echo gives p50/p99/max
            ("data again"; the time from the crash is in the details). The
            same round before the crash is the lab's own time. The echo
            tool is the build's C ctecho (tests/tools/ctecho.c). The
            failover gap is the time from the crash to fw2's notify script
            reporting master (both systems have one).

  bench/ctsync.py [BUILD_DIR] [--quick] [--sizes 1000,5000,20000]
                  [--only arpha|conntrackd] [--samples K] [--deadline S]
                  [--spread S] [--json FILE]

Prints a table with the targets: 100 % survival at every size; every
connection carrying data again within the failover gap plus one TCP RTO
(200 ms); at most half conntrackd's CPU per synced connection (sender and
receiver); p99 lag no worse than conntrackd's. Needs root, conntrackd,
keepalived, conntrack and tcpdump (tools/deps.sh bench). About 17 minutes.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))

DEADLINE_S = 10.0
SPREAD_S = 1.0  # the crash round's sends, spread evenly (0: all at once)
RTO_MS = 200.0
SYSTEMS = ("arpha", "conntrackd")
PER_PROC = 5000  # connections per client process and server port (RLIMIT_NOFILE)
CTD_STATS = 21  # conntrackd's UNIX socket request for `conntrackd -s`

SAMPLER = r"""
import socket, sys, time
keep = []
for line in sys.stdin:
    if line.strip() != "open":
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    t = time.time()
    try:
        s.connect((sys.argv[1], int(sys.argv[2])))
        print("%d %.6f %.6f" % (s.getsockname()[1], t, time.time()), flush=True)
        keep.append(s)
    except OSError as e:
        print("error %s" % e, flush=True)
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pct(xs, p):
    import fwlab
    return fwlab.percentile(sorted(xs), p)


# ---------------------------------------------------------------- CPU

def ns_pids(lab, role):
    from lab import run
    return [int(w) for w in run(["ip", "netns", "pids", lab.ns(role)],
                                check=False).stdout.split()]


def proc_cpu(pid):
    """(comm, schedstat ns over all threads, utime+stime ticks) or None."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        w = st[st.rindex(")") + 2:].split()
        ticks = int(w[11]) + int(w[12])
        ns = 0
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                ns += int(f.read().split()[0])
        return comm, ns, ticks
    except (OSError, ValueError, IndexError):
        return None


def node_cpu(lab, role):
    """{comm: [ns, ticks]} of the daemons in role's namespace."""
    out = {}
    for pid in ns_pids(lab, role):
        c = proc_cpu(pid)
        if c and c[0] in ("arphad", "conntrackd", "keepalived"):
            v = out.setdefault(c[0], [0, 0])
            v[0] += c[1]
            v[1] += c[2]
    return out


def cpu_delta(a, b):
    return {k: [b[k][0] - a.get(k, [0, 0])[0], b[k][1] - a.get(k, [0, 0])[1]] for k in b}


# ---------------------------------------------------------------- control sockets

def unix_call(path, data, timeout=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(data)
        chunks = []
        while True:
            d = s.recv(65536)
            if not d:
                break
            chunks.append(d)
        return b"".join(chunks).decode(errors="replace")
    finally:
        s.close()


# ---------------------------------------------------------------- arpha

class Arpha:
    name = "arpha"

    def __init__(self, lab):
        self.lab = lab
        self.d = {}
        self.notify = {}

    def start(self):
        import fwlab
        from failover import notify_script
        for role in ("fw1", "fw2"):
            script, self.notify[role] = notify_script(self.lab, role)
            conf = self.lab.fw_config(role, connsync={}, heartbeat="20ms", log_level="notice")
            conf = conf.replace("Group=fw\n", "Group=fw\nNotifyScript=%s\n" % script)
            self.d[role] = self.lab.arphad(role, config=conf, name=role)
            want = {"fw1": "master"} if role == "fw1" else {"fw1": "master", "fw2": "backup"}
            ok, got = self.lab.wait_states(self.d, want, 10)
            if not ok:
                raise RuntimeError("arpha: not %s: %s; log: %s" % (want, got,
                                                                   self.d[role].log()[-1500:]))
        if fwlab.FwLab.vip_states(self.d["fw1"]) == {}:
            raise RuntimeError("arpha -j vip does not answer")

    def conns(self, role):
        a = unix_call(self.d[role].sock, b"j conns\n")
        if not a.startswith("ok\n"):
            raise RuntimeError("arpha conns on %s: %s" % (role, a.strip()))
        return json.loads(a[3:])

    def held(self, role):
        return sum(int(p.get("entries", 0)) for p in self.conns(role).get("peers", []))

    def progress(self, role):
        """A number that grows with every connection change fw2 takes in."""
        r = self.conns(role)["records_in"]
        return sum(int(r.get(k, 0)) for k in ("new", "update", "delete", "new_resync"))

    @staticmethod
    def how_lag():
        return "arpha -j conns records_in new+update+delete+new_resync on fw2"

    def master_at(self, role):
        """Realtime of the notify saying role is master of both VIPs, or None."""
        last = {}
        try:
            lines = open(self.notify[role]).read().split("\n")
        except FileNotFoundError:
            return None
        for l in lines:
            w = l.split()
            if len(w) >= 3:
                last[w[1]] = (float(w[0]), w[2].lower())
        if last.get("in", (0, ""))[1] == "master" and last.get("out", (0, ""))[1] == "master":
            return max(last["in"][0], last["out"][0])
        return None

    def extra(self, role):
        try:
            c = self.conns(role)
            k = c.get("kernel", {})
            return ("committed %s (failed %s) in %s us; put in the kernel as synced: %s set, "
                    "%s removed, %s refused; records in %s" % (
                        c.get("committed"), c.get("commit_failed"), c.get("last_commit_us"),
                        k.get("in_step_set"), k.get("in_step_removed"),
                        k.get("in_step_failed"), c.get("records_in")))
        except Exception as e:  # noqa: BLE001
            return "conns: %s" % e

    def logs(self):
        return {r: d.log()[-1500:] for r, d in self.d.items()}


# ---------------------------------------------------------------- conntrackd + keepalived

CTD_CONF = """Sync {
	Mode FTFW {
	}
	Multicast {
		IPv4_address %(mcast)s
		Group %(group)d
		IPv4_interface %(sync_ip)s
		Interface eth2
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 32768
	HashLimit 131072
	LogFile %(log)s
	Syslog off
	LockFile %(lock)s
	UNIX {
		Path %(sock)s
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Kernelspace {
		Protocol Accept {
%(protocols)s		}
		Address Ignore {
			IPv4_address 127.0.0.1
%(ignore)s		}
	}
}
"""


def ctd_conf(sync_ip, log, lock, sock, own, mcast="225.0.0.50", group=3780, protocols=("TCP",)):
    """conntrackd.conf for a node: FTFW over multicast on eth2 from sync_ip,
    the node's own addresses (own) ignored. bench/aa_failover.py uses it too."""
    return CTD_CONF % dict(sync_ip=sync_ip, log=log, lock=lock, sock=sock, mcast=mcast,
                           group=group,
                           protocols="".join("\t\t\t%s\n" % x for x in protocols),
                           ignore="".join("\t\t\tIPv4_address %s\n" % a for a in own))

KA_CONF = """global_defs {
    router_id %(role)s
    vrrp_version 3
    script_user root
    enable_script_security
}
vrrp_sync_group G1 {
    group {
        VI_in
        VI_out
    }
    notify_master "%(notify)s primary"
    notify_backup "%(notify)s backup"
    notify_fault "%(notify)s fault"
}
vrrp_instance VI_in {
    state %(state)s
    interface eth0
    virtual_router_id 61
    priority %(prio)d
    advert_int 0.02
    virtual_ipaddress {
        %(vip_in)s/24 dev eth0
    }
}
vrrp_instance VI_out {
    state %(state)s
    interface eth1
    virtual_router_id 62
    priority %(prio)d
    advert_int 0.02
    virtual_ipaddress {
        %(vip_out)s/24 dev eth1
    }
}
"""

# conntrackd's primary-backup.sh (its documentation's script for keepalived),
# with this node's config, a log line with a timestamp at start and end.
NOTIFY_SH = """#!/bin/sh
C="/usr/sbin/conntrackd -C %(conf)s"
echo "$(date +%%s.%%N) $1 start" >> %(out)s
case "$1" in
primary)
	$C -c; $C -f; $C -R; $C -B ;;
backup)
	if ! $C -s >/dev/null 2>&1; then
		rm -f %(lock)s
		$C -d
	fi
	$C -t; $C -n ;;
fault)
	$C -t ;;
esac
echo "$(date +%%s.%%N) $1 done" >> %(out)s
"""


class Conntrackd:
    name = "conntrackd"

    def __init__(self, lab):
        self.lab = lab
        self.conf, self.sock, self.notify, self.kalog, self.ctlog = {}, {}, {}, {}, {}
        self.p = []

    def _files(self, role):
        import fwlab
        t = self.lab.tmp
        devs = fwlab.FWS[role][2]
        own = [a.split("/")[0] for a, _m in devs.values()] + [fwlab.VIP_IN, fwlab.VIP_OUT]
        self.sock[role] = os.path.join(t, "ctd-%s.ctl" % role)
        self.conf[role] = os.path.join(t, "conntrackd-%s.conf" % role)
        self.ctlog[role] = os.path.join(t, "conntrackd-%s.log" % role)
        lock = os.path.join(t, "ctd-%s.lock" % role)
        with open(self.conf[role], "w") as f:
            f.write(ctd_conf(devs["eth2"][0].split("/")[0], self.ctlog[role], lock,
                             self.sock[role], own))
        self.notify[role] = os.path.join(t, "%s.notify" % role)
        script = os.path.join(t, "notify-%s.sh" % role)
        with open(script, "w") as f:
            f.write(NOTIFY_SH % dict(conf=self.conf[role], out=self.notify[role], lock=lock))
        os.chmod(script, 0o755)
        ka = os.path.join(t, "keepalived-%s.conf" % role)
        prio = fwlab.FWS[role][1]
        with open(ka, "w") as f:
            f.write(KA_CONF % dict(role=role, state="MASTER" if prio > 100 else "BACKUP",
                                   prio=prio, notify=script, vip_in=fwlab.VIP_IN,
                                   vip_out=fwlab.VIP_OUT))
        return ka

    def _spawn(self, role, cmd, logpath):
        logf = open(logpath, "ab")
        p = subprocess.Popen(["ip", "netns", "exec", self.lab.ns(role)] + cmd,
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.lab.procs.append(p)
        return p

    def start(self):
        t = self.lab.tmp
        for role in ("fw1", "fw2"):
            ka = self._files(role)
            self._spawn(role, ["conntrackd", "-C", self.conf[role]],
                        os.path.join(t, "conntrackd-%s.out" % role))
            end = time.monotonic() + 10
            while True:
                try:
                    self.stats(role)
                    break
                except OSError:
                    if time.monotonic() > end:
                        raise RuntimeError("conntrackd on %s does not answer: %s" %
                                           (role, self.logs()))
                    time.sleep(0.05)
            self.kalog[role] = os.path.join(t, "keepalived-%s.log" % role)
            self._spawn(role, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", ka,
                               "-p", os.path.join(t, "ka-%s.pid" % role),
                               "-r", os.path.join(t, "ka-%s-vrrp.pid" % role),
                               "-c", os.path.join(t, "ka-%s-check.pid" % role)],
                        self.kalog[role])
            want = "primary" if role == "fw1" else "backup"
            end = time.monotonic() + 15
            while self.last_state(role) != (want, "done"):
                if time.monotonic() > end:
                    raise RuntimeError("keepalived on %s: not %s: %s; %s" % (
                        role, want, self.last_state(role), self.logs()))
                time.sleep(0.02)
        if self.last_state("fw1") != ("primary", "done"):
            raise RuntimeError("fw1 is %s after fw2 started" % (self.last_state("fw1"),))

    def _notes(self, role):
        try:
            lines = open(self.notify[role]).read().split("\n")
        except FileNotFoundError:
            return []
        return [(float(l.split()[0]), l.split()[1], l.split()[2]) for l in lines
                if len(l.split()) >= 3]

    def last_state(self, role):
        n = self._notes(role)
        return (n[-1][1], n[-1][2]) if n else None

    def master_at(self, role):
        """Realtime at which role's notify script started as primary (the
        addresses are up by then), or None."""
        p = [t for t, s, w in self._notes(role) if s == "primary" and w == "start"]
        return p[-1] if p else None

    def commit_done_at(self, role):
        n = self._notes(role)
        d = [t for t, s, w in n if s == "primary" and w == "done"]
        return d[-1] if d else None

    def stats(self, role):
        return unix_call(self.sock[role], struct.pack("i", CTD_STATS))

    def external(self, role):
        """{key: int} of the 'cache external' block of conntrackd -s (the first
        number of each line: current active, created, updated, destroyed)."""
        out, inside = {}, False
        for line in self.stats(role).split("\n"):
            if line.startswith("cache external:"):
                inside = True
                continue
            if inside:
                m = re.match(r"\s*([a-zA-Z][a-zA-Z ]*?):\s*(\d+)", line)
                if not m:
                    break
                out[m.group(1).strip()] = int(m.group(2))
        return out

    def held(self, role):
        return self.external(role).get("current active connections", 0)

    def progress(self, role):
        e = self.external(role)
        return e.get("connections created", 0) + e.get("connections updated", 0)

    @staticmethod
    def how_lag():
        return "conntrackd -s 'cache external' connections created+updated on fw2"

    def extra(self, role):
        m, d = self.master_at(role), self.commit_done_at(role)
        return "notify primary start -> done (commit, flush, resync, bulk) %s" % (
            "%.0f ms" % ((d - m) * 1000) if m and d else "-")

    def logs(self):
        out = {}
        for role in self.conf:
            for name, p in (("conntrackd", self.ctlog.get(role)), ("keepalived",
                                                                   self.kalog.get(role))):
                try:
                    out["%s %s" % (name, role)] = open(p).read()[-800:]
                except (OSError, TypeError):
                    pass
        return out


# ---------------------------------------------------------------- traffic

def ctecho():
    """The echo tool: the C one of the build (tests/tools/ctecho.c), else
    tests/netns/ctecho.py (the same command lines and output, slower)."""
    import fwlab
    from lab import PY, binary
    c = binary("ctecho")
    return [c] if os.access(c, os.X_OK) else [PY, "-u", os.path.join(fwlab.HERE, "ctecho.py")]


def echo_servers(lab, k):
    """k ctecho servers in the server namespace, on ECHO_PORT + 0..k-1."""
    import fwlab
    for i in range(k):
        p = subprocess.Popen(["ip", "netns", "exec", lab.ns("server")] + ctecho() +
                             ["server", str(fwlab.ECHO_PORT + i)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        lab.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("echo server: %r %s" % (line, p.stderr.read()[-500:]))


class Clients:
    """n TCP connections over ceil(n / PER_PROC) ctecho clients, each to its
    own server port, opened at the same time."""

    def __init__(self, lab, n, timeout=120):
        import fwlab
        self.cl = []
        k = (n + PER_PROC - 1) // PER_PROC
        for i in range(k):
            m = n // k + (1 if i < n % k else 0)
            c = fwlab.EchoClient.__new__(fwlab.EchoClient)
            c.p = subprocess.Popen(["ip", "netns", "exec", lab.ns("client")] + ctecho() +
                                   ["client", fwlab.SERVER_IP, str(fwlab.ECHO_PORT + i), str(m),
                                    "0"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, bufsize=1)
            lab.procs.append(c.p)
            self.cl.append(c)
        es = [c._read(timeout) for c in self.cl]
        self.established = {"tcp_ok": sum(e["tcp_ok"] for e in es),
                            "seconds": max(e["seconds"] for e in es),
                            "failed": sum((e["failed"] for e in es), [])[:5]}

    def round(self, name, t0, deadline_s, spread_s=0):
        for c in self.cl:
            c.start_round(name, t0, deadline_s, spread_s)
        rs = [c.finish_round(deadline_s) for c in self.cl]
        out = {k: sum(r[k] for r in rs) for k in ("tcp_ok", "udp_ok", "tcp_total",
                                                  "udp_total", "tcp_dead")}
        out["tcp_ms"] = sorted(sum((r["tcp_ms"] for r in rs), []))
        # the C tool: each echo from its own connection's send; the send spread
        out["tcp_from_send_ms"] = sorted(sum((r.get("tcp_from_send_ms", []) for r in rs), []))
        out["send_spread_ms"] = max((r.get("send_spread_ms", 0) for r in rs), default=0)
        rt = [r.get("tcp_retrans") for r in rs]
        out["tcp_retrans"] = [sum(x[i] for x in rt) for i in range(4)] if all(rt) else None
        out["udp_ms"] = []
        out["failed"] = sum((r["failed"] for r in rs), [])[:5]
        return out

    def quit(self):
        for c in self.cl:
            c.quit()


# ---------------------------------------------------------------- one case

def crash(lab, role):
    """SIGKILL to every process in role's namespace and its switch ports down,
    at the same instant. Returns the monotonic time of the kill."""
    pids = ns_pids(lab, role)
    ip = subprocess.Popen(["ip", "-n", lab.ns("sw"), "-batch", "-"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batch = "".join("link set %s down\n" % p for p in lab.ports(role))
    for d in lab.daemons:
        if d.role == role:
            d.killed = True
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    t = time.monotonic()
    _out, err = ip.communicate(batch, timeout=10)
    if ip.returncode != 0:
        raise RuntimeError("cutting %s's links: %s" % (role, err.strip()))
    return t


def softnet_drops():
    """Packets the kernel dropped for a full per-CPU backlog (all namespaces:
    veth pairs deliver through it; net.core.netdev_max_backlog is global)."""
    try:
        with open("/proc/net/softnet_stat") as f:
            return sum(int(l.split()[1], 16) for l in f if l.strip())
    except (OSError, ValueError, IndexError):
        return None


def wait_quiet(sysm, n, timeout):
    """Until fw2 holds n entries and its progress counter rested 0.5 s."""
    end = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        held, prog = sysm.held("fw2"), sysm.progress("fw2")
        if (held, prog) != last:
            last, since = (held, prog), time.monotonic()
        elif held >= n and time.monotonic() - since >= 0.5:
            return held
        time.sleep(0.05)
    return last[0] if last else 0


class AckWatch:
    """tcpdump on a firewall's client side: {sport: kernel time (s) of the
    client's first pure ACK to port}, the one that completes the handshake.

    Its passage through the firewall's conntrack makes the entry
    ESTABLISHED and the kernel send the event: t0 is the kernel's receive
    timestamp of that packet, not the moment some process got around to
    reading the event (a userspace stamp, late by a wake-up, which on this
    host was often longer than the lag itself). tcpdump writes to a file
    that is read after each sample, so nothing in this process wakes up
    while the poll loop's timing matters."""

    RX = re.compile(r"^(\d+\.\d+) IP \d+\.\d+\.\d+\.\d+\.(\d+) > \d+\.\d+\.\d+\.\d+\.(\d+):")

    def __init__(self, lab, role, port, dev="eth0"):
        import tempfile
        self.acks = {}
        self.out = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns(role), "tcpdump", "-i", dev,
                                   "-Q", "in", "-n", "-tt", "-q", "-l", "-U",
                                   "tcp dst port %d and tcp[13] == 16" % port],
                                  stdin=subprocess.DEVNULL, stdout=self.out,
                                  stderr=subprocess.DEVNULL)
        lab.procs.append(self.p)
        self.port = port
        self.rd = open("/proc/self/fd/%d" % self.out.fileno())
        self.partial = ""

    def ack(self, sport):
        text = self.partial + self.rd.read()
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            m = self.RX.match(line)
            if m and int(m.group(3)) == self.port:
                self.acks.setdefault(int(m.group(2)), float(m.group(1)))
        return self.acks.get(sport)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
        self.rd.close()
        self.out.close()


class LagProbe:
    """Sample connections through one lab, one at a time (see 'lag' above)."""

    def __init__(self, lab, sysm):
        import fwlab
        from lab import PY
        self.sysm = sysm
        self.lags, self.lags_mid, self.gaps, self.bad = [], [], [], []
        self.raw = []  # (sample, t0, t1, how long the poll that showed it took), in order
        self.watch = AckWatch(lab, "fw1", fwlab.ECHO_PORT)
        self.smp = subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), PY, "-u", "-c",
                                     SAMPLER, fwlab.SERVER_IP, str(fwlab.ECHO_PORT)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, bufsize=1)
        lab.procs.append(self.smp)

    def sample(self, i):
        sysm, smp = self.sysm, self.smp
        base = sysm.progress("fw2")
        polls = []
        smp.stdin.write("open\n")
        smp.stdin.flush()
        t_end = time.time() + 1.0
        last_change = time.time()
        cur = base
        while time.time() < t_end:
            start = time.time()
            v = sysm.progress("fw2")
            now = time.time()
            polls.append((now, v, start))
            if v != cur:
                cur, last_change = v, now
            if cur != base and now - last_change > 0.15:
                break
        line = smp.stdout.readline().split()
        if len(line) != 3 or line[0] == "error":
            self.bad.append("sample %d: %s" % (i, " ".join(line)))
            return
        sport = int(line[0])
        time.sleep(0.05)
        t0 = self.watch.ack(sport)
        if t0 is None or cur == base:
            self.bad.append("sample %d: ACK at %s, fw2 progress %s -> %s" % (i, t0, base, cur))
            return
        k = next(j for j, p in enumerate(polls) if p[1] == cur)
        t1 = polls[k][0]  # the answer that first showed it: an upper bound
        self.lags.append((t1 - t0) * 1000)
        self.raw.append((i, t0, t1, polls[k][0] - polls[k][2]))
        # the daemon answered poll k-1 without it and poll k with it: the
        # middle of the two polls, free of how long each poll takes
        if k > 0:
            a, b = polls[k - 1], polls[k]
            t1m = ((a[2] + a[0]) / 2 + (b[2] + b[0]) / 2) / 2
        else:
            t1m = t1
        self.lags_mid.append((t1m - t0) * 1000)
        self.gaps.extend((b[0] - a[0]) * 1000 for a, b in zip(polls, polls[1:]))
        time.sleep(0.05)

    def close(self):
        self.watch.stop()
        try:
            self.smp.stdin.write("quit\n")
            self.smp.stdin.flush()
        except OSError:
            pass
        self.smp.kill()

    def result(self):
        return (self.lags, self.lags_mid, (pct(self.gaps, 50) if self.gaps else None), self.bad,
                self.raw)


def measure_lag(cases, samples):
    """The lag of every case, their samples interleaved (one of each in
    turn, the order alternating), so that whatever else the host does at
    one moment falls on every system alike: [(lags, lags_mid, poll_ms, bad)]."""
    import gc
    probes = []
    try:
        for c in cases:
            probes.append(LagProbe(c["lab"], c["sysm"]))
        time.sleep(0.5)  # tcpdump listening
        gc.disable()  # no collection pause inside a poll loop
        for i in range(samples):
            for p in (probes if i % 2 == 0 else probes[::-1]):
                p.sample(i)
    finally:
        gc.enable()
        for p in probes:
            p.close()
    return [p.result() for p in probes]


def open_case(stack, system, n):
    """A lab with `system` carrying n connections, their CPU measured."""
    from fwlab import FwLab
    res = {"system": system, "n": n}
    case = {"res": res}
    try:
        lab = case["lab"] = stack.enter_context(FwLab("ctb"))
        lab.exec("client", "sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
        lab.exec("server", "sysctl", "-qw", "net.core.somaxconn=8192")
        sysm = case["sysm"] = (Arpha if system == "arpha" else Conntrackd)(lab)
        sysm.start()
        echo_servers(lab, (n + PER_PROC - 1) // PER_PROC)
        time.sleep(0.5)
        # idle CPU of the daemons (heartbeats / adverts)
        i0 = {r: node_cpu(lab, r) for r in ("fw1", "fw2")}
        t_i0 = time.monotonic()
        time.sleep(3)
        i1 = {r: node_cpu(lab, r) for r in ("fw1", "fw2")}
        idle_s = time.monotonic() - t_i0
        idle = {r: cpu_delta(i0[r], i1[r]) for r in i0}
        # open n connections
        c0 = {r: node_cpu(lab, r) for r in ("fw1", "fw2")}
        t_c0 = time.monotonic()
        cli = case["cli"] = Clients(lab, n, timeout=120)
        stack.callback(cli.quit)
        e = cli.established
        res["opened"] = e["tcp_ok"]
        res["open_s"] = e["seconds"]
        held = wait_quiet(sysm, n, 60)
        c1 = {r: node_cpu(lab, r) for r in ("fw1", "fw2")}
        win_s = time.monotonic() - t_c0
        res["held"] = held
        res["cpu"] = {}
        for r in ("fw1", "fw2"):
            d = cpu_delta(c0[r], c1[r])
            net = {}
            for comm, (ns, ticks) in d.items():
                rate = idle[r].get(comm, [0, 0])[0] / idle_s
                net[comm] = {"ns": ns, "ticks": ticks,
                             "idle_ns": rate * win_s,
                             "us_per_conn": max(0.0, ns - rate * win_s) / 1000.0 / n,
                             "raw_us_per_conn": ns / 1000.0 / n,
                             "stat_us_per_conn": ticks * 1e6 / os.sysconf("SC_CLK_TCK") / n}
            res["cpu"][r] = net
        res["cpu_window_s"] = win_s
        log("  %s n=%d: %d/%d up in %.1f s; fw2 holds %d; cpu %s" % (
            system, n, e["tcp_ok"], n, e["seconds"], held, cpu_line(res)))
    except Exception as ex:  # noqa: BLE001 - report, clean up, go on
        failed(case, "open", ex)
    return case


def failed(case, what, ex):
    res = case["res"]
    res["error"] = "%s: %s" % (what, ex)
    log("  %s n=%d FAILED (%s): %s" % (res["system"], res["n"], what, ex))
    try:
        for k, v in case["sysm"].logs().items():
            log("    --- %s:\n%s" % (k, v))
    except Exception:  # noqa: BLE001
        pass


def note_lag(case, result):
    res = case["res"]
    lags, lags_mid, poll_ms, bad, raw = result
    res["lag_raw"] = raw
    res["lag"] = sorted(lags)
    res["lag_mid"] = sorted(lags_mid)
    res["poll_ms"] = poll_ms
    res["lag_bad"] = bad
    system, n = res["system"], res["n"]
    if lags:
        log("  %s n=%d: lag p50 %.2f p99 %.2f max %.2f ms over %d samples (poll %.2f ms); "
            "mid-poll p50 %.2f p99 %.2f%s" % (
                system, n, pct(lags, 50), pct(lags, 99), max(lags), len(lags),
                poll_ms or 0, pct(lags_mid, 50), pct(lags_mid, 99),
                "; %d bad: %s" % (len(bad), bad[:2]) if bad else ""))
    elif bad:
        log("  %s n=%d: no lag samples: %s" % (system, n, bad[:3]))


def crash_case(case):
    """The crash round (see 'crash' above), after the same round without one."""
    import fwlab
    res, lab, sysm, cli = case["res"], case["lab"], case["sysm"], case["cli"]
    system, n = res["system"], res["n"]
    try:
        wait_quiet(sysm, n, 10)
        # baseline round: the client's own time to get every echo back
        b = cli.round("base", time.monotonic(), DEADLINE_S, SPREAD_S)
        res["base_max_ms"] = b["tcp_ms"][-1] if b["tcp_ms"] else None
        res["base_from_send_ms"] = b.get("tcp_from_send_ms") or []
        time.sleep(0.3)
        # crash
        off = time.time() - time.monotonic()
        drops = softnet_drops()
        t = crash(lab, "fw1")
        r = cli.round("crash", t, DEADLINE_S, SPREAD_S)
        d2 = softnet_drops()
        res["backlog_drops"] = d2 - drops if drops is not None and d2 is not None else None
        m = sysm.master_at("fw2")
        res["gap_ms"] = (m - off - t) * 1000 if m else None
        res["survived"] = r["tcp_ok"]
        res["total"] = r["tcp_total"]
        res["ms"] = r["tcp_ms"]
        res["from_send_ms"] = r.get("tcp_from_send_ms") or []
        res["send_spread_ms"] = r.get("send_spread_ms")
        res["retrans"] = r.get("tcp_retrans")
        res["dead"] = r["tcp_dead"]
        res["extra"] = sysm.extra("fw2")
        res["fw2_conntrack"] = lab.conntrack_count("fw2")
        fs = res["from_send_ms"]
        log("  %s n=%d: crash: %s; from each one's own send %s ms; fw2 master after %s "
            "ms; %s; fw2 conntrack %s" % (
                system, n, fwlab.summary(r),
                "%.0f / %.0f / %.0f" % (pct(fs, 50), pct(fs, 99), fs[-1]) if fs else "-",
                "%.0f" % res["gap_ms"] if m else "-", res["extra"], res["fw2_conntrack"]))
    except Exception as ex:  # noqa: BLE001 - report, clean up, go on
        failed(case, "crash", ex)


def run_size(n, systems, samples):
    """Every system at n connections, each in its own lab, all labs up at
    once: opened one after the other (the CPU of each measured while the
    others rest), the lag sampled interleaved, then each one crashed."""
    import contextlib
    with contextlib.ExitStack() as stack:
        cases = []
        for s in systems:
            log("%s, %d connections" % (s, n))
            cases.append(open_case(stack, s, n))
        live = [c for c in cases if "error" not in c["res"]]
        if live:
            log("lag at %d connections: %s, samples interleaved" % (
                n, " and ".join(c["res"]["system"] for c in live)))
            try:
                for c, r in zip(live, measure_lag(live, samples)):
                    note_lag(c, r)
            except Exception as ex:  # noqa: BLE001
                for c in live:
                    failed(c, "lag", ex)
        for c in live:
            if "error" not in c["res"]:
                log("%s, %d connections: crash" % (c["res"]["system"], n))
                crash_case(c)
        return [c["res"] for c in cases]


def cpu_line(res):
    out = []
    for r in ("fw1", "fw2"):
        out.append("%s %s" % (r, ", ".join("%s %.1f us/conn (raw %.1f, stat %.0f)" % (
            k, v["us_per_conn"], v["raw_us_per_conn"], v["stat_us_per_conn"])
            for k, v in sorted(res["cpu"][r].items()))))
    return "; ".join(out)


def stack_cpu(res, role):
    """us/conn of the whole stack on role (arphad; or conntrackd + keepalived)."""
    c = res.get("cpu", {}).get(role)
    if not c:
        return None
    return sum(v["us_per_conn"] for v in c.values())


# ---------------------------------------------------------------- report

def fmt(v, unit="", nd=0):
    return "-" if v is None else ("%%.%df%%s" % nd) % (v, unit)


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"


def report(results, sizes, systems, samples):
    R = {(r["system"], r["n"]): r for r in results}
    print()
    print("Connection-tracking sync: arpha %s ([ConnSync] defaults, HeartbeatInterval=20ms) "
          "against conntrackd %s (FT-FW, external cache) + keepalived %s (vrrp_version 3, "
          "advert_int 0.02, notify = conntrackd's primary-backup.sh); %d cores. Crash = "
          "SIGKILL of fw1's daemons + its links cut; deadline %.0f s." % (
              version(["build:arphad", "-V"]), version(["conntrackd", "-v"], 4),
              version(["keepalived", "--version"], 1), os.cpu_count() or 1, DEADLINE_S))
    print()
    print("In the crash round every connection sends one message, the sends spread evenly "
          "over %.1f s from the crash (as many clients' traffic would be; 0 = all at once); "
          "'data again' is the time from each connection's own send to its echo, so a "
          "connection that sent into the failure counts its wait for TCP's retransmission. "
          "The same round without a failure ('baseline' in the details) shows the lab's own "
          "time." % SPREAD_S)
    print()
    print("| conns | arpha survived | conntrackd survived | arpha data again p50/p99/max ms "
          "| conntrackd p50/p99/max ms | ratio max | arpha CPU µs/conn send/recv | conntrackd "
          "CPU µs/conn send/recv | ratio send/recv | arpha lag p50/p99 ms | conntrackd lag "
          "p50/p99 ms | ratio p99 |")
    print("|---:|---:|---:|---|---|---:|---|---|---|---|---|---:|")

    def surv(r):
        if not r:
            return "not run"
        if "error" in r and "survived" not in r:
            return "failed"
        return "%d/%d (%.1f %%)" % (r["survived"], r["opened"], 100.0 * r["survived"] /
                                    max(1, r["opened"]))

    def times(r):
        ms = r.get("from_send_ms") or r.get("ms") if r else None
        if not ms:
            return "-"
        return "%.0f / %.0f / %.0f" % (pct(ms, 50), pct(ms, 99), ms[-1])

    def cpu(r):
        if not r or "cpu" not in r:
            return "-"
        return "%s / %s" % (fmt(stack_cpu(r, "fw1"), nd=1), fmt(stack_cpu(r, "fw2"), nd=1))

    def lag(r):
        if not r or not r.get("lag"):
            return "-"
        m = r.get("lag_mid")
        return "%.2f / %.2f%s" % (pct(r["lag"], 50), pct(r["lag"], 99),
                                  " (mid-poll %.2f / %.2f)" % (pct(m, 50), pct(m, 99))
                                  if m else "")

    for n in sizes:
        a, c = R.get(("arpha", n)), R.get(("conntrackd", n))
        amax = (a.get("from_send_ms") or a["ms"])[-1] if a and a.get("ms") else None
        cmax = (c.get("from_send_ms") or c["ms"])[-1] if c and c.get("ms") else None
        rs = "%s / %s" % (ratio(stack_cpu(a, "fw1") if a else None,
                                stack_cpu(c, "fw1") if c else None),
                          ratio(stack_cpu(a, "fw2") if a else None,
                                stack_cpu(c, "fw2") if c else None))
        al = pct(a["lag"], 99) if a and a.get("lag") else None
        cl = pct(c["lag"], 99) if c and c.get("lag") else None
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, surv(a), surv(c), times(a), times(c), ratio(amax, cmax), cpu(a), cpu(c), rs,
            lag(a), lag(c), ratio(al, cl)), flush=True)
    print()
    print("Targets (arpha):")
    for n in sizes:
        a, c = R.get(("arpha", n)), R.get(("conntrackd", n))
        if not a or "survived" not in a:
            print("  %6d: arpha not measured" % n)
            continue
        t = []
        t.append("survival 100 %%: %s (%d/%d)" % (
            "MET" if a["survived"] == a["opened"] == n else "NOT MET", a["survived"], n))
        if a.get("gap_ms") is not None and a.get("ms"):
            lim = a["gap_ms"] + RTO_MS
            worst = (a.get("from_send_ms") or a["ms"])[-1]
            rt = a.get("retrans")
            if rt:
                # the gap is shorter than any RTO: within gap + one RTO <=> through at
                # the first retransmission
                t.append("all data again within the gap (%.0f ms) + one RTO, i.e. at the "
                         "first retransmission at the latest: %s (connections that "
                         "retransmitted 0/1/2/3+ times: %s; max %.0f ms from their send)" % (
                             a["gap_ms"], "MET" if a["survived"] == n and rt[2] + rt[3] == 0
                             and a["gap_ms"] < RTO_MS else "NOT MET",
                             "/".join(str(x) for x in rt), worst))
            else:
                t.append("all data again within gap %.0f + RTO 200 = %.0f ms of their send: "
                         "%s (max %.0f ms%s)" % (
                             a["gap_ms"], lim, "MET" if worst <= lim and a["survived"] == n
                             else "NOT MET", worst,
                             "" if a["survived"] == n else ", not all came back"))
            b = a.get("base_from_send_ms")
            if b:
                t.append("the same round without a failure: max %.0f ms" % b[-1])
        else:
            t.append("data-again target: not measured")
        if c and "cpu" in c and "cpu" in a:
            for role, nm in (("fw1", "send"), ("fw2", "recv")):
                x, y = stack_cpu(a, role), stack_cpu(c, role)
                t.append("CPU %s <= 0.5 x conntrackd: %s (%.1f vs %.1f µs)" % (
                    nm, "MET" if x <= 0.5 * y else "NOT MET", x, y))
        else:
            t.append("CPU: no conntrackd figure")
        if c and a.get("lag") and c.get("lag"):
            x, y = pct(a["lag"], 99), pct(c["lag"], 99)
            t.append("p99 lag <= conntrackd's: %s (%.2f vs %.2f ms)" % (
                "MET" if x <= y else "NOT MET", x, y))
            if a.get("lag_mid") and c.get("lag_mid"):
                x, y = pct(a["lag_mid"], 99), pct(c["lag_mid"], 99)
                t.append("mid-poll: %s (%.2f vs %.2f ms)" % ("MET" if x <= y else "NOT MET",
                                                             x, y))
        else:
            t.append("lag: no comparison")
        print("  %6d: %s" % (n, "; ".join(t)))
    print()
    print("How: survival = connections whose message, sent at the crash, came back within %.0f s "
          "(of those established: 'opened'); data again = each connection's own send -> its "
          "echo (the TCP retransmissions of the round from TCP_INFO); gap = crash -> fw2's "
          "notify script saying master (arpha: NotifyScript of both VIPs; keepalived: the sync "
          "group's notify_master, which then runs conntrackd -c/-f/-R/-B). CPU = schedstat CPU "
          "of the daemons on fw1 (send) / fw2 (recv) while N connections open and sync, minus "
          "their idle rate over the same time, / N (conntrackd: conntrackd + keepalived). "
          "Lag = the handshake's last ACK arriving at fw1 (the kernel's timestamp, tcpdump; "
          "its passage makes the entry ESTABLISHED and the kernel send the event) -> fw2's "
          "daemon reporting the last change that connection caused, polled on its control "
          "socket (the answer that first shows it; mid-poll: the middle of that poll and the one "
          "before, which takes out how long each daemon's poll takes); %d sample connections "
          "opened one at a time on top of the N, one through each system's lab in turn (both "
          "labs up at once)." %
          (DEADLINE_S, samples))
    for s in systems:
        print("  %s lag counter: %s" % (s, (Arpha if s == "arpha" else Conntrackd).how_lag()))
    print()
    print("Details:")
    for r in results:
        if "error" in r:
            print("  %-10s %6d FAILED: %s" % (r["system"], r["n"], r["error"]))
        if "cpu" in r:
            print("  %-10s %6d opened %d in %.1f s, fw2 held %d; cpu window %.1f s: %s" % (
                r["system"], r["n"], r["opened"], r["open_s"], r["held"], r["cpu_window_s"],
                cpu_line(r)))
        if r.get("lag") is not None and "poll_ms" in r:
            print("  %-10s %6d lag samples %d (median poll interval %s ms), p50/p99/max "
                  "%s%s" % (r["system"], r["n"], len(r["lag"]), fmt(r["poll_ms"], nd=2),
                            " / ".join("%.2f" % x for x in (pct(r["lag"], 50), pct(r["lag"], 99),
                                                           r["lag"][-1])) if r["lag"] else "-",
                            "; unusable: %s" % r["lag_bad"][:2] if r.get("lag_bad") else ""))
        if "survived" in r:
            bf = r.get("base_from_send_ms") or []
            fs = r.get("from_send_ms") or []
            print("  %-10s %6d data again from each connection's own send p50/p99/max: "
                  "%s ms; the same round without a failure: %s ms; from the crash: %s ms; "
                  "connections that retransmitted 0/1/2/3+ times: %s" % (
                      r["system"], r["n"],
                      " / ".join("%.0f" % x for x in (pct(fs, 50), pct(fs, 99), fs[-1]))
                      if fs else "-",
                      " / ".join("%.0f" % x for x in (pct(bf, 50), pct(bf, 99), bf[-1]))
                      if bf else "-",
                      " / ".join("%.0f" % x for x in (pct(r["ms"], 50), pct(r["ms"], 99),
                                                      r["ms"][-1])) if r.get("ms") else "-",
                      "/".join(str(x) for x in r["retrans"]) if r.get("retrans") else "-"))
            print("  %-10s %6d crash: %d/%d survived, %d reset/closed; baseline round max %s ms; "
                  "gap %s ms; %s; fw2 conntrack entries after %s; packets dropped for a full "
                  "netdev backlog (whole host) during the crash round: %s" % (
                      r["system"], r["n"], r["survived"], r["total"], r["dead"],
                      fmt(r.get("base_max_ms")), fmt(r.get("gap_ms")), r["extra"],
                      r["fw2_conntrack"], r.get("backlog_drops")))


def version(cmd, word=-1):
    from lab import binary
    if cmd[0].startswith("build:"):
        cmd = [binary(cmd[0][6:])] + cmd[1:]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=10)
    except OSError:
        return "?"
    w = p.stdout.split()
    try:
        return w[word].rstrip(".")
    except IndexError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default=None, help="arpha build dir (default build-bench)")
    ap.add_argument("--quick", action="store_true", help="sizes 200,1000, 10 lag samples")
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--only", choices=SYSTEMS)
    ap.add_argument("--samples", type=int, default=300, help="lag samples per case")
    ap.add_argument("--deadline", type=float, default=DEADLINE_S)
    ap.add_argument("--spread", type=float, default=SPREAD_S,
                    help="seconds over which the crash round's sends are spread (0: at once)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write every result, the lag samples in order among them, as JSON")
    args = ap.parse_args()
    top = os.path.dirname(HERE)
    os.environ["ARPHA_BUILD"] = os.path.abspath(args.build or os.path.join(top, "build-bench"))
    if args.quick:
        args.sizes, args.samples = "200,1000", 10
    globals()["DEADLINE_S"] = args.deadline
    globals()["SPREAD_S"] = args.spread
    if os.geteuid() != 0:
        sys.exit("bench/ctsync.py: needs root (network namespaces)")
    # as many sockets as allowed (children inherit it); the connections are
    # spread over client/server pairs of at most PER_PROC each
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 262144 if hard == resource.RLIM_INFINITY or hard < 262144 else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sizes = [int(x) for x in args.sizes.split(",")]
    systems = [args.only] if args.only else list(SYSTEMS)
    for tool in ("conntrack", "tcpdump"):
        if not shutil.which(tool):
            sys.exit("bench/ctsync.py: %s is not installed (tools/deps.sh bench)" % tool)
    if "conntrackd" in systems and not (shutil.which("conntrackd") and shutil.which("keepalived")):
        print("conntrackd or keepalived is not installed (tools/deps.sh bench): arpha only",
              flush=True)
        systems.remove("conntrackd")
    if "arpha" in systems:
        from lab import binary, run
        if not os.path.exists(binary("arphad")):
            sys.exit("bench/ctsync.py: no %s" % binary("arphad"))
    results = []
    for n in sizes:
        results.extend(run_size(n, systems, args.samples))
    report(results, sizes, systems, args.samples)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()
