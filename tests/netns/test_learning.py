#!/usr/bin/python3
"""Solicited learning: what the node's kernel asks for is learned, installed
in the kernel and shown; what nobody vetted before arphad started is
removed from the kernel at start, permanent entries stay. arphad sees the
kernel's requests through the guard's NFLOG rule: a broadcast request and a
unicast probe of a known neighbour are both answered solicited, and the
requests a paused arphad could not be handed are counted (socket_drops)."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/learning"
need_root(SUITE)
res = Results(SUITE)

PERM_IP, PERM_MAC = "198.18.0.77", "02:00:00:00:00:77"


def logged_requests(lab):
    """Packets of the guard's output rules: the requests logged for arphad."""
    p = lab.exec("node", "nft", "-j", "list", "chain", "arp", "arpha", "output")
    n = 0
    for o in json.loads(p.stdout)["nftables"]:
        for e in o.get("rule", {}).get("expr", []):
            n += e.get("counter", {}).get("packets", 0) if isinstance(e, dict) else 0
    return n

with Lab("learn") as lab:
    atk = lab.agent("attacker")

    # before arphad: the kernel is poisoned, and an administrator's permanent entry
    lab.ping("node", CLIENT_IP)
    atk.send(garp_reply(ATTACKER_MAC, CLIENT_IP))
    lab.wait_neigh(CLIENT_IP, lambda e: e and e.get("lladdr") == ATTACKER_MAC)
    lab.ip("node", "neigh", "add", PERM_IP, "lladdr", PERM_MAC, "dev", "eth0", "nud", "permanent")
    pre = lab.neigh("node")

    d = lab.arphad()

    with res.case("start-removes-unvetted-kernel-entries"):
        expect(pre.get(CLIENT_IP, {}).get("lladdr") == ATTACKER_MAC,
               "setup: kernel not poisoned before start: %s", pre)
        now = lab.neigh("node")
        e = now.get(CLIENT_IP)
        expect(e is None or e.get("lladdr") != ATTACKER_MAC,
               "the poisoned entry survived arphad's start: %s", e)
        p = now.get(PERM_IP)
        expect(p and p.get("lladdr") == PERM_MAC and "PERMANENT" in p["state"],
               "the permanent entry was touched: %s", p)
        expect(d.wait_log(r"event=neigh_flush iface=lan removed=\d+"), "no log line about the removal")

    with res.case("nft-table-installed"):
        expect("table arp arpha" in lab.nft_tables(), "tables: %s", lab.nft_tables())

    with res.case("solicited-reply-learned"):
        before = d.stats()
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client")
        e = lab.neigh("node").get(CLIENT_IP)
        expect(e and e.get("lladdr") == CLIENT_MAC, "kernel entry: %s", e)
        expect(not set(e["state"]) & {"FAILED", "INCOMPLETE"}, "kernel state: %s", e)
        s = d.show().get(CLIENT_IP)
        expect(s and s["type"] == "dynamic" and s["mac"] == CLIENT_MAC and s["interface"] == "lan",
               "arpha show: %s", s)
        expect(isinstance(s["expires"], int) and 800 < s["expires"] <= 900,
               "expires %s, expected about 900 (Expire default)", s["expires"])
        after = d.stats()
        expect(after["learned"] >= before["learned"] + 1, "learned %d -> %d", before["learned"],
               after["learned"])
        expect(after["kernel_requests"] >= before["kernel_requests"] + 1,
               "the kernel's request was not seen: kernel_requests %d -> %d",
               before["kernel_requests"], after["kernel_requests"])
        expect(after["drop_unsolicited_reply"] == before["drop_unsolicited_reply"],
               "the answer to the kernel's request was judged unsolicited: "
               "drop_unsolicited_reply %d -> %d", before["drop_unsolicited_reply"],
               after["drop_unsolicited_reply"])

    with res.case("kernel-unicast-probe-answer-solicited"):
        # the entry is stale, a packet to the client makes the kernel probe it
        # with requests sent to its MAC (after delay_first_probe_time): the
        # answers must refresh the entry
        lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.delay_first_probe_time=1")
        lab.ip("node", "neigh", "change", CLIENT_IP, "lladdr", CLIENT_MAC, "dev", "eth0", "nud",
               "stale")
        before = d.stats()
        expect(lab.ping("node", CLIENT_IP), "node cannot ping the client")
        e = lab.wait_neigh(CLIENT_IP, lambda e: e and "REACHABLE" in e["state"], timeout=5)
        after = d.stats()
        expect(e and "REACHABLE" in e["state"] and e.get("lladdr") == CLIENT_MAC,
               "the kernel's probe got no answer: %s", e)
        expect(after["kernel_requests"] > before["kernel_requests"],
               "the kernel's probe was not seen: kernel_requests %d -> %d",
               before["kernel_requests"], after["kernel_requests"])
        expect(after["refreshed"] > before["refreshed"], "refreshed %d -> %d",
               before["refreshed"], after["refreshed"])
        expect(after["drop_unsolicited_reply"] == before["drop_unsolicited_reply"],
               "the answer to the kernel's probe was judged unsolicited: "
               "drop_unsolicited_reply %d -> %d", before["drop_unsolicited_reply"],
               after["drop_unsolicited_reply"])
        lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.delay_first_probe_time=5")

    with res.case("client-resolves-node"):
        lab.flush_neigh("client")
        expect(lab.ping("client", NODE_IP), "client cannot ping the node")
        expect(lab.neigh_mac(NODE_IP, "client") == NODE_MAC, "client's entry: %s",
               lab.neigh("client"))
        # the client's request taught the node nothing (ARPRequests=Drop) but the
        # node still knows the client from its own query
        expect(d.stats()["request_not_learned"] >= 1, "request_not_learned: %s",
               d.stats()["request_not_learned"])

    with res.case("show-text-table"):
        out = d.arpha("arp", "show").stdout
        line = [l for l in out.splitlines() if CLIENT_IP in l]
        expect(line and "Dynamic" in line[0] and CLIENT_MAC in line[0], "arpha arp show:\n%s", out)
        out2 = d.arpha("arp", "show", "lan").stdout
        expect(CLIENT_IP in out2, "arpha arp show lan:\n%s", out2)
        r = d.arpha("arp", "show", "nosuch", check=False)
        expect(r.returncode != 0 and "nosuch" in r.stderr, "unknown interface: rc %d, %s",
               r.returncode, r.stderr)

    with res.case("unanswered-query-becomes-unknown"):
        lab.ping("node", "198.18.0.99", wait=1)
        s = d.wait_log(r"event=arp_resolution_failed .*destip=198\.18\.0\.99", timeout=6)
        expect(s, "no arp_resolution_failed line")
        e = d.show().get("198.18.0.99")
        expect(e and e["type"] == "unknown" and e["mac"] is None, "arpha show: %s", e)

    with res.case("lost-kernel-requests-counted"):
        # arphad paused while the kernel sends more requests than the NFLOG
        # socket holds: read + lost (socket_drops) = what the rule logged
        lab.ip("node", "addr", "add", "198.19.0.1/16", "dev", "eth0")
        lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.mcast_solicit=10",
                 "net.ipv4.neigh.eth0.retrans_time_ms=100")
        before, logged = d.stats(), logged_requests(lab)
        os.kill(d.p.pid, signal.SIGSTOP)
        try:
            lab.exec("node", "bash", "-c", "for i in $(seq 1 4); do for j in $(seq 1 250); do "
                     "echo > /dev/udp/198.19.$i.$j/9; done; done 2>/dev/null", check=False,
                     timeout=60)
            time.sleep(1.5)  # 10 tries each, 100 ms apart
        finally:
            os.kill(d.p.pid, signal.SIGCONT)
        lab.kernel_asks("198.19.9.9")  # one more after the loss: its gap shows
        time.sleep(1.5)
        logged = logged_requests(lab) - logged
        after = d.stats()
        read = after["kernel_requests"] - before["kernel_requests"]
        lost = after["socket_drops"] - before["socket_drops"]
        print("# %d requests logged to a paused arphad: %d read, %d counted lost" % (
            logged, read, lost))
        expect(lost > 0, "no request counted lost (logged %d, read %d)", logged, read)
        expect(read + lost == logged, "read %d + lost %d != %d logged", read, lost, logged)
        lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.mcast_solicit=3",
                 "net.ipv4.neigh.eth0.retrans_time_ms=1000")

    res.daemon_checks(lab, alive=d)
res.exit()
