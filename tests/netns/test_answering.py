#!/usr/bin/python3
"""Answering: what arphad answers, with which MACs, to whom; and what it
does not answer."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/answering"
need_root(SUITE)
res = Results(SUITE)

OTHER_MAC = "02:00:00:00:00:99"  # an ARP sender MAC that is not the frame's source
PUB_IP, PUB_MAC = "198.18.0.50", "02:00:00:00:00:50"
XPUB_IP, XPUB_MAC = "198.18.0.51", "02:00:00:00:00:51"
PUBI_IP = "198.18.0.52"  # Publish without MAC: the interface's MAC
PROXY_NET, PROXY_IP = "198.18.1.0/24", "198.18.1.5"
NOBODY_IP = "198.18.0.77"

ENTRIES = [
    {"IP": PUB_IP, "Mode": "Publish", "MAC": PUB_MAC},
    {"IP": XPUB_IP, "Mode": "XPublish", "MAC": XPUB_MAC},
    {"IP": PUBI_IP, "Mode": "Publish"},
]
PROXIES = [{"Network": PROXY_NET, "Interfaces": "lan"}]


def ask(atk, tpa, count=1, **kw):
    """The attacker asks for tpa; every answer about tpa it sees."""
    return atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, tpa, **kw)],
                        lambda f: f.incoming and f.ok and f.op == 2 and f.spa == tpa,
                        count=count, timeout=2.0, linger=0.3)


def one_answer(got, eth_src, sha, spa, eth_dst=ATTACKER_MAC, tha=ATTACKER_MAC,
               tpa=ATTACKER_IP):
    expect(len(got) == 1, "expected exactly one answer, got %d: %s", len(got), got)
    f = got[0]
    want = dict(eth_src=eth_src, eth_dst=eth_dst, sha=sha, spa=spa, tha=tha, tpa=tpa)
    bad = {k: (getattr(f, k), v) for k, v in want.items() if getattr(f, k) != v}
    expect(not bad, "answer fields (got, want): %s in %s", bad, f)


with Lab("answer") as lab:
    atk = lab.agent("attacker")
    d = lab.arphad(entries=ENTRIES, proxies=PROXIES)

    with res.case("own-address"):
        one_answer(ask(atk, NODE_IP), NODE_MAC, NODE_MAC, NODE_IP)

    with res.case("enet-sender-mismatch-dropped-by-default"):
        before = d.stats()
        mark = d.log_mark()
        got = atk.silence(request(OTHER_MAC, ATTACKER_IP, NODE_IP, eth_src=ATTACKER_MAC),
                          from_node_for(NODE_IP))
        expect(not got, "answered: %s", got)
        expect(d.stats()["drop_enet_sender"] == before["drop_enet_sender"] + 1,
               "drop_enet_sender did not grow")
        expect(d.wait_log(r"event=enet_sender_mismatch action=drop rule=ARPMatchEnetSender "
                          r".*hwsender=02:00:00:00:00:66 .*srcenet=02:00:00:00:00:99", mark),
               "no enet_sender_mismatch line: %s", d.log_since(mark))

    with res.case("publish"):
        one_answer(ask(atk, PUB_IP), NODE_MAC, PUB_MAC, PUB_IP)

    with res.case("publish-interface-mac"):
        one_answer(ask(atk, PUBI_IP), NODE_MAC, NODE_MAC, PUBI_IP)

    with res.case("xpublish"):
        one_answer(ask(atk, XPUB_IP), XPUB_MAC, XPUB_MAC, XPUB_IP)

    with res.case("proxyarp"):
        one_answer(ask(atk, PROXY_IP), NODE_MAC, NODE_MAC, PROXY_IP)

    with res.case("show-configured-entries"):
        s = d.show()
        for ip, typ, mac in ((PUB_IP, "publish", PUB_MAC), (XPUB_IP, "xpublish", XPUB_MAC),
                             (PUBI_IP, "publish", NODE_MAC)):
            e = s.get(ip)
            expect(e and e["type"] == typ and e["mac"] == mac and e["expires"] is None,
                   "%s: %s", ip, e)

    with res.case("nobody-publishes-not-answered"):
        got = atk.silence(request(ATTACKER_MAC, ATTACKER_IP, NOBODY_IP), from_node_for(NOBODY_IP))
        expect(not got, "answered: %s", got)

    with res.case("outside-proxy-network-not-answered"):
        got = atk.silence(request(ATTACKER_MAC, ATTACKER_IP, "198.18.2.5"),
                          from_node_for("198.18.2.5"))
        expect(not got, "answered: %s", got)

    with res.case("gratuitous-request-for-published-not-answered"):
        mark = d.log_mark()
        got = atk.silence(garp_request(ATTACKER_MAC, PUB_IP), lambda f: f.incoming and
                          f.eth_src in (NODE_MAC, PUB_MAC) and f.op == 2)
        expect(not got, "answered: %s", got)
        expect(d.wait_log(r"event=static_arp_changed action=drop rule=StaticARPChanges "
                          r".*srcip=198\.18\.0\.50 .*cfgenet=02:00:00:00:00:50", mark),
               "no static_arp_changed line: %s", d.log_since(mark))

    with res.case("kernel-does-not-answer-too"):
        # exactly one answer per request: the kernel's own ARP input is off
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)] * 3,
                           from_node_for(NODE_IP), count=3, linger=0.5)
        expect(len(got) == 3, "3 requests, %d answers: %s", len(got), got)

    with res.case("announce"):
        got = []
        m = atk.mark()
        out = d.arpha("announce", "lan").stdout
        # the interface address and the three published entries, each twice
        got = atk.wait(lambda f: f.incoming and f.ok and f.gratuitous, m, count=8, timeout=2)
        seen = {(f.op, f.spa, f.sha, f.eth_src) for f in got}
        want = set()
        for ip, mac, src in ((NODE_IP, NODE_MAC, NODE_MAC), (PUB_IP, PUB_MAC, NODE_MAC),
                             (XPUB_IP, XPUB_MAC, XPUB_MAC), (PUBI_IP, NODE_MAC, NODE_MAC)):
            want |= {(1, ip, mac, src), (2, ip, mac, src)}
        expect(seen == want, "gratuitous ARP (op, ip, sha, eth src): missing %s, extra %s; "
               "arpha said %r", sorted(want - seen), sorted(seen - want), out.strip())
        expect(all(f.eth_dst == BCAST for f in got), "not broadcast: %s", got)

    with res.case("tagged-request-not-answered-untagged"):
        # a request tagged for VLAN 5 does not belong to the untagged
        # interface lan; answering it untagged would leak across VLANs
        got = atk.silence(request(ATTACKER_MAC, ATTACKER_IP, NODE_IP, vlan=5),
                          lambda f: from_node_for(NODE_IP)(f) and f.vlan is None)
        expect(not got, "a VLAN 5 request was answered untagged: %s", got)

    alive1 = d.alive()
    d.stop()

    # ---- ARPMatchEnetSender=Ignore, ARPSenderIP=Accept ----
    d2 = lab.arphad(arp={"ARPMatchEnetSender": "Ignore", "ARPSenderIP": "Accept"},
                    entries=ENTRIES, proxies=PROXIES)

    with res.case("enet-sender-mismatch-ignored-answers-arp-sender"):
        mark = d2.log_mark()
        got = atk.exchange([request(OTHER_MAC, ATTACKER_IP, NODE_IP, eth_src=ATTACKER_MAC)],
                           from_node_for(NODE_IP), linger=0.3)
        one_answer(got, NODE_MAC, NODE_MAC, NODE_IP, eth_dst=OTHER_MAC, tha=OTHER_MAC)
        expect(not d2.log_lines("enet_sender_mismatch", mark), "Ignore logged: %s",
               d2.log_since(mark))

    with res.case("gratuitous-request-for-proxied-not-answered"):
        got = atk.silence(garp_request(ATTACKER_MAC, PROXY_IP), from_node_for(PROXY_IP))
        expect(not got, "a gratuitous request was answered: %s", got)
        # while a plain request from that network is
        got = atk.exchange([request(ATTACKER_MAC, "198.18.1.9", PROXY_IP)],
                           from_node_for(PROXY_IP))
        one_answer(got, NODE_MAC, NODE_MAC, PROXY_IP, tpa="198.18.1.9")

    with res.case("address-added-at-runtime-answered"):
        lab.ip("node", "addr", "add", "198.18.0.2/24", "dev", "eth0")
        got = []
        for _ in range(20):  # arphad learns of the address by an rtnetlink event
            got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, "198.18.0.2")],
                               from_node_for("198.18.0.2"), timeout=0.2, linger=0.2)
            if got:
                break
        one_answer(got, NODE_MAC, NODE_MAC, "198.18.0.2")

    with res.case("address-removed-at-runtime-not-answered"):
        lab.ip("node", "addr", "del", "198.18.0.2/24", "dev", "eth0")
        got = [1]
        for _ in range(20):
            got = atk.silence(request(ATTACKER_MAC, ATTACKER_IP, "198.18.0.2"),
                              from_node_for("198.18.0.2"), window=0.2)
            if not got:
                break
        expect(not got, "still answered after the address was removed: %s", got)
        one_answer(ask(atk, NODE_IP), NODE_MAC, NODE_MAC, NODE_IP)

    with res.case("first-daemon-was-alive"):
        expect(alive1, "the first arphad had died before it was stopped")
    res.daemon_checks(lab, alive=d2)
res.exit()
