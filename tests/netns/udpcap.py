#!/usr/bin/python3
"""A hostile host on the sync link. Runs inside its namespace.

  udpcap.py replay GROUP PORT IFACE SENDER_IP   capture one datagram that
        SENDER_IP sent to GROUP and send the same bytes to GROUP again
  udpcap.py forge GROUP PORT IFACE NODE_ID      send a datagram that looks
        like node NODE_ID's but carries a tag made without the key
Prints one line: "sent N" (bytes), or "timeout"."""
import os
import socket
import struct
import sys


def sock(group, port, iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("", port))
    idx = socket.if_nametoindex(iface)
    mreqn = socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("=i", idx)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    return s


def main():
    mode, group, port, iface, arg = sys.argv[1:6]
    port = int(port)
    s = sock(group, port, iface)
    s.settimeout(5)
    if mode == "replay":
        while True:
            try:
                data, (src, _p) = s.recvfrom(2048)
            except socket.timeout:
                print("timeout", flush=True)
                return 1
            if src == arg:
                break
    else:
        payload = os.urandom(40)
        # magic, WIRE_VERSION (core/wire.h), flags: encrypted
        hdr = b"AH" + bytes((2, 1)) + struct.pack(">IQQHH", int(arg), 1 << 62, 1,
                                                   len(payload), 0)
        data = hdr + payload + os.urandom(16)
    s.sendto(data, (group, port))
    print("sent %d" % len(data), flush=True)
    return 0


sys.exit(main())
