#!/usr/bin/python3
"""Configuration errors: `arphad -n` says FILE:LINE: what is wrong and exits
1; a missing device stops `arphad -d` with a message naming the device and
leaves nothing behind. `arphad -n` says OK only to what the daemon will
run (report items 8, 9, 18, 19-22, 25, 28, 32): every error of a file, each
at the line of its key; warnings for devices that do not exist now."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/config"
need_root(SUITE)
res = Results(SUITE)

HEAD = "[Interface lan]\nDevice=eth0\n[Daemon]\nControlSocket=/run/arpha-test/arphad.sock\n\n"
# HEAD is lines 1-5 and ends in [Daemon]; the case's text starts on line 6

# name, text after HEAD, the lines the error may point at, words the message must hold
BAD = [
    ("enum-value", "[ARP]\nARPChanges=yes\n", [7], ["ARPChanges", "yes"]),
    ("value-not-allowed-for-setting", "[ARP]\nStaticARPChanges=Accept\n", [7], ["Accept"]),
    ("collision-value", "[ARP]\nARPIPCollision=DropLog\n", [7], ["DropLog"]),
    ("unknown-setting", "[ARP]\nExpire=900\nARPFrobnicate=1\n", [8], ["ARPFrobnicate"]),
    ("number-not-a-number", "[ARP]\nARPRateLimit=ten\n", [7], ["ten"]),
    ("number-negative", "[ARP]\nARPRateLimit=-5\n", [7], ["-5"]),
    ("number-out-of-range", "[ARP]\nExpire=0\n", [7], ["Expire"]),
    ("unknown-section", "[Bogus]\nKey=1\n", [6, 7], ["Bogus"]),
    ("not-ini", "[ARP]\nthis is not a setting\n", [7], []),
    ("log-level", "LogLevel=loud\n", [6], ["loud"]),
    ("log-target", "LogTarget=printer\n", [6], ["printer"]),
    ("entry-bad-ip", "[ARPEntry]\nInterface=lan\nIP=198.18.0.300\nMode=Publish\n", [8],
     ["198.18.0.300"]),
    ("entry-bad-mac", "[ARPEntry]\nInterface=lan\nIP=198.18.0.50\nMode=Publish\nMAC=02:00:zz\n",
     [10], ["02:00:zz"]),
    ("entry-bad-mode", "[ARPEntry]\nInterface=lan\nIP=198.18.0.50\nMode=Sometimes\n", [9],
     ["Sometimes"]),
    ("entry-unknown-interface", "[ARPEntry]\nInterface=wan\nIP=198.18.0.50\nMode=Publish\n",
     [6, 7], ["wan"]),
    ("entry-static-without-mac", "[ARPEntry]\nInterface=lan\nIP=198.18.0.40\nMode=Static\n",
     [6, 7, 8, 9], ["MAC"]),
    ("entry-without-ip", "[ARPEntry]\nInterface=lan\nMode=Publish\n", [6, 7, 8], ["IP"]),
    ("proxy-bad-network", "[ProxyARP]\nNetwork=198.18.1.0/33\nInterfaces=all\n", [7],
     ["198.18.1.0/33"]),
    ("proxy-unknown-interface", "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan wan\n",
     [6, 8], ["wan"]),
    ("interface-name-too-long", "[Interface averyveryverylongname]\nDevice=eth1\n", [6],
     ["averyveryverylongname"]),
    ("interface-twice", "[Interface lan]\nDevice=eth1\n", [6], ["lan"]),
]

GOOD = HEAD + """
[ARP]
UnsolicitedARPReplies=DropLog
ARPRequests=Drop
ARPChanges=AcceptLog
StaticARPChanges=DropLog
ARPMatchEnetSender=Ignore
ARPMulticast=Log
ARPBroadcast=Drop
ARPQueryNoSender=AcceptLog
ARPSenderIP=Accept
ARPIPCollision=DropAnnounce
ARPRateLimit=100
Expire=600
ExpireUnknown=2
CacheSize=1024
HashSize=64
HashSizeVLAN=16

[ARPEntry]
Interface=lan
IP=198.18.0.40
Mode=Static
MAC=02:00:00:00:00:40

[ARPEntry]
Interface=lan
IP=198.18.0.50
Mode=XPublish
MAC=02:00:00:00:00:50

[ProxyARP]
Network=198.18.1.0/24
Interfaces=all
"""

tmp = tempfile.mkdtemp(prefix="arpha-config-")
KEY = os.path.join(tmp, "cluster.key")       # mode 600: good
FKEY = os.path.join(tmp, "flush.key")        # mode 600: good
WKEY = os.path.join(tmp, "world.key")        # mode 644: refused
LKEY = os.path.join(tmp, "link.key")         # a symbolic link to KEY: refused
DT = os.path.join(tmp, "devtypes.txt")       # DeviceTypes=: one good rule
DTBAD = os.path.join(tmp, "devtypes-bad.txt")  # a rule with an unknown key on line 2

# lines 6-10 after HEAD
CL = "[Cluster]\nNodeID=1\nInterface=eth0\nGroup=239.192.74.10\nKeyFile=@KEY@\n"
# lines 11-13 after CL
VIP = "[VIP web]\nAddress=198.18.0.100/24\nInterface=lan\n"


def entries(n):
    return "".join("[ARPEntry]\nInterface=lan\nIP=198.18.0.%d\nMode=Publish\n" % (i + 1)
                   for i in range(n))


# name (with the report item), text after HEAD, the line the error must point at, words the
# message must hold, words it must not hold
ITEMS = [
    ("item9a/more-entries-than-cachesize", "[ARP]\nCacheSize=16\n" + entries(17), 73,
     ["CacheSize=16", "198.18.0.17", "entry 17"], ["No space"]),
    ("item18/vip-is-network-address", CL + "[VIP web]\nAddress=198.18.0.0/24\nInterface=lan\n",
     12, ["network address", "198.18.0.0/24"], []),
    ("item18/vip-is-broadcast-address",
     CL + "[VIP web]\nAddress=198.18.0.255/24\nInterface=lan\n", 12, ["broadcast address"], []),
    ("item18/static-entry-on-vip-address",
     CL + VIP + "[ARPEntry]\nInterface=lan\nIP=198.18.0.100\nMode=Static\n"
     "MAC=02:00:00:00:00:99\n", 16, ["198.18.0.100", "[VIP web]"], []),
    ("item18/static-entry-on-subnet-broadcast",
     CL + VIP + "[ARPEntry]\nInterface=lan\nIP=198.18.0.255\nMode=Static\n"
     "MAC=02:00:00:00:00:99\n", 16, ["198.18.0.255", "broadcast address"], []),
    ("item18/vrid-without-virtualmac", CL + VIP + "VRID=7\n", 14, ["VRID", "VirtualMAC=yes"], []),
    ("item8/proxyarp-every-address", "[ProxyARP]\nNetwork=0.0.0.0/0\nInterfaces=lan\n", 7,
     ["0.0.0.0/0", "every address"], []),
    ("item8/proxyarp-loopback", "[ProxyARP]\nNetwork=127.0.0.0/8\nInterfaces=lan\n", 7,
     ["loopback"], []),
    ("item8/proxyarp-multicast", "[ProxyARP]\nNetwork=224.0.0.0/4\nInterfaces=lan\n", 7,
     ["multicast"], []),
    ("item28/connsync-network-host-bits", CL + "[ConnSync]\nNetworks=10.0.0.1/8\n", 12,
     ["host bits", "10.0.0.0/8"], []),
    ("item28/trackinterface-twice", CL + VIP + "TrackInterface=eth0 eth0\n", 14,
     ["TrackInterface", "twice"], []),
    ("item28/protocols-twice", CL + "[ConnSync]\nNetworks=198.18.1.0/24\nProtocols=tcp tcp\n", 13,
     ["Protocols", "twice"], []),
    ("item28/interfaces-empty-element", "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan,,\n", 8,
     ["empty element"], []),
    ("item28/proxyarp-duplicate-network",
     "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan\n"
     "[ProxyARP]\nNetwork=198.18.1.0/24\nInterfaces=lan\n", 10, ["repeats the one at line 7"], []),
    ("item28/flush-key-is-cluster-key",
     CL + VIP + "FlushHosts=198.18.0.5\n[Flush]\nKeyFile=@KEY@\n", 16,
     ["[Cluster] KeyFile", "key of its own"], []),
    ("item28/flush-section-unused", CL + VIP + "[Flush]\nKeyFile=@FKEY@\n", 14,
     ["[Flush] is not used"], []),
    ("item28/device-lo", "[Interface loop]\nDevice=lo\n", 7, ["loopback"], []),
    ("item22/keyfile-line-not-section-line", CL.replace("@KEY@", "@WKEY@") + VIP, 10,
     ["chmod 600", "cluster key"], []),
    ("item22/keyfile-symlink", CL.replace("@KEY@", "@LKEY@") + VIP, 10,
     ["symbolic link", "name the file itself"], ["Too many levels"]),
    ("item22/flush-key-is-called-flush-key",
     CL + VIP + "FlushHosts=198.18.0.5\n[Flush]\nKeyFile=@WKEY@\n", 16, ["flush key"],
     ["cluster key"]),
    ("item25/binary-bytes-escaped", "[ARP]\n\x01\x1b[31mX\x7f\n", 7, ["\\x01\\x1b[31mX\\x7f"],
     ["\x1b"]),
    ("item20/minutes-too-long", CL + VIP + "PreemptDelay=61m\n", 14, ["PreemptDelay", "5m"], []),
    ("nbcache/devicetypes-relative", "[Neighbors]\nDeviceTypes=devtypes.txt\n", 7,
     ["DeviceTypes", "absolute path"], []),
    ("nbcache/devicetypes-missing", "[Neighbors]\nDeviceTypes=@DT@.none\n", 7,
     ["DeviceTypes", "cannot read", "No such file"], []),
    ("nbcache/devicetypes-bad-rule", "[Neighbors]\nDeviceTypes=@DTBAD@\n", 7,
     ["DeviceTypes", "devtypes-bad.txt:2", "unknown match key"], []),
    ("nbcache/host-mac-twice",
     "[Host a]\nMAC=02:00:00:00:00:01\n[Host b]\nMAC=02-00-00-00-00-01\n", 9,
     ["[Host b]", "[Host a] at line 7"], []),
    ("nbcache/host-name-with-space", "[Host my pc]\nMAC=02:00:00:00:00:01\n", 6,
     ["[Host my pc]", "spaces"], []),
]

GOOD_ITEMS = [
    ("item20/durations-in-m-and-h",
     CL + VIP + "PreemptDelay=1h\nRefreshInterval=24h\nAnnounceInterval=1m\n"
     "[ConnSync]\nCheckInterval=60m\n"),
    ("item21/peers-63-on-repeated-lines",
     CL.replace("Group=239.192.74.10\n", "") +
     "".join("Peers=%s\n" % " ".join("198.18.1.%d" % (10 * r + i + 1) for i in range(10)
                                      if 10 * r + i < 63) for r in range(7))),
    ("item21/lists-on-repeated-lines",
     CL + VIP + "TrackInterface=eth0\nTrackInterface=lo\nAnnounce=garp\nAnnounce=targeted\n"
     "[ConnSync]\nNetworks=198.18.1.0/24\nNetworks=198.18.2.0/24\nProtocols=tcp\n"
     "Protocols=udp\n[ProxyARP]\nNetwork=198.18.9.0/24\nInterfaces=lan\n"),
    ("nbcache/neighbors-and-hosts",
     "[Neighbors]\nSize=1048576\nActiveTimeout=24h\nSnoop=no\n"
     "DeviceTypes=@DT@\n[Host printer-2]\nMAC=4a-86-f6-c5-a2-14\n"
     "[Host tv]\nMAC=02:00:00:00:00:02\n"),
]


def keys():
    for k in (KEY, FKEY, WKEY):
        if not os.path.exists(k):
            run([binary("arpha"), "keygen", k])
    os.chmod(WKEY, 0o644)
    if not os.path.islink(LKEY):
        os.symlink(KEY, LKEY)
    with open(DT, "w") as f:
        f.write("# a site's own rule\nmatch host~=till-* => type=computer os=Linux conf=60\n")
    with open(DTBAD, "w") as f:
        f.write("# a site's own rule\nmatch hostname~=till-* => type=computer conf=60\n")


def fill(text):
    return (text.replace("@KEY@", KEY).replace("@FKEY@", FKEY).replace("@WKEY@", WKEY)
            .replace("@LKEY@", LKEY).replace("@DTBAD@", DTBAD).replace("@DT@", DT))


def first_error(path, p):
    """(line, message) of stderr's first line "PATH:LINE: message"."""
    msg = p.stderr.strip()
    m = re.match(r"^(.*?):(\d+): (.+)$", msg.splitlines()[0] if msg else "")
    expect(m and m.group(1) == path, "expected %s:LINE: message, got %r", path, msg)
    return int(m.group(2)), m.group(3)


def readme_example():
    """The ini block of the README's Configuration section."""
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    sect = text.split("## Configuration", 1)[1]
    m = re.search(r"```ini\n(.*?)```", sect, re.S)
    expect(m, "no ```ini block in the README's Configuration section")
    return m.group(1)


def check(text, name):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write(text)
    p = run([binary("arphad"), "-n", "-f", path], check=False)
    return path, p


try:
    with res.case("good-config"):
        path, p = check(GOOD, "good")
        expect(p.returncode == 0, "rc %d: %s", p.returncode, p.stderr.strip())
        expect("configuration OK" in p.stdout and "1 interface" in p.stdout,
               "stdout: %r", p.stdout)

    for name, text, lines, words in BAD:
        with res.case("bad/" + name):
            path, p = check(HEAD + text, name)
            msg = p.stderr.strip()
            expect(p.returncode == 1, "rc %d (stderr %r)", p.returncode, msg)
            m = re.match(r"^(.*?):(\d+): (.+)$", msg.splitlines()[0] if msg else "")
            expect(m and m.group(1) == path, "expected %s:LINE: message, got %r", path, msg)
            expect(int(m.group(2)) in lines, "line %s, expected %s: %r", m.group(2),
                   " or ".join(map(str, lines)), msg)
            for w in words:
                expect(w.lower() in m.group(3).lower(), "message does not name %r: %r", w, msg)
            expect("Sanitizer" not in p.stderr and "runtime error" not in p.stderr, "%s", msg)

    keys()
    for name, text, line, words, nots in ITEMS:
        with res.case(name):
            path, p = check(HEAD + fill(text), name.replace("/", "-"))
            expect(p.returncode == 1, "rc %d (stderr %r)", p.returncode, p.stderr.strip())
            got, msg = first_error(path, p)
            expect(got == line, "line %d, expected %d: %r", got, line, msg)
            for w in words:
                expect(w.lower() in msg.lower(), "message does not name %r: %r", w, msg)
            for w in nots:
                expect(w not in p.stderr, "message holds %r: %r", w, p.stderr)
            expect("Sanitizer" not in p.stderr and "runtime error" not in p.stderr, "%s",
                   p.stderr)

    for name, text in GOOD_ITEMS:
        with res.case(name):
            path, p = check(HEAD + fill(text), name.replace("/", "-"))
            expect(p.returncode == 0 and "configuration OK" in p.stdout, "rc %d: %s",
                   p.returncode, p.stderr.strip())

    with res.case("item19/readme-example-loads"):
        path, p = check(readme_example(), "readme")
        expect(p.returncode == 0 and "configuration OK" in p.stdout, "rc %d: %s",
               p.returncode, p.stderr.strip())

    with res.case("item19/readme-examples-load-together"):
        # the [Cluster], [VIP]/[Flush] and [ConnSync] blocks of later sections too
        with open(os.path.join(TOP, "README.md")) as f:
            blocks = re.findall(r"```ini\n(.*?)```", f.read(), re.S)
        text = "\n".join(blocks).replace("/etc/arpha/cluster.key", KEY)
        text = text.replace("/etc/arpha/flush.key", FKEY)
        path, p = check(text, "readme-all")
        expect(len(blocks) >= 4 and p.returncode == 0 and "configuration OK" in p.stdout,
               "%d blocks, rc %d: %s", len(blocks), p.returncode, p.stderr.strip())

    with res.case("item19/example-file-loads"):
        p = run([binary("arphad"), "-n", "-f", os.path.join(TOP, "docs", "arphad.conf.example")],
                check=False)
        expect(p.returncode == 0 and "configuration OK" in p.stdout, "rc %d: %s",
               p.returncode, p.stderr.strip())

    with res.case("item19/mac-hint-is-unicast"):
        path, p = check(HEAD + "[ARPEntry]\nInterface=lan\nIP=198.18.0.9\nMode=Static\n"
                        "MAC=4a86.f6c5.a21\n", "machint")
        got, msg = first_error(path, p)
        hints = re.findall(r"such as ([0-9a-f]{2})[-:]", msg)
        expect(hints and all(int(h, 16) & 1 == 0 for h in hints),
               "the hint is not a unicast MAC: %r", msg)
        # and the hint itself loads
        m = re.search(r"such as (\S+) or", msg)
        path, p = check(HEAD + "[ARPEntry]\nInterface=lan\nIP=198.18.0.9\nMode=Static\n"
                        "MAC=%s\n" % m.group(1), "machint2")
        expect(p.returncode == 0, "the hint's MAC is refused: %r", p.stderr.strip())

    with res.case("item32/every-error-reported"):
        path, p = check(HEAD + "[ARP]\nExpire=0\nARPChanges=yes\n[Bogus]\nKey=1\n"
                        "[ARPEntry]\nInterface=lan\nIP=198.18.0.300\nMode=Publish\n",
                        "many")
        lines = p.stderr.strip().splitlines()
        got = [int(m.group(1)) for m in (re.match(re.escape(path) + r":(\d+): ", l)
                                         for l in lines) if m]
        expect(p.returncode == 1 and got == [7, 8, 9, 13], "rc %d, lines %s: %r", p.returncode,
               got, p.stderr)

    with res.case("item25/cr-only-line-ends"):
        path = os.path.join(tmp, "cr.conf")
        with open(path, "w", newline="") as f:
            f.write("[Interface lan]\rDevice=eth0\r[ARP]\rExpire=10\r")
        p = run([binary("arphad"), "-n", "-f", path], check=False)
        expect(p.returncode == 1 and "CR alone" in p.stderr and "\r" not in p.stderr,
               "rc %d: %r", p.returncode, p.stderr)

    with res.case("item9/config-is-a-fifo"):
        path = os.path.join(tmp, "fifo.conf")
        os.mkfifo(path)
        t0 = time.monotonic()
        try:
            p = run([binary("arphad"), "-n", "-f", path], check=False, timeout=10)
        except subprocess.TimeoutExpired:
            p = None
        expect(p is not None, "arphad -n hangs on a FIFO")
        expect(p.returncode == 1 and "not a regular file" in p.stderr, "rc %d: %r",
               p.returncode, p.stderr)
        expect(time.monotonic() - t0 < 5, "took %.1f s", time.monotonic() - t0)

    with res.case("missing-file"):
        p = run([binary("arphad"), "-n", "-f", os.path.join(tmp, "nope.conf")], check=False)
        expect(p.returncode == 1 and "nope.conf" in p.stderr, "rc %d: %r", p.returncode, p.stderr)

    with Lab("config", hosts={"node": (NODE_IP, NODE_MAC)}) as lab:
        with res.case("missing-device"):
            sock = os.path.join(lab.tmp, "x.sock")
            conf = os.path.join(lab.tmp, "nodev.conf")
            with open(conf, "w") as f:
                # DeviceTimeout=0: at once (test_latedev.py has the wait)
                f.write(make_config(sock, iface="lan", device="nosuch0").replace(
                    "LogTarget=stderr", "LogTarget=stderr\nDeviceTimeout=0"))
            p = lab.exec("node", binary("arphad"), "-d", "-f", conf, check=False, timeout=20)
            expect(p.returncode != 0, "arphad ran with a missing device")
            expect("nosuch0" in p.stderr, "the message does not name the device: %r",
                   p.stderr.strip())
            expect("Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
                   "%s", p.stderr[-1500:])
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "the nft table was left behind: %s", lab.nft_tables("node"))
            expect(not os.path.exists(sock), "the control socket was left behind")

        def n_in_node(text, name):
            path = os.path.join(lab.tmp, name + ".conf")
            with open(path, "w") as f:
                f.write(fill(text))
            return path, lab.exec("node", binary("arphad"), "-n", "-f", path, check=False)

        # the node's eth0 has 198.18.0.1/24
        for name, net in (("item8/proxyarp-own-subnet", "198.18.0.0/24"),
                          ("item8/proxyarp-holds-own-subnet", "198.18.0.0/16"),
                          ("item8/proxyarp-inside-own-subnet", "198.18.0.128/25")):
            with res.case(name):
                text = (make_config(sock) + "[ProxyARP]\nInterfaces=lan\nNetwork=%s\n" % net)
                line = text.splitlines().index("Network=%s" % net) + 1
                path, p = n_in_node(text, name.replace("/", "-"))
                expect(p.returncode == 1, "rc %d: %r", p.returncode, p.stderr)
                got, msg = first_error(path, p)
                expect(got == line and "198.18.0.0/24" in msg and "eth0" in msg,
                       "line %d (want %d): %r", got, line, msg)
                # and the daemon refuses it too, changing nothing
                p = lab.exec("node", binary("arphad"), "-d", "-f", path, check=False, timeout=20)
                expect(p.returncode != 0 and "%s:%d:" % (path, line) in p.stderr,
                       "arphad ran (rc %d): %r", p.returncode, p.stderr[-800:])
                expect(not any("arpha" in t for t in lab.nft_tables("node")),
                       "the nft table was left behind: %s", lab.nft_tables("node"))
                expect("Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
                       "%s", p.stderr[-1500:])

        with res.case("item8/proxyarp-other-network-ok"):
            path, p = n_in_node(make_config(sock) +
                                "[ProxyARP]\nInterfaces=lan\nNetwork=198.18.1.0/24\n", "pxok")
            expect(p.returncode == 0 and p.stderr.strip() == "", "rc %d: %r", p.returncode,
                   p.stderr)

        with res.case("item8/proxyarp-subnet-routed-elsewhere-ok"):
            # proxy ARP subnetting: a part of the link's network that lives behind
            # another interface (the kernel routes it there) may be proxied, as the
            # kernel's own proxy_arp allows
            lab.exec("node", "ip", "link", "add", "px0", "type", "veth", "peer", "name", "px1")
            try:
                lab.exec("node", "ip", "link", "set", "px0", "up")
                lab.exec("node", "ip", "link", "set", "px1", "up")
                lab.exec("node", "ip", "route", "add", "198.18.0.128/25", "dev", "px0")
                path, p = n_in_node(make_config(sock) +
                                    "[ProxyARP]\nInterfaces=lan\nNetwork=198.18.0.128/25\n",
                                    "pxsub")
                expect(p.returncode == 0 and p.stderr.strip() == "", "rc %d: %r", p.returncode,
                       p.stderr)
            finally:
                lab.exec("node", "ip", "link", "del", "px0", check=False)

        with res.case("item9e/cluster-interface-missing-is-a-warning"):
            text = (make_config(sock).replace("LogTarget=stderr",
                                              "LogTarget=stderr\nDeviceTimeout=0") +
                    CL.replace("eth0", "sync9"))
            line = text.splitlines().index("Interface=sync9") + 1
            path, p = n_in_node(text, "cl9")
            expect(p.returncode == 0 and "configuration OK" in p.stdout, "rc %d: %r",
                   p.returncode, p.stderr)
            expect("%s:%d: warning: [Cluster] Interface=sync9: no such device now" % (path, line)
                   in p.stderr, "no warning naming sync9 at line %d: %r", line, p.stderr)
            # the daemon refuses to start without it, naming it and its line
            p = lab.exec("node", binary("arphad"), "-d", "-f", path, check=False, timeout=20)
            expect(p.returncode != 0 and
                   "%s:%d: [Cluster] Interface=sync9: no such device" % (path, line) in p.stderr,
                   "rc %d: %r", p.returncode, p.stderr[-800:])
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "the nft table was left behind: %s", lab.nft_tables("node"))

        with res.case("item9c/trackinterface-missing-is-a-warning"):
            text = make_config("@SOCK@", log_level="info") + CL + VIP + "TrackInterface=eth7\n"
            line = text.splitlines().index("TrackInterface=eth7") + 1
            path, p = n_in_node(text.replace("@SOCK@", sock), "track7")
            expect(p.returncode == 0 and "configuration OK" in p.stdout, "rc %d: %r",
                   p.returncode, p.stderr)
            expect("%s:%d: warning: TrackInterface=eth7: no such device now" % (path, line)
                   in p.stderr, "no warning naming eth7 at line %d: %r", line, p.stderr)
            # the daemon says so at start, and its fault names the device
            d = Arphad(lab, "node", fill(text), "track7d")
            try:
                d.start()
                time.sleep(1.0)
                addrs = lab.ip("node", "-4", "-br", "addr").stdout
            finally:
                d.stop()
            log = d.log()
            expect("TrackInterface=eth7: no such device now" in log,
                   "no start warning naming eth7: %s", log[-1500:])
            expect(re.search(r"event=vip_fault .*device=eth7 reason=no_such_device", log),
                   "the vip_fault line does not name eth7: %s", log[-1500:])
            expect("198.18.0.100" not in addrs, "the VIP was taken in fault: %s", addrs)

        with res.case("second-device-missing"):
            conf = os.path.join(lab.tmp, "nodev2.conf")
            with open(conf, "w") as f:
                f.write(make_config(sock, iface="lan", device="eth0").replace(
                    "LogTarget=stderr", "LogTarget=stderr\nDeviceTimeout=0") +
                        "[Interface wan]\nDevice=nosuch1\n")
            p = lab.exec("node", binary("arphad"), "-d", "-f", conf, check=False, timeout=20)
            expect(p.returncode != 0 and "nosuch1" in p.stderr, "rc %d: %r", p.returncode,
                   p.stderr.strip())
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "the nft table was left behind: %s", lab.nft_tables("node"))
finally:
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
res.exit()
