#!/usr/bin/python3
"""READY=1 of an active-active node (arphad.service is Type=notify): it comes
once the node has made its first ownership decision, so a unit ordered after
arphad finds the node forwarding its share. Heard on a notify socket of the
test's own, as systemd would hear it; two nodes of tests/netns/aalab.py.

  first  n1 starts alone: READY=1 only after its listening second, and at
         READY `arpha -j ranges` shows it no longer listening, claiming the
         buckets its aim gives it (all 1024), and its kernel's b2m map has
         them; the log says event=ranges_decided before event=ready
  join   n2 joins n1: READY=1 only once n2 holds its share (0 < claimed ==
         aimed < 1024, the same buckets in its b2m map as its own), not
         already when the cluster is complete (n1 held every bucket then)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Results, expect, info, need_root  # noqa: E402
from aalab import NODES, AaLab  # noqa: E402
from notifysock import NotifySocket, start_notified  # noqa: E402

SUITE = "netns/aaready"
need_root(SUITE)
res = Results(SUITE)


def start_node(lab, role, path):
    """arphad on role with NOTIFY_SOCKET=path; returns (Arphad, start time)."""
    d = lab.arphad(role, config=lab.node_config(role), name=role, start=False)
    lab.nodes[role] = d
    return d, start_notified(lab, d, path)


def at_ready(lab, role, ns, d, t0):
    """Wait for READY=1; then at once what the node says and its kernel has:
    (seconds after the start, arpha -j ranges, {NodeID: buckets} of its b2m)."""
    expect(ns.ready.wait(15), "no READY=1 from %s in 15 s; log: %s", role, d.log()[-1500:])
    ranges = d.arpha_json("ranges")
    b2m = lab.b2m(role) or {}
    share = {}
    for o in b2m.values():
        share[o >> 8] = share.get(o >> 8, 0) + 1
    return ns.ready_at()[0] - t0, ranges, share


def log_order(d, first, then):
    lines = d.log().splitlines()
    i = next((k for k, l in enumerate(lines) if first in l), None)
    j = next((k for k, l in enumerate(lines) if then in l), None)
    return i, j


with AaLab("aaready", nodes=("n1", "n2")) as lab:
    socks = []
    try:
        p1 = os.path.join(lab.tmp, "n1.notify")
        ns1 = NotifySocket(p1)
        socks.append(ns1)
        d1, t0 = start_node(lab, "n1", p1)
        with res.case("first/ready-after-its-buckets"):
            after, r, share = at_ready(lab, "n1", ns1, d1, t0)
            info("%s n1 READY=1 %.2f s after its start: claimed %d, aimed %d, listening %s, "
                 "b2m %s" % (SUITE, after, r["claimed"], r["aimed"], r["listening"], share))
            expect(not r["listening"], "READY=1 while n1 still listens (claimed %d)", r["claimed"])
            expect(r["aimed"] == 1024 and r["claimed"] == 1024,
                   "READY=1 with %d of its %d aimed buckets claimed", r["claimed"], r["aimed"])
            expect(share == {1: 1024}, "at READY=1 n1's b2m map has %s", share)
            expect(after >= 0.9, "READY=1 %.2f s after the start: inside the listening second",
                   after)
        with res.case("first/log-decided-before-ready"):
            i, j = log_order(d1, "event=ranges_decided ", "event=ready ")
            expect(i is not None and j is not None and i < j,
                   "log order: ranges_decided at line %s, ready at line %s", i, j)

        p2 = os.path.join(lab.tmp, "n2.notify")
        ns2 = NotifySocket(p2)
        socks.append(ns2)
        d2, t0 = start_node(lab, "n2", p2)
        with res.case("join/ready-after-its-share"):
            after, r, share = at_ready(lab, "n2", ns2, d2, t0)
            info("%s n2 READY=1 %.2f s after its start: claimed %d, aimed %d, b2m %s" %
                 (SUITE, after, r["claimed"], r["aimed"], share))
            expect(not r["listening"], "READY=1 while n2 still listens (claimed %d)", r["claimed"])
            expect(0 < r["aimed"] < 1024 and r["claimed"] == r["aimed"],
                   "READY=1 with %d of its %d aimed buckets claimed", r["claimed"], r["aimed"])
            expect(share.get(NODES["n2"][0]) == r["claimed"],
                   "at READY=1 n2's b2m map gives n2 %s buckets, it claims %d",
                   share.get(NODES["n2"][0]), r["claimed"])
        with res.case("join/balanced"):
            ok, _secs, share, why = lab.wait_balanced(["n1", "n2"])
            expect(ok, "not balanced: %s", why)
        for d in (d1, d2):
            with res.case("clean/%s" % d.name):
                expect(d.alive(), "arphad died; log: %s", d.log()[-1500:])
                rc = d.stop()
                expect(rc == 0, "arphad exited with %s; log: %s", rc, d.log()[-1500:])
        res.daemon_checks(lab, name="arphad-clean")
    finally:
        for d in lab.nodes.values():
            if d.alive():
                d.stop()
        for s in socks:
            s.close()
res.exit()
