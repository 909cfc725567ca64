#!/usr/bin/python3
"""Connection sync in active-active mode, in the firewall lab of fwlab.py:
both gateway VIPs Mode=active-active on fw1 and fw2 ([Balance] 1024
buckets, about half each), [ConnSync] on both. A client opens 200 TCP
connections through them; every node's kernel follows every connection
(the owner's entry, the other's shadow) and the ct mark names the owner.

  only-own-sent   each node sends only the connections its mark names: its
                  `arpha conns` local count is its share (neither 0 nor
                  all), the two shares add up to every connection, each
                  node holds the other's share from it, every entry a node
                  holds from a peer carries that peer's owner id and every
                  one of its own carries its own (`owners`), and no owner
                  conflict is counted.
  takeover        fw1 crashes (SIGKILL and its links cut); fw2 inherits its
                  buckets and every connection carries data again. The
                  barrier committed, but took nothing as fw2's own: its
                  local count is still its share, and nothing was adopted.
  arphad-clean    no sanitizer report, fw2 still alive.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import fwlab  # noqa: E402
from fwlab import FwLab, info, summary  # noqa: E402
from aalab import DEAD  # noqa: E402  (3 heartbeats; 10 under ASan, whose nft updates are slow)

SUITE = "netns/aasync"
need_root(SUITE)
res = Results(SUITE)

N_TCP = 200
DEADLINE_S = 10.0


def aa_config(lab, role):
    node_id, _prio, _devs = fwlab.FWS[role]
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n\n"
            "[Interface lan]\nDevice=eth0\n\n[Interface srv]\nDevice=eth1\n\n"
            "[Cluster]\nNodeID=%d\nInterface=eth2\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=20ms\nDeadInterval=%d\n\n"
            "[VIP in]\nAddress=%s/24\nInterface=lan\nMode=active-active\nVRID=1\n\n"
            "[VIP out]\nAddress=%s/24\nInterface=srv\nMode=active-active\nVRID=2\n\n"
            "[Balance]\nBuckets=1024\n\n[ConnSync]\nProtocols=tcp udp icmp\n" %
            (node_id, fwlab.GROUP, fwlab.PORT, lab.keyfile(), DEAD, fwlab.VIP_IN, fwlab.VIP_OUT))


def jget(dmn, what):
    r = dmn.arpha(what, json_out=True, check=False)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def split_done(d):
    """Both nodes members, every bucket claimed, each node some."""
    for dmn in d.values():
        v = jget(dmn, "ranges")
        if not v or v.get("members") != 2 or v.get("unclaimed") != 0 or \
                not v.get("agreed") or not v.get("claimed"):
            return False
    return True


def conns(d):
    return {r: jget(x, "conns") or {} for r, x in d.items()}


def held(c):
    return sum(int(p.get("entries", 0)) for p in c.get("peers", []))


def wait_synced(d, want, timeout=10):
    """Until both nodes' own connections add up to want and each holds the other's."""
    end = time.monotonic() + timeout
    while True:
        c = conns(d)
        own = {r: c[r].get("local", 0) for r in c}
        if sum(own.values()) >= want and held(c["fw1"]) == own["fw2"] and \
                held(c["fw2"]) == own["fw1"]:
            return c
        if time.monotonic() > end:
            return c
        time.sleep(0.05)


with FwLab("aasync") as lab:
    d = {}
    cli = None
    with res.case("only-own-sent"):
        d["fw1"] = lab.arphad("fw1", config=aa_config(lab, "fw1"), name="fw1")
        d["fw2"] = lab.arphad("fw2", config=aa_config(lab, "fw2"), name="fw2")
        end = time.monotonic() + 10
        while not split_done(d) and time.monotonic() < end:
            time.sleep(0.05)
        expect(split_done(d), "the nodes did not split the buckets: %s",
               {r: jget(x, "ranges") for r, x in d.items()})
        lab.echo_server()
        cli = lab.echo_client(N_TCP, 0)
        expect(cli.established["tcp_ok"] == N_TCP, "only %d/%d connections up",
               cli.established["tcp_ok"], N_TCP)
        c = wait_synced(d, N_TCP)
        own = {r: c[r].get("local", 0) for r in c}
        info("%s/only-own-sent connections sent: fw1 %d, fw2 %d (of %d); held: fw1 %d, "
             "fw2 %d; not ours in the kernel: fw1 %s, fw2 %s" %
             (SUITE, own["fw1"], own["fw2"], N_TCP, held(c["fw1"]), held(c["fw2"]),
              c["fw1"].get("kernel", {}).get("not_ours"),
              c["fw2"].get("kernel", {}).get("not_ours")))
        expect(sum(own.values()) == N_TCP, "the nodes send %s connections, want %d in all",
               own, N_TCP)
        for r, o in own.items():
            expect(0.2 * N_TCP <= o <= 0.8 * N_TCP, "%s sends %d of %d connections: not its "
                   "share", r, o, N_TCP)
        expect(held(c["fw1"]) == own["fw2"] and held(c["fw2"]) == own["fw1"],
               "held from the peer: fw1 %d (fw2 sends %d), fw2 %d (fw1 sends %d)",
               held(c["fw1"]), own["fw2"], held(c["fw2"]), own["fw1"])
        ids = {r: c[r].get("owner") for r in c}
        node = {r: fwlab.FWS[r][0] for r in c}
        for r in c:
            expect(c[r].get("active_active") is True and ids[r], "%s: active_active %s, "
                   "owner %s", r, c[r].get("active_active"), ids[r])
            rows = c[r].get("owners", [])
            for other in c:
                mine = [x for x in rows if x.get("node") == node[other]]
                expect(len(mine) == 1 and mine[0].get("owner") == ids[other] and
                       mine[0].get("connections") == own[other],
                       "%s's owners of node %d: %s (want %s: %d)", r, node[other], mine,
                       ids[other], own[other])
            expect(c[r].get("kernel", {}).get("owner_conflicts") == 0,
                   "%s counted owner conflicts: %s", r, c[r].get("kernel"))

    with res.case("takeover"):
        expect(cli is not None and "fw2" in d, "no lab")
        before = (jget(d["fw2"], "conns") or {}).get("local")
        t = lab.crash("fw1")
        r = cli.round("r1", t, DEADLINE_S)
        info("%s/takeover after fw1's crash: %s" % (SUITE, summary(r)))
        expect(r["tcp_ok"] == N_TCP, "after fw1's crash %d of %d connections carried data: %s",
               r["tcp_ok"], N_TCP, summary(r))
        c = jget(d["fw2"], "conns") or {}
        commits = [ln for ln in d["fw2"].log().splitlines() if "event=conns_commit" in ln]
        info("%s/takeover fw2: local %s (before %s), adopted %s; %s" %
             (SUITE, c.get("local"), before, c.get("adopted"),
              commits[-1] if commits else "no commit line"))
        expect(commits, "fw2 never committed at the barrier")
        expect(c.get("adopted") == 0, "fw2 adopted %s connections", c.get("adopted"))
        expect(c.get("local") == before, "fw2 sends %s connections as its own, %s before",
               c.get("local"), before)
    if cli is not None:
        cli.quit()
    if "fw2" in d:
        res.daemon_checks(lab, alive=d["fw2"], name="arphad-clean")
res.exit()
