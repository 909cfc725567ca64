#!/usr/bin/python3
"""A managed device made after arphad starts (a VLAN or a bond that
systemd-networkd or ifupdown makes later in the boot): arphad waits for it,
DeviceTimeout= at most (30 s by default), instead of failing its start.

The node's eth0 does not exist when arphad starts; it is plugged into the
switch 1.5 s later. arphad runs with a notify socket of the test's own, as
systemd would run it.

  waits         arphad is still running 1.5 s after its start, has taken
                nothing yet (no nftables table, no control socket), logs
                event=device_wait device=eth0 and tells systemd why
                (STATUS=waiting for device eth0, EXTEND_TIMEOUT_USEC=), and
                READY=1 has not come
  guards        once eth0 exists: READY=1 (guarding 1 interface), `arpha -j
                stats` shows the interface, and the ARP policy holds on it:
                a hostile host's claim of the client's address
                (UnsolicitedARPReplies=DropLog) is dropped and counted, the
                node's kernel keeps the client's MAC
  timeout       DeviceTimeout=1s and no such device: the start fails after
                about 1 s, naming the device and the wait, and leaves
                nothing behind
  no-wait       DeviceTimeout=0: it fails at once, as before
  stop          SIGTERM while it waits (systemctl stop): it ends at once,
                leaving nothing behind
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import (ATTACKER_IP, ATTACKER_MAC, CLIENT_IP, CLIENT_MAC, NODE_IP, NODE_MAC,  # noqa: E402
                 PREFIX_LEN, Lab, Results, binary, expect, garp_reply, info, make_config,
                 need_root, run, wait_for)
from notifysock import NotifySocket, start_notified  # noqa: E402

SUITE = "netns/latedev"
need_root(SUITE)
res = Results(SUITE)

HOSTS = {"client": (CLIENT_IP, CLIENT_MAC), "attacker": (ATTACKER_IP, ATTACKER_MAC)}


def config(lab, name, device_timeout=None, device="eth0"):
    text = make_config(os.path.join(lab.tmp, name + ".sock"), device=device,
                       arp={"UnsolicitedARPReplies": "DropLog"})
    if device_timeout is not None:
        text = text.replace("LogTarget=stderr",
                            "LogTarget=stderr\nDeviceTimeout=%s" % device_timeout)
    return text


def plug_node(lab):
    """The node's eth0 comes: a veth into the switch, its address and MAC set."""
    port = "p-node"
    lab.ip("sw", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
           lab.ns("node"))
    lab.ip("node", "link", "set", "eth0", "address", NODE_MAC)
    lab.ip("node", "addr", "add", "%s/%d" % (NODE_IP, PREFIX_LEN), "dev", "eth0")
    lab.ip("sw", "link", "set", port, "master", "br0")
    lab.ip("sw", "link", "set", port, "type", "bridge_slave", "learning", "off")
    run(["bridge", "-n", lab.ns("sw"), "fdb", "add", NODE_MAC, "dev", port, "master", "static"])
    lab.ip("sw", "link", "set", port, "up")
    lab.ip("node", "link", "set", "eth0", "up")
    lab.hosts["node"] = (NODE_IP, NODE_MAC)


def counters(d, iface="lan"):
    """The interface's counters from arpha -j stats, or None when it is not there."""
    for i in d.arpha_json("stats")["interfaces"]:
        if i["interface"] == iface:
            return dict(i["counters"])
    return None


def run_late_device(lab):
    ns = NotifySocket(os.path.join(lab.tmp, "late.notify"))
    d = lab.arphad("node", config=config(lab, "late"), name="late", start=False)
    try:
        t0 = start_notified(lab, d, ns.path)
        with res.case("waits/for-the-device"):
            time.sleep(1.5)
            expect(d.alive(), "arphad exited (%s) without its device: %s", d.p.returncode,
                   d.log()[-800:])
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "a table while waiting: %s", lab.nft_tables("node"))
            expect(not os.path.exists(d.sock), "the control socket while waiting")
            expect(d.log_lines(r"event=device_wait device=eth0 .*timeout_ms=30000"),
                   "no event=device_wait line: %s", d.log()[-800:])
            status = ns.lines("STATUS=")
            expect("waiting for device eth0" in status, "STATUS= lines: %s", status)
            ext = ns.lines("EXTEND_TIMEOUT_USEC=")
            expect(ext and int(ext[0]) > 28 * 10**6, "EXTEND_TIMEOUT_USEC= %s", ext)
            expect(not ns.ready_at(), "READY=1 without the device")
        plug_node(lab)
        plugged = time.monotonic()
        with res.case("guards/ready-once-it-exists"):
            expect(ns.ready.wait(10), "no READY=1 within 10 s of the device; log: %s",
                   d.log()[-1500:])
            info("%s READY=1 %.2f s after eth0 came (%.2f s after the start)" %
                 (SUITE, ns.ready_at()[0] - plugged, ns.ready_at()[0] - t0))
            expect("guarding 1 interface" in ns.lines("STATUS=")[-1], "STATUS= lines: %s",
                   ns.lines("STATUS="))
            expect(wait_for(lambda: os.path.exists(d.sock), 5), "no control socket")
            expect(counters(d) is not None, "arpha stats has no interface lan: %s",
                   d.arpha("stats").stdout)
            expect(d.log_lines(r"event=device_present waited_ms=\d+"), "no event=device_present")
            expect(d.log_lines(r"event=iface_attach iface=lan device=eth0"), "not attached")
        with res.case("guards/policy-holds"):
            expect(lab.ping("node", CLIENT_IP), "the node cannot ping the client")
            e = lab.neigh("node").get(CLIENT_IP)
            expect(e and e["lladdr"] == CLIENT_MAC, "kernel entry for the client: %s", e)
            before = counters(d)
            atk = lab.agent("attacker")
            atk.send(garp_reply(ATTACKER_MAC, CLIENT_IP))
            got = wait_for(lambda: counters(d)["drop_unsolicited_reply"] >
                           before["drop_unsolicited_reply"], 2)
            expect(got, "the claim was not dropped: %s", counters(d))
            time.sleep(0.3)
            e = lab.neigh("node").get(CLIENT_IP)
            expect(e and e["lladdr"] == CLIENT_MAC, "the kernel took the attacker's MAC: %s", e)
        with res.case("guards/stops-cleanly"):
            rc = d.stop()
            expect(rc == 0, "arphad exited with %s; log: %s", rc, d.log()[-1000:])
    finally:
        if d.alive():
            d.stop()
        ns.close()


def start_fails(lab, name, timeout, device):
    """arphad -d with DeviceTimeout=timeout for a device that never comes:
    (exit status, seconds it took, its output)."""
    d = lab.arphad("node", config=config(lab, name, timeout, device=device), name=name,
                   start=False)
    t0 = time.monotonic()
    p = lab.exec("node", binary("arphad"), "-d", "-f", d.conf, check=False, timeout=30)
    return p.returncode, time.monotonic() - t0, (p.stdout + p.stderr), d


def run_timeouts(lab):
    with res.case("timeout/fails-after-the-wait"):
        rc, took, out, d = start_fails(lab, "tmo", "1s", "nosuch7")
        info("%s DeviceTimeout=1s: exit %s after %.2f s" % (SUITE, rc, took))
        expect(rc == 1, "exit %s: %s", rc, out[-800:])
        expect(0.9 <= took < 5, "it took %.2f s", took)
        expect("Device=nosuch7): no such device (waited 1000 ms, DeviceTimeout=)" in out,
               "the message: %s", out[-800:])
        expect(not any("arpha" in t for t in lab.nft_tables("node")), "a table was left: %s",
               lab.nft_tables("node"))
        expect(not os.path.exists(d.sock), "the control socket was left")
    with res.case("no-wait/fails-at-once"):
        rc, took, out, d = start_fails(lab, "now", "0", "nosuch8")
        expect(rc == 1 and "nosuch8" in out and "no such device" in out, "exit %s: %s", rc,
               out[-800:])
        expect(took < 0.9, "DeviceTimeout=0 took %.2f s", took)
        expect("event=device_wait" not in out, "it waited: %s", out[-800:])


def run_stop_while_waiting(lab):
    with res.case("stop/while-waiting"):
        d = lab.arphad("node", config=config(lab, "stopw", device="nosuch9"), name="stopw",
                       start=False)
        ns = NotifySocket(os.path.join(lab.tmp, "stopw.notify"))
        try:
            start_notified(lab, d, ns.path)
            expect(wait_for(lambda: d.log_lines(r"event=device_wait device=nosuch9"), 5),
                   "no event=device_wait: %s", d.log()[-800:])
            t = time.monotonic()
            d.p.terminate()
            d.p.wait(5)
            took = time.monotonic() - t
            d.logf.close()
            expect(d.p.returncode in (-15, 143), "exit %s", d.p.returncode)
            expect(took < 1, "it took %.2f s to end", took)
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "a table was left: %s", lab.nft_tables("node"))
            expect(not os.path.exists(d.sock), "the control socket was left")
        finally:
            if d.alive():
                d.kill9()
            ns.close()


with Lab("latedev", hosts=HOSTS) as lab:
    lab._addns("node")  # the node, without its eth0 yet
    run_late_device(lab)
    run_timeouts(lab)
    run_stop_while_waiting(lab)
    res.daemon_checks(lab)
res.exit()
