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
it and runs arpha-flushd; "aclient" runs arphad with
UnsolicitedARPReplies=DropLog (the seed's default, and arphad's before
Verify), "vclient" arphad with UnsolicitedARPReplies=Verify (the default).
"""
import json
import os
import signal
import subprocess
import threading
import time

from lab import HERE, PY, binary, run, stop_process

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
    "aclient": ("198.18.0.13", "02:00:00:00:00:13"),
    "vclient": ("198.18.0.14", "02:00:00:00:00:14"),
}
IGNORES_GARP = ("gclient", "fclient")
ARPHAD_CLIENTS = {"aclient": {"UnsolicitedARPReplies": "DropLog"},
                  "vclient": {"UnsolicitedARPReplies": "Verify"}}


def hosts(clients=("client", "gclient")):
    h = {r: (ip, mac) for r, (_i, ip, mac, _p) in NODES.items()}
    for c in clients:
        h[c] = CLIENTS[c]
    return h


def setup_clients(lab, clients):
    """Each client as its kind says; returns {role: arphad} of those that run one."""
    daemons = {}
    for c in clients:
        if c in IGNORES_GARP:
            lab.exec(c, "sysctl", "-qw", "net.ipv4.conf.all.drop_gratuitous_arp=1",
                     "net.ipv4.conf.eth0.drop_gratuitous_arp=1")
        if c in ARPHAD_CLIENTS:
            daemons[c] = lab.arphad(c, arp=ARPHAD_CLIENTS[c], name=c, log_level="info")
    return daemons


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


def blackhole(devs):
    """An nftables table that drops everything in and out of devs."""
    return "table netdev arpha_crash {\n%s}\n" % "".join(
        '  chain in_%s { type filter hook ingress device "%s" priority -500; policy drop; }\n'
        '  chain out_%s { type filter hook egress device "%s" priority -500; policy drop; }\n'
        % (d, d, d, d) for d in devs)


def crash(lab, role):
    """The node dies: silent on the wire (every link of it), then SIGKILL to
    all it runs. Returns the monotonic time the wire went silent (after nft
    returned)."""
    pids = run(["ip", "netns", "pids", lab.ns(role)], check=False).stdout.split()
    devs = [l["ifname"] for l in json.loads(lab.ip(role, "-j", "link", "show").stdout or "[]")
            if l["ifname"].startswith("eth")]
    p = subprocess.run(["ip", "netns", "exec", lab.ns(role), "nft", "-f", "-"],
                       input=blackhole(devs), text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
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
        stop_process(self.p, timeout)
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
                 log_level="info", notify=None, cluster_ifaces="eth0"):
    """arphad.conf for a node (@SOCK@ for the control socket). vip: more
    [VIP] lines; cluster: more [Cluster] lines; extra: more sections;
    cluster_ifaces: the [Cluster] Interface= devices (the paths)."""
    node_id, _ip, _mac, prio = NODES[role]
    text = ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=%s\n\n"
            "[Interface lan]\nDevice=eth0\n\n"
            "[Cluster]\nNodeID=%d\nInterface=%s\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=%s\n%s\n"
            "[VIP vip1]\nAddress=%s\nInterface=lan\nPriority=%d\n%s%s\n%s" %
            (log_level, node_id, cluster_ifaces, GROUP, PORT, keyfile, heartbeat, cluster,
             VIP_CIDR, prio,
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


# ---------------------------------------------------------------- the systems

MAX_GAP = 75.0  # seconds a client may stay without answers before a run gives up


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

    def __init__(self, lab, interval_ms, log_level="notice", vip="", paths=1):
        self.lab, self.interval_ms, self.vip = lab, interval_ms, vip
        self.key = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", self.key])
        self.d, self.notify = {}, {}
        self.log_level = log_level
        # two paths: a sync link (eth1, add_sync_link) first, the LAN second
        self.cluster_ifaces = "eth1 eth0" if paths == 2 else "eth0"

    def start(self, role):
        script, self.notify[role] = notify_script(self.lab, role)
        conf = arpha_config(role, self.key, heartbeat="%gms" % self.interval_ms,
                            notify=script, log_level=self.log_level, vip=self.vip,
                            cluster_ifaces=self.cluster_ifaces)
        self.d[role] = self.lab.arphad(role, config=conf, name=role)

    def state(self, role):
        return vip_state(self.d[role])

    def crash(self, role):
        t = crash(self.lab, role)
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

    def __init__(self, lab, interval_ms, log_level=None, vip=""):
        self.lab, self.interval_ms = lab, interval_ms
        self.p, self.notify, self.logs = {}, {}, {}

    def start(self, role):
        _id, _ip, _mac, prio = NODES[role]
        script, self.notify[role] = notify_script(self.lab, role)
        conf = os.path.join(self.lab.tmp, "keepalived-%s.conf" % role)
        with open(conf, "w") as f:
            f.write(self.CONF % dict(role=role, state="MASTER" if prio > 100 else "BACKUP",
                                     prio=prio, adv="%g" % (self.interval_ms / 1000.0),
                                     vip=VIP_CIDR, notify=script))
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
        return crash(self.lab, role)

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
        for p in self.p.values():
            stop_process(p)
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
    sysm.start("n1")
    ok, got = wait_state(sysm, {"n1": "master"}, 10 + 5 * interval_ms / 1000)
    if not ok:
        raise RuntimeError("%s: n1 did not become master: %s" % (sysm.name, got))
    sysm.start("n2")
    ok, got = wait_state(sysm, {"n1": "master", "n2": "backup"}, 10 + 5 * interval_ms / 1000)
    if not ok:
        raise RuntimeError("%s: not n1 master + n2 backup: %s" % (sysm.name, got))
    time.sleep(3 * interval_ms / 1000 + 0.2)
    if not node_has_vip(lab, "n1", dev=None):
        raise RuntimeError("%s: n1 is master but has no %s" % (sysm.name, VIP))


def add_sync_link(lab):
    """A second link between the nodes alone: eth1 on the bridge bry,
    198.18.3.ID/24."""
    lab.ip("sw", "link", "add", "bry", "type", "bridge", "stp_state", "0", "forward_delay", "0",
           "mcast_snooping", "0")
    lab.ip("sw", "link", "set", "bry", "up")
    for role, (node_id, _ip, _mac, _prio) in NODES.items():
        port = "s-" + role
        lab.ip("sw", "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns",
               lab.ns(role))
        lab.ip(role, "link", "set", "eth1", "address", "02:00:00:00:03:%02x" % node_id)
        lab.ip(role, "addr", "add", "198.18.3.%d/24" % node_id, "dev", "eth1")
        lab.ip("sw", "link", "set", port, "master", "bry")
        lab.ip("sw", "link", "set", port, "up")
        lab.ip(role, "link", "set", "eth1", "up")


def one_run(system, interval_ms, scenario, rng, client, max_gap=MAX_GAP, log=print, vip="",
            paths=1):
    """One failover seen by one client (alone on the LAN: the new master's
    own ARP requests, sent with the VIP as source address to reach another
    client, would update this client's entry as a side effect). Returns
    the client's longest gap in ms; None when answers had not come back
    max_gap seconds after the failure. paths=2 (arpha): the nodes also
    share a sync link, and the cluster runs on both (the sync link first)."""
    from lab import Lab
    with Lab("fo", hosts=hosts((client,))) as lab:
        daemons = setup_clients(lab, (client,))
        if paths == 2:
            add_sync_link(lab)
        sysm = SYSTEMS[system](lab, interval_ms, vip=vip, **({"paths": 2} if paths == 2 else {}))
        try:
            start_pair(lab, sysm, interval_ms)
            n1_mac = NODES["n1"][2]
            e = fresh_entry(lab, client)
            if not e or e.get("lladdr") != n1_mac:
                raise RuntimeError("%s's entry for the VIP is %s, not n1's MAC" % (client, e))
            probe = Probe(lab, client, duration=max_gap + 30)
            if not probe.wait_answers(steady=0.3):
                raise RuntimeError("%s gets no answers from the VIP" % client)
            time.sleep(rng.uniform(0, interval_ms / 1000))
            t = sysm.crash("n1") if scenario == "crash" else sysm.graceful("n1")
            probe.wait_recovered(t, 5 * interval_ms / 1000 + 0.5, max_gap)
            r = probe.stop()
            log("    %s" % gap_line(client, r, t))
            if not r["recovered"] and client in daemons:
                log("    %s's arphad: %s" % (client, " | ".join(
                    l for l in daemons[client].log().splitlines()
                    if "arp_verif" in l or "arp_conflict" in l or "unsolicited" in l)[-1200:]))
            st = sysm.state("n2")
            if st != "master":
                log("    n2 is %s after the failure, not master; %s" % (st, sysm.diagnose("n2")))
                return None
            return r["longest_gap_ms"] if r["recovered"] else None
        finally:
            probs = sysm.problems()
            if probs:
                log("    problems: %s" % "; ".join(probs))
