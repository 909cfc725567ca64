#!/usr/bin/python3
"""Crash and stop: while arphad runs, the kernel's ARP is off (exactly one
answer per request, published addresses answered); kill -9 and the owner
table goes with the process, the kernel answers ARP again, the client can
resolve and ping the node; arphad starts again on the same socket."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/crash"
need_root(SUITE)
res = Results(SUITE)

PUB_IP, PUB_MAC = "198.18.0.50", "02:00:00:00:00:50"
ENTRIES = [{"IP": PUB_IP, "Mode": "Publish", "MAC": PUB_MAC}]


def answers_about(ip):
    return lambda f: f.incoming and f.ok and f.op == 2 and f.spa == ip


def has_table(lab):
    return "table arp arpha" in lab.nft_tables()


with Lab("crash") as lab:
    atk = lab.agent("attacker")
    d = lab.arphad(entries=ENTRIES)

    with res.case("running/table-installed"):
        expect(has_table(lab), "nft tables: %s", lab.nft_tables())
        out = lab.exec("node", "nft", "list", "table", "arp", "arpha").stdout
        expect('iifname "eth0"' in out and "drop" in out, "table:\n%s", out)

    with res.case("running/one-answer-per-request"):
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)] * 3,
                           answers_about(NODE_IP), count=3, linger=0.5)
        expect(len(got) == 3, "3 requests, %d answers (the kernel answers too?): %s", len(got), got)
        expect(all(f.sha == NODE_MAC and f.eth_dst == ATTACKER_MAC for f in got), "%s", got)
        expect(d.stats()["answered"] == 3, "arphad's answered counter: %d", d.stats()["answered"])

    with res.case("running/publish-answered-by-arphad"):
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, PUB_IP)], answers_about(PUB_IP))
        expect(len(got) == 1 and got[0].sha == PUB_MAC, "answers for %s: %s", PUB_IP, got)

    with res.case("running/kernel-learns-nothing-from-requests"):
        expect(ATTACKER_IP not in lab.neigh(), "kernel learned the requester: %s", lab.neigh())

    with res.case("running/client-pings-node"):
        expect(lab.ping("client", NODE_IP), "client cannot ping the node")
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "node kernel: %s", lab.neigh())

    with res.case("kill-9"):
        pid = d.p.pid
        rc = d.kill9()
        expect(rc == -signal.SIGKILL, "exit status %s", rc)
        expect(not pid_alive(pid), "still alive")

    with res.case("killed/table-gone"):
        end = time.monotonic() + 2
        while has_table(lab) and time.monotonic() < end:
            time.sleep(0.05)
        expect(not has_table(lab), "the owner table outlived arphad: %s", lab.nft_tables())

    with res.case("killed/kernel-answers"):
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)] * 2,
                           answers_about(NODE_IP), count=2, linger=0.5)
        expect(len(got) == 2 and all(f.sha == NODE_MAC and f.eth_dst == ATTACKER_MAC for f in got),
               "the kernel's answers: %s", got)
        # the kernel does not know arphad's published address
        got = atk.silence(request(ATTACKER_MAC, ATTACKER_IP, PUB_IP), answers_about(PUB_IP))
        expect(not got, "%s answered without arphad: %s", PUB_IP, got)

    with res.case("killed/client-resolves-and-pings"):
        lab.flush_neigh("client")
        lab.flush_neigh("node")
        expect(lab.ping("client", NODE_IP), "client cannot ping the node after the crash")
        expect(lab.neigh_mac(NODE_IP, "client") == NODE_MAC, "client: %s", lab.neigh("client"))
        expect(lab.neigh_mac(CLIENT_IP) == CLIENT_MAC, "node: %s", lab.neigh())

    with res.case("restart-after-crash"):
        # same config, same control socket path (left behind by the crash)
        d2 = lab.arphad(config=d.config_text, name=d.name)
        expect(has_table(lab), "no table after the restart")
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)] * 2,
                           answers_about(NODE_IP), count=2, linger=0.5)
        expect(len(got) == 2, "2 requests, %d answers: %s", len(got), got)
        # the kernel's entries were flushed at start: only what arphad learns now
        expect(ATTACKER_IP not in lab.neigh(), "node kernel: %s", lab.neigh())

    with res.case("second-arphad-refused"):
        d3 = lab.arphad(entries=ENTRIES, start=False)
        p = lab.exec("node", binary("arphad"), "-d", "-f", d3.conf, check=False, timeout=15)
        expect(p.returncode != 0, "a second arphad in the same namespace started (rc 0)")
        expect("arpha" in p.stderr and ("table" in p.stderr or "running" in p.stderr),
               "message: %r", p.stderr.strip())
        expect(not SANITIZER_RE.search(p.stderr), "sanitizer: %s", p.stderr[-1500:])
        expect(has_table(lab) and d2.alive(), "the first arphad lost its table or died")

    with res.case("sighup-keeps-running"):
        mark = d2.log_mark()
        d2.p.send_signal(signal.SIGHUP)
        expect(d2.wait_log(r"SIGHUP", mark), "no line about SIGHUP: %s", d2.log_since(mark))
        expect(d2.alive() and has_table(lab), "arphad stopped or lost its table on SIGHUP")
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)], answers_about(NODE_IP))
        expect(len(got) == 1, "answers after SIGHUP: %s", got)

    with res.case("sigterm"):
        mark = d2.log_mark()
        rc = d2.stop()
        expect(rc == 0, "exit status %s after SIGTERM", rc)
        expect(not has_table(lab), "table left after SIGTERM: %s", lab.nft_tables())
        expect(d2.log_lines(r"event=stopping signal=SIGTERM", mark), "no stop line: %s",
               d2.log_since(mark))
        expect(not os.path.exists(d2.sock), "control socket left behind")
        got = atk.exchange([request(ATTACKER_MAC, ATTACKER_IP, NODE_IP)], answers_about(NODE_IP))
        expect(len(got) == 1, "the kernel does not answer after SIGTERM: %s", got)

    res.daemon_checks(lab)
res.exit()
