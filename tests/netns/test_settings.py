#!/usr/bin/python3
"""Every [ARP] setting, on the wire: each case runs once against arphad with
the default settings and once with a non-default value, and asserts the
difference (kernel table, arpha show, frames answered, counters, log)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/settings"
need_root(SUITE)
res = Results(SUITE)

OTHER_MAC = "02:00:00:00:00:99"
MCAST_MAC = "01:00:5e:00:00:42"
WINDOW = 0.5  # seconds to wait for something that must not happen


def host_mac(n):
    return "02:00:00:00:00:%02x" % n


class Ctx:
    def __init__(self, lab, d, mode):
        self.lab, self.d, self.mode = lab, d, mode
        self.atk = lab.agent("attacker")
        self.on = mode == "set"
        self.followups = []  # (case name, function): more cases on the same daemon

    def kernel_asks(self, ip):
        """The node's kernel sends a request for ip (it has no entry for ip)."""
        self.lab.kernel_asks(ip)

    def counter_delta(self, before, name):
        return self.d.stats()[name] - before[name]

    def answers(self, frames, pred, count=1, expect_some=True):
        if expect_some:
            return self.atk.exchange(frames, pred, count=count, linger=0.3)
        return self.atk.silence(frames, pred, window=WINDOW)


def answer_about(ip, **want):
    def pred(f):
        return (f.incoming and f.ok and f.op == 2 and f.spa == ip and f.eth_src == NODE_MAC and
                all(getattr(f, k) == v for k, v in want.items()))
    return pred


# ---------------------------------------------------------------- the cases
# each: (setting, value, function(ctx), base [ARP] for both runs, extra [ARP]
# for the non-default run, [ARPEntry]s)

def c_unsolicited(c):
    ip, mac = "198.18.0.21", host_mac(0x21)
    before, mark = c.d.stats(), c.d.log_mark()
    c.atk.send(garp_reply(mac, ip))
    if c.on:
        e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == mac)
        expect(e and e.get("lladdr") == mac, "not learned into the kernel: %s", e)
        s = c.d.show().get(ip)
        expect(s and s["type"] == "dynamic" and s["mac"] == mac, "arpha show: %s", s)
        expect(c.counter_delta(before, "learned") == 1, "learned did not grow")
        expect(not c.d.log_lines("unsolicited_arp_reply", mark), "Accept logged")
    else:
        # the default, Verify: the claimant is asked; nobody is there to answer
        time.sleep(WINDOW)
        expect(ip not in c.lab.neigh(), "learned into the kernel: %s", c.lab.neigh())
        expect(ip not in c.d.show(), "in arpha show")
        expect(c.counter_delta(before, "verify_started") == 1, "no check started")
        expect(c.counter_delta(before, "verify_unanswered") == 1, "the check was answered")
        expect(c.d.wait_log(r"event=arp_verify action=ask .*reason=no_entry "
                            r".*srcip=198\.18\.0\.21 ", mark), "not logged")


def c_requests(c):
    ip, mac = "198.18.0.22", host_mac(0x22)
    before = c.d.stats()
    got = c.answers([request(mac, ip, NODE_IP)], answer_about(NODE_IP, eth_dst=mac, tha=mac))
    expect(len(got) == 1, "the request was not answered once: %s", got)
    if c.on:
        e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == mac)
        expect(e and e.get("lladdr") == mac, "not learned from the request: %s", e)
        expect(c.d.show().get(ip, {}).get("mac") == mac, "arpha show: %s", c.d.show().get(ip))
    else:
        expect(ip not in c.lab.neigh(), "learned from a request: %s", c.lab.neigh())
        expect(ip not in c.d.show(), "in arpha show")
        expect(c.counter_delta(before, "request_not_learned") == 1, "request_not_learned")


def c_changes(c):
    ip, m1, m2 = "198.18.0.30", host_mac(0x31), host_mac(0x32)
    c.kernel_asks(ip)
    c.atk.send(reply(m1, ip, NODE_MAC, NODE_IP))
    e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == m1)
    expect(e and e.get("lladdr") == m1, "setup: the first solicited reply not learned: %s", e)
    before, mark = c.d.stats(), c.d.log_mark()
    # the kernel asks again only when it has no entry: arphad keeps its own
    c.lab.ip("node", "neigh", "del", ip, "dev", "eth0", check=False)
    c.kernel_asks(ip)
    c.atk.send(reply(m2, ip, NODE_MAC, NODE_IP))
    if c.on:
        time.sleep(WINDOW)
        e = c.lab.neigh().get(ip)
        expect(not e or e.get("lladdr") != m2, "kernel entry changed: %s", e)
        expect(c.d.show().get(ip, {}).get("mac") == m1, "arpha show: %s", c.d.show().get(ip))
        expect(c.counter_delta(before, "drop_change") == 1, "drop_change did not grow")
        expect(not c.d.log_lines("arp_changed", mark), "Drop logged: %s", c.d.log_since(mark))
    else:
        e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == m2)
        expect(e and e.get("lladdr") == m2, "the change (AcceptLog) did not reach the kernel: %s", e)
        expect(c.counter_delta(before, "changed") == 1, "changed did not grow")
        expect(c.d.wait_log(r"event=arp_changed action=accept rule=ARPChanges .*srcenet=%s "
                            r"srcip=198\.18\.0\.30 .*oldenet=%s" % (m2, m1), mark),
               "no arp_changed line: %s", c.d.log_since(mark))


STATIC_IP, STATIC_MAC = "198.18.0.40", host_mac(0x40)


def c_static(c):
    e = c.lab.neigh().get(STATIC_IP)
    expect(e and e.get("lladdr") == STATIC_MAC and "PERMANENT" in e["state"],
           "the Static entry is not PERMANENT in the kernel: %s", e)
    before, mark = c.d.stats(), c.d.log_mark()
    c.atk.send(garp_reply(ATTACKER_MAC, STATIC_IP), request(ATTACKER_MAC, STATIC_IP, NODE_IP))
    time.sleep(WINDOW)
    e = c.lab.neigh().get(STATIC_IP)
    expect(e and e.get("lladdr") == STATIC_MAC and "PERMANENT" in e["state"],
           "the Static entry changed: %s", e)
    s = c.d.show().get(STATIC_IP)
    expect(s and s["type"] == "static" and s["mac"] == STATIC_MAC, "arpha show: %s", s)
    expect(c.counter_delta(before, "drop_static_change") == 2, "drop_static_change grew by %d",
           c.counter_delta(before, "drop_static_change"))
    lines = c.d.log_lines(r"event=static_arp_changed action=drop .*cfgenet=%s" % STATIC_MAC, mark)
    if c.on:
        expect(not lines, "Drop logged: %s", lines)
    else:
        lines = c.d.wait_log(r"event=static_arp_changed action=drop .*cfgenet=%s" % STATIC_MAC,
                             mark)
        expect(lines, "DropLog did not log: %s", c.d.log_since(mark))


def c_enet(c):
    before, mark = c.d.stats(), c.d.log_mark()
    got = c.answers([request(OTHER_MAC, ATTACKER_IP, NODE_IP, eth_src=ATTACKER_MAC)],
                    answer_about(NODE_IP), expect_some=c.on)
    if c.on:
        expect(len(got) == 1 and got[0].eth_dst == OTHER_MAC and got[0].tha == OTHER_MAC,
               "expected one answer to the ARP sender %s: %s", OTHER_MAC, got)
        expect(c.d.wait_log(r"event=enet_sender_mismatch action=accept rule=ARPMatchEnetSender",
                            mark), "Log did not log")
    else:
        expect(not got, "answered: %s", got)
        expect(c.counter_delta(before, "drop_enet_sender") == 1, "drop_enet_sender")


def c_multicast(c):
    before, mark = c.d.stats(), c.d.log_mark()
    got = c.answers([request(MCAST_MAC, ATTACKER_IP, NODE_IP, eth_src=ATTACKER_MAC)],
                    answer_about(NODE_IP), expect_some=c.on)
    if c.on:
        expect(len(got) == 1 and got[0].eth_dst == MCAST_MAC,
               "expected one answer to %s: %s", MCAST_MAC, got)
    else:
        expect(not got, "answered: %s", got)
        expect(c.counter_delta(before, "drop_multicast") == 1, "drop_multicast")
        expect(c.d.wait_log(r"event=arp_multicast_sender action=drop rule=ARPMulticast", mark),
               "not logged")


def c_broadcast(c):
    before, mark = c.d.stats(), c.d.log_mark()
    got = c.answers([request(BCAST, ATTACKER_IP, NODE_IP, eth_src=ATTACKER_MAC)],
                    answer_about(NODE_IP), expect_some=c.on)
    if c.on:
        expect(len(got) == 1 and got[0].eth_dst == BCAST, "expected one broadcast answer: %s", got)
        expect(c.d.wait_log(r"event=arp_broadcast_sender action=accept rule=ARPBroadcast", mark),
               "Log did not log")
    else:
        expect(not got, "answered: %s", got)
        expect(c.counter_delta(before, "drop_broadcast") == 1, "drop_broadcast")
        expect(c.d.wait_log(r"event=arp_broadcast_sender action=drop rule=ARPBroadcast", mark),
               "not logged")


def c_nosender(c):
    before, mark = c.d.stats(), c.d.log_mark()
    got = c.answers([probe(ATTACKER_MAC, NODE_IP)], answer_about(NODE_IP), expect_some=c.on)
    if c.on:
        expect(len(got) == 1 and got[0].eth_dst == ATTACKER_MAC and got[0].tha == ATTACKER_MAC
               and got[0].tpa == "0.0.0.0", "expected one answer to the probe: %s", got)
        expect(ATTACKER_IP not in c.d.show(), "a probe taught something")
    else:
        expect(not got, "a probe was answered: %s", got)
        expect(c.counter_delta(before, "drop_no_sender") == 1, "drop_no_sender")
        expect(c.d.wait_log(r"event=arp_query_no_sender action=drop rule=ARPQueryNoSender", mark),
               "not logged")


def c_senderip(c):
    far = "198.19.0.5"  # in 198.18.0.0/15, outside the interface's 198.18.0.0/24
    before, mark = c.d.stats(), c.d.log_mark()
    got = c.answers([request(ATTACKER_MAC, far, NODE_IP)], answer_about(NODE_IP, tpa=far),
                    expect_some=c.on)
    if c.on:
        expect(len(got) == 1, "expected one answer to %s: %s", far, got)
    else:
        expect(not got, "answered: %s", got)
        expect(c.counter_delta(before, "drop_sender_ip") == 1, "drop_sender_ip")
        expect(c.d.wait_log(r"event=arp_sender_ip action=drop rule=ARPSenderIP .*srcip=%s" %
                            far.replace(".", r"\."), mark), "not logged")


def c_collision(c):
    c.lab.flush_neigh("client")
    expect(c.lab.ping("client", NODE_IP), "setup: client cannot ping the node")
    before, mark = c.d.stats(), c.d.log_mark()
    garps = lambda f: (f.incoming and f.ok and f.gratuitous and f.spa == NODE_IP and  # noqa
                       f.eth_src == NODE_MAC and f.sha == NODE_MAC)
    got = c.answers([garp_request(ATTACKER_MAC, NODE_IP)], garps, count=2, expect_some=c.on)
    expect(c.counter_delta(before, "drop_ip_collision") == 1, "drop_ip_collision")
    ce = c.lab.wait_neigh(NODE_IP, lambda e: e and e.get("lladdr") == (
        NODE_MAC if c.on else ATTACKER_MAC), role="client", timeout=1.0)
    if c.on:
        expect(sorted(f.op for f in got) == [1, 2], "expected both forms of gratuitous ARP "
               "for %s from the node: %s", NODE_IP, got)
        expect(c.d.wait_log(r"event=ip_collision action=drop_announce rule=ARPIPCollision .*"
                            r"srcenet=02:00:00:00:00:66 srcip=198\.18\.0\.1 ", mark), "not logged")
        expect(ce and ce.get("lladdr") == NODE_MAC,
               "the client's entry for the node is %s after the reclaim", ce)
    else:
        expect(not got, "announced with Drop: %s", got)
        expect(c.d.wait_log(r"event=ip_collision action=drop rule=ARPIPCollision", mark),
               "not logged")
        # the client, a plain Linux host, believed the attacker: what
        # DropAnnounce repairs
        expect(ce and ce.get("lladdr") == ATTACKER_MAC, "client's entry: %s", ce)


def c_ratelimit(c):
    before, mark = c.d.stats(), c.d.log_mark()
    pred = answer_about(NODE_IP)
    m = c.atk.mark()
    # 200 requests within about 0.1 s, in slices of 20 so that no socket
    # buffer on the way overflows: only the policy may drop them
    for _ in range(10):
        c.atk.send([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)] * 20)
        time.sleep(0.01)
    if c.on:
        time.sleep(0.5)
        ans = c.counter_delta(before, "answered")
        drops = c.counter_delta(before, "drop_rate_limit")
        expect(drops > 0, "drop_rate_limit did not grow (answered %d)", ans)
        expect(ans <= 25 and ans + drops == 200, "answered %d, rate-limited %d of 200", ans, drops)
        expect(len(c.atk.frames(m, pred)) == ans, "frames seen %d, counter %d",
               len(c.atk.frames(m, pred)), ans)
        expect(c.d.wait_log(r"event=arp_rate_limited action=drop rule=ARPRateLimit .*limit=10",
                            mark), "not logged")
        time.sleep(1.0)  # the bucket refills at 10 frames/s
        got = c.answers([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)], pred)
        expect(len(got) == 1, "no answer after the burst: %s", got)

        def log_accounts_for_drops():
            # "arp_rate_limited (once a second with the number dropped)": once
            # the flood is over, the lines add up to what was dropped
            def logged():
                return sum(int(x) for x in re.findall(
                    r"event=arp_rate_limited .*dropped=(\d+)", c.d.log_since(mark)))
            end = time.monotonic() + 1.5
            while logged() < drops and time.monotonic() < end:
                time.sleep(0.1)
            expect(logged() == drops, "%d frames were rate-limited, the log reports %d (%s)",
                   drops, logged(), c.d.log_lines("arp_rate_limited", mark))
        c.followups.append(("log-reports-every-drop", log_accounts_for_drops))
    else:
        got = c.atk.wait(pred, m, count=200, timeout=5)
        expect(len(got) == 200, "%d of 200 requests answered", len(got))
        expect(c.counter_delta(before, "drop_rate_limit") == 0, "rate-limited with 0")


def c_expire_unknown(c):
    ip, mac = "198.18.0.35", host_mac(0x35)
    # the kernel asks once (not again after a second, which would renew the query)
    c.lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.mcast_solicit=1")
    try:
        c.kernel_asks(ip)
        time.sleep(1.4)  # past ExpireUnknown=1, within the default 3
    finally:
        c.lab.exec("node", "sysctl", "-qw", "net.ipv4.neigh.eth0.mcast_solicit=3")
    before, mark = c.d.stats(), c.d.log_mark()
    c.atk.send(reply(mac, ip, NODE_MAC, NODE_IP))
    if c.on:
        time.sleep(WINDOW)
        e = c.lab.neigh().get(ip)
        expect(not e or not e.get("lladdr"), "a late reply was learned: %s", e)
        # unsolicited: the default, Verify, asks the claimant (nobody answers here)
        expect(c.counter_delta(before, "verify_started") == 1, "not judged unsolicited")
    else:
        e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == mac)
        expect(e and e.get("lladdr") == mac, "a reply 1.4 s after the query was not learned: %s", e)


def c_expire(c):
    ip, mac = "198.18.0.36", host_mac(0x36)
    c.kernel_asks(ip)
    c.atk.send(reply(mac, ip, NODE_MAC, NODE_IP))
    e = c.lab.wait_neigh(ip, lambda e: e and e.get("lladdr") == mac)
    expect(e and e.get("lladdr") == mac, "setup: not learned: %s", e)
    s = c.d.show().get(ip)
    if c.on:
        expect(s and s["expires"] in (1, 2), "expires: %s", s)
        e = c.lab.wait_neigh(ip, lambda e: not e or not e.get("lladdr"), timeout=4.0)
        expect(not e or not e.get("lladdr"), "still in the kernel after Expire=2: %s", e)
        expect(ip not in c.d.show(), "still in arpha show")
        expect(c.d.stats()["expired"] >= 1, "expired counter")
    else:
        expect(s and 895 <= s["expires"] <= 900, "expires: %s", s)


def c_cachesize(c):
    ips = ["198.18.0.%d" % n for n in range(101, 131)]
    before = c.d.stats()
    c.atk.send([garp_reply("02:00:00:01:00:%02x" % i, ip) for i, ip in enumerate(ips)])
    if c.on:
        deadline = time.monotonic() + 3
        while c.counter_delta(before, "learned") < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        s = c.d.show()
        mine = [ip for ip in ips if ip in s]
        expect(len(s) <= 16, "arpha show has %d entries with CacheSize=16", len(s))
        expect(c.counter_delta(before, "evicted") >= 14, "evicted grew by %d",
               c.counter_delta(before, "evicted"))
        k = c.lab.neigh()
        kin = [ip for ip in ips if k.get(ip, {}).get("lladdr")]
        expect(len(kin) <= 16 and set(kin) == set(mine),
               "kernel holds %d of them (%s), arphad %d (%s)", len(kin), kin, len(mine), mine)
        expect(ips[-1] in mine, "the newest entry was evicted")
        got = c.answers([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)], answer_about(NODE_IP))
        expect(len(got) == 1, "no answer with a full cache")
    else:
        deadline = time.monotonic() + 3
        while len([ip for ip in ips if ip in c.d.show()]) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        s = c.d.show()
        expect(all(ip in s for ip in ips), "only %d of 30 learned", len([i for i in ips if i in s]))


CASES = [
    ("UnsolicitedARPReplies", "Accept", c_unsolicited, {}, {}, []),
    ("ARPRequests", "Accept", c_requests, {}, {}, []),
    ("ARPChanges", "Drop", c_changes, {}, {}, []),
    ("StaticARPChanges", "Drop", c_static, {}, {},
     [{"IP": STATIC_IP, "Mode": "Static", "MAC": STATIC_MAC}]),
    ("ARPMatchEnetSender", "Log", c_enet, {}, {}, []),
    ("ARPMulticast", "Accept", c_multicast, {}, {"ARPMatchEnetSender": "Ignore"}, []),
    ("ARPBroadcast", "Log", c_broadcast, {}, {"ARPMatchEnetSender": "Ignore"}, []),
    ("ARPQueryNoSender", "Accept", c_nosender, {}, {}, []),
    ("ARPSenderIP", "Accept", c_senderip, {}, {}, []),
    ("ARPIPCollision", "DropAnnounce", c_collision, {}, {}, []),
    ("ARPRateLimit", "10", c_ratelimit, {}, {}, []),
    ("ExpireUnknown", "1", c_expire_unknown, {}, {}, []),
    ("Expire", "2", c_expire, {}, {}, []),
    ("CacheSize", "16", c_cachesize, {"UnsolicitedARPReplies": "Accept"}, {"HashSize": "16"}, []),
]

only = set(sys.argv[1:])  # optional: setting names to run
CASES = [c for c in CASES if not only or c[0] in only]

with Lab("settings") as lab:
    # the default runs, grouped by their base config
    groups = {}
    for case in CASES:
        groups.setdefault(tuple(sorted(case[3].items())), []).append(case)
    for base, cases in groups.items():
        entries = [e for c in cases for e in c[5]]
        d = lab.arphad(arp=dict(base), entries=entries)
        for setting, value, fn, _b, _x, _e in cases:
            with res.case("%s/default" % setting):
                fn(Ctx(lab, d, "default"))
        with res.case("default-run-%d/alive" % (list(groups).index(base) + 1)):
            expect(d.alive(), "arphad died: %s", d.log()[-1500:])
        d.stop()
    # the non-default runs, one daemon each
    for setting, value, fn, base, extra, entries in CASES:
        arp = dict(base)
        arp.update(extra)
        arp[setting] = value
        d = lab.arphad(arp=arp, entries=entries)
        ctx = Ctx(lab, d, "set")
        with res.case("%s=%s" % (setting, value)):
            fn(ctx)
            expect(d.alive(), "arphad died: %s", d.log()[-1500:])
        for name, f in ctx.followups:
            with res.case("%s=%s/%s" % (setting, value, name)):
                f()
        d.stop()
    res.daemon_checks(lab)
res.exit()
