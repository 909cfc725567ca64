#!/usr/bin/python3
"""Malformed frames of every kind the codec names: each is counted under its
reason in `arpha -j stats`, nothing is answered or learned, and arphad goes
on answering. Then random garbage: every frame is accounted for."""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/malformed"
need_root(SUITE)
res = Results(SUITE)

A, ip66, ip1 = ATTACKER_MAC, ATTACKER_IP, NODE_IP


def req(**kw):
    return request(A, ip66, ip1, **kw)


# name, counter, frames, sent from ("attacker", or "wire": the switch port
# of the node, for frames a bridge does not forward: runts shorter than about
# 21 bytes, group source MACs)
CASES = [
    ("truncated-in-header", "malformed_truncated", [req()[:14], req()[:14 + 6]], "wire"),
    ("truncated-in-body", "malformed_truncated", [req(pad=False)[:14 + 27]], "attacker"),
    # a tag no VLAN device takes: the kernel calls the frame another host's
    # and hands it over untagged, so arphad never judges it (the codec's
    # count of a truncated tagged frame: tests/unit)
    ("truncated-tagged", "otherhost", [req(vlan=7, pad=False)[:18 + 20]], "attacker"),
    ("bad-htype", "malformed_bad_htype", [req(htype=6), req(htype=0)], "attacker"),
    ("bad-ptype", "malformed_bad_ptype", [req(ptype=0x86DD), req(ptype=0x0806)], "attacker"),
    ("bad-hlen", "malformed_bad_hlen", [req(hlen=8), req(hlen=0)], "attacker"),
    ("bad-plen", "malformed_bad_plen", [req(plen=16), req(plen=0)], "attacker"),
    ("bad-op", "malformed_bad_op", [arp(3, A, ip66, ZERO_MAC, ip1), arp(0, A, ip66, ZERO_MAC, ip1),
                                    arp(0x0101, A, ip66, ZERO_MAC, ip1)], "attacker"),
    ("eth-src-group", "malformed_eth_src_group",
     [req(eth_src="01:00:5e:00:00:01"), req(eth_src=BCAST)], "wire"),
    ("sender-mac-zero", "malformed_sender_mac_zero",
     [request(ZERO_MAC, ip66, ip1, eth_src=A), reply(ZERO_MAC, CLIENT_IP, NODE_MAC, ip1, eth_src=A)],
     "attacker"),
    ("sender-ip-loopback", "malformed_sender_ip_bogus", [request(A, "127.0.0.1", ip1)], "attacker"),
    ("sender-ip-multicast", "malformed_sender_ip_bogus", [request(A, "224.0.0.5", ip1)], "attacker"),
    ("sender-ip-class-e", "malformed_sender_ip_bogus", [request(A, "240.0.0.1", ip1)], "attacker"),
    ("sender-ip-broadcast", "malformed_sender_ip_bogus", [request(A, "255.255.255.255", ip1)],
     "attacker"),
    ("target-ip-multicast", "malformed_target_ip_multicast",
     [request(A, ip66, "224.0.0.1"), request(A, ip66, "255.255.255.255")], "attacker"),
    ("target-ip-loopback", "malformed_target_ip_loopback", [request(A, ip66, "127.0.0.1")],
     "attacker"),
]

ALL_MALFORMED = sorted({c[1] for c in CASES} | {"malformed_not_arp"})


def node_answers(f):
    return f.incoming and f.eth_src == NODE_MAC


with Lab("malformed") as lab:
    d = lab.arphad()
    atk = lab.agent("attacker")
    wire = lab.agent("sw", iface="p-node")

    with res.case("counters-present"):
        s = d.stats()
        missing = [c for c in ALL_MALFORMED if c not in s]
        expect(not missing, "arpha -j stats lacks %s", missing)

    for name, counter, frames, via in CASES:
        with res.case(name):
            before = d.stats()
            if via == "wire":
                wire.send(frames)
                got = atk.wait(node_answers, atk.mark(), timeout=0.5)
            else:
                got = atk.silence(frames, node_answers, window=0.4)
            time.sleep(0.1)
            after = d.stats()
            delta = {k: after[k] - before[k] for k in after if after[k] != before[k]}
            expect(delta.get(counter) == len(frames), "%s grew by %s for %d frames; all that "
                   "changed: %s", counter, delta.get(counter), len(frames), delta)
            other = {k: v for k, v in delta.items() if k.startswith("malformed_") and k != counter}
            expect(not other, "other reasons counted too: %s", other)
            expect(delta.get("rx_frames") == len(frames), "rx_frames grew by %s",
                   delta.get("rx_frames"))
            for k in ("answered", "learned", "rx_requests", "rx_replies", "tx_frames"):
                expect(k not in delta, "%s changed: %s", k, delta)
            expect(not got, "answered: %s", got)

    with res.case("still-answers-after-malformed"):
        got = atk.exchange([req()], is_reply(spa=NODE_IP, sha=NODE_MAC, eth_dst=ATTACKER_MAC))
        expect(len(got) == 1, "answers to a good request: %s", got)
        expect(lab.ping("node", CLIENT_IP), "the node cannot reach the client")

    with res.case("random-garbage-accounted-for"):
        rnd = random.Random(20260101)
        frames = []
        for i in range(400):
            body = bytearray(rnd.getrandbits(8) for _ in range(rnd.choice((0, 5, 20, 28, 28, 40))))
            if len(body) >= 8 and i % 2:
                # mostly-valid headers, so the checks past the header run too
                body[0:8] = bytes((0, 1, 8, 0, 6, 4, 0, rnd.choice((1, 2, 3))))
            frames.append(mac_b(BCAST) + mac_b(A) + b"\x08\x06" + bytes(body))
        before = d.stats()
        for i in range(0, len(frames), 50):
            wire.send(frames[i:i + 50])  # the bridge would drop the runts
            time.sleep(0.01)
        deadline = time.monotonic() + 3
        while d.stats()["rx_frames"] - before["rx_frames"] < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        after = d.stats()
        delta = {k: after[k] - before[k] for k in after}
        accounted = (sum(v for k, v in delta.items() if k.startswith("malformed_")) +
                     delta["rx_requests"] + delta["rx_replies"])
        expect(delta["rx_frames"] == 400, "rx_frames grew by %d for 400 frames", delta["rx_frames"])
        expect(accounted == 400, "%d of 400 frames accounted for (by reason or as requests and "
               "replies): %s", accounted, {k: v for k, v in delta.items() if v})
        expect(d.alive(), "arphad died")
        got = atk.exchange([req()], is_reply(spa=NODE_IP, sha=NODE_MAC))
        expect(len(got) == 1, "no answer after the garbage: %s", got)

    with res.case("socket-overrun-counted"):
        # arphad paused: the kernel queues what fits in the packet socket's
        # buffer and drops the rest; those drops must show in the stats
        before = d.stats()
        flood = request(A, ip66, "198.18.0.77")  # nobody's address: no answers
        os.kill(d.p.pid, signal.SIGSTOP)
        try:
            wire.send([flood] * 30000)
        finally:
            os.kill(d.p.pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = d.stats()
            seen = after["rx_frames"] - before["rx_frames"]
            if seen + after["socket_drops"] - before["socket_drops"] >= 30000:
                break
            time.sleep(0.1)
        dropped = after["socket_drops"] - before["socket_drops"]
        expect(dropped > 0, "30000 frames to a paused arphad, socket_drops grew by %d (read %d)",
               dropped, seen)
        expect(seen + dropped == 30000, "read %d + dropped %d != 30000 sent", seen, dropped)
        got = atk.exchange([req()], is_reply(spa=NODE_IP, sha=NODE_MAC))
        expect(len(got) == 1, "no answer after the flood: %s", got)

    res.daemon_checks(lab, alive=d)
res.exit()
