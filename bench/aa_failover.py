#!/usr/bin/python3
"""A node's crash and its return in an active-active cluster of three,
arpha against xt_cluster + conntrackd + keepalived, in the same topology
and the same run (research/active-active-2026-12.md, 1d and section 4
items 4 and 5).

The lab is tests/netns/aalab.py: three firewalls n1..n3 between a plain
Linux client and server, each a stateful nftables ruleset of its own
(policy drop, nf_conntrack_tcp_loose=0: a node without a TCP connection's
state drops it), the bridges flood the cluster MACs to every node, a sync
link eth2. Each system gets fresh namespaces per run.

  arpha      arphad on every node, both gateway VIPs Mode=active-active,
             HeartbeatInterval 20 ms, DeadInterval 3, [ConnSync] with its
             defaults (aalab's configuration, as tests/netns/test_aa.py).
  xtcluster  on every node K (1..3), iptables-nft in mangle PREROUTING, on
             eth0 and on eth1:
               -m cluster --cluster-total-nodes 3 --cluster-local-node J
                 --cluster-hash-seed 0x61727068 -j MARK --set-mark 0xffff
             for each node number J the node holds, then
               -m mark ! --mark 0xffff -j DROP;
             the nodes join the cluster MACs (ip maddr add); the client and
             the server have the gateway VIPs as permanent neighbour entries
             at the cluster MACs (keepalived cannot put a group MAC into an
             ARP reply, and the kernel will not either: the static entry
             stands in for arphad's ARP answer, the nodes hold no VIP);
             conntrackd (Sync Mode FTFW, multicast on eth2, TCP and UDP,
             external cache) on every node; keepalived (VRRP v3, advert_int
             0.02, unicast peers on eth2) with one instance VI_J per node
             number J: priority 200 on node J, 100 - K on every other node K
             (so the lowest-numbered survivor takes every dead node's
             number), preemption on. Its notify FIFO script (one process
             reading keepalived's state changes in order; separate
             notify_master/notify_backup scripts run concurrently and an
             instance's "backup" at start landed after its "master"), on
             MASTER of VI_J:
             `conntrackd -c` (commit the external cache: the dead node's
             connections into the kernel), then insert the two rules of
             node number J (one iptables-restore --noflush); on BACKUP or
             FAULT: delete them. Node J holds its own number the same way.
             The commit comes before the rule: a rule without the entries
             would drop the dead node's TCP segments as invalid.

Cases, per system and run (flows from their own client addresses each):
  crash  --tcp long-lived TCP connections and --udp UDP flows, a 16-byte
         message every --period ms each, echoed by the server
         (tests/tools/aaflows); --rate new short connections a second
         (connect, one echo, close). After 3 s, n2 crashes: SIGKILL of every
         process in its namespace (arphad; or conntrackd and keepalived) and
         its switch ports down at the same instant (aalab.crash). Then 8 s.
         Figures: connections surviving (TCP: open and every message
         echoed by the end; UDP: carrying data again); per flow the longest
         gap between two consecutive echoes after the crash (median and max
         over all flows, median over the dead node's flows: those whose
         longest gap is over 1.5 periods and spans the crash); when the
         survivors forward the dead node's share: "decided" (arpha: every
         survivor's log has its event=ranges action=inherit line, the log
         files polled every 2 ms; xtcluster: the survivor's notify script
         started as MASTER of VI_2) and "committed" (arpha: every survivor's
         log has its event=ranges action=commit line for the inheritance,
         written once its nftables transaction is done; xtcluster: the
         notify script done, commit and rules in), and
         "data" (the first echo after the crash of any flow of the dead
         node's, and the median of those flows' first echoes); new
         connections opened after the crash that needed a SYN
         retransmission (connect over 900 ms) or failed; duplicated echoes
         before and after the crash (aaflows counts them per flow and phase).
  join   a new set of flows as above; after 3 s n2 comes back: its conntrack
         emptied (a reboot), its ports up, its daemons started (arpha:
         arphad; xtcluster: its mangle rules back to the two drops (a killed
         keepalived leaves its rules; a reboot would not), conntrackd,
         `conntrackd -n` on n2 (resync request: alone it brought only the
         connections opened since its start) and `conntrackd -B` (bulk
         send) on the two others, up to 5 s until n2's external cache
         rested 0.5 s, then keepalived). Then 8 s. Figures: established
         flows disturbed (a gap over 2 periods), the longest gap, messages
         lost, echoes duplicated before and after the join; new
         connections delayed (over 900 ms) or failed; the time from the
         ports up until n2 forwards its share again (arpha: b2m names the
         three; xtcluster: n2's notify done as MASTER of VI_2 and n1's done
         as BACKUP).
  spread once n2 holds its share, 300 new TCP connections from 36 other
         addresses, a few messages each: the share of the server->client
         packets each node forwarded (table inet aa_lab; not client->server:
         an arpha non-owner sends a connection's first packet into its
         egress drop, the shadow, through the forward hook). xt_cluster hashes
         the source address alone, so its split is by address.

  bench/aa_failover.py [BUILD_DIR] [--runs N] [--only arpha|xtcluster]
                       [--tcp N] [--udp M] [--rate R] [--period MS]
                       [--json FILE]

Prints the figures of each run, then the medians over the runs of both
systems side by side with the ratio xtcluster/arpha. Needs root, nft,
iptables (nf_tables backend), conntrack, conntrackd, keepalived
(tools/deps.sh bench). About 4 minutes with --runs 3.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netns"))
sys.path.insert(0, HERE)
from ctsync import ctd_conf  # noqa: E402 - conntrackd's config, as bench/ctsync.py writes it

SYSTEMS = ("arpha", "xtcluster")
ALL = ["n1", "n2", "n3"]
DEAD = "n2"
SEED = 0x61727068
BEFORE_S, AFTER_S = 3.0, 8.0
SLOW_MS = 900.0


def log(msg):
    print(msg, flush=True)


def ns_pids(lab, role):
    p = subprocess.run(["ip", "netns", "pids", lab.ns(role)], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return [int(w) for w in p.stdout.split()]


def cut_links(lab, role, pids):
    """SIGKILL to pids and role's switch ports down at the same instant (as
    aalab.crash). Returns the monotonic time of the kill."""
    ip = subprocess.Popen(["ip", "-n", lab.ns("sw"), "-batch", "-"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batch = "".join("link set %s down\n" % p for p in lab.ports(role))
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


# ---------------------------------------------------------------- arpha

class Arpha:
    name = "arpha"

    def __init__(self, lab):
        self.lab = lab

    def start(self):
        self.lab.start_nodes()
        ok, t, share, why = self.lab.wait_balanced(ALL, timeout=15)
        if not ok:
            raise RuntimeError("arpha: b2m not complete after %.1f s: %s" % (t, why))

    def crash(self, role):
        self.marks = {r: self.lab.nodes[r].log_mark() for r in ALL if r != role}
        return self.lab.crash(role)

    def wait_takeover(self, role, t_crash, timeout=5.0):
        """{"decided_ms", "kernel_ms"} from the crash."""
        surv = [r for r in ALL if r != role]
        seen, done = {}, {}
        end = time.monotonic() + timeout
        while len(done) < len(surv) and time.monotonic() < end:
            for r in surv:
                if r not in seen and self.lab.nodes[r].log_lines(
                        r"event=ranges action=inherit", self.marks[r]):
                    seen[r] = time.monotonic()
                # the inheritance's nftables transaction is done
                if r in seen and r not in done and self.lab.nodes[r].log_lines(
                        r"event=ranges action=commit claimed=[0-9]+ inherited=[1-9]",
                        self.marks[r]):
                    done[r] = time.monotonic()
            time.sleep(0.002)
        ok, t, _share, why = self.lab.wait_balanced(surv, timeout=timeout)
        if not ok:
            raise RuntimeError("arpha: survivors' b2m still with %s: %s" % (role, why))
        return {"decided_ms": (max(seen.values()) - t_crash) * 1000 if len(seen) == len(surv)
                else None,
                "kernel_ms": (max(done.values()) - t_crash) * 1000 if len(done) == len(surv)
                else None}

    def revive(self, role):
        """Returns (monotonic time of the ports up, ms until n2 holds its share)."""
        self.lab.exec(role, "conntrack", "-F", check=False)
        batch = "".join("link set %s up\n" % p for p in self.lab.ports(role))
        subprocess.run(["ip", "-n", self.lab.ns("sw"), "-batch", "-"], input=batch, text=True,
                       check=True)
        t_up = time.monotonic()
        self.lab.start_node(role)
        ok, _t, _share, why = self.lab.wait_balanced(ALL, timeout=15)
        if not ok:
            raise RuntimeError("arpha: %s did not get its share back: %s" % (role, why))
        return t_up, (time.monotonic() - t_up) * 1000


# ---------------------------------------------------------------- xt_cluster

KA_HEAD = """global_defs {
    router_id %(role)s
    vrrp_version 3
    script_user root
    enable_script_security
    vrrp_notify_fifo %(fifo)s
    vrrp_notify_fifo_script %(notify)s
}
"""

KA_INST = """vrrp_instance VI_%(j)d {
    state BACKUP
    interface eth2
    virtual_router_id %(vrid)d
    priority %(prio)d
    advert_int 0.02
    unicast_src_ip %(me)s
    unicast_peer {
%(peers)s    }
    virtual_ipaddress {
        198.18.30.%(vip)d/32 dev eth2
    }
}
"""

# keepalived's notify FIFO script (vrrp_notify_fifo_script): it reads the
# state changes in the order keepalived made them, one at a time (separate
# notify_master/notify_backup scripts run concurrently and may finish out of
# order: an instance's "backup" at start could land after its "master").
# A line: INSTANCE "VI_J" STATE PRIORITY.
NOTIFY_SH = """#!/bin/sh
match() {
	echo "-m cluster --cluster-total-nodes 3 --cluster-local-node $J" \\
		"--cluster-hash-seed %(seed)s -j MARK --set-mark 0xffff"
}
rule() {
	for d in eth0 eth1; do
		echo "$1 PREROUTING -i $d $(match)"
	done
}
has() {
	# shellcheck disable=SC2046
	iptables -t mangle -C PREROUTING -i eth0 $(match) </dev/null 2>/dev/null
}
while read -r what name state _prio; do
	[ "$what" = INSTANCE ] || continue
	J=${name#\\"VI_}
	J=${J%%\\"}
	S=$(echo "$state" | tr A-Z a-z)
	case "$S" in master|backup|fault) ;; *) continue ;; esac
	echo "$(date +%%s.%%N) $J $S start" >> %(out)s
	case "$S" in
	master)
		/usr/sbin/conntrackd -C %(conf)s -c </dev/null
		if ! has; then
			{ echo "*mangle"; rule "-I"; echo COMMIT; } | iptables-restore --noflush
		fi ;;
	backup|fault)
		if has; then
			{ echo "*mangle"; rule "-D"; echo COMMIT; } | iptables-restore --noflush
		fi ;;
	esac
	echo "$(date +%%s.%%N) $J $S done" >> %(out)s
done < "$1"
"""


class XtCluster:
    name = "xtcluster"

    def __init__(self, lab):
        self.lab = lab
        self.conf, self.sock, self.notify, self.ka, self.logs_ = {}, {}, {}, {}, {}

    def _files(self, role):
        import aalab
        t = self.lab.tmp
        k, devs = aalab.NODES[role]
        me = devs["eth2"][0].split("/")[0]
        own = [a.split("/")[0] for a, _m in devs.values()]
        self.sock[role] = os.path.join(t, "ctd-%s.ctl" % role)
        self.conf[role] = os.path.join(t, "conntrackd-%s.conf" % role)
        self.logs_[role] = os.path.join(t, "conntrackd-%s.log" % role)
        with open(self.conf[role], "w") as f:
            f.write(ctd_conf(me, self.logs_[role], os.path.join(t, "ctd-%s.lock" % role),
                             self.sock[role], own, mcast="225.0.0.51", group=3781,
                             protocols=("TCP", "UDP")))
        self.notify[role] = os.path.join(t, "%s.notify" % role)
        script = os.path.join(t, "notify-%s.sh" % role)
        with open(script, "w") as f:
            f.write(NOTIFY_SH % dict(out=self.notify[role], conf=self.conf[role],
                                     seed=hex(SEED)))
        os.chmod(script, 0o755)
        peers = "".join("        %s\n" % aalab.NODES[r][1]["eth2"][0].split("/")[0]
                        for r in ALL if r != role)
        text = KA_HEAD % dict(role=role, notify=script,
                              fifo=os.path.join(t, "ka-%s.fifo" % role))
        for r in ALL:
            j = aalab.NODES[r][0]
            text += KA_INST % dict(j=j, vrid=70 + j, prio=200 if r == role else 100 - k,
                                   me=me, peers=peers, vip=100 + j)
        self.ka[role] = os.path.join(t, "keepalived-%s.conf" % role)
        with open(self.ka[role], "w") as f:
            f.write(text)

    def _base_rules(self, role, flush=False):
        """mangle PREROUTING: drop what no cluster rule marked (no node number held)."""
        rules = "*mangle\n" + ("-F PREROUTING\n" if flush else "") + "".join(
            "-A PREROUTING -i %s -m mark ! --mark 0xffff -j DROP\n" % d
            for d in ("eth0", "eth1")) + "COMMIT\n"
        p = subprocess.run(["ip", "netns", "exec", self.lab.ns(role), "iptables-restore",
                            "--noflush"], input=rules, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode:
            raise RuntimeError("iptables-restore on %s: %s" % (role, p.stderr.strip()))

    def _spawn(self, role, cmd, name):
        logf = open(os.path.join(self.lab.tmp, "%s-%s.out" % (name, role)), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", self.lab.ns(role)] + cmd,
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.lab.procs.append(p)
        return p

    def _ctd(self, role, *args, check=False):
        return self.lab.exec(role, "conntrackd", "-C", self.conf[role], *args, check=check)

    def _start_ctd(self, role):
        self._spawn(role, ["conntrackd", "-C", self.conf[role]], "conntrackd")
        end = time.monotonic() + 10
        while self._ctd(role, "-s").returncode != 0:
            if time.monotonic() > end:
                raise RuntimeError("conntrackd on %s does not answer: %s" % (role,
                                                                            self.logs(role)))
            time.sleep(0.05)

    def _start_ka(self, role):
        t = self.lab.tmp
        self._spawn(role, ["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", self.ka[role],
                           "-p", os.path.join(t, "ka-%s.pid" % role),
                           "-r", os.path.join(t, "ka-%s-vrrp.pid" % role),
                           "-c", os.path.join(t, "ka-%s-check.pid" % role)], "keepalived")

    def external(self, role):
        """Entries in role's conntrackd external cache, or None."""
        p = self._ctd(role, "-s")
        inside = False
        for line in p.stdout.split("\n"):
            if line.startswith("cache external:"):
                inside = True
            elif inside:
                m = re.match(r"\s*current active connections:\s*(\d+)", line)
                if m:
                    return int(m.group(1))
        return None

    def notes(self, role):
        try:
            lines = open(self.notify[role]).read().split("\n")
        except FileNotFoundError:
            return []
        return [(float(w[0]), int(w[1]), w[2], w[3]) for w in (l.split() for l in lines)
                if len(w) == 4]

    def held(self, role):
        """Node numbers whose rule role has (from its notify log)."""
        state = {}
        for _t, j, s, what in self.notes(role):
            if what == "done":
                state[j] = s
        return sorted(j for j, s in state.items() if s == "master")

    def rules(self, role):
        p = self.lab.exec(role, "iptables", "-t", "mangle", "-S", "PREROUTING")
        return p.stdout

    def start(self):
        import aalab
        lab = self.lab
        for role in ALL:
            self._files(role)
            for dev, mac in (("eth0", aalab.CLUSTER_MAC_OUT), ("eth1", aalab.CLUSTER_MAC_IN)):
                lab.ip(role, "maddr", "add", mac, "dev", dev)
            self._base_rules(role)
        for who, vip, mac in (("client", aalab.VIP_OUT, aalab.CLUSTER_MAC_OUT),
                              ("server", aalab.VIP_IN, aalab.CLUSTER_MAC_IN)):
            lab.ip(who, "neigh", "replace", vip, "lladdr", mac, "dev", "eth0", "nud",
                   "permanent")
        for role in ALL:
            self._start_ctd(role)
        for role in ALL:
            self._start_ka(role)
        self.wait_held({r: [aalab.NODES[r][0]] for r in ALL}, 20)

    def wait_held(self, want, timeout):
        end = time.monotonic() + timeout
        while True:
            got = {r: self.held(r) for r in want}
            if got == want:
                return
            if time.monotonic() > end:
                raise RuntimeError("xtcluster: node numbers held %s, want %s; %s" % (
                    got, want, {r: self.rules(r) for r in want}))
            time.sleep(0.05)

    def crash(self, role):
        self.t_real = time.time()
        return cut_links(self.lab, role, ns_pids(self.lab, role))

    def _note_at(self, role, j, state, what, after):
        for t, jj, s, w in self.notes(role):
            if jj == j and s == state and w == what and t >= after:
                return t
        return None

    def wait_takeover(self, role, t_crash, timeout=5.0):
        import aalab
        j = aalab.NODES[role][0]
        heir = min(r for r in ALL if r != role)
        end = time.monotonic() + timeout
        s = d = None
        while d is None:
            if time.monotonic() > end:
                raise RuntimeError("xtcluster: %s never took node number %d: %s" % (
                    heir, j, self.notes(heir)[-6:]))
            time.sleep(0.005)
            s = self._note_at(heir, j, "master", "start", self.t_real)
            d = self._note_at(heir, j, "master", "done", s) if s else None
        return {"decided_ms": (s - self.t_real) * 1000, "kernel_ms": (d - self.t_real) * 1000}

    def revive(self, role):
        import aalab
        lab = self.lab
        # as after a reboot: no conntrack entries, and the rules of a node
        # that holds no node number (a killed keepalived leaves its rules)
        lab.exec(role, "conntrack", "-F", check=False)
        self._base_rules(role, flush=True)
        batch = "".join("link set %s up\n" % p for p in lab.ports(role))
        subprocess.run(["ip", "-n", lab.ns("sw"), "-batch", "-"], input=batch, text=True,
                       check=True)
        t_up, t_real = time.monotonic(), time.time()
        try:
            os.unlink(self.sock[role])
        except FileNotFoundError:
            pass
        # the dead daemons' files (their processes may be zombies not yet
        # reaped: keepalived would take its pid file's pid for a live daemon)
        for name in ("ctd-%s.lock", "ka-%s.pid", "ka-%s-vrrp.pid", "ka-%s-check.pid",
                     "ka-%s.fifo"):
            try:
                os.unlink(os.path.join(lab.tmp, name % role))
            except FileNotFoundError:
                pass
        self._start_ctd(role)
        # a resync request alone (-n) brought only the connections opened
        # since its start; the others' bulk send (-B) brings their tables
        self._ctd(role, "-n")
        for r in ALL:
            if r != role:
                self._ctd(r, "-B")
        # until its external cache holds the others' connections (rested 0.5 s)
        end, last, since = time.monotonic() + 5, None, time.monotonic()
        while time.monotonic() < end:
            n = self.external(role)
            if n != last:
                last, since = n, time.monotonic()
            elif n and time.monotonic() - since > 0.5:
                break
            time.sleep(0.05)
        self.resync = last
        self._start_ka(role)
        j = aalab.NODES[role][0]
        heir = min(r for r in ALL if r != role)
        end = time.monotonic() + 15
        while (self._note_at(role, j, "master", "done", t_real) is None or
               self._note_at(heir, j, "backup", "done", t_real) is None):
            if time.monotonic() > end:
                raise RuntimeError("xtcluster: %s did not get node number %d back: %s %s" % (
                    role, j, self.notes(role)[-4:], self.notes(heir)[-4:]))
            time.sleep(0.005)
        done = max(self._note_at(role, j, "master", "done", t_real),
                   self._note_at(heir, j, "backup", "done", t_real))
        return t_up, (done - t_real) * 1000

    def logs(self, role):
        try:
            return open(self.logs_[role]).read()[-600:]
        except OSError:
            return ""


# ---------------------------------------------------------------- one run

def read_flows(path):
    """[(proto, src, sport, state, lost, [(gap_ms, end_mono, dup), ...], dup)]"""
    out = []
    with open(path) as f:
        for line in f:
            w = line.split()
            ph = [(float(w[i]), float(w[i + 1]), int(w[i + 2]))
                  for i in range(6, len(w) - 2, 3)]
            out.append((w[0], w[1], int(w[2]), w[3], int(w[4]), ph, int(w[5])))
    return out


def dup_detail(fl, hit):
    """Duplicated echoes by protocol, and how many flows had any (of them,
    how many of the dead node's flows)."""
    hit_ids = {(f[0], f[1], f[2]) for f in hit}
    d = [f for f in fl if f[6]]
    return {"dup_tcp": sum(f[6] for f in d if f[0] == "tcp"),
            "dup_udp": sum(f[6] for f in d if f[0] == "udp"),
            "dup_before": sum(f[5][0][2] for f in d if f[5]),
            "dup_after": sum(f[5][1][2] for f in d if len(f[5]) > 1),
            "dup_flows": len(d),
            "dup_flows_hit": sum(1 for f in d if (f[0], f[1], f[2]) in hit_ids)}


def med(xs):
    return statistics.median(xs) if xs else None


def crash_case(lab, sysm, args, pool):
    flows_file = os.path.join(lab.tmp, "crash.flows")
    gap_ms = 2 * args.period
    cli = lab.flows_client(args.tcp, args.udp, BEFORE_S + AFTER_S, args.period, pool,
                           new_conn_rate=args.rate, gap_ms=gap_ms, name="crash",
                           flows_file=flows_file)
    rd = cli.wait_ready()
    if rd["tcp_up"] != args.tcp or rd["udp_up"] != args.udp:
        raise RuntimeError("crash: opened %s" % rd)
    time.sleep(BEFORE_S)
    ext = {r: sysm.external(r) for r in ALL} if hasattr(sysm, "external") else None
    cli.mark()
    t_crash = sysm.crash(DEAD)
    tk = sysm.wait_takeover(DEAD, t_crash)
    r = cli.result(BEFORE_S + AFTER_S + 60)
    fl = read_flows(flows_file)
    gaps = [f[5][1][0] for f in fl if len(f[5]) > 1 and f[3] != "failed"]
    # the dead node's flows: their longest gap after the mark is over 1.5
    # periods and spans the crash (or never ended: a dead flow); so a stall
    # of the whole machine later in the phase does not count
    hit = [f for f in fl if len(f[5]) > 1 and f[5][1][0] > 1.5 * args.period and
           (f[5][1][1] == 0 or f[5][1][1] - f[5][1][0] / 1000.0 <= t_crash < f[5][1][1])]
    back = [(f[5][1][1] - t_crash) * 1000 for f in hit if f[5][1][1] > 0]
    ph = r["phases"][1]
    res = {
        "tcp_up": r["tcp"]["up"], "tcp_survived": r["tcp"]["up"] - r["tcp"]["stalled"],
        "tcp_lost": r["tcp"]["lost"], "tcp_reset": r["tcp"]["reset"] + r["tcp"]["closed"],
        "udp_up": r["udp"]["up"], "udp_survived": r["udp"]["up"] - r["udp"]["stalled"],
        "udp_lost": r["udp"]["lost"], "dup": r["tcp"]["dup"] + r["udp"]["dup"],
        "gap_med_ms": med(gaps), "gap_max_ms": max(gaps) if gaps else None,
        "gap_med_hit_ms": med([f[5][1][0] for f in hit]), "hit": len(hit),
        "flows": len(fl), "base_gap_max_ms": max(r["phases"][0]["tcp"]["gap_max_ms"],
                                                r["phases"][0]["udp"]["gap_max_ms"]),
        "decided_ms": tk["decided_ms"], "kernel_ms": tk["kernel_ms"],
        "data_first_ms": min(back) if back else None, "data_med_ms": med(back),
        "new_opened": ph["churn"]["opened"], "new_slow": ph["churn"]["slow"],
        "new_failed": ph["churn"]["failed"], "send_lag_ms": r["send_lag_ms_max"],
    }
    res.update(dup_detail(fl, hit))
    if ext:
        res["external"] = ext
    return res


def join_case(lab, sysm, args, pool):
    flows_file = os.path.join(lab.tmp, "join.flows")
    gap_ms = 2 * args.period
    cli = lab.flows_client(args.tcp, args.udp, BEFORE_S + AFTER_S, args.period, pool,
                           new_conn_rate=args.rate, gap_ms=gap_ms, name="join",
                           flows_file=flows_file)
    rd = cli.wait_ready()
    if rd["tcp_up"] != args.tcp or rd["udp_up"] != args.udp:
        raise RuntimeError("join: opened %s" % rd)
    time.sleep(BEFORE_S)
    cli.mark()
    _t_up, took_ms = sysm.revive(DEAD)
    r = cli.result(BEFORE_S + AFTER_S + 60)
    fl = read_flows(flows_file)
    gaps = [f[5][1][0] for f in fl if len(f[5]) > 1 and f[3] != "failed"]
    ph = r["phases"][1]
    hit = [f for f in fl if len(f[5]) > 1 and f[5][1][0] > gap_ms]
    return dict(dup_detail(fl, hit), **{
        "flows": len(fl), "disturbed": sum(1 for g in gaps if g > gap_ms),
        "gap_max_ms": max(gaps) if gaps else None, "gap_med_ms": med(gaps),
        "lost": r["tcp"]["lost"] + r["udp"]["lost"], "dup": r["tcp"]["dup"] + r["udp"]["dup"],
        "tcp_dead": r["tcp"]["stalled"], "udp_stalled": r["udp"]["stalled"],
        "base_gap_max_ms": max(r["phases"][0]["tcp"]["gap_max_ms"],
                               r["phases"][0]["udp"]["gap_max_ms"]),
        "new_opened": ph["churn"]["opened"], "new_slow": ph["churn"]["slow"],
        "new_failed": ph["churn"]["failed"], "join_ms": took_ms,
        "send_lag_ms": r["send_lag_ms_max"],
    })


def spread_case(lab, args, pool):
    # server->client: an arpha non-owner forwards the first packet of a
    # connection into its egress drop (its shadow) but never a reply
    c0 = {r: lab.forwarded(r)["in"] for r in ALL}
    cli = lab.flows_client(300, 0, 2, args.period, pool, name="spread")
    cli.wait_ready()
    cli.result(60)
    c1 = {r: lab.forwarded(r)["in"] for r in ALL}
    d = {r: c1[r] - c0[r] for r in ALL}
    tot = float(sum(d.values())) or 1.0
    return {r: 100.0 * d[r] / tot for r in ALL}


def run_system(cls, args):
    import aalab
    pools = {"crash": aalab.CLIENT_POOL[0:32], "join": aalab.CLIENT_POOL[32:64],
             "spread": aalab.CLIENT_POOL[64:100]}
    with aalab.AaLab("aaf-" + cls.name) as lab:
        srv = lab.flows_server()
        sysm = cls(lab)
        try:
            sysm.start()
            out = {"crash": crash_case(lab, sysm, args, pools["crash"])}
            out["join"] = join_case(lab, sysm, args, pools["join"])
            out["spread"] = spread_case(lab, args, pools["spread"])
            if cls is XtCluster:
                out["join"]["resync"] = sysm.resync
            return out
        except Exception:
            if cls is XtCluster:
                for r in ALL:
                    log("  %s notify: %s" % (r, sysm.notes(r)[-5:]))
                    log("  %s conntrackd log: %s" % (r, sysm.logs(r)[-300:]))
            raise
        finally:
            srv.stop()


# ---------------------------------------------------------------- report

def f0(v, unit=""):
    return "-" if v is None else "%.0f%s" % (v, unit)


def run_line(name, o):
    c, j, s = o["crash"], o["join"], o["spread"]
    log("  %-9s crash: tcp %d/%d survived (lost %d, reset %d), udp %d/%d carry data (lost %d); "
        "gap median %s, of the dead node's %d flows %s, max %s (before the crash max %s); "
        "decided %s, kernel %s, data first %s median %s; new connections %d: %d slow, "
        "%d failed; client late %s" % (
            name, c["tcp_survived"], c["tcp_up"], c["tcp_lost"], c["tcp_reset"],
            c["udp_survived"], c["udp_up"], c["udp_lost"], f0(c["gap_med_ms"], " ms"), c["hit"],
            f0(c["gap_med_hit_ms"], " ms"), f0(c["gap_max_ms"], " ms"),
            f0(c["base_gap_max_ms"], " ms"), f0(c["decided_ms"], " ms"),
            f0(c["kernel_ms"], " ms"), f0(c["data_first_ms"], " ms"), f0(c["data_med_ms"], " ms"),
            c["new_opened"], c["new_slow"], c["new_failed"], f0(c["send_lag_ms"], " ms")) +
        "; duplicated echoes tcp %d udp %d (%d before the crash, %d after) in %d flows (%d "
        "of them the dead node's)" % (c["dup_tcp"], c["dup_udp"], c["dup_before"],
                                      c["dup_after"], c["dup_flows"], c["dup_flows_hit"]) +
        ("; conntrackd external caches before the crash %s" % " / ".join(
            str(c["external"][r]) for r in ALL) if "external" in c else ""))
    log("  %-9s join: %d of %d flows paused over 2 periods, max gap %s (before %s), lost %d, "
        "dup %d, dead tcp %d; new connections %d: %d slow, %d failed; n2 holds its share %s "
        "after its ports are up%s; spread %s" % (
            name, j["disturbed"], j["flows"], f0(j["gap_max_ms"], " ms"),
            f0(j["base_gap_max_ms"], " ms"), j["lost"], j["dup"], j["tcp_dead"],
            j["new_opened"], j["new_slow"], j["new_failed"], f0(j["join_ms"], " ms"),
            "; resync %s entries" % j["resync"] if "resync" in j else "",
            " / ".join("%.1f" % s[r] for r in ALL)) +
        "; duplicated echoes tcp %d udp %d (%d before the join, %d after) in %d flows (%d of "
        "them paused)" % (j["dup_tcp"], j["dup_udp"], j["dup_before"], j["dup_after"],
                          j["dup_flows"], j["dup_flows_hit"]))


ROWS = [  # (label, case, key or function, unit)
    ("crash: TCP connections surviving", "crash",
     lambda c: 100.0 * c["tcp_survived"] / max(1, c["tcp_up"]), "%"),
    ("crash: UDP flows carrying data again", "crash",
     lambda c: 100.0 * c["udp_survived"] / max(1, c["udp_up"]), "%"),
    ("crash: TCP messages never echoed", "crash", "tcp_lost", ""),
    ("crash: echoes duplicated, before the crash", "crash", "dup_before", ""),
    ("crash: echoes duplicated, from the crash on", "crash", "dup_after", ""),
    ("crash: longest gap per flow, median (all flows)", "crash", "gap_med_ms", "ms"),
    ("crash: the same, median of the dead node's flows", "crash", "gap_med_hit_ms", "ms"),
    ("crash: longest gap per flow, max", "crash", "gap_max_ms", "ms"),
    ("crash: takeover decided", "crash", "decided_ms", "ms"),
    ("crash: takeover committed in the kernel", "crash", "kernel_ms", "ms"),
    ("crash: first echo of a dead node's flow", "crash", "data_first_ms", "ms"),
    ("crash: the same, median of those flows", "crash", "data_med_ms", "ms"),
    ("crash: new connections needing a SYN retransmission", "crash",
     lambda c: 100.0 * c["new_slow"] / max(1, c["new_opened"]), "%"),
    ("crash: new connections failed", "crash", "new_failed", ""),
    ("join: established flows paused over 2 periods", "join",
     lambda j: 100.0 * j["disturbed"] / max(1, j["flows"]), "%"),
    ("join: longest gap per flow, max", "join", "gap_max_ms", "ms"),
    ("join: messages lost", "join", "lost", ""),
    ("join: echoes duplicated, before the join (2 nodes)", "join", "dup_before", ""),
    ("join: echoes duplicated, from the join on", "join", "dup_after", ""),
    ("join: new connections delayed (SYN retransmitted)", "join",
     lambda j: 100.0 * j["new_slow"] / max(1, j["new_opened"]), "%"),
    ("join: returning node holds its share", "join", "join_ms", "ms"),
    ("join: returning node's share of new connections", "spread", lambda s: s[DEAD], "%"),
]


def value(o, case, key):
    c = o[case]
    return key(c) if callable(key) else c.get(key)


def table(results, systems):
    log("\nmedians over %s (xt/arpha: the ratio of the medians)" % ", ".join(
        "%d %s runs" % (len(results[s]), s) for s in systems))
    head = "| figure | " + " | ".join(systems) + (" | xt/arpha |" if len(systems) == 2 else " |")
    log(head)
    log("|---|" + "---:|" * (len(systems) + (1 if len(systems) == 2 else 0)))
    for label, case, key, unit in ROWS:
        meds = []
        cells = []
        for s in systems:
            vs = [value(o, case, key) for o in results[s]]
            vs = [v for v in vs if v is not None]
            m = med(vs)
            meds.append(m)
            if m is None:
                cells.append("-")
                continue
            nd = 1 if unit == "%" else 0
            rng = " (%s-%s)" % (("%%.%df" % nd) % min(vs), ("%%.%df" % nd) % max(vs)) \
                if len(vs) > 1 and min(vs) != max(vs) else ""
            cells.append(("%%.%df%%s%%s" % nd) % (m, " " + unit if unit else "", rng))
        ratio = ""
        if len(systems) == 2:
            a, x = meds[0], meds[1]
            ratio = " %s |" % ("%.2f" % (x / a) if a and x is not None else "-")
        log("| %s | %s |%s" % (label, " | ".join(cells), ratio))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default="build-bench")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=SYSTEMS)
    ap.add_argument("--tcp", type=int, default=600)
    ap.add_argument("--udp", type=int, default=60)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--period", type=int, default=100)
    ap.add_argument("--json")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("aa_failover: run as root")
    os.environ["ARPHA_BUILD"] = os.path.abspath(args.build)
    import aalab
    if aalab.SANITIZED:
        log("note: %s is an AddressSanitizer build: DeadInterval 10 (200 ms)" % args.build)
    for tool in ("arphad", "arpha", "aaflows"):
        if not os.access(aalab.binary(tool), os.X_OK):
            sys.exit("aa_failover: no %s in %s (build it first)" % (tool, args.build))
    systems = [args.only] if args.only else list(SYSTEMS)
    classes = {"arpha": Arpha, "xtcluster": XtCluster}
    log("bench/aa_failover.py: 3 nodes, %d TCP + %d UDP flows, a message every %d ms, %.0f new "
        "connections/s; crash of %s after %.0f s, %.0f s more; %d runs; %s" % (
            args.tcp, args.udp, args.period, args.rate, DEAD, BEFORE_S, AFTER_S, args.runs,
            ", ".join(systems)))
    results = {s: [] for s in systems}
    failures = {s: [] for s in systems}
    for k in range(args.runs):
        order = systems if k % 2 == 0 else list(reversed(systems))
        log("run %d" % (k + 1))
        for s in order:
            try:
                o = run_system(classes[s], args)
            except Exception as ex:  # the other system still runs
                failures[s].append(str(ex))
                log("  %-9s FAILED: %s" % (s, str(ex)[:1500]))
                continue
            results[s].append(o)
            run_line(s, o)
    shown = [s for s in systems if results[s]]
    if shown:
        table(results, shown)
    for s in systems:
        if failures[s]:
            log("%s failed in %d of %d runs" % (s, len(failures[s]), args.runs))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results, "failures": failures}, f,
                      indent=1)
    sys.exit(0 if all(results[s] for s in systems) else 1)


if __name__ == "__main__":
    main()
