"""vipnet: the address-failover topology shared by tests/netns/test_failover.py
and bench/failover.py. Standard library only.

Two nodes n1 (198.18.0.1) and n2 (198.18.0.2) share the address
198.18.0.100/24 (the VIP); clients on the same bridge ask the VIP for an
answer every millisecond (probe.py) while the node holding it fails:

  crash     the node goes silent on the wire at once (an nftables netdev
            ingress+egress drop on its eth0, as a machine that died would)
            and every process in its namespace gets SIGKILL right after,
            so the daemon says nothing; the address it held stays behind
            on its interface, unreachable, as on a dead machine
  linkcut   its port on the switch goes down (the daemon lives on and sees
            its carrier go)
  graceful  SIGTERM to its daemon

Clients: "client" is a plain Linux host; "gclient" ignores gratuitous ARP
(net.ipv4.conf.{all,eth0}.drop_gratuitous_arp=1); "fclient" also ignores
it and runs arpha-flushd.
"""
import json
import os
import signal
import subprocess
import threading
import time

from lab import HERE, PY, binary, run

VIP = "198.18.0.100"
VIP_CIDR = VIP + "/24"
GROUP, PORT, FLUSH_PORT = "239.192.74.10", 7410, 7411
NODES = {  # role: (node id, ip, mac, priority)
    "n1": (1, "198.18.0.1", "02:00:00:00:00:01", 200),
    "n2": (2, "198.18.0.2", "02:00:00:00:00:02", 100),
}
CLIENTS = {
    "client": ("198.18.0.10", "02:00:00:00:00:10"),
    "gclient": ("198.18.0.11", "02:00:00:00:00:11"),
    "fclient": ("198.18.0.12", "02:00:00:00:00:12"),
}
IGNORES_GARP = ("gclient", "fclient")


def hosts(clients=("client", "gclient")):
    h = {r: (ip, mac) for r, (_i, ip, mac, _p) in NODES.items()}
    for c in clients:
        h[c] = CLIENTS[c]
    return h


def setup_clients(lab, clients):
    for c in clients:
        if c in IGNORES_GARP:
            lab.exec(c, "sysctl", "-qw", "net.ipv4.conf.all.drop_gratuitous_arp=1",
                     "net.ipv4.conf.eth0.drop_gratuitous_arp=1")


def parse_ms(s):
    """'20ms', '1s', '100' (ms) -> milliseconds (float)."""
    s = str(s).strip()
    if s.endswith("ms"):
        return float(s[:-2])
    if s.endswith("s"):
        return float(s[:-1]) * 1000
    return float(s)


# ---------------------------------------------------------------- the kernel

def node_has_vip(lab, role, dev="eth0"):
    """Whether the VIP is on an interface of role (any, when dev is None)."""
    args = ["-j", "addr", "show"] + (["dev", dev] if dev else [])
    p = lab.ip(role, *args, check=False)
    for link in json.loads(p.stdout or "[]"):
        for a in link.get("addr_info", []):
            if a.get("family") == "inet" and a.get("local") == VIP:
                return True
    return False


def vip_devices(lab, role):
    p = lab.ip(role, "-j", "addr", "show", check=False)
    return [l["ifname"] for l in json.loads(p.stdout or "[]")
            if any(a.get("local") == VIP for a in l.get("addr_info", []))]


def fresh_entry(lab, role):
    """Make role resolve the VIP now (delete its entry, ping once): its entry
    is then fresh (REACHABLE) and points at whoever answered. Returns the
    entry {"lladdr", "state"} or None."""
    lab.ip(role, "neigh", "del", VIP, "dev", "eth0", check=False)
    lab.exec(role, "ping", "-n", "-q", "-c", "1", "-W", "1", VIP, check=False, timeout=10)
    return lab.neigh(role).get(VIP)


BLACKHOLE = """table netdev arpha_crash {
  chain in { type filter hook ingress device "eth0" priority -500; policy drop; }
  chain out { type filter hook egress device "eth0" priority -500; policy drop; }
}
"""


def crash(lab, role):
    """The node dies: silent on the wire, then SIGKILL to all it runs.
    Returns the monotonic time the wire went silent (after nft returned)."""
    pids = run(["ip", "netns", "pids", lab.ns(role)], check=False).stdout.split()
    p = subprocess.run(["ip", "netns", "exec", lab.ns(role), "nft", "-f", "-"], input=BLACKHOLE,
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t = time.monotonic()
    for w in pids:
        try:
            os.kill(int(w), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass
    if p.returncode != 0:
        raise RuntimeError("blackhole on %s: %s" % (role, p.stderr.strip()))
    return t


def link_cut(lab, role):
    """The node's switch port goes down. Returns the monotonic time after."""
    lab.ip("sw", "link", "set", "p-" + role[:13], "down")
    return time.monotonic()


# ---------------------------------------------------------------- the probe

class Probe:
    """probe.py on a client, asking the VIP every millisecond; a thread reads
    its status lines, so the controller can wait for answers to come back."""

    def __init__(self, lab, role, target=VIP, duration=120.0, status_ms=20, extra=()):
        self.lab, self.role = lab, role
        self.cv = threading.Condition()
        self.status = None
        self.result = None
        self.other = []
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns(role), PY, "-u", os.path.join(HERE, "probe.py"),
             target, "--duration", str(duration), "--status", str(status_ms)] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            try:
                v = json.loads(line)
            except ValueError:
                self.other.append(line)
                continue
            with self.cv:
                if v.get("type") == "result":
                    self.result = v
                else:
                    self.status = v
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def last_answer(self):
        with self.cv:
            return self.status and self.status.get("last_answer")

    def wait_answers(self, steady=0.3, timeout=5.0):
        """Wait until answers have been coming for steady seconds."""
        end = time.monotonic() + timeout
        first = None
        while time.monotonic() < end:
            la = self.last_answer()
            now = time.monotonic()
            if la and now - la < 0.05:
                first = first or now
                if now - first >= steady:
                    return True
            else:
                first = None
            time.sleep(0.02)
        return False

    def wait_recovered(self, t_fail, min_wait, timeout, steady=0.2):
        """After t_fail: wait at least min_wait, then until answers that came
        after t_fail have been flowing for steady seconds (or timeout).
        Returns True if they did."""
        end = t_fail + timeout
        since = None
        while True:
            now = time.monotonic()
            la = self.last_answer()
            flowing = la is not None and la > t_fail and now - la < 0.05
            since = (since or now) if flowing else None
            if now >= t_fail + min_wait and since is not None and now - since >= steady:
                return True
            if now >= end or self.p.poll() is not None:
                return False
            time.sleep(0.01)

    def stop(self, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        with self.cv:
            self.cv.wait_for(lambda: self.result is not None, timeout=2)
        if self.result is None:
            raise RuntimeError("probe on %s gave no result: %s %s" % (
                self.role, "".join(self.other)[-500:], self.p.stderr.read()[-500:]))
        return self.result


def gap_line(role, r, t_fail=None):
    s = "%s: longest gap %.1f ms" % (role, r["longest_gap_ms"])
    if t_fail is not None:
        s += " (from %+.1f ms after the failure%s)" % ((r["gap_start"] - t_fail) * 1000,
                                                       "" if r["recovered"] else ", never ended")
    return s + ", %d/%d answered" % (r["received"], r["sent"])


# ---------------------------------------------------------------- arphad

def arpha_config(role, keyfile, heartbeat="20ms", vip="", cluster="", extra="",
                 log_level="info", notify=None):
    """arphad.conf for a node (@SOCK@ for the control socket). vip: more
    [VIP] lines; cluster: more [Cluster] lines; extra: more sections."""
    node_id, _ip, _mac, prio = NODES[role]
    text = ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=%s\n\n"
            "[Interface lan]\nDevice=eth0\n\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=%s\n%s\n"
            "[VIP vip1]\nAddress=%s\nInterface=lan\nPriority=%d\n%s%s\n%s" %
            (log_level, node_id, GROUP, PORT, keyfile, heartbeat, cluster, VIP_CIDR, prio,
             "NotifyScript=%s\n" % notify if notify else "", vip, extra))
    return text


def vip_view(d, name="vip1"):
    """This VIP's object in `arpha -j vip`, or None."""
    r = d.arpha("vip", json_out=True, check=False)
    if r.returncode != 0:
        return None
    try:
        v = json.loads(r.stdout)
    except ValueError:
        return None
    if isinstance(v, dict):  # tolerate {"vips": [...]}
        v = next((x for x in v.values() if isinstance(x, list)), [])
    for o in v:
        if o.get("name") == name:
            return o
    return None


def vip_state(d, name="vip1"):
    o = vip_view(d, name)
    return o and o.get("state")


def wait_vip_states(daemons, want, timeout=5.0):
    """Poll until every role in want has its state; returns (ok, states)."""
    end = time.monotonic() + timeout
    while True:
        got = {r: vip_state(daemons[r]) for r in want}
        if got == want or time.monotonic() > end:
            return got == want, got
        time.sleep(0.02)


def arphad_accepts_vip():
    """Whether this arphad knows [VIP] (arphad -n on a minimal config)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "k")
        if run([binary("arpha"), "keygen", key], check=False).returncode != 0:
            return False
        conf = os.path.join(d, "c.conf")
        with open(conf, "w") as f:
            f.write(arpha_config("n1", key).replace("@SOCK@", os.path.join(d, "s")))
        return run([binary("arphad"), "-n", "-f", conf], check=False).returncode == 0
