#!/usr/bin/python3
"""Entries over time: flush removes dynamic entries from arphad and the
kernel, Expire removes them when due, Static entries are PERMANENT in the
kernel and survive flushes, expiry and a link flap."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/lifecycle"
need_root(SUITE)
res = Results(SUITE)

STATIC_IP, STATIC_MAC = "198.18.0.40", "02:00:00:00:00:40"
PUB_IP, PUB_MAC = "198.18.0.50", "02:00:00:00:00:50"
H30_IP, H30_MAC = "198.18.0.30", "02:00:00:00:00:30"
ENTRIES = [{"IP": STATIC_IP, "Mode": "Static", "MAC": STATIC_MAC},
           {"IP": PUB_IP, "Mode": "Publish", "MAC": PUB_MAC}]


def has_mac(ip, mac):
    return lambda e: bool(e) and e.get("lladdr") == mac


def gone(e):
    return not e or not e.get("lladdr")


def static_ok(lab):
    e = lab.neigh().get(STATIC_IP)
    return e and e.get("lladdr") == STATIC_MAC and "PERMANENT" in e["state"], e


def learn_two(lab, atk):
    """Two dynamic entries: the client (by ping) and .30 (a solicited reply)."""
    expect(lab.ping("node", CLIENT_IP), "node cannot ping the client")
    lab.kernel_asks(H30_IP)
    atk.send(reply(H30_MAC, H30_IP, NODE_MAC, NODE_IP))
    e = lab.wait_neigh(H30_IP, has_mac(H30_IP, H30_MAC))
    expect(e and e.get("lladdr") == H30_MAC, "setup: %s not learned: %s", H30_IP, e)


with Lab("lifecycle") as lab:
    atk = lab.agent("attacker")
    d = lab.arphad(entries=ENTRIES)

    with res.case("static-is-permanent"):
        ok, e = static_ok(lab)
        expect(ok, "kernel entry for the Static %s: %s", STATIC_IP, e)
        s = d.show().get(STATIC_IP)
        expect(s and s["type"] == "static" and s["mac"] == STATIC_MAC and s["expires"] is None,
               "arpha show: %s", s)
        # arphad never installs a Publish entry as a neighbour
        expect(PUB_IP not in lab.neigh(), "Publish entry in the kernel: %s", lab.neigh().get(PUB_IP))

    with res.case("flush-all"):
        learn_two(lab, atk)
        mark = d.log_mark()
        out = d.arpha_json("arp", "flush")
        expect(out.get("flushed") == 2, "arpha -j arp flush said %s, expected 2", out)
        k = lab.neigh()
        expect(gone(k.get(CLIENT_IP)) and gone(k.get(H30_IP)),
               "dynamic entries still in the kernel: %s", k)
        s = d.show()
        expect(not [e for e in s.values() if e["type"] == "dynamic"], "arpha show: %s", s)
        expect(STATIC_IP in s and PUB_IP in s, "configured entries flushed: %s", s)
        ok, e = static_ok(lab)
        expect(ok, "the Static entry left the kernel: %s", e)
        expect(d.wait_log(r"event=arp_flush action=flush recvif=all removed=2", mark), "not logged")

    with res.case("relearn-after-flush"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client after the flush")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh())

    with res.case("flush-one-interface"):
        learn_two(lab, atk)
        out = d.arpha("arp", "flush", "lan").stdout
        expect("2" in out, "arpha arp flush lan said %r", out)
        k = lab.neigh()
        expect(gone(k.get(CLIENT_IP)) and gone(k.get(H30_IP)), "still in the kernel: %s", k)
        r = d.arpha("arp", "flush", "wan0", check=False)
        expect(r.returncode != 0 and "wan0" in r.stderr and "lan" in r.stderr,
               "flush of an unknown interface: rc %d, %r", r.returncode, r.stderr)

    with res.case("static-back-after-link-flap"):
        lab.ip("node", "link", "set", "eth0", "down")
        lab.ip("node", "link", "set", "eth0", "up")
        e = lab.wait_neigh(STATIC_IP, lambda e: e and "PERMANENT" in e["state"], timeout=3)
        expect(e and e.get("lladdr") == STATIC_MAC and "PERMANENT" in e["state"],
               "after the link came back: %s", e)
        # and arphad still reads and answers on the device
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)],
                           is_reply(spa=NODE_IP, sha=NODE_MAC), timeout=3)
        expect(len(got) == 1, "answers after the flap: %s", got)
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client after the flap")

    res.daemon_checks(lab, alive=d, name="arphad-clean-default")

    d2 = lab.arphad(arp={"Expire": "2"}, entries=ENTRIES)
    with res.case("expire"):
        learn_two(lab, atk)
        t0 = time.monotonic()
        s = d2.show().get(CLIENT_IP)
        expect(s and s["expires"] in (1, 2), "arpha show: %s", s)
        e = lab.wait_neigh(CLIENT_IP, gone, timeout=5)
        e30 = lab.wait_neigh(H30_IP, gone, timeout=1)
        took = time.monotonic() - t0
        expect(gone(e) and gone(e30), "still in the kernel after Expire=2: %s %s", e, e30)
        expect(took > 1.0, "gone after %.1f s, before Expire=2", took)
        s = d2.show()
        expect(CLIENT_IP not in s and H30_IP not in s, "still in arpha show: %s", s)
        expect(d2.stats()["expired"] == 2, "expired counter: %d", d2.stats()["expired"])
        ok, e = static_ok(lab)
        expect(ok, "the Static entry expired: %s", e)
        expect(STATIC_IP in s and PUB_IP in s, "configured entries expired: %s", s)

    with res.case("relearn-after-expiry"):
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client after expiry")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "kernel: %s", lab.neigh())

    res.daemon_checks(lab, alive=d2)
res.exit()
