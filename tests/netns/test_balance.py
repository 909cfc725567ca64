#!/usr/bin/python3
"""core/balance against the kernel (issue 13: "the same formula in C and
in the nft rule, checked against each other by a test"). Two namespaces on
the lab's switch: a client sends real packets (raw IPv4: TCP SYNs, UDP
datagrams, ICMP echo requests) from many addresses and ports to addresses of
a server; in the server's prerouting, after conntrack, an nftables rule sets
each connection's ct mark from the jhash expression that tests/tools/
balance_calc writes (balance_nft_expr*); conntrack -L reads the marks back,
and every one must equal balance_calc's bucket for the same tuple
(balance_bucket_tuple / balance_bucket_ip). Rounds: two seeds, 1024 and
1000 buckets, an offset, the address-only key of other protocols, and
`jhash ip saddr`. A negative control shows the comparison would see a
wrong formula (source and destination swapped). The server's own replies
(RSTs, port unreachables, echo replies) are dropped at its output hook
before conntrack sees them (a RST would end the entry): nothing goes
anywhere but the client's packets to the server."""
import ipaddress
import os
import random
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/balance"
N_TCP = int(os.environ.get("ARPHA_BALANCE_TCP", "4000"))
N_UDP = int(os.environ.get("ARPHA_BALANCE_UDP", "4000"))
N_ICMP = int(os.environ.get("ARPHA_BALANCE_ICMP", "500"))

SERVER_IP, CLIENT_IP_ = "198.18.0.1", "198.18.0.10"
SERVER_NET = "198.18.1.0/24"  # addresses of the server the client routes to it
DADDRS = ["198.18.1.%d" % i for i in range(1, 17)]

# (name, key, buckets, seed, offset); key "tuple": TCP and UDP by
# balance_nft_expr, ICMP by balance_nft_expr_addrs; "ip": everything by
# balance_nft_expr_ip.
ROUNDS = [
    ("seed-5eed-1024", "tuple", 1024, 0x5eed, 0),
    ("seed-deadbeef-1024", "tuple", 1024, 0xdeadbeef, 0),
    ("seed-5eed-1000", "tuple", 1000, 0x5eed, 0),
    ("seed-c0ffee-1000-offset", "tuple", 1000, 0xc0ffee, 0x10000),
    ("ip-saddr-1024", "ip", 1024, 0x5eed, 0),
]

if os.geteuid() != 0:
    print("FAIL %s: the netns tests must run as root" % SUITE, flush=True)
    sys.exit(1)
CALC = binary("balance_calc")
if not os.access(CALC, os.X_OK):
    print("FAIL %s: no balance_calc in %s (build with tests enabled)" % (SUITE, build_dir()),
          flush=True)
    sys.exit(1)

res = Results(SUITE)
for ip in DADDRS:
    check_addr(ip)


# ---------------------------------------------------------------- tuples

def make_tuples():
    """Distinct (proto, saddr, daddr, sport, dport); ICMP: sport is the echo
    id, dport 0. Sources from all over 198.18.0.0/15, ports over their whole
    range with the edges."""
    rnd = random.Random(13)
    nets = [ipaddress.ip_network(n) for n in ("198.18.0.0/24", "198.18.2.0/23",
                                               "198.19.0.0/16")]

    def saddr():
        n = rnd.choice(nets)
        while True:
            a = str(n.network_address + rnd.randrange(1, n.num_addresses - 1))
            if a not in (SERVER_IP, CLIENT_IP_):
                return a

    edges = [1, 2, 255, 256, 0x7fff, 0x8000, 0xff00, 0x00ff, 65534, 65535]
    out, seen = [], set()
    for proto, count in ((6, N_TCP), (17, N_UDP), (1, N_ICMP)):
        made = 0
        while made < count:
            s, d = saddr(), rnd.choice(DADDRS)
            if proto == 1:
                t = (1, s, d, rnd.randrange(0, 65536), 0)
            else:
                sp = edges[made] if made < len(edges) else rnd.randrange(1, 65536)
                dp = rnd.choice(edges + [22, 53, 80, 443, 8080, rnd.randrange(1, 65536)])
                t = (proto, s, d, sp, dp)
            key = t if proto != 1 else (1, s, d, t[3])
            if key in seen:
                continue
            seen.add(key)
            out.append(t)
            made += 1
    return out


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def packet(t):
    proto, s, d, sp, dp = t
    sb, db = socket.inet_aton(s), socket.inet_aton(d)
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sp, dp, 0x1000 + sp, 0, 5 << 4, 0x02, 64240, 0, 0)
        pseudo = sb + db + struct.pack("!BBH", 0, 6, len(l4))
        l4 = l4[:16] + struct.pack("!H", csum(pseudo + l4)) + l4[18:]
    elif proto == 17:
        payload = b"balance"
        l4 = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack("!BBHHH", 8, 0, 0, sp, 1) + b"balance"
        l4 = l4[:2] + struct.pack("!H", csum(l4)) + l4[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, sb, db)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + l4


# Runs in the client's namespace: raw packets on stdin (hex, one a line),
# sent to their destination in bursts the receiving backlog can take.
SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
n = 0
for line in sys.stdin:
    p = bytes.fromhex(line.strip())
    s.sendto(p, (socket.inet_ntoa(p[16:20]), 0))
    n += 1
    if n % 100 == 0:
        time.sleep(0.002)
print(n)
"""


def send(lab, tuples):
    p = lab_exec_input(lab, "client", [PY, "-c", SENDER],
                       "".join(packet(t).hex() + "\n" for t in tuples), timeout=60)
    expect(p.returncode == 0, "sender: %s", p.stderr.strip()[-500:])


def lab_exec_input(lab, role, cmd, text, timeout=30):
    return run(["ip", "netns", "exec", lab.ns(role)] + cmd, check=False, input=text,
               timeout=timeout)


# ---------------------------------------------------------------- both sides

def calc(args, lines=None):
    p = run([CALC] + args, check=False, input=lines, timeout=60)
    if p.returncode != 0:
        raise CaseFailed("balance_calc %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def c_buckets(key, buckets, seed, offset, tuples, swap=False):
    """balance_calc's bucket for each tuple, in order."""
    par = ["-n", str(buckets), "-s", hex(seed), "-o", str(offset)]
    if key == "ip":
        out = calc(par + ["ip"], "".join("%s\n" % (t[2] if swap else t[1]) for t in tuples))
    else:
        out = calc(par + ["tuple"], "".join(
            "%d %s %s %d %d\n" % ((t[0], t[2], t[1], t[4], t[3]) if swap else t)
            for t in tuples))
    got = [int(w) for w in out.split()]
    if len(got) != len(tuples):
        raise CaseFailed("balance_calc gave %d buckets for %d tuples" % (len(got), len(tuples)))
    return got


def ruleset(key, buckets, seed, offset):
    par = ["-n", str(buckets), "-s", hex(seed), "-o", str(offset), "expr"]
    if key == "ip":
        rules = "    ct mark set %s counter\n" % calc(par + ["ip"]).strip()
    else:
        rules = ("    meta l4proto { tcp, udp } ct mark set %s counter\n"
                 "    meta l4proto icmp ct mark set %s counter\n" % (
                     calc(par + ["tuple"]).strip(), calc(par + ["addrs"]).strip()))
    return ("table ip arpha_balance {\n"
            "  chain pre {\n"
            "    type filter hook prerouting priority -150; policy accept;\n"
            "    iifname != \"eth0\" return\n" + rules +
            "  }\n"
            "  chain out {\n"
            "    type filter hook output priority -300; policy drop;\n"
            "  }\n"
            "}\n"), rules


CT_LINE = re.compile(r"^ipv4\s+2\s+(tcp|udp|icmp)\s+(\d+)\s.*?src=(\S+) dst=(\S+) "
                     r"(?:sport=(\d+) dport=(\d+)|type=\d+ code=\d+ id=(\d+))")
MARK = re.compile(r"\bmark=(\d+)\b")


def kernel_marks(lab):
    """{(proto, saddr, daddr, sport, dport): mark} of the server's conntrack."""
    p = lab.exec("server", "conntrack", "-L", "-o", "extended", check=False, timeout=60)
    expect(p.returncode == 0, "conntrack -L: %s", p.stderr.strip())
    out = {}
    for line in p.stdout.splitlines():
        m = CT_LINE.match(line)
        mk = MARK.search(line)
        if not m or not mk:
            continue
        proto = {"tcp": 6, "udp": 17, "icmp": 1}[m.group(1)]
        if proto == 1:
            t = (1, m.group(3), m.group(4), int(m.group(7)), 0)
        else:
            t = (proto, m.group(3), m.group(4), int(m.group(5)), int(m.group(6)))
        out[t] = int(mk.group(1))
    return out


def run_round(lab, tuples, key, buckets, seed, offset):
    """Flush, load the round's rule, send every tuple (again for those the
    kernel did not see, up to 3 times: a burst can overflow a backlog),
    return (kernel marks, rule text, sends)."""
    lab.exec("server", "conntrack", "-F", check=False)
    lab.exec("server", "nft", "delete", "table", "ip", "arpha_balance", check=False)
    text, rules = ruleset(key, buckets, seed, offset)
    p = run(["ip", "netns", "exec", lab.ns("server"), "nft", "-f", "-"], check=False,
            input=text)
    expect(p.returncode == 0, "nft refused the generated rule:\n%s\n%s", text, p.stderr.strip())
    todo, marks, sends = list(tuples), {}, 0
    for _ in range(3):
        send(lab, todo)
        sends += 1
        time.sleep(0.1)
        marks = kernel_marks(lab)
        todo = [t for t in tuples if t not in marks]
        if not todo:
            break
    expect(not todo, "%d of %d tuples never reached the server's conntrack, e.g. %s",
           len(todo), len(tuples), todo[:3])
    return marks, rules, sends


# ---------------------------------------------------------------- the test

TUPLES = make_tuples()
hosts = {"server": (SERVER_IP, "02:00:00:00:b0:01"), "client": (CLIENT_IP_, "02:00:00:00:b0:10")}
t_start = time.monotonic()
with Lab("balance", hosts=hosts) as lab:
    with res.case("setup"):
        for ip in DADDRS:
            lab.ip("server", "addr", "add", ip + "/32", "dev", "lo")
        # sources from all of 198.18.0.0/15 are on the switch, as far as the
        # server knows (its answers are dropped at its output anyway)
        lab.ip("server", "route", "add", "198.18.0.0/15", "dev", "eth0", "metric", "100")
        lab.exec("server", "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0",
                 "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0",
                 "net.ipv4.conf.lo.rp_filter=0")
        lab.ip("client", "route", "add", SERVER_NET, "via", SERVER_IP)
        expect(lab.ping("client", SERVER_IP), "the client cannot reach the server")
        p = lab.exec("server", "sysctl", "-n", "net.netfilter.nf_conntrack_max", check=False)
        if p.returncode == 0:
            expect(int(p.stdout) >= len(TUPLES) + 1000, "nf_conntrack_max %s is too small",
                   p.stdout.strip())

    total = 0
    last = None
    for name, key, buckets, seed, offset in ROUNDS:
        with res.case("round-" + name):
            marks, rules, sends = run_round(lab, TUPLES, key, buckets, seed, offset)
            want = c_buckets(key, buckets, seed, offset, TUPLES)
            bad = [(t, marks[t], w) for t, w in zip(TUPLES, want) if marks[t] != w]
            lo, hi = min(marks[t] for t in TUPLES), max(marks[t] for t in TUPLES)
            expect(offset <= lo and hi < offset + buckets,
                   "kernel marks from %d to %d, outside [%d, %d)", lo, hi, offset,
                   offset + buckets)
            expect(not bad, "%d of %d tuples: the kernel's bucket differs from the C one; "
                   "first (tuple, kernel, C): %s; rule: %s", len(bad), len(TUPLES), bad[:5],
                   rules.strip())
            total += len(TUPLES)
            if key == "tuple":
                last = (key, buckets, seed, offset, marks)
            print("info %s round %s: %d tuples (tcp %d, udp %d, icmp %d), %d buckets, "
                  "seed %#x, offset %d, %d send(s): all equal" % (
                      SUITE, name, len(TUPLES), N_TCP, N_UDP, N_ICMP, buckets, seed, offset,
                      sends), flush=True)

    # The comparison is not blind: the same check with a wrong formula (the
    # addresses and ports of each tuple swapped) must see many differences.
    with res.case("negative-control"):
        expect(last is not None, "no round completed")
        key, buckets, seed, offset, marks = last
        wrong = c_buckets(key, buckets, seed, offset, TUPLES, swap=True)
        differ = sum(1 for t, w in zip(TUPLES, wrong) if marks[t] != w)
        expect(differ > len(TUPLES) * 9 // 10,
               "with source and destination swapped only %d of %d tuples differ",
               differ, len(TUPLES))
        print("info %s negative control: swapped source and destination, %d of %d differ" %
              (SUITE, differ, len(TUPLES)), flush=True)
    print("info %s %d kernel verdicts compared in %.1f s" % (SUITE, total,
                                                              time.monotonic() - t_start),
          flush=True)
res.exit()
