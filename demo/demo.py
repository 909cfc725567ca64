#!/usr/bin/python3
"""arpha demo: a spoofing host tries to poison a node's ARP table, with
arphad on the node (it fails) and without (it works); then address
failover: two arphad nodes share an address, a client pings it every
millisecond, the master crashes, and the client's longest gap is shown;
then connection-tracking sync: a TCP session through two stateful
firewalls carries on when the master crashes ([ConnSync]), and dies
without it (demo/tcpticker.py is the session, tests/netns/fwlab.py the lab).

    demo/demo.py BUILD_DIR      (as root; `make demo` runs it)

Everything happens in network namespaces made for the run (a bridge as the
switch, veth cables, 198.18.0.0/24; the firewall lab 198.18.1-3.0/24) and
is removed at the end."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "netns"))

if len(sys.argv) > 1:
    os.environ["ARPHA_BUILD"] = os.path.abspath(sys.argv[1])

import fwlab as FW  # noqa: E402
import lab as L  # noqa: E402
from lab import (ATTACKER_IP, ATTACKER_MAC, CLIENT_IP, CLIENT_MAC, NODE_IP,  # noqa: E402
                 NODE_MAC, garp_reply, garp_request, reply)

TTY = sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("NO_COLOR")
PACE = 0.7 if TTY else 0.0  # a moment to read, only for people watching


def c(code, s):
    return "\033[%sm%s\033[0m" % (code, s) if TTY else s


bold = lambda s: c("1", s)  # noqa: E731
dim = lambda s: c("2", s)  # noqa: E731
green = lambda s: c("1;32", s)  # noqa: E731
red = lambda s: c("1;31", s)  # noqa: E731
cyan = lambda s: c("36", s)  # noqa: E731
yellow = lambda s: c("33", s)  # noqa: E731

W = 78


def say(s=""):
    print(s, flush=True)


def heading(n, s):
    say()
    say(bold("%s %s" % (n, s)))
    time.sleep(PACE)


def cmd(where, s):
    say("  %s %s" % (dim("%-8s$" % where), cyan(s)))


def out(s, indent=4):
    for line in s.rstrip("\n").splitlines():
        say(" " * indent + line)


def pause():
    time.sleep(PACE)


def frame_text(f):
    """tcpdump-like: who sent what to whom."""
    v = L.Frame(f)
    if v.op == 1:
        what = "Request who-has %s tell %s" % (v.tpa, v.spa)
    else:
        what = "Reply %s is-at %s" % (v.spa, v.sha)
    return "%s > %s, ARP, %s" % (v.eth_src, v.eth_dst, what)


def neigh_line(lab, ip):
    p = lab.ip("node", "neigh", "show", ip, "dev", "eth0")
    return p.stdout.strip() or "(no entry)"


def verdict(lab, ip, good_mac, d=None):
    e = lab.neigh("node").get(ip) or {}
    mac = e.get("lladdr")
    if mac == good_mac:
        tag = green("  ok  ")
        note = "still the client's MAC"
    elif mac:
        tag = red("POISONED")
        note = "the attacker's MAC"
    else:
        tag = yellow(" gone ")
        note = "no entry"
    say("  %-13s %s -> %s  %s  %s" % ("node kernel:", ip, mac or "-", tag, dim(note)))
    return mac == good_mac


KEYS = ("event", "action", "rule", "reason", "srcenet", "srcip", "destip", "cfgenet", "oldenet")


def show_log(lines):
    if not lines:
        say("  %-13s %s" % ("arphad log:", dim("(nothing)")))
        return
    for line in lines:
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        parts = ["%s=%s" % (k, kv[k]) for k in KEYS if k in kv]
        rows, cur = [], ""
        for p in parts:
            if cur and len(cur) + 1 + len(p) > W - 16:
                rows.append(cur)
                cur = p
            else:
                cur = (cur + " " + p).strip()
        rows.append(cur)
        say("  %-13s %s" % ("arphad log:", yellow(rows[0])))
        for r in rows[1:]:
            say("  %-13s %s" % ("", yellow(r)))


ATTACKS = [
    ("gratuitous ARP reply, broadcast",
     garp_reply(ATTACKER_MAC, CLIENT_IP)),
    ("gratuitous ARP request, broadcast",
     garp_request(ATTACKER_MAC, CLIENT_IP)),
    ("forged reply, unicast to the node",
     reply(ATTACKER_MAC, CLIENT_IP, NODE_MAC, NODE_IP)),
]


def arp_scene():
    """Scenes 1-5: poisoning with and without arphad. Returns True if it went
    as it should."""
    title = "arpha demo: ARP poisoning against a node, with and without arphad"
    say(bold(title))
    say("=" * len(title))
    with L.Lab("demo") as lab:
        say()
        say("A switch (a Linux bridge) and three hosts, each in its own network namespace:")
        say()
        say("  %-9s %-13s %-18s %s" % ("host", "address", "MAC", "role"))
        for role, what in (("node", "runs arphad"), ("client", "an ordinary Linux host"),
                           ("attacker", "crafts ARP frames by hand")):
            ip, mac = lab.hosts[role]
            say("  %-9s %-13s %-18s %s" % (role, ip, mac, dim(what)))
        pause()

        # ---------------------------------------------------------------- 1
        heading("1.", "arphad takes over ARP on the node")
        d = lab.arphad(arp={"ARPIPCollision": "DropAnnounce"}, log_level="info")
        cmd("node", "arphad -d -f arphad.conf")
        out(dim("".join(l.split(", control socket")[0] + "\n"
                        for l in d.log().splitlines()[-2:])))
        cmd("node", "nft list table arp arpha")
        rule = [l.strip() for l in lab.exec("node", "nft", "list", "table", "arp", "arpha")
                .stdout.splitlines() if "iifname" in l]
        out("\n".join(rule) + "\n" + dim("(the kernel's own ARP input is off on eth0: "
                                         "arphad decides)"))
        pause()

        # ---------------------------------------------------------------- 2
        heading("2.", "The node talks to the client: the kernel asks, arphad vets the answer")
        cmd("node", "ping -c1 %s" % CLIENT_IP)
        ok = lab.ping("node", CLIENT_IP)
        out("1 packet transmitted, 1 received" if ok else red("no answer"))
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        cmd("node", "arpha arp show")
        out(d.arpha("arp", "show").stdout)
        pause()

        # ---------------------------------------------------------------- 3
        atk = lab.agent("attacker")
        held = 0
        for i, (what, frame) in enumerate(ATTACKS, 1):
            heading("3.%d" % i, "Attack: %s" % what)
            say("  %-13s %s" % ("attacker:", frame_text(frame)))
            mark = d.log_mark()
            atk.send(frame)
            time.sleep(0.3)
            held += verdict(lab, CLIENT_IP, CLIENT_MAC, d)
            show_log(d.wait_log(r"event=", mark, timeout=0.5))
            if i == 2:
                say("  %-13s %s" % ("", dim("(a gratuitous request claims the address too: "
                                            "it is checked like a reply)")))
            time.sleep(1.0)  # VerifyHoldoff: the next claim gets a check of its own
            pause()

        heading("3.4", "Attack: claim the node's own address")
        f = garp_request(ATTACKER_MAC, NODE_IP)
        say("  %-13s %s" % ("attacker:", frame_text(f)))
        mark = d.log_mark()
        m = atk.mark()
        atk.send(f)
        show_log(d.wait_log(r"event=", mark, timeout=1.0))
        for g in atk.wait(lambda g: g.incoming and g.eth_src == NODE_MAC, m, count=2, timeout=1):
            say("  %-13s %s" % ("node:", frame_text(g.raw)))
        say("  %-13s %s" % ("", dim("(ARPIPCollision=DropAnnounce: the node reclaims its "
                                    "address for everyone who listened)")))
        pause()

        heading("4.", "What arphad counted")
        cmd("node", "arpha stats")
        out("\n".join(l for l in d.arpha("stats").stdout.splitlines()
                      if l.strip() and not re.search(r"\s0$", l)))
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        pause()

        # ---------------------------------------------------------------- 5
        heading("5.", "For contrast: the same node, the same attack, arphad stopped")
        cmd("node", "kill -TERM $(pidof arphad)")
        rc = d.stop()
        out("arphad exited (%d); table arp arpha removed: the kernel does ARP itself again"
            % rc)
        say("  %-13s %s" % ("attacker:", frame_text(ATTACKS[0][1])))
        atk.send(ATTACKS[0][1])
        e = lab.wait_neigh(CLIENT_IP, lambda e: e and e.get("lladdr") == ATTACKER_MAC,
                           timeout=2)
        poisoned = not verdict(lab, CLIENT_IP, CLIENT_MAC)
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        cmd("node", "ping -c1 -W1 %s" % CLIENT_IP)
        ok2 = lab.ping("node", CLIENT_IP, wait=1)
        out(green("1 received") if ok2 else red("1 packet transmitted, 0 received") +
            dim("  (it went to %s)" % (e or {}).get("lladdr", "?")))
        pause()

        problems = lab.daemon_problems()
        say()
        summary = ("Summary: with arphad, %d of %d poisoning attempts reached the node's "
                   "kernel; without it, %s." % (len(ATTACKS) - held, len(ATTACKS),
                                               "1 of 1 did" if poisoned else "none did either"))
        say(bold(green(summary) if held == len(ATTACKS) and poisoned else red(summary)))
        for p in problems:
            say(red("problem: " + p.splitlines()[0]))
        good = held == len(ATTACKS) and poisoned and not problems
    return good


# ------------------------------------------------------------------ failover

PROBE = os.path.join(TOP, "tests", "netns", "probe.py")
VIP, VIP_CIDR, VIP_NAME = "198.18.0.100", "198.18.0.100/24", "web"
HB = "20ms"
FO_NODES = {  # role: (node id, address, MAC, priority)
    "node1": (1, "198.18.0.1", "02:00:00:00:00:01", 200),
    "node2": (2, "198.18.0.2", "02:00:00:00:00:02", 100),
}
FO_CLIENT = ("198.18.0.10", "02:00:00:00:00:10")
GROUP, PORT = "239.192.74.10", 7410


class DemoFailed(Exception):
    """Something the failover scene needs did not happen; the message says what."""


def fo_config(role, keyfile):
    """arphad.conf of a failover node (@SOCK@: its own control socket)."""
    node_id, _ip, _mac, prio = FO_NODES[role]
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n\n"
            "[Interface lan]\nDevice=eth0\n\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=%s\n\n"
            "[VIP %s]\nAddress=%s\nInterface=lan\nPriority=%d\n"
            % (node_id, GROUP, PORT, keyfile, HB, VIP_NAME, VIP_CIDR, prio))


def vip_json(d):
    """This node's view of the VIP (`arpha -j vip`), or None."""
    r = d.arpha("vip", json_out=True, check=False)
    if r.returncode != 0:
        return None
    try:
        return next((v for v in json.loads(r.stdout) if v.get("name") == VIP_NAME), None)
    except (ValueError, AttributeError):
        return None


def vip_state(d):
    v = vip_json(d)
    return v and v.get("state")


def wait_states(want, timeout=5.0):
    """Poll until each daemon in want ({daemon: state}) says its state."""
    end = time.monotonic() + timeout
    while True:
        got = {d: vip_state(d) for d in want}
        if got == want:
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.02)


def has_vip(lab, role):
    p = lab.ip(role, "-j", "addr", "show", "dev", "eth0", check=False)
    try:
        links = json.loads(p.stdout or "[]")
    except ValueError:
        return False
    return any(a.get("local") == VIP for l in links for a in l.get("addr_info", []))


def show_vip(lab, role, d):
    cmd(role, "arpha vip")
    r = d.arpha("vip", check=False)
    out(r.stdout if r.returncode == 0 else red((r.stderr or r.stdout).strip() or "no answer"))


def show_client_entry(lab):
    cmd("client", "ip neigh show %s" % VIP)
    p = lab.ip("client", "neigh", "show", VIP, "dev", "eth0", check=False)
    line = p.stdout.strip() or "(no entry)"
    who = {mac: role for role, (_i, _a, mac, _p) in FO_NODES.items()}
    m = re.search(r"lladdr (\S+)", line)
    out(line + ("  " + dim("(%s)" % who[m.group(1)]) if m and m.group(1) in who else ""))


class Pinger:
    """tests/netns/probe.py on the client: an ICMP echo request to the VIP
    every millisecond, on a fixed schedule; a thread reads its status lines
    (every 10 ms) so the demo can wait for answers to come back."""

    def __init__(self, lab, role, target):
        self.errpath = os.path.join(lab.tmp, "probe-%d.err" % time.monotonic_ns())
        self.cv = threading.Condition()
        self.status, self.result = None, None
        with open(self.errpath, "wb") as err:
            self.p = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns(role), L.PY, "-u", PROBE, target,
                 "--interval", "1", "--duration", "60", "--status", "10"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
                bufsize=1)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            try:
                v = json.loads(line)
            except ValueError:
                continue
            with self.cv:
                if v.get("type") == "result":
                    self.result = v
                else:
                    self.status = v
                self.cv.notify_all()

    def flowing_since(self, t, steady, timeout):
        """Wait until answers sent after t have kept coming (none missing for
        more than 50 ms) for steady seconds; False after timeout."""
        end = time.monotonic() + timeout
        since = None
        while True:
            now = time.monotonic()
            with self.cv:
                la = self.status and self.status.get("last_answer")
            ok = la is not None and la > t and now - la < 0.05
            since = (since or now) if ok else None
            if since is not None and now - since >= steady:
                return True
            if now > end or self.p.poll() is not None:
                return False
            time.sleep(0.01)

    def stop(self):
        """Stop it; its result (longest_gap_ms, gap_start, sent, received...)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        with self.cv:
            self.cv.wait_for(lambda: self.result is not None, timeout=2)
        if self.result is None:
            with open(self.errpath, errors="replace") as f:
                raise DemoFailed("the prober on the client gave no result: %s" %
                                 f.read().strip()[-300:])
        return self.result


def measure(lab, what, event, settle=None):
    """Ping the VIP from the client every millisecond, do event() (which
    prints what it does and returns the monotonic time it happened), wait
    for settle() (which returns None or (what, monotonic time) of the move
    of the VIP, when that is not the event itself) and for answers to flow,
    and print the client's longest gap and where it was."""
    cmd("client", "probe.py %s &" % VIP)
    out(dim("(tests/netns/probe.py: an ICMP echo request every 1 ms, like ping -i 0.001)"))
    pr = Pinger(lab, "client", VIP)
    try:
        if not pr.flowing_since(0, 0.3, 5):
            raise DemoFailed("the client gets no answer from %s before the %s" % (VIP, what))
        t = event()
        back = pr.flowing_since(t, 0.3, 5)
        if back and settle:
            moved = settle()
            if moved:
                what, t = moved
            back = pr.flowing_since(time.monotonic(), 0.2, 5)
        r = pr.stop()
    finally:
        if pr.p.poll() is None:
            pr.p.kill()
    if not back or not r["recovered"]:
        raise DemoFailed("after the %s the client got no answers from %s for %.0f ms, and "
                         "then the demo gave up" % (what, VIP, r["longest_gap_ms"]))
    after = (r["gap_start"] - t) * 1000
    if -5 <= after <= 50:
        where = "it began %.1f ms after the %s" % (max(after, 0.0), what)
    else:
        where = "not at the %s but %.0f ms %s it" % (what, abs(after),
                                                   "after" if after > 0 else "before")
    say("  %-13s %s" % ("client:", bold("longest gap in answers: %.1f ms" % r["longest_gap_ms"]))
        + dim("  (%s)" % where))
    lost = r["sent"] - r["received"]
    say("  %-13s %d of %d echo requests answered in %.1f s%s" % (
        "", r["received"], r["sent"], r["duration_s"],
        dim("  (%d lost)" % lost) if lost else dim("  (none lost)")))
    return r


def failover_scene():
    """Scenes 6-10: two nodes share a VIP; the master crashes, comes back,
    then hands over gracefully. Returns True if it went as it should."""
    say()
    title = "arpha demo, part 2: address failover"
    say(bold(title))
    say("=" * len(title))
    hosts = {r: (ip, mac) for r, (_i, ip, mac, _p) in FO_NODES.items()}
    hosts["client"] = FO_CLIENT
    with L.Lab("demo-failover", hosts=hosts) as lab:
        try:
            return failover_steps(lab)
        except DemoFailed as e:
            say()
            say(red("demo failed: %s" % e))
            for dm in {x.name: x for x in lab.daemons}.values():
                tail = dm.log().strip().splitlines()[-6:]
                if tail:
                    say(dim("last lines of %s's arphad log:" % dm.name))
                    out(dim("\n".join(tail)))
            return False


def failover_steps(lab):
    """Scenes 6-10 in the lab; raises DemoFailed when something does not happen."""
    keyfile = os.path.join(lab.tmp, "cluster.key")
    L.run([L.binary("arpha"), "keygen", keyfile])
    say()
    say("Two nodes run arphad and share the address %s (the VIP): the one" % VIP)
    say("holding it (master) answers for it, the other (backup) waits. They send")
    say("authenticated heartbeats every %s to %s:%d on the LAN. A backup" %
        (HB.replace("ms", " ms"), GROUP, PORT))
    say("that stops hearing the master probes it, and takes the address over if it")
    say("gets no answer; it announces the move with gratuitous ARP and a unicast ARP")
    say("request from the VIP to each neighbour it knows.")
    say()
    say("  %-9s %-13s %-18s %s" % ("host", "address", "MAC", "role"))
    for role, (_i, ip, mac, prio) in FO_NODES.items():
        say("  %-9s %-13s %-18s %s" % (role, ip, mac, dim("arphad, VIP Priority=%d" % prio)))
    say("  %-9s %-13s %-18s %s" % (("client",) + FO_CLIENT + (dim("an ordinary Linux host"),)))
    pause()

    # ------------------------------------------------------------ 6
    heading("6.", "Both nodes start; node1 (higher priority) holds the VIP")
    cmd("node1", "arpha keygen cluster.key")
    out(dim("(one key for both nodes, mode 0600: every cluster datagram is authenticated)"))
    cmd("node1", "sed -n '/Cluster/,$p' arphad.conf")
    out("\n".join(l for l in fo_config("node1", "cluster.key").split("\n\n", 2)[2]
                  .splitlines() if l))
    out(dim("(node2: NodeID=2, Priority=100)"))
    d = {}
    cmd("node1", "arphad -d -f arphad.conf")
    d["node1"] = lab.arphad("node1", config=fo_config("node1", keyfile), name="node1")
    if not wait_states({d["node1"]: "master"}, 5):
        raise DemoFailed("node1 alone did not become master (it says %s)" %
                         vip_state(d["node1"]))
    cmd("node2", "arphad -d -f arphad.conf")
    d["node2"] = lab.arphad("node2", config=fo_config("node2", keyfile), name="node2")
    if not wait_states({d["node1"]: "master", d["node2"]: "backup"}, 5):
        raise DemoFailed("expected node1 master and node2 backup; they say %s and %s" %
                         (vip_state(d["node1"]), vip_state(d["node2"])))
    show_vip(lab, "node1", d["node1"])
    show_vip(lab, "node2", d["node2"])
    lab.ping("client", VIP)
    show_client_entry(lab)
    pause()

    # ------------------------------------------------------------ 7
    heading("7.", "node1 crashes while the client pings the VIP every millisecond")

    def crash():
        time.sleep(0.2)
        t = time.monotonic()
        d["node1"].killed = True
        d["node1"].p.send_signal(signal.SIGKILL)
        lab.ip("sw", "link", "set", "p-node1", "down")
        cmd("node1", "kill -KILL $(pidof arphad)")
        cmd("sw", "ip link set p-node1 down")
        out(dim("(at the same instant: the daemon dies without a word and the node "
                "drops off the LAN,\n as a machine that lost power would)"))
        return t
    try:
        measure(lab, "crash", crash, lambda: wait_states({d["node2"]: "master"}, 5) and None)
    except DemoFailed as e:
        st = vip_state(d["node2"])
        if st != "master":
            raise DemoFailed("node1 crashed but node2 is %s, not master: no failover (%s)" %
                             (st or "not answering", e))
        raise
    d["node1"].stop()  # reap it

    # ------------------------------------------------------------ 8
    heading("8.", "After the crash: node2 is master and holds the VIP")
    show_vip(lab, "node2", d["node2"])
    v = vip_json(d["node2"]) or {}
    if v.get("state") != "master":
        raise DemoFailed("node1 crashed but node2 is %s, not master: no failover" %
                         (v.get("state") or "not answering"))
    cmd("node2", "ip -br addr show dev eth0")
    out(lab.ip("node2", "-br", "addr", "show", "dev", "eth0").stdout)
    if not has_vip(lab, "node2"):
        raise DemoFailed("node2 says master but %s is not on its eth0" % VIP)
    show_client_entry(lab)
    pause()

    # ------------------------------------------------------------ 9
    heading("9.", "node1 comes back and takes the VIP again (Preempt=yes by default)")

    cmd("node1", "ip addr show dev eth0 to %s" % VIP)
    left = lab.ip("node1", "addr", "show", "dev", "eth0", "to", VIP, check=False).stdout
    left = textwrap.dedent("\n".join(left.splitlines()[1:]))
    if left:
        out(left)
        out(dim("(left from before the crash: arphad holds the VIP on a short lease it "
                "renews;\n nobody renews it now and the kernel will drop it; a new "
                "arphad removes it at once)"))
    else:
        out(dim("(nothing: arphad holds the VIP on a short lease it renews, and with "
                "nobody\n renewing it the kernel dropped it)"))

    def comeback():
        time.sleep(0.2)
        cmd("sw", "ip link set p-node1 up")
        lab.ip("sw", "link", "set", "p-node1", "up")
        cmd("node1", "arphad -d -f arphad.conf")
        t = time.monotonic()
        d["node1"] = lab.arphad("node1", config=fo_config("node1", keyfile), name="node1")
        return t

    def node1_master():
        if not wait_states({d["node1"]: "master", d["node2"]: "backup"}, 5):
            return None
        v = vip_json(d["node1"]) or {}
        if "last_change_ms" not in v:
            return None
        return "take-back", time.monotonic() - v["last_change_ms"] / 1000.0
    measure(lab, "restart", comeback, node1_master)
    show_vip(lab, "node1", d["node1"])
    if vip_state(d["node1"]) != "master" or vip_state(d["node2"]) != "backup":
        raise DemoFailed("node1 came back but did not take the VIP back: node1 says %s, "
                         "node2 says %s" % (vip_state(d["node1"]), vip_state(d["node2"])))
    pause()

    # ------------------------------------------------------------ 10
    heading("10.", "Graceful hand-over: node1's arphad is stopped with SIGTERM")

    def sigterm():
        time.sleep(0.2)
        t = time.monotonic()
        d["node1"].p.send_signal(signal.SIGTERM)
        cmd("node1", "kill -TERM $(pidof arphad)")
        out(dim("(the master tells node2 first; node2 claims the VIP before node1 lets "
                "it go)"))
        return t
    measure(lab, "SIGTERM", sigterm, lambda: wait_states({d["node2"]: "master"}, 5) and None)
    rc = d["node1"].stop()
    show_vip(lab, "node2", d["node2"])
    if vip_state(d["node2"]) != "master":
        raise DemoFailed("node1 was stopped with SIGTERM but node2 is %s, not master" %
                         vip_state(d["node2"]))
    if rc != 0:
        raise DemoFailed("node1's arphad exited with %s on SIGTERM" % rc)
    if has_vip(lab, "node1"):
        raise DemoFailed("node1's arphad stopped but left %s on its eth0" % VIP)
    pause()

    problems = lab.daemon_problems(expect_alive=d["node2"])
    say()
    summary = ("Summary: the VIP moved to node2 when node1 crashed, back to node1 when "
               "it returned,\nand to node2 again when node1's arphad was stopped.")
    say(bold(green(summary) if not problems else red(summary)))
    for p in problems:
        say(red("problem: " + p.splitlines()[0]))
    return not problems


# ------------------------------------------------------------ connection sync


TICKER = os.path.join(TOP, "demo", "tcpticker.py")
TICK_MS = 20
USER_TIMEOUT_MS = 3000
CT_SYNC = {"Protocols": "tcp udp icmp"}


class Ticker:
    """demo/tcpticker.py on the client: one TCP session to the server's
    echo service, a line "tick N" every TICK_MS ms; a thread collects the
    echoes (n, sent, received: CLOCK_MONOTONIC seconds) and a failure."""

    def __init__(self, lab):
        self.cv = threading.Condition()
        self.echoes, self.error, self.t0 = [], None, None
        self.errpath = os.path.join(lab.tmp, "ticker-%d.err" % time.monotonic_ns())
        with open(self.errpath, "wb") as err:
            self.p = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns("client"), L.PY, "-u", TICKER, FW.SERVER_IP,
                 str(FW.ECHO_PORT), "--interval", str(TICK_MS), "--user-timeout",
                 str(USER_TIMEOUT_MS), "--duration", "30"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                bufsize=1)
        lab.procs.append(self.p)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            w = line.split()
            with self.cv:
                if w and w[0] == "echo" and len(w) == 4:
                    self.echoes.append((int(w[1]), float(w[2]), float(w[3])))
                elif w and w[0] == "connected":
                    self.t0 = float(w[1])
                elif w and w[0] == "error":
                    self.error = (" ".join(w[1:-1]), float(w[-1]))
                self.cv.notify_all()
        with self.cv:
            if self.error is None:
                with open(self.errpath, errors="replace") as f:
                    why = f.read().strip()[-200:]
                self.error = ("the ticker exited%s" % (": " + why if why else ""),
                              time.monotonic())
            self.cv.notify_all()

    def wait(self, pred, timeout):
        """Until pred() (called under the lock) or an error; pred()'s value."""
        with self.cv:
            self.cv.wait_for(lambda: pred() or self.error is not None, timeout)
            return pred()

    def after(self, t):
        return [e for e in self.echoes if e[2] > t]

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()  # end of stdin: it closes the session and exits
                self.p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()


def tick_line(e, t):
    n, sent, got = e
    return "  %-9s tick %-5d sent %+8.1f ms   echo back %6.1f ms later" % (
        "client:", n, (sent - t) * 1000, (got - sent) * 1000)


def crash_line():
    say("  " + yellow("%-9s ---- fw1 crashes here ----" % ""))


def ct_lines(lab, role):
    """The kernel's conntrack entries of the echo service, one short line each."""
    p = lab.exec(role, "conntrack", "-L", "-p", "tcp", "--dport", str(FW.ECHO_PORT),
                 check=False)
    rows = []
    for l in p.stdout.splitlines():
        w = l.split()
        kv = re.findall(r"(src|dst|sport|dport)=(\S+)", l)
        if len(kv) < 4 or len(w) < 4:
            continue
        o = dict(kv[:4])
        flags = " ".join(x for x in w if x.startswith("[") and x != "[UNREPLIED]")
        rows.append("tcp %s %s:%s -> %s:%s %s" % (w[3], o["src"], o["sport"], o["dst"],
                                                  o["dport"], flags))
    return rows


def show_ct(lab, role, empty_note):
    cmd(role, "conntrack -L -p tcp --dport %d" % FW.ECHO_PORT)
    rows = ct_lines(lab, role)
    out("\n".join(rows) + "\n" + dim("(condensed: state, original direction, flags)")
        if rows else dim(empty_note))
    return rows


def held_from(d):
    """Entries d holds from its peers (`arpha -j conns`), or None."""
    r = d.arpha("conns", json_out=True, check=False)
    try:
        return sum(int(p.get("entries", 0)) for p in json.loads(r.stdout).get("peers", []))
    except (ValueError, AttributeError, TypeError):
        return None


def show_arpha(role, d, *args):
    cmd(role, "arpha " + " ".join(args))
    r = d.arpha(*args, check=False)
    out(r.stdout if r.returncode == 0 else red((r.stderr or r.stdout).strip() or "no answer"))


def takeover_ms(d, t):
    """When d took the VIPs over, in ms after t (from `arpha -j vip`), or None."""
    r = d.arpha("vip", json_out=True, check=False)
    try:
        v = json.loads(r.stdout)
        ch = max(x["last_change_ms"] for x in v)
    except (ValueError, KeyError, TypeError):
        return None
    return (time.monotonic() - ch / 1000.0 - t) * 1000


def ct_topology():
    say("Two stateful firewalls between a client network and a server network. Both")
    say("run arphad; fw1 is master of the two gateway addresses (VIPs), fw2 backup.")
    say("They send heartbeats every 20 ms and, with [ConnSync], the conntrack state")
    say("of their connections on a link of their own.")
    say()
    say("      198.18.1.0/24                                  198.18.2.0/24")
    say("  client -------- switch ---+--- fw1 ---+--- switch -------- server")
    say("  198.18.1.10               |           |              198.18.2.10")
    say("  gw 198.18.1.1 (VIP in)    +--- fw2 ---+     gw 198.18.2.1 (VIP out)")
    say("                          fw1 eth2 --- 198.18.3.0/24 --- fw2 eth2")
    say()
    say("  %-5s %-13s %-13s %s" % ("", "eth0", "eth1", "eth2"))
    for role, (_id, prio, devs) in FW.FWS.items():
        say("  %-5s %-13s %-13s %-13s %s" % (
            role, devs["eth0"][0].split("/")[0], devs["eth1"][0].split("/")[0],
            devs["eth2"][0].split("/")[0], dim("VIP Priority=%d" % prio)))
    pause()


def ct_firewalls(lab, connsync):
    """arphad on fw1 then fw2 (fw1 master of both VIPs); prints the commands."""
    cmd("fw1", "arphad -d -f arphad.conf")
    cmd("fw2", "arphad -d -f arphad.conf")
    try:
        return lab.start_firewalls(connsync=connsync)
    except RuntimeError as e:
        raise DemoFailed("the firewalls did not come up as fw1 master, fw2 backup: %s" %
                         str(e)[:400])


def ct_session(lab, n=10):
    """The echo service on the server and the ticker on the client, running."""
    cmd("server", "ctecho.py server %d &" % FW.ECHO_PORT)
    try:
        lab.echo_server()
    except RuntimeError as e:
        raise DemoFailed("the echo server did not start: %s" % e)
    cmd("client", "tcpticker.py %s %d &" % (FW.SERVER_IP, FW.ECHO_PORT))
    tk = Ticker(lab)
    if not tk.wait(lambda: len(tk.echoes) >= n, 5):
        raise DemoFailed("the TCP session from the client does not work: %s" %
                         (tk.error or ("%d echoes" % len(tk.echoes)),))
    return tk


def ct_crash(lab):
    try:
        t = lab.crash("fw1")
    except RuntimeError as e:
        raise DemoFailed(str(e))
    cmd("fw1", "kill -KILL $(pidof arphad)")
    cmd("sw", "ip link set fw1-e0 down; ip link set fw1-e1 down; ip link set fw1-e2 down")
    out(dim("(at the same instant: the daemon dies without a word and all three links\n"
            " of fw1 go dead, as a machine that lost power would)"))
    return t


def ct_scene():
    """Scenes 11-15: a TCP session through two firewalls survives the
    master's crash with [ConnSync], and dies without. Returns True if it went
    as it should."""
    say()
    title = "arpha demo, part 3: a TCP connection through a firewall cluster"
    say(bold(title))
    say("=" * len(title))
    good = True
    for label, steps in (("demo-ctsync", ct_sync_steps), ("demo-ctnosync", ct_nosync_steps)):
        with FW.FwLab(label) as lab:
            try:
                r = steps(lab)
            except DemoFailed as e:
                say()
                say(red("demo failed: %s" % e))
                for dm in {x.name: x for x in lab.daemons}.values():
                    tail = dm.log().strip().splitlines()[-6:]
                    if tail:
                        say(dim("last lines of %s's arphad log:" % dm.name))
                        out(dim("\n".join(tail)))
                return False
            if r is None:
                return False
            good = good and r[0]
            if label == "demo-ctsync":
                pause_ms = r[1]
            else:
                died = r[1]
    say()
    summary = ("Summary: with [ConnSync] the TCP session carried on through fw1's crash "
               "(longest\npause %.0f ms); without it, %s." %
               (pause_ms, died or "it survived too (it should not have)"))
    say(bold(green(summary) if good else red(summary)))
    return good


def ct_sync_steps(lab):
    ct_topology()

    # ------------------------------------------------------------ 11
    heading("11.", "The firewalls: a stateful ruleset, arphad with [ConnSync]")
    cmd("fw1", "nft list chain inet arpha_fw forward")
    chain = [l.strip() for l in lab.exec("fw1", "nft", "list", "chain", "inet", "arpha_fw",
                                         "forward").stdout.splitlines()]
    rules = [l for l in chain if l and not l.startswith(("table", "chain", "}"))]
    pol = "policy drop; " if "policy drop" in rules[0] else ""
    tail = [r.replace("meta l4proto ", "").replace(" ct state new accept", "")
            for r in rules[3:] if r.endswith("ct state new accept")]
    out("%s%s\n%s%s" % (pol, "; ".join(rules[1:2]), "; ".join(rules[2:3]),
                         "; %s: ct state new accept" % ", ".join(tail) if tail else ""))
    out(dim("(condensed: only what conntrack knows passes, or the first packet of a new\n"
            " connection; and nf_conntrack_tcp_loose=0: a packet of an established TCP\n"
            " connection the kernel has no state for is dropped, as on a real firewall)"))
    ok, msg = lab.config_check(lab.fw_config("fw1", CT_SYNC))
    if not ok:
        raise DemoFailed("this arphad does not accept [ConnSync]: %s" % msg)
    cmd("fw1", "sed -n '/ConnSync/,$p' arphad.conf")
    out("[ConnSync]\n" + "".join("%s=%s\n" % kv for kv in CT_SYNC.items()))
    out(dim("(besides [Cluster] on eth2 and [VIP in] 198.18.1.1/24 on eth0, [VIP out]\n"
            " 198.18.2.1/24 on eth1, both Group=fw: they move together; fw2 the same\n"
            " with NodeID=2, Priority=100)"))
    d = ct_firewalls(lab, CT_SYNC)
    pause()

    # ------------------------------------------------------------ 12
    heading("12.", "A long-lived TCP session from the client to the server, through fw1")
    tk = ct_session(lab)
    out(dim("(one TCP connection: a line \"tick N\" every %d ms; the server echoes it back.\n"
            " TCP_USER_TIMEOUT=%d s: the client gives up if its data stays unacknowledged\n"
            " that long, as an application with a deadline would)" %
            (TICK_MS, USER_TIMEOUT_MS // 1000)))
    with tk.cv:
        first = list(tk.echoes[:3])
    for e in first:
        say("  %-9s tick %-5d echo back %4.1f ms later" % ("client:", e[0], (e[2] - e[1]) * 1000))
    say("  %-9s %s" % ("", dim("...")))
    end = time.monotonic() + 5
    held = held_from(d["fw2"])
    while (held or 0) < 1 and time.monotonic() < end:
        time.sleep(0.05)
        held = held_from(d["fw2"])
    show_ct(lab, "fw1", "(no entry)")
    rows2 = show_ct(lab, "fw2", "(no entry: fw2's arphad did not put it in its kernel)")
    show_arpha("fw1", d["fw1"], "conns")
    show_arpha("fw2", d["fw2"], "conns")
    if not held:
        raise DemoFailed("fw2 holds no connection of fw1's (arpha conns)")
    if not rows2:
        raise DemoFailed("fw2's kernel does not hold fw1's connection before the crash")
    out(dim("(fw2's kernel has never seen a packet of this session, yet it holds the\n"
            " connection: fw2's arphad put it there as fw1 synced it, so a takeover only\n"
            " has to bring the addresses up)"))
    pause()

    # ------------------------------------------------------------ 13
    heading("13.", "fw1 crashes in the middle of the session")
    time.sleep(0.2)
    t = ct_crash(lab)
    tk.wait(lambda: len(tk.after(t)) >= 50, 5)
    ok, _got = lab.wait_states(d, {"fw2": "master"}, 1)
    with tk.cv:
        echoes, error = list(tk.echoes), tk.error
    before = [e for e in echoes if e[2] <= t]
    after = [e for e in echoes if e[2] > t]
    for e in before[-2:]:
        say(tick_line(e, t))
    crash_line()
    for e in after[:4]:
        say(tick_line(e, t))
    if len(after) > 4:
        say("  %-9s %s" % ("", dim("...")))
        say(tick_line(after[-1], t))
    if error:
        say("  %-9s %s" % ("client:", red(error[0])))
    if not ok:
        raise DemoFailed("fw1 crashed but fw2 did not take both VIPs over")
    if error or len(after) < 50:
        raise DemoFailed("the TCP session did not carry on after the crash (%d echoes "
                         "after it%s)" % (len(after), "; " + error[0] if error else ""))
    gaps = [(b[2] - a[2], a, b) for a, b in zip(echoes, echoes[1:])]
    gap, ga, gb = max(gaps)
    ns = [e[0] for e in echoes]
    inorder = ns == list(range(ns[0], ns[0] + len(ns)))

    def at(x):
        ms = round((x - t) * 1000)
        return "%+d ms" % ms if ms else "0 ms"

    def span(a, b):
        return "tick %d's echo at %s to tick %d's at %s" % (a[0], at(a[2]), b[0], at(b[2]))
    say("  %-9s %s%s" % ("client:", bold("longest pause between two echoes: %.0f ms" %
                                         (gap * 1000)),
                         dim("  (one tick: %d ms)" % TICK_MS)))
    say("  %-9s %s" % ("", dim("(from %s)" % span(ga, gb))))
    if before and after and before[-1] is not ga:
        say("  %-9s %s" % ("", "across the crash: %.0f ms %s" % (
            (after[0][2] - before[-1][2]) * 1000, dim("(from %s)" % span(before[-1],
                                                                          after[0])))))
    say("  %-9s %s" % ("", "ticks %d to %d all came back, in order, on the same connection%s"
                       % (ns[0], ns[-1], "" if inorder else red(" (NOT in order)"))))
    tko = takeover_ms(d["fw2"], t)
    if tko is not None:
        say("  %-9s %s" % ("", dim("(fw2 took the VIPs over about %.0f ms after the crash)" %
                                   tko)))
    pause()

    # ------------------------------------------------------------ 14
    heading("14.", "After the crash: fw2 holds the VIPs and the connection is in its kernel")
    show_arpha("fw2", d["fw2"], "vip")
    show_arpha("fw2", d["fw2"], "conns")
    rows = show_ct(lab, "fw2", "(no entry)")
    tk.stop()
    problems = lab.daemon_problems(expect_alive=d["fw2"])
    for p in problems:
        say(red("problem: " + p.splitlines()[0]))
    good = inorder and bool(rows) and not problems
    return good, gap * 1000


def ct_nosync_steps(lab):
    # ------------------------------------------------------------ 15
    heading("15.", "For contrast: the same crash without [ConnSync]")
    out(dim("(a new lab, the same firewalls and ruleset; arphad.conf without [ConnSync])"))
    d = ct_firewalls(lab, None)
    tk = ct_session(lab)
    show_ct(lab, "fw2", "0 flow entries: fw2 knows nothing of the session")
    time.sleep(0.2)
    t = ct_crash(lab)
    tk.wait(lambda: tk.after(t + 0.5), USER_TIMEOUT_MS / 1000.0 + 2)
    ok, _got = lab.wait_states(d, {"fw2": "master"}, 1)
    with tk.cv:
        echoes, error = list(tk.echoes), tk.error
    before = [e for e in echoes if e[2] <= t]
    after = [e for e in echoes if e[2] > t]
    for e in before[-2:]:
        say(tick_line(e, t))
    crash_line()
    for e in after[:3]:
        say(tick_line(e, t))
    if not ok:
        raise DemoFailed("fw1 crashed but fw2 did not take both VIPs over")
    died = None
    if error and not tk.after(t + 0.5):
        last = (after or before)[-1]
        say("  %-9s %s" % ("client:", red("%s, %.1f s after the crash" %
                                          (error[0], error[1] - t))))
        say("  %-9s %s" % ("", "the last echo was tick %d; nothing came back after it" %
                           last[0]))
        died = "it died (%s)" % error[0].split(": ", 1)[-1].lower()
    else:
        say("  %-9s %s" % ("client:", red("the session carried on without [ConnSync]: "
                                          "that is not what a stateful firewall does")))
    show_arpha("fw2", d["fw2"], "vip")
    show_ct(lab, "fw2", "0 flow entries: fw2 is master but has no state for the session, "
            "so its\n ruleset drops every retransmission")
    cmd("client", "ctecho.py client %s %d 1 0" % (FW.SERVER_IP, FW.ECHO_PORT))
    try:
        e = lab.echo_client(1, 0, timeout=5).established
        fresh = e.get("tcp_ok") == 1
    except RuntimeError:
        fresh = False
    out(("a new connection through fw2 works at once" if fresh else
         red("a new connection through fw2 fails too")) +
        dim("  (what was lost is the state, not the path)"))
    problems = lab.daemon_problems(expect_alive=d["fw2"])
    for p in problems:
        say(red("problem: " + p.splitlines()[0]))
    return bool(died) and fresh and not problems, died


def main():
    t0 = time.monotonic()
    if os.geteuid() != 0:
        say("demo: needs root (it makes network namespaces); try: sudo make demo")
        return 1
    for b in ("arphad", "arpha"):
        if not os.access(L.binary(b), os.X_OK):
            say("demo: no %s in %s; build first (make build)" % (b, L.build_dir()))
            return 1
    if not os.access(PROBE, os.R_OK):
        say("demo: no %s (the millisecond ICMP prober the failover scene uses)" % PROBE)
        return 1
    if not os.access(TICKER, os.R_OK):
        say("demo: no %s (the TCP session of the connection-sync scene)" % TICKER)
        return 1
    good = arp_scene()
    try:
        good = failover_scene() and good
    except DemoFailed as e:
        say()
        say(red("demo failed: %s" % e))
        good = False
    try:
        good = ct_scene() and good
    except DemoFailed as e:
        say()
        say(red("demo failed: %s" % e))
        good = False
    say()
    say(dim("(%.0f s; the labs' namespaces are removed now)" % (time.monotonic() - t0)))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
