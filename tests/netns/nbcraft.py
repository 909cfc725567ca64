#!/usr/bin/python3
"""Crafted DHCP client requests, run inside a namespace by dhcplab.py.

  nbcraft.py send IFACE INTER_MS   stdin: a JSON list of devices; sends one
        DHCPv4 request a device (scapy), INTER_MS apart; prints "sent N".
        A device: {"mac": .., "msg": "discover"|"request", "hostname": ..,
        "vendor_class": .., "prl": [codes in order], "req_ip": ..} (all
        but mac optional); the Ethernet source and chaddr are its mac.
  nbcraft.py sniff IFACE COUNT TIMEOUT   prints "ready", then the JSON list
        of the client MACs (chaddr) of the DHCP requests (UDP 68 -> 67) seen
        on IFACE, each once, when COUNT were seen or TIMEOUT s passed.
"""
import json
import socket
import struct
import sys
import time


def send(iface, inter_ms):
    from scapy.all import BOOTP, DHCP, IP, UDP, Ether, conf, sendp  # noqa: E402
    conf.verb = 0
    frames = []
    for i, d in enumerate(json.load(sys.stdin)):
        mac = d["mac"].lower()
        hw = bytes.fromhex(mac.replace(":", ""))
        opts = [("message-type", d.get("msg", "discover")), ("client_id", b"\x01" + hw)]
        if d.get("req_ip"):
            opts.append(("requested_addr", d["req_ip"]))
        if d.get("hostname"):
            opts.append(("hostname", d["hostname"].encode()))
        if d.get("vendor_class"):
            opts.append(("vendor_class_id", d["vendor_class"].encode()))
        if d.get("prl"):
            opts.append(("param_req_list", list(d["prl"])))
        opts.append("end")
        frames.append(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
                      IP(src="0.0.0.0", dst="255.255.255.255") /
                      UDP(sport=68, dport=67) /
                      BOOTP(chaddr=hw + b"\0" * 10, xid=0x4E420000 + i, flags=0x8000) /
                      DHCP(options=opts))
    sendp(frames, iface=iface, inter=inter_ms / 1000.0)
    print("sent %d" % len(frames), flush=True)


def sniff(iface, count, timeout):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.2)
    print("ready", flush=True)
    seen, end = [], time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        if len(f) < 14 + 20 + 8 + 236 or f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        ihl = (f[14] & 0x0F) * 4
        sport, dport = struct.unpack("!HH", f[14 + ihl:18 + ihl])
        if (sport, dport) != (68, 67):
            continue
        bootp = f[22 + ihl:]
        mac = ":".join("%02x" % b for b in bootp[28:34])
        if mac not in seen:
            seen.append(mac)
    print(json.dumps(seen), flush=True)


def main():
    if sys.argv[1] == "send":
        send(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "sniff":
        sniff(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: nbcraft.py send IFACE INTER_MS | sniff IFACE COUNT TIMEOUT")


main()
