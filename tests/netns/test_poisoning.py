#!/usr/bin/python3
"""Poisoning: a hostile host claims the client's address three ways. With
arphad (UnsolicitedARPReplies=DropLog: the claims are dropped; the default,
Verify, checks them: test_verify.py) the node's kernel keeps the client's
MAC; without it (same node, same frames) the kernel takes the attacker's
MAC, which shows the test can fail."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/poisoning"
need_root(SUITE)
res = Results(SUITE)

# name, frame, counter that grows, log event expected (or None)
ATTACKS = [
    ("gratuitous-reply", garp_reply(ATTACKER_MAC, CLIENT_IP),
     "drop_unsolicited_reply", r"event=unsolicited_arp_reply action=drop rule=UnsolicitedARPReplies "
     r"reason=already_exists recvif=lan .*srcenet=02:00:00:00:00:66 srcip=198\.18\.0\.10 "),
    ("gratuitous-request", garp_request(ATTACKER_MAC, CLIENT_IP),
     "request_not_learned", None),
    ("unicast-reply", reply(ATTACKER_MAC, CLIENT_IP, NODE_MAC, NODE_IP),
     "drop_unsolicited_reply", r"event=unsolicited_arp_reply action=drop rule=UnsolicitedARPReplies "
     r"reason=already_exists recvif=lan hwsender=02:00:00:00:00:66 hwdest=02:00:00:00:00:01 "
     r"arp=reply srcenet=02:00:00:00:00:66 srcip=198\.18\.0\.10 destenet=02:00:00:00:00:01 "
     r"destip=198\.18\.0\.1"),
]

from_node = lambda f: f.incoming and f.eth_src == NODE_MAC  # noqa: E731

with Lab("poison") as lab:
    d = lab.arphad(arp={"UnsolicitedARPReplies": "DropLog"})
    atk = lab.agent("attacker")

    with res.case("baseline-node-learns-client"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client with arphad running")
        e = lab.neigh("node").get(CLIENT_IP)
        expect(e and e["lladdr"] == CLIENT_MAC, "kernel entry for the client: %s", e)
        s = d.show().get(CLIENT_IP)
        expect(s and s["type"] == "dynamic" and s["mac"] == CLIENT_MAC, "arpha show: %s", s)

    for name, frame, counter, logre in ATTACKS:
        with res.case("with-arphad/" + name):
            before = d.stats()
            mark = d.log_mark()
            answered = atk.silence(frame, from_node, window=0.5)
            expect(not answered, "the node answered the attack: %s", answered)
            e = lab.neigh("node").get(CLIENT_IP)
            expect(e and e["lladdr"] == CLIENT_MAC,
                   "kernel entry for %s is %s (client is %s, attacker %s)", CLIENT_IP, e,
                   CLIENT_MAC, ATTACKER_MAC)
            s = d.show().get(CLIENT_IP)
            expect(s and s["mac"] == CLIENT_MAC and s["type"] == "dynamic", "arpha show: %s", s)
            after = d.stats()
            expect(after[counter] == before[counter] + 1, "counter %s went %d -> %d",
                   counter, before[counter], after[counter])
            expect(after["learned"] == before["learned"] and after["changed"] == before["changed"],
                   "learned/changed counters moved: %s -> %s",
                   (before["learned"], before["changed"]), (after["learned"], after["changed"]))
            if logre:
                expect(d.wait_log(logre, mark), "no log line matching %r; log since: %s", logre,
                       d.log_since(mark)[-800:])
            bad = d.log_lines(r"action=accept", mark)
            expect(not bad, "accepted in the log: %s", bad)

    with res.case("with-arphad/client-still-reachable"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client after the attacks")
        expect(lab.ping("client", NODE_IP), "client cannot ping the node after the attacks")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh("node"))

    with res.case("with-arphad/attacker-not-learned"):
        # the attacker's own requests carried 198.18.0.66 -> its MAC: not believed
        expect(ATTACKER_IP not in d.show(), "arpha show has the attacker: %s", d.show())
        e = lab.neigh("node").get(ATTACKER_IP)
        expect(e is None or not e.get("lladdr"), "kernel learned the attacker: %s", e)

    # ---- the same attacks with arphad stopped: the kernel is poisoned ----
    with res.case("without-arphad/stopped-cleanly"):
        rc = d.stop()
        expect(rc == 0, "arphad exited with %s on SIGTERM", rc)
        expect(not any("arpha" in t for t in lab.nft_tables()), "nft table left: %s",
               lab.nft_tables())

    for name, frame, _counter, _logre in ATTACKS:
        with res.case("without-arphad/" + name + "-poisons-kernel"):
            lab.ip("node", "neigh", "replace", CLIENT_IP, "lladdr", CLIENT_MAC, "dev", "eth0",
                   "nud", "reachable")
            if name == "unicast-reply":
                # Linux takes a non-gratuitous reply as an override only once
                # LOCKTIME (1 s by default) has passed since the last update
                time.sleep(1.1)
            expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "baseline not set: %s", lab.neigh())
            atk.send(frame)
            e = lab.wait_neigh(CLIENT_IP, lambda e: e and e.get("lladdr") == ATTACKER_MAC,
                               timeout=2.0)
            expect(e and e.get("lladdr") == ATTACKER_MAC,
                   "without arphad the kernel was NOT poisoned (entry %s), so this attack "
                   "does not show what arphad prevents", e)

    res.daemon_checks(lab)
res.exit()
