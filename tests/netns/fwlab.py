"""fwlab: two stateful firewalls in front of a server, for the end-to-end
tests of connection-tracking sync (issue 5). Standard library only; run
as root.

    client 198.18.1.10/24 --(brc)-- fw1 eth0 .1.2 / fw2 eth0 .1.3
                                    fw1 eth1 .2.2 / fw2 eth1 .2.3 --(brs)-- server 198.18.2.10/24
                                    fw1 eth2 .3.1 / fw2 eth2 .3.2 --(bry) the sync link

The client's gateway is the VIP 198.18.1.1 ([VIP in] on lan = eth0), the
server's the VIP 198.18.2.1 ([VIP out] on srv = eth1); both VIPs are in
one group, fw1 (Priority 200) the master, fw2 (Priority 100) the backup.
The firewalls forward (ip_forward=1) through an nftables ruleset that
passes only what conntrack knows, or a new connection's first packet
(a pure SYN, or UDP/ICMP), and net.netfilter.nf_conntrack_tcp_loose=0:
a firewall that has no entry for an established TCP connection drops
its packets, as a real one would.

    with FwLab("ctsync") as lab:
        d = lab.start_firewalls(connsync=None)     # or {"Protocols": "tcp udp icmp"}
        srv = lab.echo_server(); cli = lab.echo_client(1000, 8)
        t = lab.crash("fw1")                       # SIGKILL + its three links cut
        lab.wait_master("fw2"); r = cli.round("r1", t, 10)

The bridges live in the namespace "sw" (ports "<fw>-e0".. "-e2", "p-client",
"p-server"). Names and cleanup as in lab.py (the Lab base class).
"""
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

from lab import HERE, PY, Lab, binary, check_addr, info, run  # noqa: F401 (info: for its users)

VIP_IN, VIP_OUT = "198.18.1.1", "198.18.2.1"
CLIENT_IP, SERVER_IP = "198.18.1.10", "198.18.2.10"
GROUP, PORT = "239.192.74.20", 7410
ECHO_PORT = 7000
BRIDGES = {"eth0": "brc", "eth1": "brs", "eth2": "bry"}
FWS = {  # role: (node id, priority, {dev: (ip/len, mac)})
    "fw1": (1, 200, {"eth0": ("198.18.1.2/24", "02:00:00:00:01:02"),
                     "eth1": ("198.18.2.2/24", "02:00:00:00:02:02"),
                     "eth2": ("198.18.3.1/24", "02:00:00:00:03:01")}),
    "fw2": (2, 100, {"eth0": ("198.18.1.3/24", "02:00:00:00:01:03"),
                     "eth1": ("198.18.2.3/24", "02:00:00:00:02:03"),
                     "eth2": ("198.18.3.2/24", "02:00:00:00:03:02")}),
}
ENDS = {  # role: (ip/len, mac, gateway, bridge)
    "client": ("198.18.1.10/24", "02:00:00:00:01:10", VIP_IN, "brc"),
    "server": ("198.18.2.10/24", "02:00:00:00:02:10", VIP_OUT, "brs"),
}

RULESET = """table inet arpha_fw {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    tcp flags & (syn | ack | fin | rst) == syn ct state new accept
    meta l4proto udp ct state new accept
    meta l4proto icmp ct state new accept
  }
}
"""


def percentile(xs, p):
    """p-th percentile (nearest rank) of a sorted list; None if empty."""
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class FwLab(Lab):
    def __init__(self, label="fwlab"):
        hosts = {r: (e[0].split("/")[0], e[1]) for r, e in ENDS.items()}
        for r, (_i, _p, devs) in FWS.items():
            hosts[r] = (devs["eth0"][0].split("/")[0], devs["eth0"][1])
        self.procs = []
        self.key = None
        super().__init__(label, hosts=hosts)

    # -- topology (called by Lab.__init__; Lab cleans up if it raises)
    def _setup(self):
        self._addns("sw")
        for br in BRIDGES.values():
            self.ip("sw", "link", "add", br, "type", "bridge", "stp_state", "0",
                    "forward_delay", "0", "mcast_snooping", "0")
            self.ip("sw", "link", "set", br, "up")
        for role, (addr, mac, gw, br) in ENDS.items():
            self._addns(role)
            self._plug(role, "eth0", "p-" + role, br, addr, mac)
            self.ip(role, "route", "add", "default", "via", check_addr(gw))
        for role, (_id, _prio, devs) in FWS.items():
            self._addns(role)
            for dev, (addr, mac) in devs.items():
                self._plug(role, dev, "%s-e%s" % (role, dev[-1]), BRIDGES[dev], addr, mac)
            self.exec(role, "sysctl", "-qw", "net.ipv4.ip_forward=1",
                      "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
            p = subprocess.run(["ip", "netns", "exec", self.ns(role), "nft", "-f", "-"],
                               input=RULESET, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            if p.returncode != 0:
                raise RuntimeError("nft on %s: %s" % (role, p.stderr.strip()))
            # after the ruleset: the ct rule loads nf_conntrack in the namespace
            self.exec(role, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=0")

    def _plug(self, role, dev, port, br, addr, mac):
        check_addr(addr)
        self.ip("sw", "link", "add", port, "type", "veth", "peer", "name", dev, "netns",
                self.ns(role))
        self.ip(role, "link", "set", dev, "address", mac)
        self.ip(role, "addr", "add", addr, "dev", dev)
        self.ip("sw", "link", "set", port, "master", br)
        self.ip("sw", "link", "set", port, "up")
        self.ip(role, "link", "set", dev, "up")

    def ports(self, role):
        return ["%s-e%s" % (role, dev[-1]) for dev in FWS[role][2]]

    # -- arphad on the firewalls
    def keyfile(self):
        if not self.key:
            self.key = os.path.join(self.tmp, "cluster.key")
            run([binary("arpha"), "keygen", self.key])
        return self.key

    def fw_config(self, role, connsync=None, heartbeat="20ms", log_level="info",
                  cluster_ifaces="eth2"):
        """arphad.conf for a firewall (@SOCK@: the control socket). connsync:
        None (no [ConnSync]) or a dict of its settings; cluster_ifaces: the
        [Cluster] Interface= devices (the paths)."""
        node_id, prio, _devs = FWS[role]
        text = ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=%s\n\n"
                "[Interface lan]\nDevice=eth0\n\n[Interface srv]\nDevice=eth1\n\n"
                "[Cluster]\nNodeID=%d\nInterface=%s\nGroup=%s\nPort=%d\nKeyFile=%s\n"
                "HeartbeatInterval=%s\n\n"
                "[VIP in]\nAddress=%s/24\nInterface=lan\nGroup=fw\nPriority=%d\n\n"
                "[VIP out]\nAddress=%s/24\nInterface=srv\nGroup=fw\nPriority=%d\n" %
                (log_level, node_id, cluster_ifaces, GROUP, PORT, self.keyfile(), heartbeat,
                 VIP_IN, prio,
                 VIP_OUT, prio))
        if connsync is not None:
            text += "\n[ConnSync]\n" + "".join("%s=%s\n" % kv for kv in connsync.items())
        return text

    def config_check(self, text):
        """(ok, message) of `arphad -n` on a config text."""
        fd, path = tempfile.mkstemp(prefix="check-", suffix=".conf", dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(text.replace("@SOCK@", os.path.join(self.tmp, "check.sock")))
        p = run([binary("arphad"), "-n", "-f", path], check=False)
        return p.returncode == 0, (p.stderr or p.stdout).strip()

    def start_firewalls(self, connsync=None, heartbeat="20ms", cluster_ifaces="eth2"):
        """arphad on fw1, then fw2; returns {role: Arphad} once fw1 is master
        of both VIPs and fw2 backup."""
        d = {}
        d["fw1"] = self.arphad("fw1", config=self.fw_config("fw1", connsync, heartbeat,
                                                          cluster_ifaces=cluster_ifaces),
                               name="fw1")
        ok, got = self.wait_states(d, {"fw1": "master"}, 5)
        if not ok:
            raise RuntimeError("fw1 alone is not master: %s; log: %s" %
                               (got, d["fw1"].log()[-1500:]))
        d["fw2"] = self.arphad("fw2", config=self.fw_config("fw2", connsync, heartbeat,
                                                          cluster_ifaces=cluster_ifaces),
                               name="fw2")
        ok, got = self.wait_states(d, {"fw1": "master", "fw2": "backup"}, 5)
        if not ok:
            raise RuntimeError("not fw1 master, fw2 backup: %s; fw2 log: %s" %
                               (got, d["fw2"].log()[-1500:]))
        return d

    @staticmethod
    def vip_states(dmn):
        """{vip name: state} from `arpha -j vip` ({} when it does not answer)."""
        r = dmn.arpha("vip", json_out=True, check=False)
        if r.returncode != 0:
            return {}
        try:
            v = json.loads(r.stdout)
        except ValueError:
            return {}
        if isinstance(v, dict):
            v = next((x for x in v.values() if isinstance(x, list)), [])
        return {o.get("name"): o.get("state") for o in v}

    def wait_states(self, d, want, timeout):
        """Until every role in want has both VIPs in that state: (ok, states)."""
        end = time.monotonic() + timeout
        while True:
            got = {r: self.vip_states(d[r]) for r in want}
            if all(got[r].get("in") == s and got[r].get("out") == s for r, s in want.items()):
                return True, got
            if time.monotonic() > end:
                return False, got
            time.sleep(0.02)

    def crash(self, role):
        """The firewall dies: SIGKILL to its arphad and its three switch ports
        down, at the same instant. Returns the monotonic time of the kill."""
        dmn = next(x for x in self.daemons if x.role == role and x.alive())
        ip = subprocess.Popen(["ip", "-n", self.ns("sw"), "-batch", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        batch = "".join("link set %s down\n" % p for p in self.ports(role))
        dmn.killed = True
        dmn.p.send_signal(signal.SIGKILL)
        t = time.monotonic()
        _out, err = ip.communicate(batch, timeout=10)
        if ip.returncode != 0:
            raise RuntimeError("cutting %s's links: %s" % (role, err.strip()))
        dmn.stop()  # reaps it
        return t

    def cut_port(self, role, dev, cut=True):
        """Cut (or restore) role's dev at the switch: its bridge port stops
        forwarding (STP state disabled) while both ends of the cable stay up,
        so the node does not see its own link go down: a cable or switch
        port failing elsewhere."""
        port = "%s-e%s" % (role, dev[-1])
        run(["bridge", "-n", self.ns("sw"), "link", "set", "dev", port, "state",
             "0" if cut else "3"])

    def conntrack_count(self, role):
        p = self.exec(role, "conntrack", "-C", check=False)
        try:
            return int(p.stdout.strip())
        except ValueError:
            return None

    # -- traffic
    def echo_server(self):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns("server"), PY, "-u",
                              os.path.join(HERE, "ctecho.py"), "server", str(ECHO_PORT)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("echo server: %r %s" % (line, p.stderr.read()[-500:]))
        return p

    def echo_client(self, n_tcp, n_udp, timeout=60):
        c = EchoClient(self, n_tcp, n_udp, timeout)
        self.procs.append(c.p)
        return c

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        super().close()


class EchoClient:
    """ctecho.py client in the client namespace: opens the connections at
    once; round() makes every one carry a message again."""

    def __init__(self, lab, n_tcp, n_udp, timeout=60):
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), PY, "-u",
                                   os.path.join(HERE, "ctecho.py"), "client", SERVER_IP,
                                   str(ECHO_PORT), str(n_tcp), str(n_udp)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.established = self._read(timeout)

    def _read(self, timeout):
        box = []
        t = threading.Thread(target=lambda: box.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0]:
            if self.p.poll() is None:
                self.p.kill()
            raise RuntimeError("echo client gave no answer: %s" % self.p.stderr.read()[-800:])
        return json.loads(box[0])

    def round(self, name, t0, deadline_s):
        self.start_round(name, t0, deadline_s)
        return self.finish_round(deadline_s)

    def start_round(self, name, t0, deadline_s, spread_s=0):
        """Every connection sends now (the C tool: spread evenly over
        spread_s); the answers are timed from t0."""
        self.p.stdin.write("round %s %.6f %.3f%s\n" % (name, t0, deadline_s,
                                                      " %.3f" % spread_s if spread_s else ""))
        self.p.stdin.flush()

    def finish_round(self, deadline_s):
        return self._read(deadline_s + 30)

    def quit(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()


def summary(r):
    """One line about a round: survivors and time to data again."""
    ms = r["tcp_ms"]
    s = "tcp %d/%d carried data again" % (r["tcp_ok"], r["tcp_total"])
    if ms:
        s += " (after %.0f / %.0f / %.0f ms p50/p99/max)" % (percentile(ms, 50),
                                                              percentile(ms, 99), ms[-1])
    s += ", udp %d/%d" % (r["udp_ok"], r["udp_total"])
    if r["udp_ms"]:
        s += " (max %.0f ms)" % r["udp_ms"][-1]
    if r.get("tcp_dead"):
        s += ", %d tcp reset/closed (%s)" % (r["tcp_dead"], "; ".join(r["failed"][:2]))
    return s
