#!/usr/bin/python3
"""UnsolicitedARPReplies=Verify (the default): a claim for a neighbour's
address is checked, not believed or ignored.

- The three poisoning attacks of test_poisoning.py against the live client:
  the client answers the check, the kernel keeps its MAC, arp_conflict is
  logged.
- A flood of claims for the client's address costs a bounded number of
  requests (VerifyHoldoff after each check the client wins).
- The client's address moves to another host (a failover without a virtual
  MAC: the old host silent, the new one announcing): arphad with Verify
  follows at once. The same move with UnsolicitedARPReplies=DropLog is not
  followed, which shows the test can fail.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/verify"
need_root(SUITE)
res = Results(SUITE)

ATTACKS = [
    ("gratuitous-reply", garp_reply(ATTACKER_MAC, CLIENT_IP)),
    ("gratuitous-request", garp_request(ATTACKER_MAC, CLIENT_IP)),
    ("unicast-reply", reply(ATTACKER_MAC, CLIENT_IP, NODE_MAC, NODE_IP)),
]
HOLDOFF = 1.0  # VerifyHoldoff's default, seconds
FLOOD = 3000


def move_client_address(lab, to_attacker):
    """The client's address goes to the attacker's host (or back)."""
    src, dst = ("client", "attacker") if to_attacker else ("attacker", "client")
    lab.ip(src, "addr", "del", "%s/%d" % (CLIENT_IP, PREFIX_LEN), "dev", "eth0")
    lab.ip(dst, "addr", "add", "%s/%d" % (CLIENT_IP, PREFIX_LEN), "dev", "eth0")


def followed_within(lab, mac, timeout):
    """Seconds until the node's kernel has CLIENT_IP at mac, or None."""
    t0 = time.monotonic()
    e = lab.wait_neigh(CLIENT_IP, lambda e: e and e.get("lladdr") == mac, timeout=timeout)
    return time.monotonic() - t0 if e and e.get("lladdr") == mac else None


with Lab("verify") as lab:
    atk = lab.agent("attacker")

    # ---- DropLog does not follow a move (the test can fail) ----
    d0 = lab.arphad(arp={"UnsolicitedARPReplies": "DropLog"}, name="droplog")
    with res.case("droplog/move-not-followed"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh())
        move_client_address(lab, True)
        atk.send(garp_reply(ATTACKER_MAC, CLIENT_IP))
        t = followed_within(lab, ATTACKER_MAC, 1.0)
        expect(t is None, "with DropLog the node followed the move in %s s", t)
        move_client_address(lab, False)
    with res.case("droplog/stopped"):
        expect(d0.stop() == 0, "arphad did not exit cleanly")

    d = lab.arphad(name="verify")  # the default: Verify
    with res.case("baseline-node-learns-client"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client with arphad running")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh())

    for name, frame in ATTACKS:
        with res.case("spoof/" + name):
            before = d.stats()
            mark = d.log_mark()
            atk.send(frame)
            got = d.wait_log(r"event=arp_conflict action=keep rule=UnsolicitedARPReplies "
                             r"reason=current_holder_answered recvif=lan srcip=198\.18\.0\.10 "
                             r"srcenet=02:00:00:00:00:66 curenet=02:00:00:00:00:10", mark)
            expect(got, "no arp_conflict line; log since: %s", d.log_since(mark)[-800:])
            time.sleep(0.2)
            expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel entry for the client: %s",
                   lab.neigh().get(CLIENT_IP))
            s = d.show().get(CLIENT_IP)
            expect(s and s["mac"] == CLIENT_MAC, "arpha show: %s", s)
            after = d.stats()
            expect(after["verify_started"] == before["verify_started"] + 1 and
                   after["verify_conflict"] == before["verify_conflict"] + 1,
                   "checks started %d -> %d, conflicts %d -> %d", before["verify_started"],
                   after["verify_started"], before["verify_conflict"], after["verify_conflict"])
            expect(after["verify_confirmed"] == before["verify_confirmed"],
                   "a check confirmed the attacker")
            expect(not d.log_lines(r"event=arp_verified", mark), "accepted in the log")
            time.sleep(HOLDOFF)  # the next attack gets a check of its own

    with res.case("flood/bounded"):
        before = d.stats()
        frames = []
        rng = random.Random(7)
        for _ in range(FLOOD):
            m = "02:66:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4))
            frames.append(garp_reply(m, CLIENT_IP))
        t0 = time.monotonic()
        atk.send(frames)
        took = time.monotonic() - t0
        time.sleep(0.3)
        after = d.stats()
        sent = after["tx_frames"] - before["tx_frames"]
        checks = after["verify_started"] - before["verify_started"]
        # a check, then the address held off: two requests per hold-off
        bound = 2 * (int((took + 0.3) / HOLDOFF) + 1)
        info("%d claims in %.2f s: %d checks, %d requests sent (bound %d), %d not checked"
             % (FLOOD, took, checks, sent, bound,
                after["verify_limited"] - before["verify_limited"]))
        expect(sent <= bound, "%d requests for %d claims (bound %d)", sent, FLOOD, bound)
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh().get(CLIENT_IP))
        expect(after["verify_confirmed"] == before["verify_confirmed"], "a claim was confirmed")
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client after the flood")

    with res.case("move-followed"):
        time.sleep(HOLDOFF)
        before = d.stats()
        mark = d.log_mark()
        move_client_address(lab, True)
        atk.send(garp_reply(ATTACKER_MAC, CLIENT_IP))
        t = followed_within(lab, ATTACKER_MAC, 1.0)
        expect(t is not None, "with Verify the node did not follow the move; log: %s",
               d.log_since(mark)[-800:])
        if t is not None:
            info("followed %.0f ms after the announcement (the kernel table polled every 50 "
                 "ms, each poll an ip(8) run)" % (t * 1000))
        after = d.stats()
        expect(after["verify_confirmed"] == before["verify_confirmed"] + 1, "confirmed %d -> %d",
               before["verify_confirmed"], after["verify_confirmed"])
        expect(d.log_lines(r"event=arp_verified action=accept .*reason=only_new_mac_answered",
                           mark), "no arp_verified line: %s", d.log_since(mark)[-800:])
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the moved address")

    res.daemon_checks(lab)
res.exit()
