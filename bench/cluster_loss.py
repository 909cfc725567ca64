#!/usr/bin/python3
"""The seed's measurement with real processes: three arphad nodes on a
bridge in network namespaces, each broadcasting one message every 100 ms,
SECONDS per point, with loss induced on every node's input (nftables:
numgen random, so each receiver loses on its own, as in the simulator).

  bench/cluster_loss.py BUILD_DIR [SECONDS] [LOSS% ...]

Prints a table: loss, messages sent, delivered / expected, NAKs, resent
+ gone, out of sync, overhead = (NAK + resync) / (NAK + resync + sent),
overhead / loss. Addresses 198.18.0.0/24 only, in namespaces it makes."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "netns"))
if len(sys.argv) > 1:
    os.environ["ARPHA_BUILD"] = os.path.abspath(sys.argv[1])
from lab import Lab, binary, run  # noqa: E402

SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 60
LOSSES = [int(x) for x in sys.argv[3:]] or [0, 1, 5, 10, 20, 30]
PERIOD_MS, PORT, GROUP = 100, 7410, "239.192.74.10"
NODES = {"n1": (1, "198.18.0.1", "02:00:00:00:00:01"),
         "n2": (2, "198.18.0.2", "02:00:00:00:00:02"),
         "n3": (3, "198.18.0.3", "02:00:00:00:00:03")}


def config(node_id, keyfile):
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=notice\n"
            "[Interface lan]\nDevice=eth0\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n" %
            (node_id, GROUP, PORT, keyfile))


def point(loss):
    hosts = {r: (ip, mac) for r, (_i, ip, mac) in NODES.items()}
    with Lab("closs", hosts=hosts) as lab:
        keyfile = os.path.join(lab.tmp, "cluster.key")
        run([binary("arpha"), "keygen", keyfile])
        d = {r: lab.arphad(r, config=config(i, keyfile), name=r)
             for r, (i, _ip, _m) in NODES.items()}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ups = [sum(m["state"] == "up" for m in d[r].arpha_json("cluster")["members"])
                   for r in NODES]
            if all(u == len(NODES) - 1 for u in ups):
                break
            time.sleep(0.1)
        if loss:
            for r in NODES:
                lab.exec(r, "nft", "add table inet arpha_loss { chain input { type filter hook "
                         "input priority -10; policy accept; udp dport %d numgen random mod 100 "
                         "< %d drop; }; }" % (PORT, loss))
        count = SECONDS * 1000 // PERIOD_MS
        for r in NODES:
            d[r].arpha("cluster", "test-traffic", str(PERIOD_MS), str(count))
        time.sleep(SECONDS + 3)
        if loss:  # let the last gaps be repaired without loss
            for r in NODES:
                lab.exec(r, "nft", "delete table inet arpha_loss")
        time.sleep(2)
        tot = {}
        for r in NODES:
            c = d[r].arpha_json("cluster")["counters"]
            for k, v in c.items():
                tot[k] = tot.get(k, 0) + v
        for r in NODES:
            d[r].stop()
        probs = lab.daemon_problems()
        if probs:
            print("problems: %s" % probs, file=sys.stderr)
        return count, tot


print("3 nodes, one message every %d ms each, %d s per point, HeartbeatInterval 100 ms, "
      "DeadInterval 3, SendBuffer 256 (the defaults); loss induced with nftables on every "
      "node's input" % (PERIOD_MS, SECONDS))
print()
print("| loss % | sent | delivered / expected | NAK | resync (resent + gone) | out of sync | "
      "overhead | overhead / loss |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for loss in LOSSES:
    count, t = point(loss)
    sent = t["messages_sent"]
    expected = sent * (len(NODES) - 1)
    nak, resync = t["naks_sent"], t["messages_resent"] + t["gones_sent"]
    over = (nak + resync) / (nak + resync + sent) if sent else 0
    ratio = "%.2f" % (over / (loss / 100)) if loss else "-"
    print("| %d | %d | %d / %d (%.2f %%) | %d | %d + %d | %d | %.4f | %s |" % (
        loss, sent, t["messages_delivered"], expected,
        100.0 * t["messages_delivered"] / expected if expected else 0, nak,
        t["messages_resent"], t["gones_sent"], t["out_of_sync"], over, ratio), flush=True)
