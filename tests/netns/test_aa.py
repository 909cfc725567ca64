#!/usr/bin/python3
"""Active-active end to end (issue 13): three arphad nodes, both gateway
addresses Mode=active-active on all of them, between a plain Linux client
and server (tests/netns/aalab.py: stateful forwarding, tcp_loose off, the
bridges flood the cluster MACs to every node). The traffic is
tests/tools/aaflows: AA_TCP long-lived TCP connections and AA_UDP UDP
flows from 16 client addresses per case, one 16-byte message every
AA_PERIOD_MS each, every message matched with its echo; and, in the failure
cases, AA_CHURN new short connections a second (connect, one echo, close).
"Gap": the longest pause of a flow between two consecutive echoes; a gap
belongs to the phase in which it ends (the client marks a phase just
before each event).

  start      arphad -n takes the config; the three nodes start; within
             10 s every node's b2m has every bucket, the same on all,
             owned by the three NodeIDs; every node joined the cluster MAC
             on eth0 and eth1; a ping to the client-side VIP is answered
             once, and the client has the VIP at the cluster MAC.
  steady     (a) each node owns 1/3 +- AA_SHARE_TOL (absolute, default
             0.05; wider for a quick run: 3.5 standard deviations of a
             fair split when that is more) of the connections (ct marks:
             NodeID = mark >> 24; no connection undecided everywhere, none
             claimed by two); no message lost, none duplicated, the server
             received exactly what the client sent; and no flow paused over
             AA_GAP_MS (with no event, a pause is the machine's: the load
             is too much).
  crash      (b) AA_CRASH (n2) crashes (SIGKILL + its links down at once):
             the survivors' b2m drops it within 5 s; every TCP connection
             survives (0 lost, 0 reset) and every UDP flow carries data
             again; no flow's gap after the crash over AA_GAP_MS (a UDP
             flow's over AA_GAP_MS + a period: one datagram sent into the
             takeover window may be lost);
             new connections during it: none failed, and no more took
             over 900 ms (a SYN retransmission) than the detection window
             explains (SLOW_MAX below).
  rejoin     (c) the node comes back (conntrack emptied, links up, arphad
             started): the established connections are not disturbed (no
             gap over AA_GAP_MS from the rejoin on, 0 lost, 0 dup, the
             server received exactly what was sent); once b2m names three
             owners again, a new set of connections spreads over the three
             (1/3 +- AA_SHARE_TOL each).
  kill       (d) SIGKILL of arphad alone on AA_KILL (n3), links up: its
             arpha_aa tables vanish, it forwards nothing from then on (its
             forward counters do not move), its share moves to the others
             within 5 s and the connections survive as in (b).
  neighbours after all that, the client and the server still have the VIPs
             at the cluster MACs (no node re-pointed them to its own MAC).

While arphad refuses Mode=active-active or [Balance] as unknown (arphad -n),
the test prints a SKIP line and passes, as test_ctsync.py does.

Sizes and limits from the environment: AA_TCP (3000), AA_UDP (300),
AA_CHURN (100/s), AA_PERIOD_MS (1000), AA_GAP_MS (the period + 250: a pause
of at most one TCP retransmission timeout), AA_SHARE_TOL (0.05),
AA_STEADY_S (5), AA_EVENT_S (10: a failure case's traffic). The figures are
printed as "info" lines.

AA_FAKE=1 checks the test itself without arphad: tests/tools/nftb_ctl holds
the same tables on each node and the test makes the takeovers
(aalab.FakeAaLab; it has no connection sync, so its rejoin duplicates UDP).

The load: every frame reaches all three nodes. On a 2-vCPU VM, 3000 TCP +
300 UDP every 100 ms through one plain router (`aalab.py router`) kept
every pause under 200 ms on a quiet machine; through the three nodes with
arphad, every flow paused 450-680 ms with no event at all, and the client
sent up to 3.3 s late (33,000 messages a second, each received by three
nodes, on two CPUs). So the default sends one message per flow per second:
3300 a second, which runs clean here, and a pause shows as a gap over a
period plus 250 ms. The steady case fails with that reason when the
machine cannot carry the load.
"""
import math
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Results, binary, build_dir, expect, need_root  # noqa: E402
from aalab import (CLIENT_POOL, CLUSTER_MAC_IN, CLUSTER_MAC_OUT, DEAD, SANITIZED,  # noqa: E402
                   VIP_IN, VIP_OUT, NODES, AaLab, FakeAaLab, flows_line, info, phase_line)

SUITE = "netns/aa"
FAKE = os.environ.get("AA_FAKE") == "1"
need_root(SUITE)
for tool in ("aaflows",) + (("nftb_ctl",) if FAKE else ()):
    if not os.access(binary(tool), os.X_OK):
        print("FAIL %s: no %s in %s (build it first)" % (SUITE, tool, build_dir()), flush=True)
        sys.exit(1)


def env(name, default, kind=int):
    return kind(os.environ.get(name, default))


# Under ASan the nodes' own cost leaves this machine no room for the full
# load (the client then sends seconds late): the sanitizer run checks a
# tenth of it, with the detection time above; tests/run-all.sh runs the full
# size with the plain build too.
N_TCP = env("AA_TCP", 300 if SANITIZED else 3000)
N_UDP = env("AA_UDP", 30 if SANITIZED else 300)
CHURN = env("AA_CHURN", 100, float)
PERIOD_MS = env("AA_PERIOD_MS", 1000)
# the longest gap between two echoes of a flow: a period, plus at most 250 ms
# of pause (one TCP retransmission timeout)
# (under ASan the nodes are declared dead after 200 ms, not 60: a pause
# of up to 700 ms then; the figures of the plain build are the README's)
GAP_MS = env("AA_GAP_MS", PERIOD_MS + (700 if SANITIZED else 250), float)
SHARE_TOL = env("AA_SHARE_TOL", 0.05, float)
STEADY_S = env("AA_STEADY_S", 5, float)
EVENT_S = env("AA_EVENT_S", 10, float)
# new connections allowed a SYN retransmission in a failure: those in the dead
# node's third of the buckets while it is being detected (DeadInterval: 60 ms;
# 200 under ASan) and its buckets handed on (a heartbeat more). In the plain
# build that is a count of mean CHURN / 3 x 80 ms (2.7 at 100/s), and a bound
# on a count must leave room for chance: 0.5 % (3 of 700) failed one run in
# four with that mean. Allowed: the 99 % quantile of the count (7), so a run
# fails when the window is longer, not when it is unlucky. Under ASan (its
# nftables updates take up to 100 ms more), 2 % of the new connections.
SLOW_SHARE = 0.02


def poisson_quantile(lam, p):
    """The least k with P(X <= k) >= p, X of Poisson(lam)."""
    k, term = 0, math.exp(-lam)
    cdf = term
    while cdf < p:
        k += 1
        term *= lam / k
        cdf += term
    return k


SLOW_MAX = poisson_quantile(CHURN / 3 * (DEAD + 1) * 0.020, 0.99)
CRASH = os.environ.get("AA_CRASH", "n2")
KILL = os.environ.get("AA_KILL", "n3")
ALL = ["n1", "n2", "n3"]
POOLS = {name: CLIENT_POOL[16 * i:16 * (i + 1)]
         for i, name in enumerate(("steady", "crash", "rejoin", "rejoin-new", "kill"))}

res = Results(SUITE)


def not_run(names, why):
    for n in names:
        res.record("%s/%s" % (SUITE, n), "not run: %s" % why)


def diff(a, b):
    return {k: b[k] - a.get(k, 0) for k in b}


def node_id(role):
    return NODES[role][0]


def expect_share(share, undecided, conflicts, roles, total, what):
    expect(conflicts == 0, "%s: %d connections carry the marks of two nodes", what, conflicts)
    expect(undecided == 0, "%s: %d of %d connections have no owner's mark on any node", what,
           undecided, total)
    got = sum(share.values())
    expect(got == total, "%s: %d connections in the nodes' conntrack, want %d", what, got, total)
    # a quick run has few connections: no tighter than 3.5 standard deviations
    # of a fair split (at 3300 connections and 3 nodes that is 2.9 %, under 5)
    p = 1.0 / len(roles)
    tol = max(SHARE_TOL, 3.5 * math.sqrt(p * (1 - p) / total))
    for r in roles:
        f = share.get(node_id(r), 0) / float(total)
        expect(abs(f - p) <= tol, "%s: %s owns %.1f %% (%d of %d), want %.1f +- %.1f %%; all: "
               "%s", what, r, 100 * f, share.get(node_id(r), 0), total, 100 * p, 100 * tol,
               share_text(share, total))
    stray = set(share) - {node_id(r) for r in roles}
    expect(not stray, "%s: connections owned by NodeIDs %s" % (what, sorted(stray)))


def share_text(share, total):
    return ", ".join("node %d %d (%.1f %%)" % (n, c, 100.0 * c / total)
                     for n, c in sorted(share.items()))


def expect_intact(r, what, udp_losses_ok=False):
    """No loss, no duplicate, no reset; udp_losses_ok: UDP datagrams sent
    into a failure may be lost, but every flow must carry data again."""
    for p in ("tcp", "udp"):
        s = r[p]
        expect(s["connect_failed"] == 0, "%s: %d %s connections failed to open", what,
               s["connect_failed"], p)
        expect(s["dup"] == 0 and s["stray"] == 0, "%s: %s %d echoes duplicated, %d stray",
               what, p, s["dup"], s["stray"])
        expect(s["reset"] + s["closed"] == 0, "%s: %s %d connections reset, %d closed", what,
               p, s["reset"], s["closed"])
        expect(s["stalled"] == 0, "%s: %d %s flows carry no data any more", what, s["stalled"],
               p)
        if p == "tcp" or not udp_losses_ok:
            expect(s["lost"] == 0, "%s: %d %s messages never echoed", what, s["lost"], p)
    expect(r["tcp"]["errors"] == 0, "%s: %d tcp connections failed", what, r["tcp"]["errors"])


def expect_gaps(r, phases, what, udp_losses_ok=False):
    """No flow pauses over GAP_MS; udp_losses_ok: a UDP datagram sent into the
    failure (the window from the node's silence to its share's takeover,
    far shorter than a period) may be lost, and the flow's gap is then one
    period longer."""
    base = r["phases"][0]
    for k in phases:
        ph = r["phases"][k]
        for p in ("tcp", "udp"):
            if p == "udp" and udp_losses_ok:
                expect(ph[p]["gap_max_ms"] <= GAP_MS + PERIOD_MS,
                       "%s: a udp flow paused %.0f ms, over one lost datagram (%.0f ms + "
                       "a period of %.0f ms); worst: %s", what, ph[p]["gap_max_ms"], GAP_MS,
                       PERIOD_MS, r["worst"][:2])
                continue
            expect(ph[p]["gap_over"] == 0,
                   "%s: %d %s flows paused over %.0f ms (longest %.0f ms, p99 %.0f ms); the "
                   "steady phase before had %d over (longest %.0f ms); worst: %s", what,
                   ph[p]["gap_over"], p, GAP_MS, ph[p]["gap_max_ms"], ph[p]["gap_p99_ms"],
                   base[p]["gap_over"], base[p]["gap_max_ms"], r["worst"][:2])


def expect_new_conns(r, phases, what):
    opened = sum(r["phases"][k]["churn"]["opened"] for k in phases)
    failed = sum(r["phases"][k]["churn"]["failed"] for k in phases)
    slow = sum(r["phases"][k]["churn"]["slow"] for k in phases)
    expect(failed == 0, "%s: %d of %d new connections failed: %s", what, failed, opened,
           r.get("churn_failures", [])[:6])
    allowed = SLOW_SHARE * opened if SANITIZED else SLOW_MAX
    expect(slow <= allowed, "%s: %d of %d new connections took over 900 ms (allowed %.1f)",
           what, slow, opened, allowed)
    return opened, slow


def expect_server(before, after, sent, what, udp_at_most=False):
    got = diff(before, after)
    for k in ("tcp", "udp", "churn"):
        if k == "udp" and udp_at_most:
            expect(got[k] <= sent[k], "%s: the server received %d udp messages, the client "
                   "sent %d (duplicates)", what, got[k], sent[k])
            continue
        expect(got[k] == sent[k], "%s: the server received %d %s messages, the client sent "
               "%d (%s)", what, got[k], k, sent[k],
               "duplicates" if got[k] > sent[k] else "losses")
    expect(got["bad"] == 0, "%s: the server received %d messages that were not ours", what,
           got["bad"])


def sent_of(*reports):
    return {"tcp": sum(r["tcp"]["sent"] for r in reports),
            "udp": sum(r["udp"]["sent"] for r in reports),
            "churn": sum(r["churn"]["sent"] for r in reports)}


def report(r, what, phases=None):
    info("%s %s" % (SUITE, flows_line(r, what)))
    for k in (phases if phases is not None else range(len(r["phases"]))):
        info("%s %s %s" % (SUITE, what, phase_line(r, k)))


def wait_gone(lab, role, timeout=2.0):
    """Seconds until role's arpha_aa tables are gone, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if not any("arpha_aa" in t for t in lab.nft_tables(role)):
            return time.monotonic() - t0
        time.sleep(0.01)
    return None


t_start = time.monotonic()
info("%s %d tcp + %d udp flows, a message every %d ms, %.0f new connections/s in the "
     "failure cases, gap limit %.0f ms, DeadInterval %d x 20 ms%s"
     % (SUITE, N_TCP, N_UDP, PERIOD_MS, CHURN, GAP_MS, DEAD,
        " (AddressSanitizer build: its nftables updates take up to 100 ms)" if SANITIZED else ""))
with (FakeAaLab("aafake") if FAKE else AaLab("aa")) as lab:
    srv = lab.flows_server()
    up = False
    ok, msg = lab.config_check(lab.node_config("n1"))
    if not ok and re.search(r"unknown setting Mode in \[VIP|unknown section \[Balance\]", msg):
        # as test_ctsync.py: this arphad predates the feature
        print("SKIP %s: this arphad does not know Mode=active-active yet (arphad -n: %s)" % (
            SUITE, msg.splitlines()[0]), flush=True)
        srv.stop()
        res.exit()
    with res.case("start"):
        expect(ok, "arphad -n refuses the active-active config: %s", msg)
        lab.start_nodes()
        ok, t, share, why = lab.wait_balanced(ALL, timeout=10)
        expect(ok, "b2m not complete on all three after %.1f s: %s", t, why)
        info("%s three nodes own their buckets %.2f s after the last start: %s" % (
            SUITE, t, ", ".join("node %d %d" % kv for kv in sorted(share.items()))))
        for r in ALL:
            for dev, mac in (("eth0", CLUSTER_MAC_OUT), ("eth1", CLUSTER_MAC_IN)):
                expect(mac in lab.maddr(r, dev), "%s has not joined %s on %s: %s", r, mac, dev,
                       lab.maddr(r, dev))
        p = lab.exec("client", "ping", "-n", "-c", "3", "-i", "0.1", "-W", "1", VIP_OUT,
                     check=False)
        expect(p.returncode == 0 and "DUP" not in p.stdout and " 0% packet loss" in p.stdout,
               "ping %s from the client: %s", VIP_OUT, p.stdout.strip()[-300:])
        expect(lab.client_neigh(VIP_OUT) == CLUSTER_MAC_OUT, "the client has %s at %s", VIP_OUT,
               lab.client_neigh(VIP_OUT))
        up = True
    if not up:
        not_run(["steady", "crash", "rejoin", "kill", "neighbours"], "the cluster did not start")
        for d in lab.nodes.values():
            if d.alive():
                d.stop()
        res.exit()

    with res.case("steady"):
        before = srv.counts()
        cli = lab.flows_client(N_TCP, N_UDP, STEADY_S, PERIOD_MS, POOLS["steady"],
                               gap_ms=GAP_MS, name="steady")
        rd = cli.wait_ready()
        info("%s steady: %d tcp open in %.2f s (%d over 900 ms), %d udp" % (
            SUITE, rd["tcp_up"], rd["setup_s"], rd["tcp_slow"], rd["udp_up"]))
        aa0 = {r: lab.aa_counters(r) for r in ALL}
        time.sleep(min(2.0, STEADY_S / 2))
        share, undecided, conflicts = lab.owners(POOLS["steady"])
        r = cli.result()
        after = srv.counts()
        aa1 = {r_: lab.aa_counters(r_) for r_ in ALL}
        report(r, "steady")
        info("%s steady: owners by ct mark: %s; undecided %d, claimed twice %d" % (
            SUITE, share_text(share, max(1, sum(share.values()))), undecided, conflicts))
        if all(aa0.values()) and all(aa1.values()):
            info("%s steady: packets forwarded as owner (arpha_aa 'owned'): %s" % (
                SUITE, ", ".join("%s %d" % (x, aa1[x]["owned"] - aa0[x]["owned"]) for x in ALL)))
        expect(rd["tcp_up"] == N_TCP and rd["udp_up"] == N_UDP, "opened %s", rd)
        expect_intact(r, "steady")
        expect_server(before, after, sent_of(r), "steady")
        expect_share(share, undecided, conflicts, ALL, N_TCP + N_UDP, "steady")
        # without any event: a pause here is the machine's (the load), and
        # would make the gaps of the failure cases meaningless
        for p in ("tcp", "udp"):
            expect(r[p]["gap_over"] == 0, "steady: with no event, %d %s flows paused over %.0f "
                   "ms (longest %.0f ms; the client sent up to %.0f ms late): this machine "
                   "cannot carry the load, lower AA_TCP/AA_UDP", r[p]["gap_over"], p, GAP_MS,
                   r[p]["gap_max_ms"], r["send_lag_ms_max"])

    survivors = [x for x in ALL if x != CRASH]
    with res.case("crash"):
        before = srv.counts()
        cli = lab.flows_client(N_TCP, N_UDP, EVENT_S, PERIOD_MS, POOLS["crash"],
                               new_conn_rate=CHURN, gap_ms=GAP_MS, name="crash")
        rd = cli.wait_ready()
        expect(rd["tcp_up"] == N_TCP and rd["udp_up"] == N_UDP, "opened %s", rd)
        time.sleep(EVENT_S * 0.3)
        cli.mark()
        t_crash = lab.crash(CRASH)
        t_call = time.monotonic()
        ok, t, share, why = lab.wait_balanced(survivors, timeout=5)
        took_ms = (t_call - t_crash + t) * 1000
        r = cli.result(EVENT_S + 60)
        after = srv.counts()
        report(r, "crash of %s" % CRASH)
        if ok:
            info("%s crash: the survivors' b2m without %s %.0f ms after the crash (polled with "
                 "nft listings: an upper bound): %s"
                 % (SUITE, CRASH, took_ms,
                    ", ".join("node %d %d" % kv for kv in sorted(share.items()))))
        expect(ok, "the survivors' b2m still not without %s after 5 s: %s", CRASH, why)
        expect_intact(r, "crash", udp_losses_ok=True)
        expect_gaps(r, [1], "crash", udp_losses_ok=True)
        opened, slow = expect_new_conns(r, [1], "crash")
        expect_server(before, after, sent_of(r), "crash", udp_at_most=True)

    with res.case("rejoin"):
        before = srv.counts()
        cli = lab.flows_client(N_TCP, N_UDP, EVENT_S, PERIOD_MS, POOLS["rejoin"],
                               new_conn_rate=CHURN, gap_ms=GAP_MS, name="rejoin")
        rd = cli.wait_ready()
        expect(rd["tcp_up"] == N_TCP and rd["udp_up"] == N_UDP, "opened %s", rd)
        time.sleep(EVENT_S * 0.2)
        cli.mark()
        t0 = time.monotonic()
        lab.revive(CRASH)
        ok, t, share, why = lab.wait_balanced(ALL, timeout=10)
        t_bal = time.monotonic() - t0
        cli.mark()
        r2 = None
        if ok:
            time.sleep(1.0)
            n_new = max(1000, N_TCP // 3)
            cli2 = lab.flows_client(n_new, 0, 2, 1000, POOLS["rejoin-new"], gap_ms=2000,
                                    name="rejoin-new")
            cli2.wait_ready()
            time.sleep(0.5)
            share2, undecided2, conflicts2 = lab.owners(POOLS["rejoin-new"])
            r2 = cli2.result()
        r = cli.result(EVENT_S + 60)
        after = srv.counts()
        report(r, "rejoin of %s" % CRASH)
        expect(ok, "b2m not back to three owners %.1f s after %s's restart: %s", t_bal, CRASH,
               why)
        info("%s rejoin: three owners again %.2f s after %s's restart: %s" % (
            SUITE, t_bal, CRASH, ", ".join("node %d %d" % kv for kv in sorted(share.items()))))
        info("%s rejoin: %d new connections after it: %s; undecided %d, claimed twice %d" % (
            SUITE, n_new, share_text(share2, max(1, sum(share2.values()))), undecided2,
            conflicts2))
        expect_intact(r, "rejoin")
        expect_gaps(r, [1, 2], "rejoin")
        expect_new_conns(r, [1, 2], "rejoin")
        expect_intact(r2, "rejoin, new connections")
        expect_server(before, after, sent_of(r, r2), "rejoin")
        expect_share(share2, undecided2, conflicts2, ALL, n_new, "rejoin, new connections")

    survivors = [x for x in ALL if x != KILL]
    with res.case("kill"):
        before = srv.counts()
        cli = lab.flows_client(N_TCP, N_UDP, EVENT_S, PERIOD_MS, POOLS["kill"],
                               new_conn_rate=CHURN, gap_ms=GAP_MS, name="kill")
        rd = cli.wait_ready()
        expect(rd["tcp_up"] == N_TCP and rd["udp_up"] == N_UDP, "opened %s", rd)
        time.sleep(EVENT_S * 0.3)
        fwd0 = lab.forwarded(KILL)
        cli.mark()
        lab.kill_node(KILL)
        gone = wait_gone(lab, KILL)
        fwd1 = lab.forwarded(KILL)
        link1 = {d: lab.link_stats(KILL, d) for d in ("eth0", "eth1")}
        ok, t, share, why = lab.wait_balanced(survivors, timeout=5)
        r = cli.result(EVENT_S + 60)
        after = srv.counts()
        fwd2 = lab.forwarded(KILL)
        link2 = {d: lab.link_stats(KILL, d) for d in ("eth0", "eth1")}
        report(r, "SIGKILL of %s's arphad" % KILL)
        info("%s kill: %s forwarded %d packets before its tables were gone (%s), %d after; "
             "sent %s on eth0/eth1 after" % (
                 SUITE, KILL, sum(fwd1.values()) - sum(fwd0.values()),
                 "%.0f ms" % (gone * 1000) if gone is not None else "never",
                 sum(fwd2.values()) - sum(fwd1.values()),
                 "/".join(str(link2[d]["tx"] - link1[d]["tx"]) for d in ("eth0", "eth1"))))
        expect(gone is not None, "%s's arpha_aa tables outlived its arphad: %s", KILL,
               lab.nft_tables(KILL))
        expect(fwd2 == fwd1, "%s forwarded %s packets (out/in) after its arphad died", KILL,
               {k: fwd2[k] - fwd1[k] for k in fwd2})
        expect(ok, "the survivors' b2m still not without %s after 5 s: %s", KILL, why)
        expect_intact(r, "kill", udp_losses_ok=True)
        expect_gaps(r, [1], "kill", udp_losses_ok=True)
        expect_new_conns(r, [1], "kill")
        expect_server(before, after, sent_of(r), "kill", udp_at_most=True)

    # after a minute of traffic, a crash and a killed arphad: both ends still
    # send to the cluster MACs (research 1a: a node's own ARP request from a
    # VIP, or its kernel answering for it, would re-point them to one node)
    with res.case("neighbours"):
        for role, vip, mac in (("client", VIP_OUT, CLUSTER_MAC_OUT),
                               ("server", VIP_IN, CLUSTER_MAC_IN)):
            got = lab.client_neigh(vip, role=role)
            expect(got == mac, "the %s has %s at %s, want the cluster MAC %s", role, vip, got,
                   mac)

    srv.stop()
    for role in ALL if not FAKE else ():
        d = lab.nodes.get(role)
        if d is not None and d.alive():
            res.daemon_checks(lab, alive=d, name="arphad-clean-" + role)
info("%s done in %.1f s" % (SUITE, time.monotonic() - t_start))
res.exit()
