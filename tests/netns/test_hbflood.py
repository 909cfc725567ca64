#!/usr/bin/python3
"""Heartbeats are never starved by bulk reliable broadcast (issue 13).

Two arphad nodes on one sync bridge (Group=, heartbeats every 20 ms,
DeadInterval 3; 10 under ASan). n1's sync link is made the bottleneck a
busy sync link is: its egress shaped to 64 kbit/s (tbf) in front of the
kernel's default queueing discipline (pfifo_fast, 1000 packets a band).
Then n1 floods the reliable broadcast with `arpha cluster test-traffic`
(a message every millisecond, ~1.1 Mbit/s): the queue fills, and whatever
waits behind the bulk waits seconds.

  steady  both nodes see each other up before the flood.
  flood   for FLOOD_S seconds of the flood, polled every 20 ms: n2 never
          sees node 1 down and n1 never sees node 2 down (no
          event=node_down in either log), no heartbeat refused by n1's
          socket (no event=cluster_send_failed lane=heartbeat), and n2
          hears n1's heartbeats at their rate (at least 80 % of them).
          That the path was really flooded is checked too: n1's queue
          held at least 300 packets, and the bulk still moved (n2
          delivered some of node 1's messages).
  clean   no sanitizer report; both alive.

Before the fix (one socket per path for everything) the heartbeats
queued behind the bulk, and n2 wrote n1 off within a second.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
from aalab import DEAD, SANITIZED  # noqa: E402

SUITE = "netns/hbflood"
need_root(SUITE)
res = Results(SUITE)

GROUP, PORT = "239.192.74.11", 7410
INTERVAL_MS = 20
FLOOD_S = 4.0
RATE = "64kbit"
NODES = {  # role: (node id, ip, mac)
    "n1": (1, "198.18.0.1", "02:00:00:00:00:01"),
    "n2": (2, "198.18.0.2", "02:00:00:00:00:02"),
}
HOSTS = {r: (ip, mac) for r, (_id, ip, mac) in NODES.items()}


def config(node_id, keyfile):
    return cluster_config(node_id, keyfile, GROUP, PORT, INTERVAL_MS, DEAD)


def cluster(d):
    return d.arpha_json("cluster")


def members(d):
    return {m["node_id"]: m for m in cluster(d)["members"]}


def qdisc_backlog(lab, role):
    """The packets queued in role's eth0 queueing disciplines (the largest figure)."""
    out = lab.exec(role, "tc", "-s", "qdisc", "show", "dev", "eth0").stdout
    return max([int(x) for x in re.findall(r"backlog \S+ (\d+)p", out)] or [0])


with Lab("hbflood", hosts=HOSTS) as lab:
    keyfile = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", keyfile])
    d = {r: lab.arphad(r, config=config(i, keyfile), name=r) for r, (i, _ip, _m) in NODES.items()}

    with res.case("steady"):
        ok = wait_for(lambda: members(d["n1"]).get(2, {}).get("state") == "up" and
                      members(d["n2"]).get(1, {}).get("state") == "up", 5)
        expect(ok, "the nodes do not see each other: n1 %s, n2 %s", members(d["n1"]),
               members(d["n2"]))

    with res.case("flood"):
        lab.exec("n1", "tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "tbf",
                 "rate", RATE, "burst", "4k", "latency", "60s")
        lab.exec("n1", "tc", "qdisc", "add", "dev", "eth0", "parent", "1:1", "handle", "10:",
                 "pfifo_fast")
        marks = {r: d[r].log_mark() for r in d}
        hb0 = cluster(d["n2"])["counters"]["heartbeats_received"]
        del0 = members(d["n2"])[1]["delivered"]
        d["n1"].arpha("cluster", "test-traffic", "1", str(int(FLOOD_S * 1000 * 2)))
        t0 = time.monotonic()
        downs, backlog = [], 0
        while time.monotonic() - t0 < FLOOD_S:
            t = time.monotonic() - t0
            for r, other in (("n2", 1), ("n1", 2)):
                state = members(d[r]).get(other, {}).get("state")
                if state != "up":
                    downs.append("%s sees node %d %s at %.2f s" % (r, other, state, t))
            backlog = max(backlog, qdisc_backlog(lab, "n1"))
            time.sleep(0.02)
        took = time.monotonic() - t0
        hb = cluster(d["n2"])["counters"]["heartbeats_received"] - hb0
        delivered = members(d["n2"])[1]["delivered"] - del0
        c1 = cluster(d["n1"])["counters"]
        c2 = cluster(d["n2"])["counters"]
        lab.exec("n1", "tc", "qdisc", "del", "dev", "eth0", "root")
        node_down = {r: d[r].log_lines(r"event=node_down", since=marks[r]) for r in d}
        hb_fail = d["n1"].log_lines(r"event=cluster_send_failed lane=heartbeat",
                                    since=marks["n1"])
        bulk_fail = d["n1"].log_lines(r"event=cluster_send_failed", since=marks["n1"])
        want = took * 1000 / INTERVAL_MS
        info("%s/flood %.1f s at %s: n1's queue up to %d packets; n2 heard %d of ~%.0f "
             "heartbeats of n1 and delivered %d of its messages; n1 sent %s and resent %s on "
             "%s NAKs of n2; send failures logged on n1: %d (heartbeat %d)" %
             (SUITE, took, RATE, backlog, hb, want, delivered, c1.get("messages_sent"),
              c1.get("messages_resent"), c2.get("naks_sent"), len(bulk_fail), len(hb_fail)))
        expect(backlog >= 300, "n1's queue held at most %d packets: the path was not flooded",
               backlog)
        expect(delivered > 0, "n2 delivered none of node 1's messages: the bulk did not move")
        expect(not downs, "a node was written off during the flood: %s", downs[:4])
        for r in d:
            expect(not node_down[r], "%s logged %s", r, node_down[r][:2])
        expect(not hb_fail, "n1 could not send heartbeats: %s", hb_fail[:2])
        expect(hb >= 0.8 * want, "n2 heard %d heartbeats of n1 in %.1f s, want ~%.0f", hb,
               took, want)

    for r in NODES:
        res.daemon_checks(lab, alive=d[r], name="arphad-clean-" + r)
res.exit()
