#!/usr/bin/python3
"""A reload that changes VIPs, priorities and ARP entries in place
(issue 16): two arphad nodes on one bridge at 20 ms heartbeats, n1
(priority 200) and n2 (100); a client asks the unchanged VIP vip1
(198.18.0.100) for an answer every millisecond (probe.py) throughout.

  start      vip1, vip2 (198.18.0.101, group g2) and vip3 (198.18.0.102,
             group g3) master on n1
  reload     one SIGHUP on each node with a new file: vip2 removed, vip4
             (198.18.0.103, a new group) added, g3's priority on n2 raised
             to 250 (it preempts), a Static [ARPEntry] added on n1. Then:
             vip1 never moved (no NotifyScript line for it after the
             start, its address on n1 all along, the probe's longest gap
             at most 5 ms beyond the probe's own lateness); vip2's address gone from n1; vip3 moved to n2
             (the new priority asks for it); vip4 master on n1; the
             kernel's table on n1 holds the new entry as PERMANENT
  entries    a second reload changes the entry's MAC (replaced in the
             kernel) and then removes it (gone from the kernel); the
             proxy ARP network added answers for an address in it
  interfaces a reload adds [Interface lan2] (a second link) with a Static
             entry: the entry is in its kernel table and arphad sees the
             ARP on it; a reload without it releases it (the kernel
             answers there again, arphad no longer sees it); vip1 stays
  vmac       a reload adds a VIP with VirtualMAC=yes: its macvlan is made
             and the client reaches it at the virtual MAC; removed, the
             macvlan goes
  track      a reload adds a [Track] of weight 0 to the group n2 holds,
             failing: the group moves to n1; the check recovers: it comes
             back
  refused    a change that needs a restart (NodeID=) is refused with a
             reload_refused line naming it; nothing changes (the states
             and the entry stay, the file's other changes are not applied)
  errors     a file with a mistake: every error logged with its line,
             nothing changes
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402

SUITE = "netns/reload"
need_root(SUITE)
res = Results(SUITE)

GROUP, PORT = "239.192.74.12", 7410
NODES = {"n1": (1, "198.18.0.1", "02:00:00:00:00:01", 200),
         "n2": (2, "198.18.0.2", "02:00:00:00:00:02", 100)}
HOSTS = {r: (ip, mac) for r, (_i, ip, mac, _p) in NODES.items()}
HOSTS["client"] = ("198.18.0.10", "02:00:00:00:00:10")
VIPS = {"vip1": "198.18.0.100", "vip2": "198.18.0.101", "vip3": "198.18.0.102",
        "vip4": "198.18.0.103"}
ENTRY_IP, MAC_A, MAC_B = "198.18.0.50", "02:00:00:00:00:50", "02:00:00:00:00:51"
PROXY_NET, PROXY_IP = "198.18.1.0/24", "198.18.1.7"
LAN2_IP, LAN2_ENTRY, LAN2_ASKER = "198.18.5.1", "198.18.5.50", "198.18.5.9"
VIP5 = "198.18.0.104"


def config(role, keyfile, notify, vips, g3_prio=None, entry_mac=None, proxy=False,
           node_id=None, vip3_extra="", extra=""):
    nid, _ip, _mac, prio = NODES[role]
    text = ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n"
            "[Interface lan]\nDevice=eth0\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=20ms\nDeadInterval=3\n" %
            (node_id or nid, GROUP, PORT, keyfile))
    for name in vips:
        group = {"vip1": "vip1", "vip2": "g2", "vip3": "g3", "vip4": "g4"}[name]
        p = g3_prio if name == "vip3" and g3_prio else prio
        text += ("[VIP %s]\nAddress=%s/24\nInterface=lan\nGroup=%s\nPriority=%d\n"
                 "NotifyScript=%s\n%s" % (name, VIPS[name], group, p, notify,
                                         vip3_extra if name == "vip3" else ""))
    if entry_mac:
        text += "[ARPEntry]\nInterface=lan\nIP=%s\nMAC=%s\nMode=Static\n" % (ENTRY_IP, entry_mac)
    if proxy:
        text += "[ProxyARP]\nNetwork=%s\nInterfaces=lan\n" % PROXY_NET
    return text + extra


def lan2(text):
    """text with a second interface, lan2 on eth1, and a Static entry on it."""
    return text + ("[Interface lan2]\nDevice=eth1\n"
                   "[ARPEntry]\nInterface=lan2\nIP=%s\nMAC=%s\nMode=Static\n" %
                   (LAN2_ENTRY, MAC_A))


def lan2_requests(d):
    for i in d.arpha_json("stats")["interfaces"]:
        if i["interface"] == "lan2":
            return i["counters"].get("rx_requests", 0)
    return None


def addrs(lab, role, dev="eth0"):
    p = lab.ip(role, "-j", "addr", "show", "dev", dev, check=False)
    return {a["local"] for l in json.loads(p.stdout or "[]") for a in l.get("addr_info", [])
            if a.get("family") == "inet"}


def states(d):
    r = d.arpha_json("vip")
    rows = r if isinstance(r, list) else r.get("vips", [])
    return {v["name"]: v["state"] for v in rows}


def wait_states(d, want, timeout=3.0):
    end = time.monotonic() + timeout
    while True:
        got = {r: states(d[r]) for r in want}
        ok = all(got[r].get(k) == v for r in want for k, v in want[r].items())
        if ok or time.monotonic() > end:
            return ok, got
        time.sleep(0.02)


def kernel_entry(lab, role, ip, dev="eth0"):
    p = lab.ip(role, "-j", "neigh", "show", "dev", dev, check=False)
    for n in json.loads(p.stdout or "[]"):
        if n.get("dst") == ip:
            return n
    return None


def write(d, text):
    with open(d.conf, "w") as f:
        f.write(text.replace("@SOCK@", d.sock))


with Lab("reload", hosts=HOSTS) as lab:
    key = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", key])
    notify, scripts, d = {}, {}, {}
    for r in NODES:
        scripts[r], notify[r] = vipnet.notify_script(lab, r)
        d[r] = lab.arphad(r, config=config(r, key, scripts[r], ("vip1", "vip2", "vip3")),
                          name=r)

    with res.case("start"):
        ok, st = wait_states(d, {"n1": {"vip1": "master", "vip2": "master", "vip3": "master"},
                                 "n2": {"vip1": "backup", "vip2": "backup", "vip3": "backup"}},
                             timeout=10)
        expect(ok, "VIP states at start: %s", st)
    time.sleep(1.0)  # the start's NotifyScripts ran
    probe = vipnet.Probe(lab, "client", target=VIPS["vip1"], duration=60)
    expect(probe.wait_answers(steady=0.5), "the probe got no steady answers from vip1")
    t0 = time.time()

    t_reload = time.monotonic()
    with res.case("reload/vips-priority-entry"):
        new = ("vip1", "vip3", "vip4")
        m = {r: d[r].log_mark() for r in NODES}
        write(d["n1"], config("n1", key, scripts["n1"], new, entry_mac=MAC_A))
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log("event=reload action=done", since=m["n1"], timeout=2),
               "n1: no reload done line")
        time.sleep(0.3)
        write(d["n2"], config("n2", key, scripts["n2"], new, g3_prio=250))
        d["n2"].p.send_signal(signal.SIGHUP)
        expect(d["n2"].wait_log("event=reload action=done", since=m["n2"], timeout=2),
               "n2: no reload done line")
        ok, st = wait_states(d, {"n1": {"vip1": "master", "vip3": "backup", "vip4": "master"},
                                 "n2": {"vip1": "backup", "vip3": "master", "vip4": "backup"}},
                             timeout=3)
        expect(ok, "VIP states after the reload: %s", st)
        a1, a2 = addrs(lab, "n1"), addrs(lab, "n2")
        expect(VIPS["vip1"] in a1 and VIPS["vip1"] not in a2, "vip1 moved: n1 %s n2 %s", a1, a2)
        expect(VIPS["vip2"] not in a1, "vip2 (removed) still on n1: %s", a1)
        expect(VIPS["vip3"] in a2 and VIPS["vip3"] not in a1, "vip3 did not move: %s %s", a1, a2)
        expect(VIPS["vip4"] in a1, "vip4 (added) not on n1: %s", a1)
        expect("vip2" not in states(d["n1"]), "vip2 still listed: %s", states(d["n1"]))
        n = kernel_entry(lab, "n1", ENTRY_IP)
        expect(n and n.get("lladdr") == MAC_A and "PERMANENT" in n.get("state", []),
               "n1's kernel entry for %s: %s", ENTRY_IP, n)
        time.sleep(0.3)
        moved = {r: [x for x in vipnet.read_states(notify[r]) if x[0] >= t0] for r in NODES}
        # the NotifyScript gets the VIP's name: vip1's lines after the start mean it moved
        lines = {r: open(notify[r]).read().split("\n") for r in NODES}
        vip1 = {r: [l for l in lines[r] if " vip1 " in l and float(l.split()[0]) >= t0]
                for r in NODES}
        expect(not any(vip1.values()), "vip1 changed state: %s", vip1)
        expect(moved["n2"], "n2 recorded no state change (vip3 should have moved)")

    with res.case("entries/replace-and-remove"):
        m1 = d["n1"].log_mark()
        write(d["n1"], config("n1", key, scripts["n1"], ("vip1", "vip3", "vip4"),
                              entry_mac=MAC_B, proxy=True))
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log("event=reload action=done", since=m1, timeout=2),
               "n1: no reload done line")
        n = kernel_entry(lab, "n1", ENTRY_IP)
        expect(n and n.get("lladdr") == MAC_B and "PERMANENT" in n.get("state", []),
               "after the MAC change: %s", n)
        ag = lab.agent("client")
        try:
            cip, cmac = HOSTS["client"]
            ans = ag.exchange([request(cmac, cip, PROXY_IP)],
                              is_reply(spa=PROXY_IP, sha=NODES["n1"][2]), timeout=1.0)
            expect(ans, "no proxy ARP answer for %s after the reload", PROXY_IP)
        finally:
            ag.close()
        m1 = d["n1"].log_mark()
        write(d["n1"], config("n1", key, scripts["n1"], ("vip1", "vip3", "vip4")))
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log("event=reload action=done", since=m1, timeout=2),
               "n1: no reload done line")
        n = kernel_entry(lab, "n1", ENTRY_IP)
        expect(not n or "PERMANENT" not in n.get("state", []),
               "the removed entry is still in the kernel: %s", n)

    with res.case("interfaces/add-and-remove"):
        # a second link on n1: eth1, its far end eth1p in the same namespace
        lab.ip("n1", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
        lab.ip("n1", "addr", "add", LAN2_IP + "/24", "dev", "eth1")
        lab.ip("n1", "link", "set", "eth1", "up")
        lab.ip("n1", "link", "set", "eth1p", "up")
        base = config("n1", key, scripts["n1"], ("vip1", "vip3", "vip4"))
        m1 = d["n1"].log_mark()
        write(d["n1"], lan2(base))
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log("event=reload action=done", since=m1, timeout=2),
               "n1: no reload done line")
        n = kernel_entry(lab, "n1", LAN2_ENTRY, dev="eth1")
        expect(n and "PERMANENT" in n.get("state", []), "lan2's entry in the kernel: %s", n)
        ag = lab.agent("n1", iface="eth1p")
        try:
            ask = [request("02:00:00:00:05:09", LAN2_ASKER, LAN2_IP)]
            before = lan2_requests(d["n1"])
            expect(before is not None, "lan2 is not in arpha stats after the reload")
            ans = ag.exchange(ask, is_reply(spa=LAN2_IP), timeout=1.0)
            expect(ans, "no answer on eth1")
            after = lan2_requests(d["n1"])
            expect(after is not None and after > (before or 0),
                   "arphad did not see the request on lan2: %s -> %s", before, after)
            m1 = d["n1"].log_mark()
            write(d["n1"], base)
            d["n1"].p.send_signal(signal.SIGHUP)
            expect(d["n1"].wait_log("event=reload iface=lan2 device=eth1 action=release",
                                    since=m1, timeout=2), "no release line for lan2")
            expect(d["n1"].wait_log("event=reload action=done", since=m1, timeout=2),
                   "n1: no reload done line")
            # not managed any more: the kernel answers there, arphad sees nothing
            ans = ag.exchange(ask, is_reply(spa=LAN2_IP), timeout=1.0)
            expect(ans, "nobody answers on eth1 once it is released")
            expect(lan2_requests(d["n1"]) is None, "lan2 still in arpha stats: %s",
                   lan2_requests(d["n1"]))
            expect(VIPS["vip1"] in addrs(lab, "n1"), "vip1 left n1")
        finally:
            ag.close()
            lab.ip("n1", "link", "del", "eth1", check=False)

    with res.case("vmac/add-and-remove"):
        base = config("n1", key, scripts["n1"], ("vip1", "vip3", "vip4"))
        vip5 = ("[VIP vip5]\nAddress=%s/24\nInterface=lan\nVirtualMAC=yes\nVRID=55\n"
                "Priority=200\n" % VIP5)
        m1 = d["n1"].log_mark()
        write(d["n1"], base + vip5)
        d["n1"].p.send_signal(signal.SIGHUP)
        ok, st = wait_states(d, {"n1": {"vip5": "master", "vip1": "master"}}, timeout=3)
        expect(ok, "vip5 (VirtualMAC=yes) not master on n1 after the reload: %s", st)
        expect(VIP5 in addrs(lab, "n1", dev="vm55.eth0"), "vip5 is not on vm55.eth0: %s",
               addrs(lab, "n1", dev="vm55.eth0"))
        r = lab.exec("client", "ping", "-c1", "-W1", VIP5, check=False)
        expect(r.returncode == 0, "the client cannot reach vip5")
        n = kernel_entry(lab, "client", VIP5)
        expect(n and n.get("lladdr") == "00:00:5e:00:01:37",
               "the client's entry for vip5 is not the virtual MAC: %s", n)
        m1 = d["n1"].log_mark()
        write(d["n1"], base)
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log("event=reload vip=vip5 .*action=release", since=m1, timeout=2),
               "no release line for vip5")
        time.sleep(0.2)
        links = lab.ip("n1", "-j", "link", "show", check=False).stdout
        expect("vm55.eth0" not in links, "the macvlan of vip5 is still there")
        expect(VIPS["vip1"] in addrs(lab, "n1"), "vip1 left n1")

    with res.case("track/added-fails-and-recovers"):
        # n2 holds g3 (priority 250): a [Track] of weight 0 added by a reload puts the
        # group in fault there (it moves to n1), and its recovery takes it back
        flag = os.path.join(lab.tmp, "maint")
        with open(flag, "w") as f:
            f.write("1\n")
        track = "[Track maint]\nFile=%s\nInterval=100ms\n" % flag
        n2conf = config("n2", key, scripts["n2"], ("vip1", "vip3", "vip4"), g3_prio=250,
                        vip3_extra="Track=maint:0\n", extra=track)
        write(d["n2"], n2conf)
        d["n2"].p.send_signal(signal.SIGHUP)
        ok, st = wait_states(d, {"n1": {"vip3": "master"}, "n2": {"vip3": "fault"}}, timeout=3)
        expect(ok, "g3 did not move to n1 when its new check failed on n2: %s", st)
        with open(flag, "w") as f:
            f.write("0\n")
        ok, st = wait_states(d, {"n1": {"vip3": "backup"}, "n2": {"vip3": "master"}}, timeout=3)
        expect(ok, "g3 did not come back to n2 when its check recovered: %s", st)
        expect(VIPS["vip1"] in addrs(lab, "n1"), "vip1 left n1")

    with res.case("refused/nodeid"):
        m1 = d["n1"].log_mark()
        before = states(d["n1"])
        write(d["n1"], config("n1", key, scripts["n1"], ("vip1", "vip3"), node_id=9,
                              entry_mac=MAC_A))
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log(r"event=reload_refused reason=.*NodeID", since=m1, timeout=2),
               "no reload_refused line naming NodeID")
        expect(d["n1"].wait_log("need a restart of arphad: nothing changed", since=m1,
                                timeout=1), "no nothing-changed line")
        time.sleep(0.2)
        expect(states(d["n1"]) == before, "states changed: %s -> %s", before, states(d["n1"]))
        expect(VIPS["vip4"] in addrs(lab, "n1"), "vip4 was removed by a refused reload")
        expect(kernel_entry(lab, "n1", ENTRY_IP) is None or
               "PERMANENT" not in kernel_entry(lab, "n1", ENTRY_IP).get("state", []),
               "a refused reload added the entry")

    with res.case("errors/bad-file-changes-nothing"):
        m1 = d["n1"].log_mark()
        before = states(d["n1"])
        write(d["n1"], config("n1", key, scripts["n1"], ("vip1",)) +
              "[VIP broken]\nAddress=198.18.0.300/24\nInterface=nosuch\n")
        d["n1"].p.send_signal(signal.SIGHUP)
        expect(d["n1"].wait_log(r"event=reload_failed error=.*:\d+: ", since=m1, timeout=2),
               "no reload_failed line with FILE:LINE")
        time.sleep(0.2)
        expect(states(d["n1"]) == before, "states changed: %s -> %s", before, states(d["n1"]))

    with res.case("probe/vip1-no-gap"):
        r = probe.stop()
        for role in NODES:
            us = [l.split(" us=")[1].split()[0]
                  for l in d[role].log_lines("event=reload action=done")]
            info("%s: reloads took %s us" % (role, ", ".join(us)))
        gap = r["longest_gap_ms"]
        info(vipnet.gap_line("client", r) + "; at %+.3f s from the first reload, the "
             "probe up to %.1f ms late" % (r["gap_start"] - t_reload, r["late_max_ms"]))
        # a probe that wakes late stretches the gap it measures by as much: that part
        # is the machine's, not the service's
        expect(gap - r["late_max_ms"] <= 5.0,
               "the longest gap of vip1's answers: %.1f ms, the probe up to %.1f ms late "
               "(at most 5 ms beyond that)", gap, r["late_max_ms"])
        expect(r["received"] > 0.9 * r["sent"], "answered %d of %d", r["received"], r["sent"])

    res.daemon_checks(lab)
res.exit()
