#!/usr/bin/python3
"""Heartbeats over redundant paths (issue 17), in the firewall lab of
fwlab.py: fw1 (master of both gateway VIPs) and fw2 (backup), linked by the
sync link (eth2) and the two data links (eth0, eth1); 20 ms heartbeats,
DeadInterval 3, [ConnSync] on. The sync link is cut between the switch and
fw2 (its bridge port stops forwarding; both ends of the cable stay up, so
neither node sees a link of its own go down):

  one-path      [Cluster] Interface=eth2 alone: the cut is a split brain,
                as it always was: fw2 takes both VIPs while fw1 keeps them
                (two masters). This is the control: it shows the cut does
                what the test says it does, so the next case can fail.
  two-paths     Interface=eth2 eth0 eth1 (the sync link first):
    no-takeover   for 1 s after the cut (16 DeadIntervals) fw1 stays master
                  and fw2 backup at every poll; both log the path down
                  (event=cluster_path_down ... path=0) and `arpha cluster`
                  shows the other node up, with path 0 down and the data
                  paths up.
    sync-goes-on  connections opened after the cut reach fw2 (conn sync
                  rides the data paths) and carry data again after fw1
                  crashes (SIGKILL and every port of it down: every path
                  cut, so fw2 takes over as before).
    path-back     restoring the port before the crash: event=cluster_path_up.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import fwlab  # noqa: E402
from fwlab import FwLab, info, summary  # noqa: E402

SUITE = "netns/paths"
need_root(SUITE)
res = Results(SUITE)

CONNSYNC = {"Protocols": "tcp udp icmp"}
PATHS = "eth2 eth0 eth1"
N_TCP, N_UDP = 50, 2
WATCH_S = 1.0
DEADLINE_S = 10.0


def states(lab, d):
    return {r: lab.vip_states(d[r]) for r in ("fw1", "fw2")}


def watch(lab, d, seconds):
    """Poll both nodes' VIP states for seconds: every distinct state seen."""
    seen = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s = states(lab, d)
        key = json.dumps(s, sort_keys=True)
        if not seen or seen[-1][0] != key:
            seen.append((key, s))
        time.sleep(0.02)
    return [s for _k, s in seen]


def two_masters(seen):
    return any(s["fw1"].get("in") == "master" and s["fw2"].get("in") == "master" for s in seen)


def held_from_peers(dmn):
    r = dmn.arpha("conns", json_out=True, check=False)
    if r.returncode != 0:
        return None
    try:
        return sum(int(p.get("entries", 0)) for p in json.loads(r.stdout).get("peers", []))
    except (ValueError, AttributeError, TypeError):
        return None


def path_rows(dmn):
    return dmn.arpha_json("cluster").get("paths", [])


# ---------------------------------------------------------------- one path: the control

with FwLab("paths-one") as lab:
    with res.case("one-path/sync-cut-splits"):
        d = lab.start_firewalls(cluster_ifaces="eth2")
        lab.cut_port("fw2", "eth2")
        seen = watch(lab, d, WATCH_S)
        info("%s/one-path states after the cut: %s" % (SUITE, seen[-1]))
        expect(two_masters(seen), "with the sync link alone the cut did not make two masters "
               "(states seen: %s): the cut does not cut", seen)

# ---------------------------------------------------------------- two paths more

with FwLab("paths-two") as lab:
    d = None
    with res.case("two-paths/start"):
        d = lab.start_firewalls(connsync=CONNSYNC, cluster_ifaces=PATHS)
        rows = path_rows(d["fw2"])
        expect(len(rows) == 3 and all(r["state"] == "up" for r in rows),
               "fw2 does not show fw1 up on three paths: %s", rows)
    if d is not None:
        lab.clients = []
        lab.echo_server()
        with res.case("two-paths/no-takeover"):
            m1, m2 = d["fw1"].log_mark(), d["fw2"].log_mark()
            lab.cut_port("fw2", "eth2")
            t_cut = time.monotonic()
            seen = watch(lab, d, WATCH_S)
            info("%s/two-paths states after the cut (%.1f s): %s" % (
                SUITE, WATCH_S, " -> ".join(json.dumps(s) for s in seen)))
            expect(not two_masters(seen), "two masters after the sync link was cut: %s", seen)
            expect(all(s["fw1"].get("in") == "master" and s["fw1"].get("out") == "master"
                       for s in seen), "fw1 did not stay master: %s", seen)
            expect(all(s["fw2"].get("in") == "backup" and s["fw2"].get("out") == "backup"
                       for s in seen), "fw2 did not stay backup: %s", seen)
            for r, dm, mk in (("fw1", d["fw1"], m1), ("fw2", d["fw2"], m2)):
                lines = [ln for ln in dm.log_since(mk).splitlines()
                         if "event=cluster_path_down" in ln]
                info("%s/two-paths %s: %s" % (SUITE, r, lines[:1]))
                expect(any("path=0" in ln and "device=eth2" in ln for ln in lines),
                       "%s logged no cluster_path_down for path 0 (eth2): %s", r,
                       dm.log_since(mk)[-800:])
            rows = {r["path"]: r for r in path_rows(d["fw2"])}
            info("%s/two-paths fw2's paths: %s" % (SUITE, rows))
            expect(rows.get(0, {}).get("state") == "down" and
                   rows.get(1, {}).get("state") == "up" and rows.get(2, {}).get("state") == "up",
                   "fw2 does not show path 0 down and 1, 2 up: %s", rows)
            members = {m["node_id"]: m["state"] for m in d["fw2"].arpha_json("cluster")["members"]}
            expect(members.get(1) == "up", "fw2 does not show fw1 up: %s", members)

        with res.case("two-paths/sync-goes-on"):
            before = held_from_peers(d["fw2"]) or 0
            cli = lab.echo_client(N_TCP, N_UDP)
            lab.clients.append(cli)
            e = cli.established
            expect(e["tcp_ok"] == N_TCP and e["udp_ok"] == N_UDP,
                   "after the cut only %d/%d TCP and %d/%d UDP carried data: %s", e["tcp_ok"],
                   N_TCP, e["udp_ok"], N_UDP, e["failed"])
            end = time.monotonic() + 5
            held = held_from_peers(d["fw2"]) or 0
            while held < before + N_TCP + N_UDP and time.monotonic() < end:
                time.sleep(0.05)
                held = held_from_peers(d["fw2"]) or 0
            info("%s/two-paths fw2 holds %d entries from fw1 (%d before the new connections)"
                 % (SUITE, held, before))
            expect(held >= before + N_TCP + N_UDP, "fw2 holds %d of fw1's entries, want %d: "
                   "conn sync stopped with the sync link", held, before + N_TCP + N_UDP)

        with res.case("two-paths/path-back"):
            m2 = d["fw2"].log_mark()
            lab.cut_port("fw2", "eth2", cut=False)
            ok = d["fw2"].wait_log(r"event=cluster_path_up node=1 path=0", since=m2, timeout=2)
            expect(ok, "fw2 logged no cluster_path_up for path 0: %s",
                   d["fw2"].log_since(m2)[-600:])
            lab.cut_port("fw2", "eth2")  # and cut again for the crash
            time.sleep(0.3)

        with res.case("two-paths/crash-after-the-cut"):
            t = lab.crash("fw1")
            cli.start_round("r1", t, DEADLINE_S)
            ok, got = lab.wait_states(d, {"fw2": "master"}, 5)
            r = cli.finish_round(DEADLINE_S)
            expect(ok, "fw2 did not take both VIPs over after fw1 crashed: %s", got)
            info("%s/two-paths after the crash: %s" % (SUITE, summary(r)))
            expect(r["tcp_ok"] == N_TCP and r["udp_ok"] == N_UDP,
                   "connections opened after the sync link was cut did not survive the "
                   "crash: %s", summary(r))
        for c in lab.clients:
            c.quit()
        res.daemon_checks(lab, alive=d["fw2"], name="two-paths/arphad-clean")
