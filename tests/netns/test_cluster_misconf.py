#!/usr/bin/python3
"""A misconfigured cluster is loud (report items 5 and 16).

A node with another key, or a second node with the same NodeID, used to
give two masters and no log line at all; a Peers= address never heard was
not even listed by `arpha cluster`. Now each is a warning naming the
address and the likely cause, a row in `arpha cluster` and a counter; the
warnings are rate-limited, so a stream of bad datagrams gives a few lines,
not one per datagram."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/cluster-misconf"
need_root(SUITE)
res = Results(SUITE)

GROUP, PORT = "239.192.74.10", 7410
INTERVAL_MS, DEAD = 20, 5
IP = {"n1": "198.18.0.1", "n2": "198.18.0.2", "n3": "198.18.0.3"}
HOSTS = {
    "n1": (IP["n1"], "02:00:00:00:00:01"),
    "n2": (IP["n2"], "02:00:00:00:00:02"),
    "n3": (IP["n3"], "02:00:00:00:00:03"),  # runs no arphad: a peer that never answers
}


def config(node_id, keyfile, peers=None):
    where = "Peers=%s\n" % " ".join(peers) if peers else "Group=%s\n" % GROUP
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n"
            "[Interface lan]\nDevice=eth0\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\n%sPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=%dms\nDeadInterval=%d\n" %
            (node_id, where, PORT, keyfile, INTERVAL_MS, DEAD))


def refused_from(d, addr):
    for r in d.arpha_json("cluster").get("refused_from", []):
        if r["address"] == addr:
            return r
    return None


def stop(*ds):
    """Exit codes and sanitizer reports are checked by the closing case."""
    for x in ds:
        x.stop()


with Lab("clmisconf", hosts=HOSTS) as lab:
    key1 = os.path.join(lab.tmp, "one.key")
    key2 = os.path.join(lab.tmp, "two.key")
    run([binary("arpha"), "keygen", key1])
    run([binary("arpha"), "keygen", key2])

    # ---- node 2 with another key
    a = lab.arphad("n1", config=config(1, key1), name="wk1")
    b = lab.arphad("n2", config=config(2, key2), name="wk2")
    t_start = time.monotonic()

    with res.case("item5/wrong-key-logged-naming-the-address"):
        pat = r"warning: event=cluster_auth_failed srcip=%s .*reason=bad_auth .*wrong key\?"
        got_a = a.wait_log(pat % IP["n2"].replace(".", r"\."), timeout=3)
        got_b = b.wait_log(pat % IP["n1"].replace(".", r"\."), timeout=1)
        expect(got_a, "node 1 logged nothing naming 198.18.0.2:\n%s", a.log()[-1500:])
        expect(got_b, "node 2 logged nothing naming 198.18.0.1:\n%s", b.log()[-1500:])

    with res.case("item5/wrong-key-shown-by-arpha-cluster"):
        r = refused_from(a, IP["n2"])
        expect(r and r["reason"] == "bad_auth" and r["count"] >= 1 and
               r["counts"].get("bad_auth") == r["count"],
               "arpha -j cluster on node 1: refused_from %s",
               a.arpha_json("cluster").get("refused_from"))
        view = a.arpha_json("cluster")
        expect(view["counters"]["drop_bad_auth"] >= 1, "counters %s", view["counters"])
        text = a.arpha("cluster").stdout
        expect("Refused from" in text and IP["n2"] in text and "bad_auth" in text,
               "arpha cluster:\n%s", text)

    with res.case("item5/wrong-key-warnings-rate-limited"):
        # 5 s of heartbeats every 20 ms with the wrong key: about 250 refused
        # datagrams, and the first warning at once; the rest held back
        time.sleep(max(0, 5 - (time.monotonic() - t_start)))
        lines = a.log_lines(r"event=cluster_auth_failed")
        refused = a.arpha_json("cluster")["counters"]["drop_bad_auth"]
        expect(refused >= 100, "only %d datagrams refused as bad_auth in 5 s", refused)
        expect(1 <= len(lines) <= 3, "%d warning lines for %d refused datagrams:\n%s",
               len(lines), refused, "\n".join(lines[:10]))
    stop(a, b)

    # ---- two nodes with NodeID 1
    a = lab.arphad("n1", config=config(1, key1), name="dup1")
    b = lab.arphad("n2", config=config(1, key1), name="dup2")

    with res.case("item5/duplicate-nodeid-logged-naming-the-address"):
        pat = (r"err: event=cluster_duplicate_node node=1 srcip=%s .*reason=own_node_id "
               r".*two nodes with NodeID 1")
        got_a = a.wait_log(pat % IP["n2"].replace(".", r"\."), timeout=3)
        got_b = b.wait_log(pat % IP["n1"].replace(".", r"\."), timeout=1)
        expect(got_a, "node 1 (n1) logged nothing naming 198.18.0.2:\n%s", a.log()[-1500:])
        expect(got_b, "node 1 (n2) logged nothing naming 198.18.0.1:\n%s", b.log()[-1500:])

    with res.case("item5/duplicate-nodeid-shown-by-arpha-cluster"):
        view = a.arpha_json("cluster")
        r = refused_from(a, IP["n2"])
        expect(r and r["reason"] == "own_node_id" and r.get("node_id") == 1 and r["count"] >= 1,
               "refused_from %s", view.get("refused_from"))
        expect(view["counters"].get("own_node_id", 0) >= 1, "counters %s", view["counters"])
    stop(a, b)

    # ---- Peers= with an address that never answers
    a = lab.arphad("n1", config=config(1, key1, [IP["n2"], IP["n3"]]), name="pe1")
    b = lab.arphad("n2", config=config(2, key1, [IP["n1"]]), name="pe2")

    with res.case("item16/peer-never-heard-listed-as-never"):
        end = time.monotonic() + 3
        while True:
            ms = a.arpha_json("cluster")["members"]
            by_addr = {m["address"]: m for m in ms}
            if by_addr.get(IP["n2"], {}).get("state") == "up" or time.monotonic() > end:
                break
            time.sleep(0.05)
        m3 = by_addr.get(IP["n3"])
        expect(m3 and m3["state"] == "never" and m3["node_id"] is None,
               "arpha -j cluster members: %s", ms)
        expect(by_addr.get(IP["n2"], {}).get("state") == "up", "node 2: %s", ms)
        expect(len(ms) == 2, "members: %s", ms)
        cnt = a.arpha_json("cluster")["counters"].get("peers_never_heard")
        expect(cnt == 1, "counter peers_never_heard: %s", cnt)
        text = a.arpha("cluster").stdout
        row = [l for l in text.splitlines() if IP["n3"] in l]
        expect(row and " never " in row[0], "arpha cluster:\n%s", text)

    with res.case("item16/peer-never-heard-logged"):
        # after 10 dead times, but not before 5 s from the start
        got = a.wait_log(r"warning: event=peer_never_heard peer=198\.18\.0\.3 after=", timeout=8)
        expect(got, "no peer_never_heard for 198.18.0.3:\n%s", a.log()[-1500:])
        expect(not a.log_lines(r"peer_never_heard peer=198\.18\.0\.2"), "node 2 told never heard")
        expect(not b.log_lines(r"peer_never_heard"), "node 2 logged %s",
               b.log_lines(r"peer_never_heard"))
    stop(a, b)

    res.daemon_checks(lab, name="arphad-clean")
res.exit()
