#!/usr/bin/python3
"""Configuration errors: `arphad -n` says FILE:LINE: what is wrong and exits
1; a missing device stops `arphad -d` with a message naming the device and
leaves nothing behind."""
import os
import re
import sys
import tempfile

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

    with res.case("missing-file"):
        p = run([binary("arphad"), "-n", "-f", os.path.join(tmp, "nope.conf")], check=False)
        expect(p.returncode == 1 and "nope.conf" in p.stderr, "rc %d: %r", p.returncode, p.stderr)

    with Lab("config", hosts={"node": (NODE_IP, NODE_MAC)}) as lab:
        with res.case("missing-device"):
            sock = os.path.join(lab.tmp, "x.sock")
            conf = os.path.join(lab.tmp, "nodev.conf")
            with open(conf, "w") as f:
                f.write(make_config(sock, iface="lan", device="nosuch0"))
            p = lab.exec("node", binary("arphad"), "-d", "-f", conf, check=False, timeout=20)
            expect(p.returncode != 0, "arphad ran with a missing device")
            expect("nosuch0" in p.stderr, "the message does not name the device: %r",
                   p.stderr.strip())
            expect("Sanitizer" not in p.stderr and "runtime error" not in p.stderr,
                   "%s", p.stderr[-1500:])
            expect(not any("arpha" in t for t in lab.nft_tables("node")),
                   "the nft table was left behind: %s", lab.nft_tables("node"))
            expect(not os.path.exists(sock), "the control socket was left behind")

        with res.case("second-device-missing"):
            conf = os.path.join(lab.tmp, "nodev2.conf")
            with open(conf, "w") as f:
                f.write(make_config(sock, iface="lan", device="eth0") +
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
