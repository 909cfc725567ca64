#!/usr/bin/python3
"""The CLI as a user meets it (report items 15, 23, 26, 29, 30): errors
that name the real problem with the documented exit codes, the vip table
aligned for the longest names, empty JSON for a feature not configured,
"try again" when the daemon is busy, and an interface whose device is
absent still shown with its counters, kept until it is back."""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/cli"
need_root(SUITE)
res = Results(SUITE)

SIDE_IP = "198.18.1.1"
LONG_IFACE = "a" * 15        # the longest interface name
LONG_VIP = "v" * 31          # the longest VIP name
VIP_CIDR = "198.18.0.100/24"


def arpha_cli(*args, sock="/nonexistent/arpha.sock"):
    """arpha without a daemon: usage errors are found before it is asked."""
    return run([binary("arpha"), "-s", sock] + list(args), check=False)


def side_link(lab, present):
    """A second managed device on the node (a veth pair of its own)."""
    if present:
        lab.ip("node", "link", "add", "dum0", "type", "veth", "peer", "name", "dum0p")
        lab.ip("node", "addr", "add", SIDE_IP + "/24", "dev", "dum0")
        lab.ip("node", "link", "set", "dum0p", "up")
        lab.ip("node", "link", "set", "dum0", "up")
    else:
        lab.ip("node", "link", "del", "dum0")


def iface_stats(d, name):
    for i in d.arpha_json("stats")["interfaces"]:
        if i["interface"] == name:
            return i
    return None


with res.case("item23/usage-errors-name-the-problem"):
    cases = [
        (["arp", "show", "lan", "extra"], "too many arguments to arp show"),
        (["announce"], "announce needs an interface"),
        (["arp"], "arp needs a verb: arp show [IFACE] or arp flush [IFACE]"),
        (["arp", "list"], 'arp: unknown verb "list"'),
        (["stats", "extra"], "too many arguments to stats"),
        (["vip", "x"], 'vip: unknown verb "x"'),
        (["conns", "x"], "too many arguments to conns"),
        (["frobnicate"], 'unknown command "frobnicate"'),
    ]
    bad = []
    for args, want in cases:
        p = arpha_cli(*args)
        if p.returncode != 2 or want not in p.stderr:
            bad.append("%s -> rc %d %r" % (" ".join(args), p.returncode, p.stderr.strip()))
    expect(not bad, "; ".join(bad))

with res.case("item29/test-traffic-out-of-range-is-usage"):
    for args in (["0", "0"], ["10", "x"], ["60001", "1"]):
        p = arpha_cli("cluster", "test-traffic", *args)
        expect(p.returncode == 2 and "PERIOD_MS" in p.stderr,
               "cluster test-traffic %s: rc %d %r", " ".join(args), p.returncode,
               p.stderr.strip())
    p = arpha_cli("cluster", "test-traffic", "10")
    expect(p.returncode == 2 and "needs PERIOD_MS and COUNT" in p.stderr,
           "one argument: rc %d %r", p.returncode, p.stderr.strip())

with Lab("cli") as lab:
    with res.case("item23/keygen-into-a-directory"):
        kdir = os.path.join(lab.tmp, "kg")
        os.mkdir(kdir)
        p = arpha_cli("keygen", kdir)
        expect(p.returncode == 1 and "%s is a directory" % kdir in p.stderr and
               "File exists" not in p.stderr, "rc %d %r", p.returncode, p.stderr.strip())

    side_link(lab, True)
    d = lab.arphad(extra="[Interface side]\nDevice=dum0\n")

    with res.case("item30/unconfigured-features-are-empty"):
        bad = []
        for cmd, want in (("vip", []), ("conns", {"peers": []}), ("ranges", {"nodes": []}),
                         ("cluster", {"members": []})):
            p = d.arpha(cmd, json_out=True, check=False)
            try:
                got = json.loads(p.stdout)
            except ValueError:
                got = "not JSON: %r" % p.stdout
            if p.returncode != 0 or got != want:
                bad.append("-j %s: rc %d, %r, stderr %r" % (cmd, p.returncode, got,
                                                            p.stderr.strip()))
            p = d.arpha(cmd, check=False)
            if p.returncode != 0 or "in the configuration" not in p.stdout:
                bad.append("%s: rc %d %r %r" % (cmd, p.returncode, p.stdout, p.stderr))
        expect(not bad, "; ".join(bad))

    with res.case("item29/grammar-and-announce-without-address"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client")
        p = d.arpha("arp", "flush", "lan")
        expect("1 dynamic entry removed" in p.stdout, "flush: %r", p.stdout)
        p = d.arpha("announce", "lan")
        expect("sent for 1 address." in p.stdout, "announce: %r", p.stdout)
        lab.ip("node", "addr", "flush", "dev", "dum0")
        time.sleep(0.2)
        p = d.arpha("announce", "side", check=False)
        expect(p.returncode == 1 and "no addresses to announce" in p.stderr,
               "announce with no address: rc %d %r %r", p.returncode, p.stdout, p.stderr)
        lab.ip("node", "addr", "add", SIDE_IP + "/24", "dev", "dum0")

    with res.case("item29/grammar-config-check"):
        conf = os.path.join(lab.tmp, "one.conf")
        with open(conf, "w") as f:
            f.write(make_config(os.path.join(lab.tmp, "one.sock"),
                                entries=[{"IP": "198.18.0.50", "Mode": "Publish"}]))
        p = run([binary("arphad"), "-n", "-f", conf], check=False)
        expect(p.returncode == 0 and "(1 interface, 1 ARP entry, 0 proxy ARP networks, 0 VIPs, 0 hosts)"
               in p.stdout, "arphad -n: %r %r", p.stdout, p.stderr)

    with res.case("item29/busy-daemon-says-try-again"):
        idle = []
        try:
            for _ in range(70):  # the daemon serves at most 64 at once
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.sock)
                idle.append(s)
            time.sleep(0.1)
            p = d.arpha("stats", check=False)
        finally:
            for s in idle:
                s.close()
        expect(p.returncode == 1 and "try again" in p.stderr and
               "Connection reset" not in p.stderr, "rc %d %r", p.returncode, p.stderr.strip())
        time.sleep(0.2)
        expect(d.arpha("stats", check=False).returncode == 0, "no answer after the clients left")

    with res.case("item15/absent-device-shown-with-counters"):
        time.sleep(0.2)
        d.arpha("announce", "side")
        before = iface_stats(d, "side")
        expect(before and before["counters"]["announced"] > 0, "no announce counted: %s", before)
        side_link(lab, False)
        time.sleep(0.3)
        st = iface_stats(d, "side")
        expect(st and st.get("state") == "absent" and
               st["counters"]["announced"] == before["counters"]["announced"],
               "stats while absent: %s", st)
        p = d.arpha("arp", "show", check=False)
        expect(p.returncode == 0 and re.search(r"iface side.*absent", p.stdout),
               "arp show: rc %d %r", p.returncode, p.stdout)
        p = d.arpha("arp", "show", "side", check=False)
        expect(p.returncode == 0 and "absent" in p.stdout and "no managed" not in p.stderr,
               "arp show side: rc %d %r %r", p.returncode, p.stdout, p.stderr)
        p = d.arpha("stats", check=False)
        expect(p.returncode == 0 and re.search(r"Interface side: .*absent", p.stdout),
               "stats text: %r", p.stdout)

    with res.case("item15/counters-go-on-when-the-device-is-back"):
        side_link(lab, True)
        end = time.monotonic() + 3
        st = None
        while time.monotonic() < end:
            st = iface_stats(d, "side")
            if st and st.get("state") == "present":
                break
            time.sleep(0.05)
        expect(st and st.get("state") == "present", "not managed again: %s", st)
        expect(st["counters"]["announced"] >= before["counters"]["announced"],
               "counters restarted: %s, before %s", st["counters"]["announced"],
               before["counters"]["announced"])

    res.daemon_checks(lab, alive=d)

# The vip table: one node alone holds its VIP; names of the longest kind.
with Lab("cli-vip") as lab:
    with res.case("item26/vip-table-aligned"):
        key = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", key])
        conf = ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\n\n"
                "[Interface %s]\nDevice=eth0\n\n"
                "[Cluster]\nNodeID=1\nInterface=eth0\nGroup=239.192.74.10\nPort=7410\n"
                "KeyFile=%s\nHeartbeatInterval=20ms\n\n"
                "[VIP %s]\nAddress=%s\nInterface=%s\nPriority=200\n" %
                (LONG_IFACE, key, LONG_VIP, VIP_CIDR, LONG_IFACE))
        d = lab.arphad(config=conf)
        time.sleep(0.5)
        lines = d.arpha("vip").stdout.splitlines()
        expect(len(lines) == 2, "vip table: %r", lines)
        head, row = lines
        fields = row.split()
        cols = ["NAME", "ADDRESS", "INTERFACE", "STATE", "OWNER", "PRIO", "HEALTH", "CHANGED",
                "METHODS"]
        # every column starts (left-aligned) or ends (right-aligned) where its header does
        bad = []
        pos = 0
        for name, val in zip(cols, fields):
            at = row.index(val, pos)
            pos = at + len(val)
            if name in ("PRIO", "CHANGED"):
                if head.index(name) + len(name) != at + len(val):
                    bad.append("%s ends at %d, %r at %d" % (name, head.index(name) + len(name),
                                                            val, at + len(val)))
            elif head.index(name) != at:
                bad.append("%s at %d, %r at %d" % (name, head.index(name), val, at))
        expect(not bad, "%s\n%s\n%s", "; ".join(bad), head, row)

    with res.case("item27/failover-lines-key-value"):
        expect(d.stop() == 0, "exit status %s", d.stopped_rc)
        lines = d.log().splitlines()
        kv = re.compile(r'^[-0-9T:.+]+ arphad: [a-z]+: event=[a-z0-9_]+'
                        r'( [a-z0-9_]+=("([^"\\]|\\.)*"|[^" ]+))*$')
        expect(any("event=vip_master" in l for l in lines), "no vip_master line: %s", lines)
        bad = [l for l in lines if not kv.match(l)]
        expect(not bad, "not key=value: %s", bad[:5])
    res.daemon_checks(lab)

res.exit()
