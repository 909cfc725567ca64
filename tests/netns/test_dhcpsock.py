#!/usr/bin/python3
"""os/dhcpsock on the real kernel: its filter takes the DHCP client messages
and nothing else (tests/tools/dhcpsock_check opens the socket on the
node's eth0 and prints each frame's core/dhcpsnoop verdict).

The lab of tests/netns/lab.py: a bridge, the node and a client. The client
sends raw frames (rawsock.py, the lab's agent) to the node:
  - must pass: a DHCPv4 DISCOVER (68 -> 67, broadcast) and a DHCPv6
    SOLICIT (546 -> 547, to ff02::1:2), and each must parse (ok);
  - must not: a server's reply (67 -> 68), UDP 68 -> 68, TCP 68 -> 67,
    ARP, IPv4 fragments of a DISCOVER (first and later; the filter refuses
    them, as core/dhcpsnoop would), a DHCPv6 server message (547 -> 546),
    a SOLICIT behind a hop-by-hop header, a DISCOVER behind an 802.1Q
    tag, and a DISCOVER the node itself sends (outgoing).
Then 200 DISCOVERs while the tool holds off reading: every one arrives
or is counted as a kernel drop, in reads of at most 64 frames.
Standard library only; every frame stays in the lab's namespaces.
"""
import ipaddress
import os
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import (BCAST, Lab, Results, binary, build_dir, check_addr, expect,  # noqa: E402
                 ip_b, mac_b, request, stop_process)

SUITE = "netns/dhcpsock"
NODE_IP, NODE_MAC = "198.18.0.1", "02:00:00:00:00:01"
CLIENT_IP, CLIENT_MAC = "198.18.0.10", "02:00:00:00:00:10"
CLIENT_IP6 = "2001:2::10"
# a DHCP server as the client's agent plays it (the bridge does not learn source MACs)
SERVER_IP, SERVER_MAC = "198.18.0.67", "02:00:00:00:00:67"
ALL_DHCP6 = "ff02::1:2"
BATCH = 64


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, ethertype, payload, vlan=None):
    h = mac_b(dst) + mac_b(src)
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    f = h + struct.pack("!H", ethertype) + payload
    return f + b"\0" * max(0, 60 - len(f))


def ipv4(src, dst, proto, payload, frag=0, ident=0x1234):
    """frag: the flags and fragment offset field (0x2000: MF)."""
    for a in (src, dst):
        if a not in ("0.0.0.0", "255.255.255.255"):
            check_addr(a)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    ip_b(src), ip_b(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv6(src, dst, nh, payload, hlim=1):
    return (struct.pack("!IHBB", 6 << 28, len(payload), nh, hlim) +
            ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def udp6(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed +
              struct.pack("!IxxxB", length, 17))
    u = struct.pack("!HHHH", sport, dport, length, 0) + payload
    c = csum(pseudo + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def bootp(op, mac, xid, msg_type, host=None):
    b = struct.pack("!BBBBIHHIIII", op, 1, 6, 0, xid, 0, 0x8000, 0, 0, 0, 0)
    b += mac_b(mac) + b"\0" * 10 + b"\0" * 64 + b"\0" * 128
    b += bytes([99, 130, 83, 99])
    b += bytes([53, 1, msg_type])
    if host:
        b += bytes([12, len(host)]) + host.encode()
    b += bytes([55, 4, 1, 3, 6, 15, 255])
    return b + b"\0" * max(0, 300 - len(b))


def discover(xid=0x11223344, **kw):
    """A DHCPv4 DISCOVER from the client: 0.0.0.0:68 -> 255.255.255.255:67."""
    body = bootp(1, CLIENT_MAC, xid, 1, host="lab-client")
    return eth(BCAST, CLIENT_MAC, 0x0800,
               ipv4("0.0.0.0", "255.255.255.255", 17, udp(68, 67, body)), **kw)


def solicit(nh_hbh=False):
    """A DHCPv6 SOLICIT: 546 -> [ff02::1:2]:547, client id DUID-LL."""
    duid = struct.pack("!HH", 3, 1) + mac_b(CLIENT_MAC)
    msg = bytes([1, 0xAB, 0xCD, 0xEF])
    msg += struct.pack("!HH", 1, len(duid)) + duid
    msg += struct.pack("!HHH", 8, 2, 0)  # elapsed time
    msg += struct.pack("!HHHH", 6, 4, 23, 24)  # ORO: DNS servers, domain list
    u = udp6(CLIENT_IP6, ALL_DHCP6, 546, 547, msg)
    if nh_hbh:
        pkt = ipv6(CLIENT_IP6, ALL_DHCP6, 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + u)
    else:
        pkt = ipv6(CLIENT_IP6, ALL_DHCP6, 17, u)
    return eth("33:33:00:01:00:02", CLIENT_MAC, 0x86DD, pkt)


def must_not_pass():
    """(name, frame) that the filter must refuse."""
    offer = bootp(2, CLIENT_MAC, 0x11223344, 2)
    disc = bootp(1, CLIENT_MAC, 0x55667788, 1)
    u = udp(68, 67, disc)
    tcp = struct.pack("!HHIIBBHHH", 68, 67, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    reply6 = bytes([7, 0xAB, 0xCD, 0xEF])
    return [
        ("server reply 67->68", eth(BCAST, SERVER_MAC, 0x0800,
                                    ipv4(SERVER_IP, "255.255.255.255", 17,
                                         udp(67, 68, offer)))),
        ("udp 68->68", eth(BCAST, CLIENT_MAC, 0x0800,
                           ipv4(CLIENT_IP, "255.255.255.255", 17, udp(68, 68, disc)))),
        ("tcp 68->67", eth(NODE_MAC, CLIENT_MAC, 0x0800, ipv4(CLIENT_IP, NODE_IP, 6, tcp))),
        ("arp", request(CLIENT_MAC, CLIENT_IP, NODE_IP)),
        ("ipv4 first fragment", eth(BCAST, CLIENT_MAC, 0x0800,
                                    ipv4("0.0.0.0", "255.255.255.255", 17, u[:200],
                                         frag=0x2000))),
        ("ipv4 later fragment", eth(BCAST, CLIENT_MAC, 0x0800,
                                    ipv4("0.0.0.0", "255.255.255.255", 17, u[200:], frag=25))),
        ("dhcpv6 547->546", eth("33:33:00:01:00:02", SERVER_MAC, 0x86DD,
                                ipv6(CLIENT_IP6, ALL_DHCP6, 17,
                                     udp6(CLIENT_IP6, ALL_DHCP6, 547, 546, reply6)))),
        ("solicit behind hop-by-hop", solicit(nh_hbh=True)),
        ("discover tagged vlan 5", discover(vlan=5)),
    ]


class Check:
    """dhcpsock_check on the node's eth0; its output lines, as they come."""

    def __init__(self, lab, secs, hold=0.0):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("node"), binary("dhcpsock_check"), "eth0", str(secs),
             str(hold)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        with self.cv:
            self.cv.wait_for(lambda: "ready" in self.lines or self.p.poll() is not None, 10)
        if "ready" not in self.lines:
            stop_process(self.p)
            raise RuntimeError("dhcpsock_check did not start: %s" % self.p.stderr.read())

    def _read(self):
        for line in self.p.stdout:
            with self.cv:
                self.lines.append(line.strip())
                self.cv.notify_all()

    def finish(self, timeout=15):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            stop_process(self.p)
            rc = "timeout"
        time.sleep(0.1)  # the reader thread takes the last lines
        with self.cv:
            lines = list(self.lines)
        return rc, lines, self.p.stderr.read()

    def close(self):
        stop_process(self.p)


def frames_of(lines):
    return [l.split()[1:] for l in lines if l.startswith("frame ")]


def main():
    if os.geteuid() != 0:
        print("FAIL %s: the netns tests must run as root" % SUITE, flush=True)
        sys.exit(1)
    if not os.access(binary("dhcpsock_check"), os.X_OK):
        print("FAIL %s: no dhcpsock_check in %s (build with tests enabled)" % (
            SUITE, build_dir()), flush=True)
        sys.exit(1)
    res = Results(SUITE)
    hosts = {"node": (NODE_IP, NODE_MAC), "client": (CLIENT_IP, CLIENT_MAC)}
    with Lab("dhcpsock", hosts=hosts) as lab:
        client = lab.agent("client")
        node = lab.agent("node")
        with res.case("filter"):
            chk = Check(lab, 3)
            try:
                bad = must_not_pass()
                client.send([f for _n, f in bad[:4]])
                client.send(discover())
                client.send([f for _n, f in bad[4:]])
                client.send(solicit())
                node.send(discover(xid=0x99))  # outgoing: not for the socket
                rc, lines, err = chk.finish()
            finally:
                chk.close()
            expect(rc == 0, "dhcpsock_check exited %s: %s", rc, err.strip())
            got = frames_of(lines)
            want = [["ok", "v4", "1", CLIENT_MAC], ["ok", "v6", "1", CLIENT_MAC]]
            expect([g[1:] for g in got] == want,
                   "expected the DISCOVER and the SOLICIT alone, got %s (refused: %s)", got,
                   ", ".join(n for n, _f in bad))
            expect(lines[-1].startswith("done 2 drops 0"), "last line %r", lines[-1])
        with res.case("batches"):
            n = 200
            chk = Check(lab, 4, hold=1.5)
            try:
                client.send([discover(xid=i) for i in range(n)])
                rc, lines, err = chk.finish()
            finally:
                chk.close()
            expect(rc == 0, "dhcpsock_check exited %s: %s", rc, err.strip())
            got = frames_of(lines)
            batches = [int(l.split()[1]) for l in lines if l.startswith("batch ")]
            drops = int(lines[-1].split()[3]) if lines[-1].startswith("done ") else -1
            expect(all(g[1] == "ok" for g in got), "a frame did not parse: %s",
                   [g for g in got if g[1] != "ok"][:3])
            expect(len(got) + drops == n, "%d frames + %d drops, sent %d", len(got), drops, n)
            expect(batches and max(batches) <= BATCH, "reads of %s frames", batches)
            expect(max(batches) == BATCH, "the queue never filled one batch: %s", batches)
            print("info batches %s, drops %d" % (batches, drops), flush=True)
    res.exit()


if __name__ == "__main__":
    main()
