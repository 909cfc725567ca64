#!/usr/bin/python3
"""The kernel guard follows the device, not its name (report item 3).

arphad stops the kernel's own ARP input on a managed device with an
nftables rule, and follows the device by its index. Renaming the device
(eth0 -> lan0) must not switch that rule off: a spoofed gratuitous reply
and request for the client's address must leave the node's kernel table
with the client's true MAC, and arphad must go on answering ARP. The same
after renaming it back, after the device is deleted and created again, and
after that new device is renamed. The rename is logged (notice,
event=device_renamed) and `arpha stats` shows the device's name now."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/guard"
need_root(SUITE)
res = Results(SUITE)


def neigh_on(lab, dev, role="node"):
    try:
        return lab.neigh(role, dev=dev)
    except CmdError:
        return {}


def rename(lab, old, new):
    lab.ip("node", "link", "set", old, "down")
    lab.ip("node", "link", "set", old, "name", new)
    lab.ip("node", "link", "set", new, "up")


def ifindex(lab, dev):
    p = lab.ip("node", "-j", "link", "show", "dev", dev)
    return json.loads(p.stdout)[0]["ifindex"]


def replug(lab, delete=True):
    """Delete the node's eth0 (the veth pair to the switch) and create it again."""
    if delete:
        lab.ip("sw", "link", "del", "p-node")
    lab.ip("sw", "link", "add", "p-node", "type", "veth", "peer", "name", "eth0", "netns",
           lab.ns("node"))
    lab.ip("node", "link", "set", "eth0", "address", NODE_MAC)
    lab.ip("node", "addr", "add", "%s/%d" % (NODE_IP, PREFIX_LEN), "dev", "eth0")
    lab.ip("sw", "link", "set", "p-node", "master", "br0")
    lab.ip("sw", "link", "set", "p-node", "type", "bridge_slave", "learning", "off")
    run(["bridge", "-n", lab.ns("sw"), "fdb", "replace", NODE_MAC, "dev", "p-node", "master",
         "static"])
    lab.ip("sw", "link", "set", "p-node", "up")
    lab.ip("node", "link", "set", "eth0", "up")


def spoof_fails(lab, atk, dev):
    """The node learns the client again, the attacker claims the client's
    address (gratuitous reply and request): the kernel must keep the true MAC."""
    expect(lab.ping("node", CLIENT_IP, count=3), "the node cannot ping the client on %s", dev)
    e = neigh_on(lab, dev).get(CLIENT_IP)
    expect(e and e["lladdr"] == CLIENT_MAC, "no kernel entry for the client on %s: %s", dev, e)
    atk.send(garp_reply(ATTACKER_MAC, CLIENT_IP), garp_request(ATTACKER_MAC, CLIENT_IP))
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        e = neigh_on(lab, dev).get(CLIENT_IP)
        expect(not e or e.get("lladdr") != ATTACKER_MAC,
               "the kernel on %s took the attacker's MAC for %s: %s (the guard is off)", dev,
               CLIENT_IP, e)
        time.sleep(0.05)
    expect(e and e.get("lladdr") == CLIENT_MAC, "kernel entry for the client on %s: %s", dev, e)


def still_answered(lab):
    """The client forgets the node and asks again: arphad answers for the node."""
    lab.flush_neigh("client")
    # up to three tries: a device just plugged in may take a moment to carry frames
    expect(lab.ping("client", NODE_IP, count=3),
           "the client cannot reach the node (ARP unanswered)")
    expect(lab.ping("node", CLIENT_IP, count=3), "the node cannot reach the client")


def stats_device(d):
    for i in d.arpha_json("stats")["interfaces"]:
        if i["interface"] == "lan":
            return i.get("device")
    return None


with Lab("guard") as lab:
    d = lab.arphad()
    atk = lab.agent("attacker")

    with res.case("item3/baseline-spoof-fails"):
        spoof_fails(lab, atk, "eth0")

    idx = ifindex(lab, "eth0")
    mark = d.log_mark()
    rename(lab, "eth0", "lan0")

    with res.case("item3/rename-logged"):
        want = (r"notice: event=device_renamed recvif=lan old=eth0 new=lan0 ifindex=%d\b" % idx)
        expect(d.wait_log(want, mark), "no log line matching %r; log since: %s", want,
               d.log_since(mark)[-800:])

    with res.case("item3/renamed-spoof-fails"):
        spoof_fails(lab, atk, "lan0")

    with res.case("item3/renamed-still-answered"):
        still_answered(lab)

    with res.case("item3/renamed-stats-show-device"):
        expect(stats_device(d) == "lan0", "arpha stats: device %s, expected lan0",
               stats_device(d))

    mark = d.log_mark()
    rename(lab, "lan0", "eth0")

    with res.case("item3/renamed-back-spoof-fails"):
        spoof_fails(lab, atk, "eth0")
        still_answered(lab)
        want = r"event=device_renamed recvif=lan old=lan0 new=eth0 ifindex=%d\b" % idx
        expect(d.wait_log(want, mark), "no log line matching %r", want)

    with res.case("item3/recreated-spoof-fails"):
        mark = d.log_mark()
        replug(lab)
        idx2 = ifindex(lab, "eth0")
        expect(d.wait_log(r"event=iface_attach iface=lan device=eth0 ifindex=%d\b" % idx2, mark, timeout=3),
               "arphad did not take the new eth0; log since: %s", d.log_since(mark)[-800:])
        spoof_fails(lab, atk, "eth0")
        still_answered(lab)

    with res.case("item3/recreated-renamed-spoof-fails"):
        # the guard must follow the new device's index, not the first one's
        mark = d.log_mark()
        rename(lab, "eth0", "lan0")
        spoof_fails(lab, atk, "lan0")
        still_answered(lab)
        want = r"event=device_renamed recvif=lan old=eth0 new=lan0 ifindex=%d\b" % idx2
        expect(d.wait_log(want, mark), "no log line matching %r", want)
        expect(stats_device(d) == "lan0", "arpha stats: device %s", stats_device(d))

    with res.case("item3/name-taken-warned"):
        # a new device takes the old name while the managed one is lan0
        m = d.log_mark()
        lab.ip("node", "link", "add", "eth0", "type", "veth", "peer", "name", "gx0")
        idx3 = ifindex(lab, "eth0")
        want = r"warning: event=device_name_taken recvif=lan device=eth0 ifindex=%d " % idx3
        expect(d.wait_log(want, m), "no log line matching %r; log since: %s", want,
               d.log_since(m)[-800:])
        spoof_fails(lab, atk, "lan0")

    with res.case("item3/managed-deleted-name-taker-managed"):
        # the renamed device goes: the one with the configured name is taken
        m = d.log_mark()
        lab.ip("sw", "link", "del", "p-node")
        want = r"event=iface_attach iface=lan device=eth0 ifindex=%d\b" % idx3
        expect(d.wait_log(want, m, timeout=3), "no log line matching %r; log since: %s", want,
               d.log_since(m)[-800:])
        expect(stats_device(d) == "eth0", "arpha stats: device %s", stats_device(d))
        lab.ip("node", "link", "del", "eth0")
        m = d.log_mark()
        replug(lab, delete=False)
        want = r"event=iface_attach iface=lan device=eth0 ifindex=%d\b" % ifindex(lab, "eth0")
        expect(d.wait_log(want, m, timeout=3), "no log line matching %r", want)
        spoof_fails(lab, atk, "eth0")
        still_answered(lab)

    res.daemon_checks(lab, alive=d)
res.exit()
