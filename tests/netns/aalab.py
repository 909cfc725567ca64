"""aalab: three active-active firewalls between a client and a server, for
tests/netns/test_aa.py (issue 13). Standard library only; run as root.

    client 198.18.10.10/24 (+ .100-.199) --(brc)-- n1..n3 eth0 .10.2-.4
    server 198.18.20.10/24 ---------------(brs)-- n1..n3 eth1 .20.2-.4
                                          (bry)-- n1..n3 eth2 198.18.30.1-.3, the sync link

The client's gateway is the VIP 198.18.10.1 ([VIP outside] on eth0), the
server's the VIP 198.18.20.1 ([VIP inside] on eth1), both Mode=active-active
on every node: arphad answers ARP for them with the cluster (group) MACs
03:00:5e:00:01:VRID, the bridges flood those frames to every node, and each
node forwards the connections of its buckets. The client and the server are
plain Linux. Each node forwards (ip_forward=1) through a stateful nftables
ruleset of its own (policy drop; established/related; a new connection's
first packet: a pure SYN, UDP, ICMP), with nf_conntrack_tcp_loose=0 (a node
without a TCP connection's state drops it) and arp_announce=2 (the node's
own ARP requests never carry a VIP as sender), and counts what it forwards
per direction (table inet aa_lab, beside the policy).

    with AaLab("aa") as lab:
        lab.start_nodes()                          # arphad on n1..n3
        lab.wait_balanced(["n1", "n2", "n3"])     # b2m complete, same everywhere
        srv = lab.flows_server(); cli = lab.flows_client(3000, 300, ...)
        cli.wait_ready(); ph = cli.mark(); lab.crash("n2"); r = cli.result()
        lab.owners(src_range)                      # per NodeID, from the ct marks

AaLab(router=True) is the control: one plain Linux router "r1" holding the
two gateway addresses itself, same ruleset, no arphad (aaflows alone).

`/usr/bin/python3 tests/netns/aalab.py router [TCP UDP SECONDS]` runs
aaflows through that router; `... aalab.py build` builds the three-node lab
and removes it again (both print what they found, exit 1 on a problem).
Names and cleanup as in lab.py (the Lab base class).
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, binary, check_addr, info, netns_list, run  # noqa: E402

VIP_OUT, VIP_IN = "198.18.10.1", "198.18.20.1"
CLUSTER_MAC_OUT, CLUSTER_MAC_IN = "03:00:5e:00:01:01", "03:00:5e:00:01:02"
CLIENT_IP, SERVER_IP = "198.18.10.10", "198.18.20.10"
CLIENT_POOL = ["198.18.10.%d" % i for i in range(100, 200)]  # source addresses of flows
TCP_PORT, UDP_PORT = 7000, 7001
CLUSTER_PORT = 7410
BRIDGES = {"eth0": "brc", "eth1": "brs", "eth2": "bry"}
NODES = {  # role: (NodeID, {dev: (ip/len, mac)})
    "n%d" % i: (i, {"eth0": ("198.18.10.%d/24" % (i + 1), "02:00:00:00:10:%02x" % (i + 1)),
                    "eth1": ("198.18.20.%d/24" % (i + 1), "02:00:00:00:20:%02x" % (i + 1)),
                    "eth2": ("198.18.30.%d/24" % i, "02:00:00:00:30:%02x" % i)})
    for i in (1, 2, 3)
}
ROUTER = {"eth0": ("%s/24" % VIP_OUT, "02:00:00:00:10:01"),
          "eth1": ("%s/24" % VIP_IN, "02:00:00:00:20:01")}
ENDS = {  # role: (ip/len, mac, gateway, bridge)
    "client": ("%s/24" % CLIENT_IP, "02:00:00:00:10:10", VIP_OUT, "brc"),
    "server": ("%s/24" % SERVER_IP, "02:00:00:00:20:10", VIP_IN, "brs"),
}

RULESET = """table inet arpha_fw {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    tcp flags & (syn | ack | fin | rst) == syn ct state new accept
    meta l4proto { udp, icmp } ct state new accept
  }
}
table inet aa_lab {
  counter fwd_out { }
  counter fwd_in { }
  chain count {
    type filter hook forward priority 10; policy accept;
    iifname "eth0" counter name "fwd_out"
    iifname "eth1" counter name "fwd_in"
  }
}
"""

def sanitized():
    """Whether the arphad under test is built with AddressSanitizer: its
    nftables updates (libnftables allocating through ASan's malloc) take up
    to 100 ms instead of 3-13, longer than 3 heartbeats of 20 ms."""
    try:
        with open(binary("arphad"), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = sanitized()
# DeadInterval: 3 heartbeats of 20 ms (60 ms), or 10 (200 ms) under ASan
DEAD = 10 if SANITIZED else 3

# The arphad.conf of a node; the daemon's keys as issue 13 defines them.
CONFIG = """# written by tests/netns/aalab.py
[Daemon]
ControlSocket=@SOCK@
LogTarget=stderr
LogLevel={log_level}

[Interface eth0]

[Interface eth1]

[Cluster]
NodeID={node_id}
Interface=eth2
Peers={peers}
Port={port}
KeyFile={key}
HeartbeatInterval={heartbeat}
DeadInterval={dead}

[VIP outside]
Address={vip_out}/24
Interface=eth0
Mode=active-active
VRID=1

[VIP inside]
Address={vip_in}/24
Interface=eth1
Mode=active-active
VRID=2

[Balance]
Buckets={buckets}
{balance}

[ConnSync]
{extra}"""

CT_RE = re.compile(r"^(tcp|udp)\s+\d+\s+\d+\s.*?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) "
                   r".*?\bmark=(\d+)")
COUNTER_RE = re.compile(r"counter (\w+) \{\s*packets (\d+) bytes (\d+)")


def percentile(xs, p):
    """p-th percentile (nearest rank) of a list; None if empty."""
    xs = sorted(xs)
    if not xs:
        return None
    k = max(1, min(len(xs), int(-(-p * len(xs) // 100))))
    return xs[k - 1]


def nft_load(lab, role, text):
    p = subprocess.run(["ip", "netns", "exec", lab.ns(role), "nft", "-f", "-"], input=text,
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("nft on %s: %s" % (role, p.stderr.strip()))


class AaLab(Lab):
    fake = False

    def __init__(self, label="aa", router=False, nodes=("n1", "n2", "n3"), snooping=False,
                 arp_announce=2, rto_min=None):
        """router: the control lab (one plain router r1, no cluster).
        snooping: the bridges snoop multicast with a querier (research 1a:
        then they stop flooding frames to a group MAC after ~10 s).
        rto_min: e.g. "50ms", the client's and server's route option (None:
        the kernel's 200 ms)."""
        self.router = router
        self.node_roles = ["r1"] if router else list(nodes)
        self.snooping, self.arp_announce, self.rto_min = snooping, arp_announce, rto_min
        self.procs = []
        self.key = None
        self.nodes = {}  # role: Arphad (the latest run)
        hosts = {r: (e[0].split("/")[0], e[1]) for r, e in ENDS.items()}
        super().__init__(label, hosts=hosts)

    # -- topology (called by Lab.__init__; Lab cleans up if it raises)
    def _setup(self):
        self._addns("sw")
        for br in BRIDGES.values():
            opts = (["mcast_snooping", "1", "mcast_querier", "1"] if self.snooping else
                    ["mcast_snooping", "0"])
            self.ip("sw", "link", "add", br, "type", "bridge", "stp_state", "0",
                    "forward_delay", "0", *opts)
            self.ip("sw", "link", "set", br, "up")
        for role, (addr, mac, gw, br) in ENDS.items():
            self._addns(role)
            self._plug(role, "eth0", "p-" + role, br, addr, mac)
            route = ["route", "add", "default", "via", check_addr(gw)]
            if self.rto_min:
                route += ["rto_min", self.rto_min]
            self.ip(role, *route)
            # many connections, short ones among them: all the ports there are
            self.exec(role, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65000",
                      "net.ipv4.tcp_max_syn_backlog=65536", "net.core.somaxconn=65535")
        batch = "".join("addr add %s/24 dev eth0\n" % check_addr(a) for a in CLIENT_POOL)
        p = subprocess.run(["ip", "-n", self.ns("client"), "-batch", "-"], input=batch,
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("client addresses: %s" % p.stderr.strip())
        if self.router:
            self._addns("r1")
            for dev, (addr, mac) in ROUTER.items():
                self._plug("r1", dev, "r1-e%s" % dev[-1], BRIDGES[dev], addr, mac)
            self._firewall("r1")
            return
        for role in self.node_roles:
            _id, devs = NODES[role]
            self._addns(role)
            for dev, (addr, mac) in devs.items():
                self._plug(role, dev, "%s-e%s" % (role, dev[-1]), BRIDGES[dev], addr, mac)
            self._firewall(role)

    def _firewall(self, role):
        sysctls = ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                   "net.ipv4.conf.default.rp_filter=0",
                   # nft_buckets.h: the ICMP error of a shadowed first packet dies at egress
                   "net.ipv4.fwmark_reflect=1"]
        if not self.router:
            for d in ("all", "eth0", "eth1"):
                sysctls.append("net.ipv4.conf.%s.arp_announce=%d" % (d, self.arp_announce))
        self.exec(role, "sysctl", "-qw", *sysctls)
        nft_load(self, role, RULESET)
        # after the ruleset: the ct rule loads nf_conntrack in the namespace
        self.exec(role, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=0",
                  "net.netfilter.nf_conntrack_max=262144")

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
        """The switch ports of a node (in the namespace "sw")."""
        devs = ROUTER if role == "r1" else NODES[role][1]
        return ["%s-e%s" % (role, dev[-1]) for dev in devs]

    # -- arphad on the nodes
    def keyfile(self):
        if not self.key:
            self.key = os.path.join(self.tmp, "cluster.key")
            run([binary("arpha"), "keygen", self.key])
        return self.key

    def node_config(self, role, heartbeat="20ms", dead=DEAD, buckets=1024, log_level="info",
                    extra="", balance=""):
        """arphad.conf of a node (@SOCK@: its control socket, lab.py fills it in)."""
        node_id, devs = NODES[role]
        peers = " ".join(NODES[r][1]["eth2"][0].split("/")[0] for r in NODES if r != role)
        return CONFIG.format(node_id=node_id, peers=peers, port=CLUSTER_PORT,
                             key=self.keyfile(), heartbeat=heartbeat, dead=dead,
                             vip_out=VIP_OUT, vip_in=VIP_IN, buckets=buckets,
                             log_level=log_level, extra=extra, balance=balance)

    def config_check(self, text):
        """(ok, message) of `arphad -n` on a config text."""
        fd, path = tempfile.mkstemp(prefix="check-", suffix=".conf", dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(text.replace("@SOCK@", os.path.join(self.tmp, "check.sock")))
        p = run([binary("arphad"), "-n", "-f", path], check=False)
        return p.returncode == 0, (p.stderr or p.stdout).strip()

    def start_node(self, role, config=None, **kw):
        """arphad on a node (config: the text, default node_config(role, **kw));
        returns once its control socket answers. The same files (socket,
        config, log: lab.tmp/ROLE.*) for every run of a node; the log grows."""
        d = self.arphad(role, config=config or self.node_config(role, **kw), name=role)
        self.nodes[role] = d
        return d

    def start_nodes(self, roles=None, **kw):
        return {r: self.start_node(r, **kw) for r in (roles or self.node_roles)}

    def stop_node(self, role, sig=signal.SIGTERM):
        """Stop a node's arphad with sig; returns its exit status."""
        d = self.nodes.get(role)
        return d.stop(sig) if d and d.alive() else None

    def kill_node(self, role):
        """SIGKILL to the node's arphad alone (its links stay up). Returns
        the monotonic time of the kill."""
        d = self.nodes[role]
        t = time.monotonic()
        d.kill9()
        return t

    def crash(self, role):
        """The node dies: SIGKILL to its arphad and its switch ports down, at
        the same instant. Returns the monotonic time of the kill."""
        d = self.nodes.get(role)
        ip = subprocess.Popen(["ip", "-n", self.ns("sw"), "-batch", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        batch = "".join("link set %s down\n" % p for p in self.ports(role))
        if d and d.alive():
            d.killed = True
            d.p.send_signal(signal.SIGKILL)
        t = time.monotonic()
        _out, err = ip.communicate(batch, timeout=10)
        if ip.returncode != 0:
            raise RuntimeError("cutting %s's links: %s" % (role, err.strip()))
        if d:
            d.stop()  # reaps it
        return t

    def revive(self, role, start=True, flush_conntrack=True, **kw):
        """The node comes back: (its conntrack emptied, as after a reboot),
        its switch ports up, arphad started again (start=False: not)."""
        if flush_conntrack:
            self.exec(role, "conntrack", "-F", check=False)
        batch = "".join("link set %s up\n" % p for p in self.ports(role))
        run(["ip", "-n", self.ns("sw"), "-batch", "-"], input=batch)
        return self.start_node(role, **kw) if start else None

    # -- what the kernels say
    def aa_counters(self, role):
        """The named counters of tables ip arpha_aa and netdev arpha_aa_shadow
        ({name: packets}), or None when there is no arpha_aa table."""
        p = self.exec(role, "nft", "list", "table", "ip", "arpha_aa", check=False)
        if p.returncode != 0:
            return None
        out = {m.group(1): int(m.group(2)) for m in COUNTER_RE.finditer(p.stdout)}
        p = self.exec(role, "nft", "list", "table", "netdev", "arpha_aa_shadow", check=False)
        out.update({m.group(1): int(m.group(2)) for m in COUNTER_RE.finditer(p.stdout)})
        return out

    def b2m(self, role):
        """{bucket: owner id} of the node's b2m map, or None without one."""
        p = self.exec(role, "nft", "list", "map", "ip", "arpha_aa", "b2m", check=False)
        if p.returncode != 0:
            return None
        body = p.stdout.split("elements = {", 1)
        if len(body) < 2:
            return {}
        return {int(b, 0): int(v, 0) >> 16
                for b, v in re.findall(r"(0x[0-9a-f]+|\d+) : (0x[0-9a-f]+|\d+)", body[1])}

    def wait_balanced(self, roles, buckets=1024, timeout=10.0):
        """Until every node in roles has a complete b2m (every bucket an owner),
        the same on all of them, whose owners are exactly the NodeIDs of roles.
        Returns (ok, seconds, {NodeID: buckets}, why)."""
        want = {NODES[r][0] for r in roles}
        t0 = time.monotonic()
        while True:
            maps = {r: self.b2m(r) for r in roles}
            why = None
            ref = maps[roles[0]]
            if any(m is None for m in maps.values()):
                why = "no b2m on %s" % [r for r, m in maps.items() if m is None]
            elif len(ref) != buckets:
                why = "%s's b2m has %d of %d buckets" % (roles[0], len(ref), buckets)
            elif any(m != ref for m in maps.values()):
                why = "the nodes' b2m maps differ"
            elif {o >> 8 for o in ref.values()} != want:
                why = "b2m owners %s, want NodeIDs %s" % (
                    sorted({o >> 8 for o in ref.values()}), sorted(want))
            if why is None:
                share = {}
                for o in ref.values():
                    share[o >> 8] = share.get(o >> 8, 0) + 1
                return True, time.monotonic() - t0, share, None
            if time.monotonic() - t0 > timeout:
                return False, time.monotonic() - t0, None, why
            time.sleep(0.05)

    def conntrack(self, role):
        """{(proto, src, dst, sport, dport): mark} of the aaflows traffic in a
        node's conntrack."""
        p = self.exec(role, "conntrack", "-L", check=False, timeout=60)
        out = {}
        for line in p.stdout.splitlines():
            m = CT_RE.match(line)
            if m and m.group(3) == SERVER_IP and int(m.group(5)) in (TCP_PORT, UDP_PORT):
                out[(m.group(1), m.group(2), m.group(3), int(m.group(4)),
                     int(m.group(5)))] = int(m.group(6))
        return out

    def owners(self, sources, roles=None):
        """Who owns the connections from the addresses in sources, by their
        ct marks on every node (owner id = mark >> 16, NodeID = owner id
        >> 8): ({NodeID: connections}, undecided, conflicts), undecided
        counting connections no node has a mark for, conflicts those two
        NodeIDs claim."""
        sources = set(sources)
        seen = {}
        for r in roles or self.node_roles:
            for t, mark in self.conntrack(r).items():
                if t[1] not in sources:
                    continue
                s = seen.setdefault(t, set())
                if mark:
                    s.add(mark >> 24)
        share, undecided, conflicts = {}, 0, 0
        for ids in seen.values():
            if not ids:
                undecided += 1
            elif len(ids) > 1:
                conflicts += 1
            else:
                n = next(iter(ids))
                share[n] = share.get(n, 0) + 1
        return share, undecided, conflicts

    def maddr(self, role, dev):
        """The link-layer multicast addresses the device has joined."""
        p = self.ip(role, "maddr", "show", "dev", dev, check=False)
        return re.findall(r"link\s+([0-9a-f:]{17})", p.stdout)

    def link_stats(self, role, dev):
        """{"rx": packets, "tx": packets} of a node's device."""
        p = self.ip(role, "-s", "-j", "link", "show", "dev", dev)
        st = json.loads(p.stdout)[0]["stats64"]
        return {"rx": st["rx"]["packets"], "tx": st["tx"]["packets"]}

    def forwarded(self, role):
        """{"out": client->server packets, "in": server->client} the node
        forwarded (table inet aa_lab, after the policy accepted them)."""
        p = self.exec(role, "nft", "list", "table", "inet", "aa_lab")
        c = {m.group(1): int(m.group(2)) for m in COUNTER_RE.finditer(p.stdout)}
        return {"out": c.get("fwd_out", 0), "in": c.get("fwd_in", 0)}

    def client_neigh(self, ip=VIP_OUT, role="client"):
        """The lladdr the client (or the server) has for ip, or None."""
        p = self.ip(role, "-j", "neigh", "show", "to", ip, check=False)
        for e in json.loads(p.stdout or "[]"):
            return e.get("lladdr")
        return None

    # -- traffic
    def flows_server(self):
        s = FlowsServer(self)
        self.procs.append(s.p)
        return s

    def flows_client(self, n_tcp, n_udp, duration, period_ms=100, sources=None,
                     new_conn_rate=0, gap_ms=250, grace_ms=3000, name=None, flows_file=None):
        """flows_file: aaflows --flows-file (a line per flow: per phase its
        longest gap, when that gap ended, its duplicated echoes)."""
        c = FlowsClient(self, n_tcp, n_udp, duration, period_ms, sources, new_conn_rate,
                        gap_ms, grace_ms, name, flows_file)
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


class _FakeProc:
    """What lab.nodes holds for a node of FakeAaLab: its nftb_ctl."""

    def __init__(self, p):
        self.p = p

    def alive(self):
        return self.p.poll() is None


class FakeAaLab(AaLab):
    """The data path without arphad, to check test_aa.py itself (AA_FAKE=1):
    on each node tests/tools/nftb_ctl holds the tables of os/nft_buckets
    (the rules arphad installs), the VIPs are plain addresses on every node,
    the nodes join the cluster MACs with `ip maddr add`, and the client and
    the server have the cluster MACs as permanent neighbour entries (no ARP).
    The test plays the cluster, moving as few buckets as it can: a node
    that dies is noticed DETECT_S later and the survivors take its buckets
    and its marks in one nftb_update each; a node that starts claims
    nothing until the others gave its share up (break before make). There
    is no connection sync: a node that joins knows nothing of the UDP flows
    already running, so it takes those of its new buckets as new ones while
    their owner goes on forwarding them (duplicates: arphad's connsync must
    give it the marks first; the test's rejoin case shows it).
    An owner id is NodeID << 8 | incarnation, new at each start."""
    fake = True
    DETECT_S = 0.06
    BUCKETS, SEED = 1024, 0x5eed

    def __init__(self, label="aafake", **kw):
        self.ctl, self.inc, self.live, self.map = {}, {}, [], None
        super().__init__(label, **kw)
        for role in self.node_roles:
            self.ip(role, "addr", "add", "%s/24" % VIP_OUT, "dev", "eth0")
            self.ip(role, "addr", "add", "%s/24" % VIP_IN, "dev", "eth1")
            self.ip(role, "maddr", "add", CLUSTER_MAC_OUT, "dev", "eth0")
            self.ip(role, "maddr", "add", CLUSTER_MAC_IN, "dev", "eth1")
        self.ip("client", "neigh", "replace", VIP_OUT, "lladdr", CLUSTER_MAC_OUT, "dev", "eth0",
                "nud", "permanent")
        self.ip("server", "neigh", "replace", VIP_IN, "lladdr", CLUSTER_MAC_IN, "dev", "eth0",
                "nud", "permanent")

    def owner(self, role):
        return NODES[role][0] << 8 | self.inc[role]

    def _assign(self, live, gone=None):
        """The next map: as few buckets moved as can be (no bucket moves
        between two live nodes): a node that left gives its buckets to the
        others in turn; a node that joins takes the excess of each."""
        live = sorted(live)
        if self.map is None:
            return [self.owner(live[0])] * self.BUCKETS
        new = list(self.map)
        if gone is not None:
            dead = self.owner(gone)
            k = 0
            for b in range(self.BUCKETS):
                if new[b] == dead:
                    new[b] = self.owner(live[k % len(live)])
                    k += 1
            return new
        joiner = next(r for r in live if r not in self.live)
        quota = self.BUCKETS // len(live)
        for r in self.live:
            mine = [b for b in range(self.BUCKETS) if new[b] == self.owner(r)]
            for b in mine[quota:]:
                new[b] = self.owner(joiner)
        return new

    def _cmd(self, role, line):
        p = self.ctl[role]
        p.stdin.write(line + "\n")
        p.stdin.flush()
        out = p.stdout.readline().strip()
        if not out.startswith("ok "):
            raise RuntimeError("nftb_ctl on %s: %s -> %r" % (role, line[:30], out))
        return out

    def _map(self, role, owners):
        self._cmd(role, "map " + " ".join(str(o) for o in owners))

    def config_check(self, text):
        return True, "fake: no arphad"

    def _spawn(self, role):
        """nftb_ctl on role with a new incarnation, claiming nothing (the
        cluster's current map) when other nodes live."""
        self.inc[role] = self.inc.get(role, 0) + 1
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(role), binary("nftb_ctl"), "-n", str(self.BUCKETS),
             "-s", hex(self.SEED), "-o", hex(self.owner(role)), "-i", "eth0", "-i", "eth1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            bufsize=1)
        self.procs.append(p)
        self.ctl[role] = p
        first = p.stdout.readline().strip()
        if first != "ready":
            raise RuntimeError("nftb_ctl on %s: %r %s" % (role, first, p.stderr.read()[-500:]))
        if self.live:
            self._map(role, self.map)

    def _join(self, role):
        new = self._assign(self.live + [role])
        for r in self.live:  # break ...
            self._map(r, new)
        self._map(role, new)  # ... before make
        self.live.append(role)
        self.map = new
        self.nodes[role] = _FakeProc(self.ctl[role])
        return self.nodes[role]

    def start_node(self, role, config=None, **kw):
        self._spawn(role)
        return self._join(role)

    def _takeover(self, dead):
        dead_owner = self.owner(dead)
        self.live.remove(dead)
        new = self._assign(self.live, gone=dead)
        time.sleep(self.DETECT_S)
        for r in self.live:
            adds = [b for b in range(self.BUCKETS)
                    if self.map[b] == dead_owner and new[b] == self.owner(r)]
            self._cmd(r, "update %d %d %s %s" % (dead_owner, len(adds),
                                                 " ".join(map(str, adds)),
                                                 " ".join(map(str, new))))
        self.map = new

    def _kill_ctl(self, role):
        p = self.ctl.pop(role)
        p.kill()
        p.wait(10)

    def kill_node(self, role):
        t = time.monotonic()
        self._kill_ctl(role)
        self._takeover(role)
        return t

    def crash(self, role):
        ip = subprocess.Popen(["ip", "-n", self.ns("sw"), "-batch", "-"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        self.ctl[role].kill()
        t = time.monotonic()
        ip.communicate("".join("link set %s down\n" % p for p in self.ports(role)), timeout=10)
        self._kill_ctl(role)
        self._takeover(role)
        return t

    def revive(self, role, start=True, flush_conntrack=True, **kw):
        if flush_conntrack:
            self.exec(role, "conntrack", "-F", check=False)
        if not start:
            return super().revive(role, start=False, flush_conntrack=False)
        # its tables first (claiming nothing), then its links, then the hand-over
        self._spawn(role)
        run(["ip", "-n", self.ns("sw"), "-batch", "-"],
            input="".join("link set %s up\n" % x for x in self.ports(role)))
        time.sleep(4 * 0.02)  # it listens before anything moves
        return self._join(role)


def _lines(pipe, q):
    for line in pipe:
        q.put(line)
    q.put(None)


class FlowsServer:
    """aaflows server in the server's namespace."""

    def __init__(self, lab):
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns("server"), binary("aaflows"),
                                   "server", "--tcp-port", str(TCP_PORT), "--udp-port",
                                   str(UDP_PORT)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        threading.Thread(target=_lines, args=(self.p.stdout, self.q), daemon=True).start()
        line = self._line(10)
        if (line or "").strip() != "ready":
            raise RuntimeError("aaflows server: %r %s" % (line, self.p.stderr.read()[-500:]))

    def _line(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def counts(self, timeout=10):
        """{"tcp", "udp", "churn", "tcp_conns", "bad"}: messages received so far."""
        self.p.send_signal(signal.SIGUSR1)
        line = self._line(timeout)
        if not line:
            raise RuntimeError("aaflows server gave no counts: %s" % self.p.stderr.read()[-500:])
        return json.loads(line)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            line = self._line(10)
            self.p.wait(10)
            return json.loads(line) if line else None
        return None


class FlowsClient:
    """aaflows client in the client's namespace, its flows from sources
    (addresses of CLIENT_POOL; None: the client's own address)."""

    def __init__(self, lab, n_tcp, n_udp, duration, period_ms, sources, rate, gap_ms, grace_ms,
                 name, flows_file=None):
        self.name = name or "flows%d" % len(lab.procs)
        self.mark_file = os.path.join(lab.tmp, self.name + ".marks")
        self.sources = list(sources or [CLIENT_IP])
        cmd = [binary("aaflows"), "client", "--server", SERVER_IP, "--tcp-port", str(TCP_PORT),
               "--udp-port", str(UDP_PORT), "--tcp", str(n_tcp), "--udp", str(n_udp),
               "--period", str(period_ms), "--duration", str(duration), "--gap-threshold",
               str(gap_ms), "--grace", str(grace_ms), "--mark-file", self.mark_file]
        if sources:
            base = self.sources[0]
            want = ["198.18.10.%d" % (int(base.rsplit(".", 1)[1]) + i)
                    for i in range(len(self.sources))]
            if want != self.sources:
                raise ValueError("sources must be consecutive addresses: %s" % self.sources)
            cmd += ["--src-base", base, "--src-count", str(len(self.sources))]
        if rate:
            cmd += ["--new-conn-rate", str(rate)]
        if flows_file:
            cmd += ["--flows-file", flows_file]
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns("client")] + cmd,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        threading.Thread(target=_lines, args=(self.p.stdout, self.q), daemon=True).start()
        self.ready = None
        self.marks = 0

    def _line(self, timeout):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def _fail(self, what):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        raise RuntimeError("aaflows client %s: %s; stderr: %s" % (
            self.name, what, self.p.stderr.read()[-800:]))

    def wait_ready(self, timeout=120):
        """{"tcp_up", "tcp_failed", "tcp_slow", "udp_up", "setup_s"} once every
        connection is open (or failed); the sending starts then."""
        line = self._line(timeout)
        if not line:
            self._fail("not ready within %d s" % timeout)
        self.ready = json.loads(line)
        return self.ready

    def mark(self, timeout=15):
        """Start the next phase (SIGUSR1); returns its index once the client
        has taken it (the gaps that end from now on are the new phase's)."""
        self.marks += 1
        self.p.send_signal(signal.SIGUSR1)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with open(self.mark_file) as f:
                    if sum(1 for ln in f if ln.startswith("mark ")) >= self.marks:
                        return self.marks
            except FileNotFoundError:
                pass
            time.sleep(0.005)
        self._fail("marker %d not taken" % self.marks)

    def result(self, timeout=120):
        """The report (see tests/tools/aaflows.c) once the client is done."""
        line = self._line(timeout)
        if not line:
            self._fail("no report within %d s" % timeout)
        self.p.wait(10)
        return json.loads(line)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)


def flows_line(r, what=""):
    """A readable summary of an aaflows report."""
    out = []
    for p in ("tcp", "udp"):
        s = r[p]
        out.append("%s %d flows: sent %d, echoed %d, lost %d, dup %d, reset/closed/errors "
                   "%d/%d/%d, longest gap max %.0f ms p99 %.0f ms, %d over %.0f ms" % (
                       p, s["up"], s["sent"], s["echoed"], s["lost"], s["dup"], s["reset"],
                       s["closed"], s["errors"], s["gap_max_ms"], s["gap_p99_ms"],
                       s["gap_over"], r["gap_threshold_ms"]))
    c = r["churn"]
    if c["opened"]:
        out.append("new connections %d: %d failed, %d over 900 ms, connect p99 %.0f ms max "
                   "%.0f ms" % (c["opened"], c["failed"], c["slow"], c["connect_ms_p99"],
                                c["connect_ms_max"]))
    out.append("the client sent at most %.0f ms late (at %.2f s)" % (r["send_lag_ms_max"],
                                                                   r["send_lag_at_s"]))
    return (what + ": " if what else "") + "; ".join(out)


def phase_line(r, k):
    ph = r["phases"][k]
    return ("phase %d (from %.2f s): tcp longest gaps max %.0f ms p99 %.0f ms, %d over; udp "
            "max %.0f ms p99 %.0f ms, %d over; new connections %d, %d failed, %d slow" % (
                k, ph["t_s"], ph["tcp"]["gap_max_ms"], ph["tcp"]["gap_p99_ms"],
                ph["tcp"]["gap_over"], ph["udp"]["gap_max_ms"], ph["udp"]["gap_p99_ms"],
                ph["udp"]["gap_over"], ph["churn"]["opened"], ph["churn"]["failed"],
                ph["churn"]["slow"]))


# ---------------------------------------------------------------- self-checks

def _router_check(n_tcp, n_udp, seconds):
    """aaflows through one plain Linux router: nothing lost, nothing doubled."""
    problems = []
    with AaLab("aarouter", router=True) as lab:
        srv = lab.flows_server()
        before = srv.counts()
        cli = lab.flows_client(n_tcp, n_udp, seconds, sources=CLIENT_POOL[:16],
                               new_conn_rate=100, name="router")
        rd = cli.wait_ready()
        info("router: %d tcp up (%d failed, %d slow) and %d udp in %.2f s" % (
            rd["tcp_up"], rd["tcp_failed"], rd["tcp_slow"], rd["udp_up"], rd["setup_s"]))
        time.sleep(seconds / 2.0)
        cli.mark()
        r = cli.result(seconds + 60)
        after = srv.counts()
        fwd = lab.forwarded("r1")
        srv.stop()
        info(flows_line(r, "router"))
        for k in range(len(r["phases"])):
            info(phase_line(r, k))
        info("router forwarded %d packets client->server, %d back" % (fwd["out"], fwd["in"]))
        for p in ("tcp", "udp"):
            s = r[p]
            if s["up"] != {"tcp": n_tcp, "udp": n_udp}[p] or s["lost"] or s["dup"] or \
               s["stray"] or s["reset"] or s["closed"] or s["errors"] or s["send_blocked"]:
                problems.append("%s: %s" % (p, s))
            got = after[p] - before[p]
            if got != s["sent"]:
                problems.append("%s: server received %d, client sent %d" % (p, got, s["sent"]))
        c = r["churn"]
        if c["failed"] or c["echoed"] != c["opened"] or after["churn"] - before["churn"] != \
           c["sent"]:
            problems.append("churn: %s, server %d" % (c, after["churn"] - before["churn"]))
        if r["worst"]:
            info("longest gaps: %s" % r["worst"][:3])
    return problems


def _build_check():
    """The three-node lab comes up as described and goes away entirely."""
    problems = []
    lab = AaLab("aabuild")
    prefix = lab.prefix
    try:
        names = [n for n in netns_list() if n.startswith(prefix + "-")]
        info("built %d namespaces: %s" % (len(names), " ".join(sorted(names))))
        for r in lab.node_roles:
            t = lab.exec(r, "nft", "list", "tables").stdout.split()
            if "arpha_fw" not in t or "aa_lab" not in t:
                problems.append("%s tables: %s" % (r, t))
            for key, want in (("net.ipv4.ip_forward", "1"),
                              ("net.netfilter.nf_conntrack_tcp_loose", "0"),
                              ("net.ipv4.conf.eth0.arp_announce", "2")):
                got = lab.exec(r, "sysctl", "-n", key).stdout.strip()
                if got != want:
                    problems.append("%s: %s = %s" % (r, key, got))
            for peer in ("198.18.10.10", "198.18.20.10", "198.18.30.1"):
                if not lab.ping(r, peer):
                    problems.append("%s cannot ping %s" % (r, peer))
        for r in lab.node_roles:
            ok, msg = lab.config_check(lab.node_config(r))
            info("arphad -n on %s's config: %s%s" % (r, "accepted" if ok else "refused: ",
                                                      "" if ok else msg))
        # a quick crash and revive without arphad: the ports go down and up
        lab.crash("n2")
        down = lab.ip("sw", "-j", "link", "show", "n2-e0").stdout
        if '"DOWN"' not in down and "DOWN" not in down:
            problems.append("n2-e0 is not down after crash: %s" % down[:200])
        lab.revive("n2", start=False)
    finally:
        lab.close()
    left = [n for n in netns_list() if n.startswith(prefix + "-")]
    if left:
        problems.append("namespaces left: %s" % left)
    info("after close: %d namespaces of the lab left; `ip netns list` holds %d in all" % (
        len(left), len(netns_list())))
    return problems


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("aalab: run as root")
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "router":
        a = [int(x) for x in sys.argv[2:5]] + [3000, 300, 10][len(sys.argv[2:5]):]
        probs = _router_check(*a)
    elif what == "build":
        probs = _build_check()
    else:
        sys.exit("usage: aalab.py router [TCP UDP SECONDS] | build")
    for p in probs:
        print("problem: %s" % p)
    print("aalab %s: %s" % (what, "FAIL" if probs else "ok"))
    sys.exit(1 if probs else 0)
