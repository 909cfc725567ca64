#!/usr/bin/python3
"""
Active-active behind a switch that snoops IGMP (research/active-active-2026-12.md,
1a): with snooping and an active querier, a Linux bridge sends an IPv4 frame
addressed to a group MAC only to the ports that joined the group of its
destination address (none: it is a unicast VIP) and to its multicast router
ports, once the querier has started (about 10 s). arphad's RFC 4286
advertisements ([Balance] RouterDiscovery=yes, the default) make the nodes'
ports router ports.

  advertised  two nodes (aalab, bridges with mcast_snooping 1 and
              mcast_querier 1), 12 s after the start: the bridges list the
              nodes' ports as router ports, and 20 TCP + 20 UDP flows carry
              every message (0 lost).
  silent      the same with RouterDiscovery=no (20 UDP flows): no router
              port, and no message gets through (so the first case can fail).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Results, binary, build_dir, expect, need_root  # noqa: E402
from aalab import AaLab, flows_line, info  # noqa: E402

SUITE = "netns/aa-switch"
need_root(SUITE)
if not os.access(binary("aaflows"), os.X_OK):
    print("FAIL %s: no aaflows in %s (build it first)" % (SUITE, build_dir()), flush=True)
    sys.exit(1)
NODES = ["n1", "n2"]
QUERIER_S = 12  # the bridge's querier starts after ~10 s

res = Results(SUITE)


def run(label, balance, n_tcp):
    """(router ports per bridge, the flows' report) for two nodes with balance."""
    with AaLab(label, nodes=NODES, snooping=True) as lab:
        srv = lab.flows_server()
        lab.start_nodes(balance=balance)
        ok, t, _, why = lab.wait_balanced(NODES, timeout=10)
        expect(ok, "b2m not complete on both after %.1f s: %s", t, why)
        time.sleep(QUERIER_S)
        routers = lab.exec("sw", "bridge", "-d", "mdb", "show", "router").stdout
        cli = lab.flows_client(n_tcp, 20, 3, 100, name=label)
        cli.wait_ready(60)
        r = cli.result(60)
        srv.stop()
        info("%s %s: %s" % (SUITE, label, flows_line(r)))
        info("%s %s: router ports: %s" % (SUITE, label, " ".join(routers.split())))
        return routers, r


with res.case("advertised"):
    routers, r = run("aasw-on", "", 20)
    for n in NODES:
        expect("%s-e0" % n in routers and "%s-e1" % n in routers,
               "%s's ports are no router ports: %s", n, routers)
    for p in ("tcp", "udp"):
        expect(r[p]["up"] == 20 and r[p]["lost"] == 0 and r[p]["echoed"] == r[p]["sent"] > 0,
               "%s through the snooping bridge: %s", p, flows_line(r))

with res.case("silent"):
    # UDP alone: a TCP connection that cannot open takes minutes to fail
    routers, r = run("aasw-off", "RouterDiscovery=no", 0)
    expect("n1-e0" not in routers, "router ports without advertisements: %s", routers)
    expect(r["udp"]["echoed"] == 0,
           "without advertisements the snooping bridge still delivered: %s", flows_line(r))

res.exit()
