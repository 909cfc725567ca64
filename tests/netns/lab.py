"""lab: a small network in Linux network namespaces for arpha's end-to-end
tests and its demo. Standard library only; run with /usr/bin/python3 as root.

    with Lab("poison") as lab:                     # switch + node, client, attacker
        d = lab.arphad(arp={"ARPChanges": "Drop"}) # arphad on the node
        lab.ping("node", CLIENT_IP)
        atk = lab.agent("attacker")                # raw frames in and out
        seen = atk.exchange([garp_reply(ATTACKER_MAC, CLIENT_IP)], answer_to(...))
        lab.neigh("node")                          # the node's kernel table
        d.show(), d.stats(), d.wait_log(r"event=...")

The topology: a namespace "sw" holding a bridge br0 (no STP, no learning:
a static forwarding entry per host, so spoofed source MACs cannot move
anything), and one namespace per host with a veth "eth0" plugged into the
bridge. Addresses come from 198.18.0.0/24 only; MACs are fixed, locally
administered. Names are "ahl<pid>-<n>-<role>", so a later run can find and
remove what a crashed run left behind. Everything the lab makes is removed
on close, on exceptions, at exit and on SIGINT/SIGTERM/SIGHUP.
"""
import atexit
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"

NODE_IP, CLIENT_IP, ATTACKER_IP = "198.18.0.1", "198.18.0.10", "198.18.0.66"
NODE_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:10"
ATTACKER_MAC = "02:00:00:00:00:66"
BCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
PREFIX_LEN = 24

DEFAULT_HOSTS = {
    "node": (NODE_IP, NODE_MAC),
    "client": (CLIENT_IP, CLIENT_MAC),
    "attacker": (ATTACKER_IP, ATTACKER_MAC),
}

NS_RE = re.compile(r"^ahl(\d+)-\d+-[a-z0-9]+$")
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                          r"runtime error:|ERROR: .*Sanitizer")

ALLOWED_NETS = [ipaddress.ip_network("198.18.0.0/15")]


def stop_process(p, timeout=5.0):
    """SIGTERM to a child that still runs, SIGKILL if it is not gone in timeout s."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def info(msg):
    """A figure for the log of the run (not a result)."""
    print("info %s" % msg, flush=True)


def build_dir():
    b = os.environ.get("ARPHA_BUILD") or os.path.join(TOP, "build-asan")
    return os.path.abspath(b)


def binary(name):
    return os.path.join(build_dir(), name)


def check_addr(ip):
    """Refuse any address outside 198.18.0.0/15 (the benchmarking range)."""
    a = ipaddress.ip_address(ip.split("/")[0])
    if not any(a in n for n in ALLOWED_NETS):
        raise ValueError("address %s is outside 198.18.0.0/15" % ip)
    return ip


# ---------------------------------------------------------------- commands

class CmdError(Exception):
    pass


def run(cmd, check=True, timeout=30, input=None, env=None):
    """Run cmd (a list); returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=input, env=env)
    if check and p.returncode != 0:
        raise CmdError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                            (p.stderr or p.stdout).strip()))
    return p


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def netns_list():
    p = run(["ip", "-j", "netns", "list"], check=False)
    try:
        return [n["name"] for n in json.loads(p.stdout or "[]")]
    except ValueError:
        return [l.split()[0] for l in p.stdout.splitlines() if l.strip()]


def _kill_ns_pids(ns):
    p = run(["ip", "netns", "pids", ns], check=False)
    for w in p.stdout.split():
        try:
            os.kill(int(w), signal.SIGKILL)
        except (ValueError, ProcessLookupError, PermissionError):
            pass


def cleanup_stale():
    """Remove lab namespaces left by runs whose process is gone."""
    removed = []
    for ns in netns_list():
        m = NS_RE.match(ns)
        if not m or pid_alive(int(m.group(1))):
            continue
        _kill_ns_pids(ns)
        run(["ip", "netns", "del", ns], check=False)
        removed.append(ns)
    return removed


# ---------------------------------------------------------------- frames

def mac_b(m):
    b = bytes.fromhex(m.replace(":", "").replace("-", ""))
    if len(b) != 6:
        raise ValueError("bad MAC %r" % m)
    return b


def mac_s(b):
    return ":".join("%02x" % x for x in b)


def ip_b(ip):
    return ipaddress.IPv4Address(ip).packed


def ip_s(b):
    return str(ipaddress.IPv4Address(bytes(b)))


def arp(op, sha, spa, tha, tpa, eth_src=None, eth_dst=BCAST, vlan=None, htype=1,
        ptype=0x0800, hlen=6, plen=4, ethertype=0x0806, pad=True):
    """An Ethernet frame carrying ARP. eth_src defaults to sha. vlan: an
    802.1Q VLAN ID to tag the frame with. The header fields can lie (hlen,
    plen, ...): the body always carries 6-byte MACs and 4-byte IPs."""
    eth = mac_b(eth_dst) + mac_b(eth_src or sha)
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan & 0x0FFF)
    eth += struct.pack("!H", ethertype)
    body = struct.pack("!HHBBH", htype, ptype, hlen, plen, op)
    body += mac_b(sha) + ip_b(spa) + mac_b(tha) + ip_b(tpa)
    f = eth + body
    if pad and len(f) < 60:
        f += b"\0" * (60 - len(f))
    return f


def request(sha, spa, tpa, eth_src=None, eth_dst=BCAST, tha=ZERO_MAC, **kw):
    """Who has tpa? Tell spa (at sha)."""
    return arp(1, sha, spa, tha, tpa, eth_src=eth_src, eth_dst=eth_dst, **kw)


def reply(sha, spa, tha, tpa, eth_src=None, eth_dst=None, **kw):
    """spa is at sha; sent to tha (Ethernet destination tha unless given)."""
    return arp(2, sha, spa, tha, tpa, eth_src=eth_src, eth_dst=eth_dst or tha, **kw)


def garp_request(sha, ip, **kw):
    """Gratuitous ARP, request form: broadcast, spa == tpa == ip."""
    return arp(1, sha, ip, ZERO_MAC, ip, **kw)


def garp_reply(sha, ip, tha=None, **kw):
    """Gratuitous ARP, reply form: broadcast, spa == tpa == ip, tha == sha
    (what Linux calls a gratuitous reply)."""
    return arp(2, sha, ip, tha or sha, ip, **kw)


def probe(sha, tpa, **kw):
    """RFC 5227 probe: request with sender IP 0.0.0.0."""
    return arp(1, sha, "0.0.0.0", ZERO_MAC, tpa, **kw)


class Frame:
    """A captured frame, decoded as far as it goes."""

    def __init__(self, raw, pkttype=0, t=0.0):
        self.raw, self.pkttype, self.t = raw, pkttype, t
        self.eth_dst = mac_s(raw[0:6])
        self.eth_src = mac_s(raw[6:12])
        off, self.vlan = 12, None
        et = struct.unpack("!H", raw[12:14])[0]
        if et in (0x8100, 0x88A8) and len(raw) >= 18:
            self.vlan = struct.unpack("!H", raw[14:16])[0] & 0x0FFF
            off = 16
            et = struct.unpack("!H", raw[16:18])[0]
        self.ethertype = et
        b = raw[off + 2:]
        self.ok = len(b) >= 28
        if self.ok:
            self.htype, self.ptype, self.hlen, self.plen, self.op = struct.unpack("!HHBBH", b[:8])
            self.sha, self.spa = mac_s(b[8:14]), ip_s(b[14:18])
            self.tha, self.tpa = mac_s(b[18:24]), ip_s(b[24:28])
        else:
            self.op = None
            self.sha = self.spa = self.tha = self.tpa = None

    @property
    def incoming(self):
        return self.pkttype != 4  # PACKET_OUTGOING

    @property
    def gratuitous(self):
        return self.ok and self.spa == self.tpa

    def __repr__(self):
        if not self.ok:
            return "<frame %s>" % self.raw.hex()
        what = ("request who-has %s tell %s" % (self.tpa, self.spa) if self.op == 1 else
                "reply %s is-at %s" % (self.spa, self.sha) if self.op == 2 else "op%d" % self.op)
        return "<%s%s (eth %s > %s%s; arp %s/%s > %s/%s)>" % (
            "out " if not self.incoming else "", what, self.eth_src, self.eth_dst,
            " vlan %d" % self.vlan if self.vlan is not None else "",
            self.sha, self.spa, self.tha, self.tpa)


def is_reply(spa=None, sha=None, tpa=None, tha=None, eth_src=None, eth_dst=None):
    """A predicate for replies with the given fields (None: any)."""
    want = dict(spa=spa, sha=sha, tpa=tpa, tha=tha, eth_src=eth_src, eth_dst=eth_dst)

    def pred(f):
        if not f.ok or f.op != 2 or not f.incoming:
            return False
        return all(v is None or getattr(f, k) == v for k, v in want.items())
    return pred


def from_node_for(ip):
    """Any ARP frame that says something about ip (answers, announcements)."""
    return lambda f: f.ok and f.incoming and f.op == 2 and f.spa == ip


# ---------------------------------------------------------------- agent

class Agent:
    """rawsock.py running in a namespace: send frames, see frames."""

    def __init__(self, lab, role, iface="eth0"):
        self.lab, self.role, self.iface = lab, role, iface
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns(role), PY, "-u", os.path.join(HERE, "rawsock.py"),
             iface], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        self.cv = threading.Condition()
        self.frames_seen = []
        self.acks = []
        self.ready = False
        self.dead = False
        threading.Thread(target=self._reader, daemon=True).start()
        with self.cv:
            if not self.cv.wait_for(lambda: self.ready or self.dead, timeout=10):
                raise RuntimeError("agent in %s did not start" % role)
        if self.dead:
            raise RuntimeError("agent in %s failed: %s" % (role, self.p.stderr.read()))

    def _reader(self):
        for line in self.p.stdout:
            w = line.split()
            with self.cv:
                if not w:
                    continue
                if w[0] == "ready":
                    self.ready = True
                elif w[0] == "sent":
                    self.acks.append(int(w[1]))
                elif w[0] == "frame":
                    self.frames_seen.append(Frame(bytes.fromhex(w[2]), int(w[1]), time.monotonic()))
                self.cv.notify_all()
        with self.cv:
            self.dead = True
            self.cv.notify_all()

    def mark(self):
        with self.cv:
            return len(self.frames_seen)

    def send(self, *frames):
        """Send frames (bytes, or lists of bytes) in order; returns when sent."""
        flat = []
        for f in frames:
            flat.extend(f if isinstance(f, (list, tuple)) else [f])
        with self.cv:
            n = len(self.acks)
        for i in range(0, len(flat), 64):
            self.p.stdin.write("send " + " ".join(f.hex() for f in flat[i:i + 64]) + "\n")
        self.p.stdin.flush()
        want = n + (len(flat) + 63) // 64
        with self.cv:
            if not self.cv.wait_for(lambda: len(self.acks) >= want or self.dead, timeout=10):
                raise RuntimeError("agent in %s did not send" % self.role)

    def frames(self, since=0, pred=None):
        with self.cv:
            got = self.frames_seen[since:]
        return [f for f in got if pred is None or pred(f)]

    def wait(self, pred, since=0, count=1, timeout=2.0):
        """Frames since mark matching pred, as soon as there are count of
        them or when timeout passed (then maybe fewer)."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                got = [f for f in self.frames_seen[since:] if pred(f)]
                left = end - time.monotonic()
                if len(got) >= count or left <= 0:
                    return got
                self.cv.wait(left)

    def exchange(self, frames, pred, count=1, timeout=2.0, linger=0.25):
        """Send frames, then wait for count frames matching pred (and linger
        a little longer to catch extra ones). Returns every match."""
        m = self.mark()
        self.send(frames)
        got = self.wait(pred, m, count, timeout)
        if len(got) >= count and linger > 0:
            time.sleep(linger)
            got = self.frames(m, pred)
        return got

    def silence(self, frames, pred, window=0.6):
        """Send frames and return what matched pred within window seconds
        (for asserting that nothing is answered)."""
        m = self.mark()
        self.send(frames)
        time.sleep(window)
        return self.frames(m, pred)

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---------------------------------------------------------------- arphad

def unit_values(text):
    """{key: [values]} of a systemd unit's text (every section together)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def cluster_config(node_id, keyfile, group, port, interval_ms, dead):
    """A node of a cluster on one LAN interface (lan, eth0) with no VIP (@SOCK@ for the
    control socket)."""
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n"
            "[Interface lan]\nDevice=eth0\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=%dms\nDeadInterval=%d\n" %
            (node_id, group, port, keyfile, interval_ms, dead))


def make_config(sock, arp=None, entries=(), proxies=(), iface="lan", device="eth0",
                log_level="debug", extra=""):
    lines = ["# written by tests/netns/lab.py", "[Daemon]", "ControlSocket=%s" % sock,
             "LogTarget=stderr", "LogLevel=%s" % log_level, ""]
    if arp:
        lines.append("[ARP]")
        lines += ["%s=%s" % kv for kv in arp.items()]
        lines.append("")
    lines += ["[Interface %s]" % iface, "Device=%s" % device, ""]
    for e in entries:
        lines.append("[ARPEntry]")
        e = dict(e)
        e.setdefault("Interface", iface)
        check_addr(e["IP"])
        lines += ["%s=%s" % kv for kv in e.items()]
        lines.append("")
    for p in proxies:
        lines.append("[ProxyARP]")
        p = dict(p)
        check_addr(p["Network"])
        p.setdefault("Interfaces", "all")
        lines += ["%s=%s" % kv for kv in p.items()]
        lines.append("")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


class Arphad:
    """arphad -d in a namespace; stderr goes to a file."""

    def __init__(self, lab, role, config_text, name):
        self.lab, self.role, self.name = lab, role, name
        self.dir = lab.tmp
        self.sock = os.path.join(self.dir, name + ".sock")
        self.conf = os.path.join(self.dir, name + ".conf")
        self.logpath = os.path.join(self.dir, name + ".log")
        self.config_text = config_text.replace("@SOCK@", self.sock)
        with open(self.conf, "w") as f:
            f.write(self.config_text)
        self.p = None
        self.killed = False
        self.stopped_rc = None

    def start(self, timeout=15):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        self.logf = open(self.logpath, "ab")
        self.p = subprocess.Popen(["ip", "netns", "exec", self.lab.ns(self.role), binary("arphad"),
                                   "-d", "-f", self.conf], stdin=subprocess.DEVNULL,
                                  stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while True:
            if self.p.poll() is not None:
                raise RuntimeError("arphad (%s) exited with %d at start:\n%s" %
                                   (self.name, self.p.returncode, self.log()[-3000:]))
            r = self.arpha("stats", check=False)
            if r.returncode == 0:
                return self
            if time.monotonic() > end:
                raise RuntimeError("arphad (%s) does not answer on %s:\n%s" %
                                   (self.name, self.sock, self.log()[-3000:]))
            time.sleep(0.05)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop with sig; returns the exit status (negative: killed by signal)."""
        if self.p is None:
            return None
        if self.p.poll() is None:
            if sig == signal.SIGKILL:
                self.killed = True
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.p.kill()
                self.p.wait()
        self.logf.close()
        self.stopped_rc = self.p.returncode
        return self.p.returncode

    def kill9(self):
        return self.stop(signal.SIGKILL)

    # -- the CLI
    def arpha(self, *args, json_out=False, check=True):
        cmd = [binary("arpha"), "-s", self.sock] + (["-j"] if json_out else []) + list(args)
        return run(["ip", "netns", "exec", self.lab.ns(self.role)] + cmd, check=check)

    def arpha_json(self, *args):
        return json.loads(self.arpha(*args, json_out=True).stdout)

    def show(self, iface=None):
        """arpha -j arp show: {ip: entry}."""
        v = self.arpha_json("arp", "show", *([iface] if iface else []))
        return {e["ip"]: e for e in v}

    def stats(self, iface="lan"):
        """Counters of one interface (dict), plus "entries"."""
        for i in self.arpha_json("stats")["interfaces"]:
            if i["interface"] == iface:
                c = dict(i["counters"])
                c["entries"] = i["entries"]
                return c
        raise KeyError("no interface %s in arpha stats" % iface)

    # -- the log
    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_mark(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log_since(self, mark):
        with open(self.logpath, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    def log_lines(self, pattern, since=0):
        r = re.compile(pattern)
        return [l for l in self.log_since(since).splitlines() if r.search(l)]

    def wait_log(self, pattern, since=0, timeout=2.0):
        """Lines since mark matching pattern (regex); waits up to timeout for one."""
        end = time.monotonic() + timeout
        while True:
            got = self.log_lines(pattern, since)
            if got or time.monotonic() > end:
                return got
            time.sleep(0.02)

    def sanitizer_report(self):
        m = SANITIZER_RE.search(self.log())
        if not m:
            return None
        text = self.log()
        i = max(0, m.start() - 200)
        return text[i:i + 3000]


# ---------------------------------------------------------------- the lab

_LABS = []
_HANDLERS_SET = False
_COUNTER = [0]


def _close_all():
    for lab in list(_LABS):
        try:
            lab.close()
        except Exception as e:  # keep closing the others
            sys.stderr.write("lab cleanup: %s\n" % e)


def _on_signal(sig, frame):
    # unwind through every finally/with, then atexit closes what is left
    signal.signal(sig, signal.SIG_DFL)
    _close_all()
    sys.exit(128 + sig)


def _install_handlers():
    global _HANDLERS_SET
    if _HANDLERS_SET:
        return
    _HANDLERS_SET = True
    atexit.register(_close_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


class Lab:
    def __init__(self, label="lab", hosts=None):
        if os.geteuid() != 0:
            raise PermissionError("the netns lab needs root")
        _install_handlers()
        cleanup_stale()
        _COUNTER[0] += 1
        self.label = label
        self.prefix = "ahl%d-%d" % (os.getpid(), _COUNTER[0])
        self.hosts = dict(hosts or DEFAULT_HOSTS)
        for ip, _mac in self.hosts.values():
            check_addr(ip)
        self.made = []
        self.agents = {}
        self.daemons = []
        self.closed = False
        self.tmp = tempfile.mkdtemp(prefix="arpha-%s-" % label)
        self._script_dir = None
        _LABS.append(self)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def ns(self, role):
        return "%s-%s" % (self.prefix, role)

    def ip(self, role, *args, check=True):
        return run(["ip", "-n", self.ns(role)] + list(args), check=check)

    def exec(self, role, *cmd, check=True, timeout=30, env=None):
        return run(["ip", "netns", "exec", self.ns(role)] + list(cmd), check=check,
                   timeout=timeout, env=env)

    def _addns(self, role):
        name = self.ns(role)
        run(["ip", "netns", "add", name])
        self.made.append(name)
        # quiet hosts: no IPv6 chatter (DAD, router solicitations, MLD)
        self.exec(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1")
        self.ip(role, "link", "set", "lo", "up")

    def _setup(self):
        self._addns("sw")
        self.ip("sw", "link", "add", "br0", "type", "bridge", "stp_state", "0",
                "forward_delay", "0", "mcast_snooping", "0")
        self.ip("sw", "link", "set", "br0", "up")
        for role, (ip, mac) in self.hosts.items():
            self.add_host(role, ip, mac)

    def add_host(self, role, ip, mac):
        check_addr(ip)
        self._addns(role)
        port = "p-" + role[:13]
        self.ip("sw", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
                self.ns(role))
        self.ip(role, "link", "set", "eth0", "address", mac)
        self.ip(role, "addr", "add", "%s/%d" % (ip, PREFIX_LEN), "dev", "eth0")
        self.ip("sw", "link", "set", port, "master", "br0")
        self.ip("sw", "link", "set", port, "type", "bridge_slave", "learning", "off")
        run(["bridge", "-n", self.ns("sw"), "fdb", "add", mac, "dev", port, "master", "static"])
        self.ip("sw", "link", "set", port, "up")
        self.ip(role, "link", "set", "eth0", "up")
        self.hosts[role] = (ip, mac)

    # -- processes
    def agent(self, role, iface="eth0"):
        """The raw-frame agent of a host (one per host and interface)."""
        key = (role, iface)
        if key not in self.agents:
            self.agents[key] = Agent(self, role, iface)
        return self.agents[key]

    def arphad(self, role="node", arp=None, entries=(), proxies=(), config=None, start=True,
               name=None, **kw):
        """arphad on role with a config made from arp/entries/proxies (or the
        text config, where @SOCK@ stands for the control socket). name: reuse
        the files (socket, config, log) of an earlier run of that name."""
        name = name or "arphad%d" % (len(self.daemons) + 1)
        text = config if config is not None else make_config("@SOCK@", arp, entries, proxies, **kw)
        d = Arphad(self, role, text, name)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    # -- the kernel
    def neigh(self, role="node", dev="eth0"):
        """The kernel neighbour table of dev: {ip: {"lladdr":..., "state":[...]}}."""
        p = self.ip(role, "-j", "neigh", "show", "dev", dev)
        out = {}
        for e in json.loads(p.stdout or "[]"):
            if ":" in e.get("dst", ":"):
                continue
            out[e["dst"]] = {"lladdr": e.get("lladdr"), "state": e.get("state", [])}
        return out

    def neigh_mac(self, ip, role="node"):
        return self.neigh(role).get(ip, {}).get("lladdr")

    def wait_neigh(self, ip, pred, role="node", timeout=3.0):
        """Poll the kernel table until pred(entry or None) holds; returns the entry."""
        end = time.monotonic() + timeout
        while True:
            e = self.neigh(role).get(ip)
            if pred(e) or time.monotonic() > end:
                return e
            time.sleep(0.05)

    def flush_neigh(self, role):
        self.ip(role, "neigh", "flush", "dev", "eth0", check=False)

    def ping(self, role, ip, count=1, wait=2):
        check_addr(ip)
        p = self.exec(role, "ping", "-n", "-q", "-c", str(count), "-W", str(wait), ip,
                      check=False, timeout=wait * count + 10)
        return p.returncode == 0

    def kernel_asks(self, ip, role="node"):
        """role's kernel sends an ARP request for ip (it resolves ip to send
        a datagram there): what arphad takes for a query. A request sent on a
        packet socket (the frame agent, arping) passes no netfilter hook, so
        arphad does not see it."""
        check_addr(ip)
        self.exec(role, "bash", "-c", "echo > /dev/udp/%s/9" % ip, check=False)

    def nft_tables(self, role="node"):
        p = self.exec(role, "nft", "list", "tables", check=False)
        return [l.strip() for l in p.stdout.splitlines() if l.strip()]

    def script_dir(self):
        """A directory for programs arphad runs (NotifyScript=): mode 0755
        under /run, so that it and every directory above it are owned by
        root and writable by nobody else (self.tmp is under /tmp, mode 1777,
        where arphad refuses a script). Removed on close."""
        if getattr(self, "_script_dir", None) is None:
            d = tempfile.mkdtemp(prefix="arpha-%s-" % self.label, dir="/run")
            os.chmod(d, 0o755)
            self._script_dir = d
            p = d
            while True:
                st = os.stat(p)
                if st.st_uid != 0 or st.st_mode & 0o022:
                    raise RuntimeError("%s is not a safe place for scripts (%s: uid %d, "
                                       "mode %o)" % (d, p, st.st_uid, st.st_mode & 0o7777))
                if p == "/":
                    break
                p = os.path.dirname(p)
        return self._script_dir

    def script(self, name, text, mode=0o755):
        """Write an executable script (owned by root) into script_dir()."""
        path = os.path.join(self.script_dir(), name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # -- the end
    def daemon_problems(self, expect_alive=None):
        """Problems with the arphad runs of this lab: sanitizer reports in any
        log, an exit status other than 0 after SIGTERM, and expect_alive not
        running."""
        out = []
        for d in self.daemons:
            rep = d.sanitizer_report()
            if rep:
                out.append("%s: sanitizer report in its log:\n%s" % (d.name, rep))
            if d.stopped_rc not in (None, 0) and not d.killed:
                out.append("%s: exited with status %s when stopped" % (d.name, d.stopped_rc))
        if expect_alive is not None and not expect_alive.alive():
            out.append("%s: not running any more (exit %s); log tail:\n%s" % (
                expect_alive.name, expect_alive.p.returncode, expect_alive.log()[-2000:]))
        return out

    def close(self):
        if self.closed:
            return
        self.closed = True
        for a in self.agents.values():
            try:
                a.close()
            except Exception:
                pass
        for d in self.daemons:
            try:
                if d.alive():
                    d.stop()
            except Exception:
                pass
        for name in reversed(self.made):
            _kill_ns_pids(name)
            run(["ip", "netns", "del", name], check=False)
        if not os.environ.get("ARPHA_KEEP_LOGS"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if getattr(self, "_script_dir", None):
            shutil.rmtree(self._script_dir, ignore_errors=True)
        if self in _LABS:
            _LABS.remove(self)


# ---------------------------------------------------------------- results

class CaseFailed(Exception):
    pass


def expect(cond, msg, *args):
    if not cond:
        raise CaseFailed(msg % args if args else msg)


class Results:
    """One line per case: "PASS name" or "FAIL name: why"."""

    def __init__(self, suite):
        self.suite = suite
        self.failed = 0
        self.passed = 0

    def case(self, name):
        return _Case(self, "%s/%s" % (self.suite, name))

    def record(self, name, why=None):
        if why is None:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            why = " | ".join(l for l in str(why).strip().splitlines() if l.strip())
            print("FAIL %s: %s" % (name, why[:1500]), flush=True)

    def daemon_checks(self, lab, alive=None, name="arphad-clean"):
        """The closing case: no sanitizer report, clean exits, still alive."""
        with self.case(name):
            if alive is not None:
                expect(alive.alive(), "arphad died; log tail: %s", alive.log()[-1500:])
                rc = alive.stop()
                expect(rc == 0, "arphad exited with %s on SIGTERM; log tail: %s", rc,
                       alive.log()[-1500:])
            probs = lab.daemon_problems()
            expect(not probs, "; ".join(probs))

    def exit(self):
        sys.exit(1 if self.failed else 0)


class _Case:
    def __init__(self, res, name):
        self.res, self.name = res, name

    def __enter__(self):
        return self

    def __exit__(self, typ, val, tb):
        if typ is None:
            self.res.record(self.name)
        elif issubclass(typ, CaseFailed):
            self.res.record(self.name, val)
        elif issubclass(typ, Exception):
            import traceback
            self.res.record(self.name, "%s: %s (at %s)" % (
                typ.__name__, val, traceback.extract_tb(tb)[-1][:3]))
        else:
            return False
        return True


def wait_for(pred, timeout, step=0.02):
    """Call pred every step seconds until it gives something true or timeout
    seconds pass; its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def need_root(suite):
    """Print a FAIL line and exit when not root."""
    if os.geteuid() != 0:
        print("FAIL %s: the netns tests must run as root" % suite, flush=True)
        sys.exit(1)
    for b in ("arphad", "arpha"):
        if not os.access(binary(b), os.X_OK):
            print("FAIL %s: no %s in %s (build it first)" % (suite, b, build_dir()), flush=True)
            sys.exit(1)
