#!/usr/bin/python3
"""Cluster messaging end to end: three arphad nodes on one sync bridge.
All see each other up; a node cut off is reported down by the others
within DeadInterval (plus a heartbeat); a client that connects to a node's
control socket and says nothing holds nothing up; a node whose own link is down
declares nobody dead; a forged datagram and a captured one replayed
change nothing and are counted by reason."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/cluster"
need_root(SUITE)
res = Results(SUITE)

GROUP, PORT = "239.192.74.10", 7410
INTERVAL_MS, DEAD = 100, 3
NODES = {  # role: (node id, ip, mac)
    "n1": (1, "198.18.0.1", "02:00:00:00:00:01"),
    "n2": (2, "198.18.0.2", "02:00:00:00:00:02"),
    "n3": (3, "198.18.0.3", "02:00:00:00:00:03"),
}
HOSTS = {r: (ip, mac) for r, (_id, ip, mac) in NODES.items()}
HOSTS["attacker"] = (ATTACKER_IP, ATTACKER_MAC)


def config(node_id, keyfile):
    return cluster_config(node_id, keyfile, GROUP, PORT, INTERVAL_MS, DEAD)


def members(d):
    return {m["node_id"]: m for m in d.arpha_json("cluster")["members"]}


def wait_states(d, want, timeout):
    """Poll until every node in want has its state; returns (ok, seconds)."""
    t0 = time.monotonic()
    while True:
        got = members(d)
        if all(got.get(n, {}).get("state") == s for n, s in want.items()):
            return True, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return False, time.monotonic() - t0
        time.sleep(0.01)


with Lab("cluster", hosts=HOSTS) as lab:
    keyfile = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", keyfile])
    d = {r: lab.arphad(r, config=config(i, keyfile), name=r) for r, (i, _ip, _m) in NODES.items()}

    with res.case("all-up"):
        for r, (i, _ip, _m) in NODES.items():
            others = {j: "up" for j, _a, _b in NODES.values() if j != i}
            ok, _t = wait_states(d[r], others, 5)
            expect(ok, "%s sees %s", r, members(d[r]))
            view = d[r].arpha_json("cluster")
            expect(view["node_id"] == i, "%s says it is node %s", r, view["node_id"])
        m = members(d["n1"])
        expect(m[2]["address"] == NODES["n2"][1], "n1 has node 2 at %s", m[2]["address"])

    with res.case("silent-control-client-holds-nothing-up"):
        # a client that connects to n2's control socket and says nothing (a hung
        # script, a stopped `arpha`): n2 must go on serving and sending heartbeats
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(d["n2"].sock)
        silent.settimeout(3)
        t0 = time.monotonic()
        downs, slow = [], []
        while time.monotonic() - t0 < 1.0:
            t = time.monotonic()
            m2 = members(d["n2"])  # another client of the same socket, meanwhile
            if time.monotonic() - t > 0.5:
                slow.append(round(time.monotonic() - t, 2))
            if members(d["n1"]).get(2, {}).get("state") != "up":
                downs.append(round(time.monotonic() - t0, 2))
            time.sleep(0.02)
        try:
            closed = silent.recv(100) == b""
        except OSError:
            closed = False
        waited = time.monotonic() - t0
        silent.close()
        expect(not slow, "with a silent client connected, n2 took %s s to answer", slow)
        expect(not downs, "with a silent client on n2's control socket, n1 saw node 2 "
               "down at %s s: n2 stopped sending heartbeats", downs)
        expect(m2 and all(x["state"] == "up" for x in m2.values()), "n2 sees %s", m2)
        expect(closed and waited < 2.5, "n2 did not drop the silent client (%.1f s)", waited)

    with res.case("cut-node-reported-down-within-dead-interval"):
        lab.ip("sw", "link", "set", "p-n3", "down")  # the switch port: n3's own link stays up
        ok, t = wait_states(d["n1"], {3: "down"}, 5)
        expect(ok, "n1 never saw node 3 down: %s", members(d["n1"]))
        bound = (DEAD + 1) * INTERVAL_MS / 1000 + 0.15  # DeadInterval + a heartbeat + polling
        expect(t <= bound, "node 3 reported down after %.3f s (bound %.3f s)", t, bound)
        expect(members(d["n2"])[3]["state"] == "down", "n2: %s", members(d["n2"]))
        expect(members(d["n1"])[2]["state"] == "up", "n1 lost node 2 too: %s", members(d["n1"]))
        lab.ip("sw", "link", "set", "p-n3", "up")
        ok, _t = wait_states(d["n1"], {3: "up"}, 5)
        expect(ok, "node 3 did not come back: %s", members(d["n1"]))

    with res.case("own-link-down-declares-nobody-dead"):
        lab.ip("n3", "link", "set", "eth0", "down")
        time.sleep((DEAD * 4) * INTERVAL_MS / 1000)
        view = d["n3"].arpha_json("cluster")
        expect(view["sync_link"] == "down", "n3's sync link: %s", view["sync_link"])
        downs = [n for n, m in members(d["n3"]).items() if m["state"] == "down"]
        expect(not downs, "n3 declared %s down while its own link was down", downs)
        expect(d["n3"].log_lines(r"event=sync_link_down"), "no sync_link_down logged")
        lab.ip("n3", "link", "set", "eth0", "up")
        ok, _t = wait_states(d["n1"], {3: "up"}, 5)
        expect(ok, "n3 not back after its link came up: %s", members(d["n1"]))

    def counters(r):
        return d[r].arpha_json("cluster")["counters"]

    with res.case("forged-datagram-counted-not-acted-on"):
        before = counters("n1")
        p = lab.exec("attacker", PY, os.path.join(HERE, "udpcap.py"), "forge", GROUP, str(PORT),
                     "eth0", "2")
        expect(p.stdout.startswith("sent"), "forger: %s %s", p.stdout, p.stderr)
        time.sleep(0.3)
        after = counters("n1")
        expect(after["drop_bad_auth"] == before["drop_bad_auth"] + 1, "drop_bad_auth %d -> %d",
               before["drop_bad_auth"], after["drop_bad_auth"])
        expect(members(d["n1"])[2]["state"] == "up", "node 2 disturbed: %s", members(d["n1"]))

    with res.case("replayed-datagram-counted-not-acted-on"):
        before = counters("n1")
        p = lab.exec("attacker", PY, os.path.join(HERE, "udpcap.py"), "replay", GROUP,
                     str(PORT), "eth0", NODES["n2"][1])
        expect(p.stdout.startswith("sent"), "replayer: %s %s", p.stdout, p.stderr)
        time.sleep(0.3)
        after = counters("n1")
        expect(after["drop_replay"] >= before["drop_replay"] + 1, "drop_replay %d -> %d",
               before["drop_replay"], after["drop_replay"])
        expect(after["drop_bad_auth"] == before["drop_bad_auth"], "counted as bad_auth instead")

    with res.case("per-member-counters"):
        before = members(d["n1"])[2]
        other_before = members(d["n1"])[3]
        d["n2"].arpha("cluster", "test-traffic", "10", "20")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and members(d["n1"])[2]["delivered"] < before["delivered"] + 20:
            time.sleep(0.05)
        after = members(d["n1"])[2]
        expect(after["delivered"] - before["delivered"] == 20,
               "n1 delivered %d of node 2's 20 messages", after["delivered"] - before["delivered"])
        expect(after["messages"] - before["messages"] >= 20, "messages from node 2: %s", after)
        expect(after["datagrams"] > before["datagrams"], "no datagrams counted from node 2")
        other = members(d["n1"])[3]
        expect(other["delivered"] == other_before["delivered"],
               "node 3 sent nothing meanwhile, yet: %s (before: %s)", other, other_before)

    with res.case("cli-table"):
        out = d["n1"].arpha("cluster").stdout
        expect("Node 1 (this node)" in out and "198.18.0.2" in out and "Delivered" in out,
               "arpha cluster:\n%s", out)

    for r in NODES:
        res.daemon_checks(lab, alive=d[r], name="arphad-clean-" + r)
res.exit()
