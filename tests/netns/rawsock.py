#!/usr/bin/python3
"""Raw Ethernet agent, run inside a network namespace by lab.py.

    ip netns exec NS /usr/bin/python3 rawsock.py IFACE

Opens one AF_PACKET socket on IFACE (promiscuous), prints "ready", then:
  - every ARP frame seen on IFACE (tagged or not) is written to stdout as
    "frame PKTTYPE HEX" (the 802.1Q tag the kernel strips is put back, so
    HEX is the frame as it was on the wire);
  - every stdin line "send HEX [HEX...]" sends those frames as they are and
    answers "sent N";
  - stdin at end of file: exit.
Frames this socket sends are not seen by it (the kernel does not loop them
back to their sender), but other sockets on the host see them as outgoing.
Standard library only.
"""
import os
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
ARP, VLAN, QINQ = 0x0806, 0x8100, 0x88A8


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    iface = sys.argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    ifindex = socket.if_nametoindex(iface)
    s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                 struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    out("ready")
    stdin = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
    pending = b""
    while True:
        r, _, _ = select.select([s, stdin], [], [])
        if s in r:
            while True:
                try:
                    data, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
                except BlockingIOError:
                    break
                except OSError:
                    break  # ENETDOWN once after the link went down: go on
                pkttype = addr[2]
                for level, typ, cdata in anc:
                    if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
                        status, _l, _sl, _mac, _net, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
                        if status & TP_STATUS_VLAN_VALID:
                            if not status & TP_STATUS_VLAN_TPID_VALID:
                                tpid = VLAN
                            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
                if len(data) < 14:
                    continue
                et = struct.unpack("!H", data[12:14])[0]
                if et in (VLAN, QINQ) and len(data) >= 18:
                    et = struct.unpack("!H", data[16:18])[0]
                if et != ARP:
                    continue
                out("frame %d %s" % (pkttype, data.hex()))
        if stdin in r:
            chunk = os.read(stdin.fileno(), 65536)
            if not chunk:
                return 0
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                words = line.decode().split()
                if not words:
                    continue
                if words[0] == "send":
                    n, err = 0, ""
                    s.setblocking(True)
                    for h in words[1:]:
                        try:
                            s.send(bytes.fromhex(h))
                            n += 1
                        except OSError as e:
                            err = " " + e.strerror.replace(" ", "_")
                    s.setblocking(False)
                    out("sent %d%s" % (n, err))
                else:
                    out("error unknown command %s" % words[0])


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)
