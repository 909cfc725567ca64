#!/usr/bin/python3
"""arpha demo: a spoofing host tries to poison a node's ARP table, with
arphad on the node (it fails) and without (it works).

    demo/demo.py BUILD_DIR      (as root; `make demo` runs it)

Everything happens in network namespaces made for the run (a bridge as the
switch, veth cables, 198.18.0.0/24) and is removed at the end."""
import os
import re
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "netns"))

if len(sys.argv) > 1:
    os.environ["ARPHA_BUILD"] = os.path.abspath(sys.argv[1])

import lab as L  # noqa: E402
from lab import (ATTACKER_IP, ATTACKER_MAC, CLIENT_IP, CLIENT_MAC, NODE_IP,  # noqa: E402
                 NODE_MAC, garp_reply, garp_request, reply)

TTY = sys.stdout.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("NO_COLOR")
PACE = 0.7 if TTY else 0.0  # a moment to read, only for people watching


def c(code, s):
    return "\033[%sm%s\033[0m" % (code, s) if TTY else s


bold = lambda s: c("1", s)  # noqa: E731
dim = lambda s: c("2", s)  # noqa: E731
green = lambda s: c("1;32", s)  # noqa: E731
red = lambda s: c("1;31", s)  # noqa: E731
cyan = lambda s: c("36", s)  # noqa: E731
yellow = lambda s: c("33", s)  # noqa: E731

W = 78


def say(s=""):
    print(s, flush=True)


def heading(n, s):
    say()
    say(bold("%s %s" % (n, s)))
    time.sleep(PACE)


def cmd(where, s):
    say("  %s %s" % (dim("%-8s$" % where), cyan(s)))


def out(s, indent=4):
    for line in s.rstrip("\n").splitlines():
        say(" " * indent + line)


def pause():
    time.sleep(PACE)


def frame_text(f):
    """tcpdump-like: who sent what to whom."""
    v = L.Frame(f)
    if v.op == 1:
        what = "Request who-has %s tell %s" % (v.tpa, v.spa)
    else:
        what = "Reply %s is-at %s" % (v.spa, v.sha)
    return "%s > %s, ARP, %s" % (v.eth_src, v.eth_dst, what)


def neigh_line(lab, ip):
    p = lab.ip("node", "neigh", "show", ip, "dev", "eth0")
    return p.stdout.strip() or "(no entry)"


def verdict(lab, ip, good_mac, d=None):
    e = lab.neigh("node").get(ip) or {}
    mac = e.get("lladdr")
    if mac == good_mac:
        tag = green("  ok  ")
        note = "still the client's MAC"
    elif mac:
        tag = red("POISONED")
        note = "the attacker's MAC"
    else:
        tag = yellow(" gone ")
        note = "no entry"
    say("  %-13s %s -> %s  %s  %s" % ("node kernel:", ip, mac or "-", tag, dim(note)))
    return mac == good_mac


KEYS = ("event", "action", "rule", "reason", "srcenet", "srcip", "destip", "cfgenet", "oldenet")


def show_log(lines):
    if not lines:
        say("  %-13s %s" % ("arphad log:", dim("(nothing)")))
        return
    for line in lines:
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        parts = ["%s=%s" % (k, kv[k]) for k in KEYS if k in kv]
        rows, cur = [], ""
        for p in parts:
            if cur and len(cur) + 1 + len(p) > W - 16:
                rows.append(cur)
                cur = p
            else:
                cur = (cur + " " + p).strip()
        rows.append(cur)
        say("  %-13s %s" % ("arphad log:", yellow(rows[0])))
        for r in rows[1:]:
            say("  %-13s %s" % ("", yellow(r)))


ATTACKS = [
    ("gratuitous ARP reply, broadcast",
     garp_reply(ATTACKER_MAC, CLIENT_IP)),
    ("gratuitous ARP request, broadcast",
     garp_request(ATTACKER_MAC, CLIENT_IP)),
    ("forged reply, unicast to the node",
     reply(ATTACKER_MAC, CLIENT_IP, NODE_MAC, NODE_IP)),
]


def main():
    t0 = time.monotonic()
    if os.geteuid() != 0:
        say("demo: needs root (it makes network namespaces); try: sudo make demo")
        return 1
    for b in ("arphad", "arpha"):
        if not os.access(L.binary(b), os.X_OK):
            say("demo: no %s in %s; build first (make build)" % (b, L.build_dir()))
            return 1

    title = "arpha demo: ARP poisoning against a node, with and without arphad"
    say(bold(title))
    say("=" * len(title))
    with L.Lab("demo") as lab:
        say()
        say("A switch (a Linux bridge) and three hosts, each in its own network namespace:")
        say()
        say("  %-9s %-13s %-18s %s" % ("host", "address", "MAC", "role"))
        for role, what in (("node", "runs arphad"), ("client", "an ordinary Linux host"),
                           ("attacker", "crafts ARP frames by hand")):
            ip, mac = lab.hosts[role]
            say("  %-9s %-13s %-18s %s" % (role, ip, mac, dim(what)))
        pause()

        # ---------------------------------------------------------------- 1
        heading("1.", "arphad takes over ARP on the node")
        d = lab.arphad(arp={"ARPIPCollision": "DropAnnounce"}, log_level="info")
        cmd("node", "arphad -d -f arphad.conf")
        out(dim("".join(l.split(", control socket")[0] + "\n"
                        for l in d.log().splitlines()[-2:])))
        cmd("node", "nft list table arp arpha")
        rule = [l.strip() for l in lab.exec("node", "nft", "list", "table", "arp", "arpha")
                .stdout.splitlines() if "iifname" in l]
        out("\n".join(rule) + "\n" + dim("(the kernel's own ARP input is off on eth0: "
                                         "arphad decides)"))
        pause()

        # ---------------------------------------------------------------- 2
        heading("2.", "The node talks to the client: the kernel asks, arphad vets the answer")
        cmd("node", "ping -c1 %s" % CLIENT_IP)
        ok = lab.ping("node", CLIENT_IP)
        out("1 packet transmitted, 1 received" if ok else red("no answer"))
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        cmd("node", "arpha arp show")
        out(d.arpha("arp", "show").stdout)
        pause()

        # ---------------------------------------------------------------- 3
        atk = lab.agent("attacker")
        held = 0
        for i, (what, frame) in enumerate(ATTACKS, 1):
            heading("3.%d" % i, "Attack: %s" % what)
            say("  %-13s %s" % ("attacker:", frame_text(frame)))
            mark = d.log_mark()
            atk.send(frame)
            time.sleep(0.3)
            held += verdict(lab, CLIENT_IP, CLIENT_MAC, d)
            show_log(d.wait_log(r"event=", mark, timeout=0.5))
            if i == 2:
                say("  %-13s %s" % ("", dim("(requests never teach arphad anything: "
                                            "ARPRequests=Drop; counted, not logged)")))
            pause()

        heading("3.4", "Attack: claim the node's own address")
        f = garp_request(ATTACKER_MAC, NODE_IP)
        say("  %-13s %s" % ("attacker:", frame_text(f)))
        mark = d.log_mark()
        m = atk.mark()
        atk.send(f)
        show_log(d.wait_log(r"event=", mark, timeout=1.0))
        for g in atk.wait(lambda g: g.incoming and g.eth_src == NODE_MAC, m, count=2, timeout=1):
            say("  %-13s %s" % ("node:", frame_text(g.raw)))
        say("  %-13s %s" % ("", dim("(ARPIPCollision=DropAnnounce: the node reclaims its "
                                    "address for everyone who listened)")))
        pause()

        heading("4.", "What arphad counted")
        cmd("node", "arpha stats")
        out("\n".join(l for l in d.arpha("stats").stdout.splitlines()
                      if l.strip() and not re.search(r"\s0$", l)))
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        pause()

        # ---------------------------------------------------------------- 5
        heading("5.", "For contrast: the same node, the same attack, arphad stopped")
        cmd("node", "kill -TERM $(pidof arphad)")
        rc = d.stop()
        out("arphad exited (%d); table arp arpha removed: the kernel does ARP itself again"
            % rc)
        say("  %-13s %s" % ("attacker:", frame_text(ATTACKS[0][1])))
        atk.send(ATTACKS[0][1])
        e = lab.wait_neigh(CLIENT_IP, lambda e: e and e.get("lladdr") == ATTACKER_MAC,
                           timeout=2)
        poisoned = not verdict(lab, CLIENT_IP, CLIENT_MAC)
        cmd("node", "ip neigh show %s dev eth0" % CLIENT_IP)
        out(neigh_line(lab, CLIENT_IP))
        cmd("node", "ping -c1 -W1 %s" % CLIENT_IP)
        ok2 = lab.ping("node", CLIENT_IP, wait=1)
        out(green("1 received") if ok2 else red("1 packet transmitted, 0 received") +
            dim("  (it went to %s)" % (e or {}).get("lladdr", "?")))
        pause()

        problems = lab.daemon_problems()
        say()
        summary = ("Summary: with arphad, %d of %d poisoning attempts reached the node's "
                   "kernel; without it, %s." % (len(ATTACKS) - held, len(ATTACKS),
                                               "1 of 1 did" if poisoned else "none did either"))
        say(bold(green(summary) if held == len(ATTACKS) and poisoned else red(summary)))
        for p in problems:
            say(red("problem: " + p.splitlines()[0]))
        say(dim("(%.0f s; the lab's namespaces are removed now)" % (time.monotonic() - t0)))
        good = held == len(ATTACKS) and poisoned and not problems
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
