#!/usr/bin/python3
"""The ARP-flush service end to end: arpha-flushd (ASan build) on a host,
`arpha flush-request` from a sender on the same bridge. A valid request
empties the host's kernel neighbour table (permanent entries and other
interfaces stay); a wrong key, a captured request sent again, and stale or
future timestamps change nothing and are counted and logged by reason; a
second request within HoldOff does not flush, one after it does; a request
listing one address removes only that one; garbage never hurts it."""
import hashlib
import hmac
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/flushd"
need_root(SUITE)
res = Results(SUITE)
if not os.access(binary("arpha-flushd"), os.X_OK):
    print("FAIL %s: no arpha-flushd in %s (build it first)" % (SUITE, build_dir()), flush=True)
    sys.exit(1)

HOST_IP, SENDER_IP = "198.18.0.5", "198.18.0.2"
HOSTS = {
    "host": (HOST_IP, "02:00:00:00:00:05"),
    "sender": (SENDER_IP, "02:00:00:00:00:02"),
    "attacker": (ATTACKER_IP, ATTACKER_MAC),
}
PORT = 7411
HOLDOFF = 1  # seconds (-H)
VIP1, VIP2, STATIC_IP, SIDE_IP = "198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.1.100"
OLD_MAC = "02:00:00:00:01:00"
for _a in (VIP1, VIP2, STATIC_IP, SIDE_IP):
    check_addr(_a)

# Runs in the sender's namespace: print the payload of the first UDP
# datagram to PORT that leaves eth0 (as "got HEX"), "ready" once listening.
SNIFFER = r"""
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL: outgoing too
s.bind(("eth0", 3))
s.settimeout(10)
print("ready", flush=True)
while True:
    try:
        f = s.recv(4096)
    except socket.timeout:
        print("timeout", flush=True)
        sys.exit(1)
    ip = f[14:]
    if f[12:14] != b"\x08\x00" or len(ip) < 28 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    if struct.unpack("!H", udp[2:4])[0] == int(sys.argv[1]):
        ulen = struct.unpack("!H", udp[4:6])[0]
        print("got " + udp[8:ulen].hex(), flush=True)
        sys.exit(0)
"""

# Runs in a namespace: send each hex datagram of argv[3:] to argv[1]:argv[2].
SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for h in sys.argv[3:]:
    s.sendto(bytes.fromhex(h), (sys.argv[1], int(sys.argv[2])))
print("sent", flush=True)
"""


def request_bytes(key, ts_ns, addrs=(), nonce=None):
    """A flush request built here from the layout in src/core/flushmsg.h
    (HMAC-SHA-256 is in the standard library)."""
    nonce = nonce or os.urandom(16)
    body = b"ARFL" + bytes((1, 0)) + struct.pack(">HQ", len(addrs), ts_ns) + nonce
    body += b"".join(socket.inet_aton(a) for a in addrs)
    return body + hmac.new(key, body, hashlib.sha256).digest()


class Flushd:
    """arpha-flushd -f in a namespace; its stderr goes to a file. Has what
    Lab.close and Lab.daemon_problems ask of a daemon."""

    def __init__(self, lab, role, args, name="flushd"):
        self.lab, self.role, self.name = lab, role, name
        self.logpath = os.path.join(lab.tmp, name + ".log")
        self.killed = False
        self.stopped_rc = None
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        self.logf = open(self.logpath, "ab")
        self.p = subprocess.Popen(["ip", "netns", "exec", lab.ns(role), binary("arpha-flushd"),
                                   "-f"] + list(args), stdin=subprocess.DEVNULL,
                                  stdout=self.logf, stderr=subprocess.STDOUT, env=env)
        lab.daemons.append(self)
        end = time.monotonic() + 15
        while not self.log_lines(r"arpha-flushd \S+ started"):
            if self.p.poll() is not None:
                raise RuntimeError("arpha-flushd exited with %d at start:\n%s" %
                                   (self.p.returncode, self.log()[-3000:]))
            if time.monotonic() > end:
                raise RuntimeError("arpha-flushd did not start:\n%s" % self.log()[-3000:])
            time.sleep(0.05)

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.p.kill()
                self.p.wait()
        self.logf.close()
        self.stopped_rc = self.p.returncode
        return self.p.returncode

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def log_mark(self):
        return os.path.getsize(self.logpath)

    def log_lines(self, pattern, since=0):
        with open(self.logpath, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return [l for l in text.splitlines() if re.search(pattern, l)]

    def wait_log(self, pattern, since=0, timeout=3.0):
        end = time.monotonic() + timeout
        while True:
            got = self.log_lines(pattern, since)
            if got or time.monotonic() > end:
                return got
            time.sleep(0.02)

    def counters(self):
        """SIGUSR1, then the counters line as a dict."""
        m = self.log_mark()
        self.p.send_signal(signal.SIGUSR1)
        got = self.wait_log(r"event=counters ", m)
        expect(got, "no counters line after SIGUSR1")
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", got[-1])}

    def sanitizer_report(self):
        m = SANITIZER_RE.search(self.log())
        return self.log()[max(0, m.start() - 200):][:3000] if m else None


with Lab("flushd", hosts=HOSTS) as lab:
    key = os.path.join(lab.tmp, "flush.key")
    wrong = os.path.join(lab.tmp, "wrong.key")
    run([binary("arpha"), "keygen", key])
    run([binary("arpha"), "keygen", wrong])
    with open(key) as f:
        KEY = bytes.fromhex(f.read().strip())
    # a second link on the host that flushd is not told to look after
    lab.ip("host", "link", "add", "side0", "type", "veth", "peer", "name", "side1")
    lab.ip("host", "link", "set", "side0", "up")
    lab.ip("host", "link", "set", "side1", "up")

    def add(ip, dev="eth0", permanent=False):
        lab.ip("host", "neigh", "replace", ip, "lladdr", OLD_MAC, "dev", dev, "nud",
               "permanent" if permanent else "reachable")
        expect(ip in lab.neigh("host", dev), "could not add %s on %s", ip, dev)

    def gone(ip, timeout=3.0):
        return lab.wait_neigh(ip, lambda e: e is None, role="host", timeout=timeout) is None

    def stays(ip, wait=0.5):
        time.sleep(wait)
        return ip in lab.neigh("host")

    def flush_request(*args, keyfile=key, role="sender", check=True):
        return lab.exec(role, binary("arpha"), "flush-request", "-k", keyfile, *args,
                        check=check)

    def send_raw(role, *datagrams):
        p = lab.exec(role, PY, "-c", SENDER, HOST_IP, str(PORT), *[d.hex() for d in datagrams])
        expect(p.stdout.strip() == "sent", "sender: %s %s", p.stdout, p.stderr)

    def holdoff_over():
        time.sleep(HOLDOFF + 0.2)

    with res.case("bad-key-file-refused"):
        loose = os.path.join(lab.tmp, "loose.key")
        with open(key) as f, open(loose, "w") as g:
            g.write(f.read())
        os.chmod(loose, 0o644)
        p = lab.exec("host", binary("arpha-flushd"), "-f", "-k", loose, check=False)
        expect(p.returncode == 1, "exit %d with a mode 0644 key", p.returncode)
        expect("chmod 600" in p.stderr and "0644" in p.stderr, "message: %s", p.stderr.strip())
        p = lab.exec("host", binary("arpha-flushd"), "-f", "-k", lab.tmp + "/none.key",
                     check=False)
        expect(p.returncode == 1 and "arpha keygen" in p.stderr, "missing key: %d %s",
               p.returncode, p.stderr.strip())
        p = lab.exec("host", binary("arpha-flushd"), "-f", "-k", key, "-i", "nosuch0",
                     check=False)
        expect(p.returncode == 2 and "nosuch0: no such interface" in p.stderr,
               "unknown interface: %d %s", p.returncode, p.stderr.strip())

    with res.case("cli-usage-errors"):
        p = flush_request("198.18.0.x", check=False)
        expect(p.returncode == 2 and
               "arpha: flush-request: HOST '198.18.0.x' is not an IPv4 address" in p.stderr,
               "bad host: %d %s", p.returncode, p.stderr.strip())
        p = flush_request("-a", "nope", HOST_IP, check=False)
        expect(p.returncode == 2 and "ADDR 'nope' is not an IPv4 address" in p.stderr,
               "bad addr: %d %s", p.returncode, p.stderr.strip())
        p = flush_request(check=False)
        expect(p.returncode == 2 and "no HOST" in p.stderr, "no host: %s", p.stderr.strip())
        p = flush_request("-n", "0", HOST_IP, check=False)
        expect(p.returncode == 2 and "-n '0'" in p.stderr, "count 0: %s", p.stderr.strip())
        p = flush_request(HOST_IP, keyfile=lab.tmp + "/none.key", check=False)
        expect(p.returncode == 1 and "none.key" in p.stderr, "no key: %s", p.stderr.strip())

    fd = Flushd(lab, "host", ["-k", key, "-p", str(PORT), "-H", str(HOLDOFF), "-i", "eth0"])

    with res.case("valid-request-flushes-table"):
        add(VIP1)
        add(VIP2)
        add(STATIC_IP, permanent=True)
        add(SIDE_IP, dev="side0")
        m = fd.log_mark()
        flush_request("-n", "1", HOST_IP)
        expect(gone(VIP1), "%s still in the host's table: %s", VIP1, lab.neigh("host"))
        expect(gone(VIP2), "%s still in the host's table: %s", VIP2, lab.neigh("host"))
        got = fd.wait_log(r"action=flush from=%s addrs=all removed=(\d+)" % SENDER_IP, m)
        expect(got, "no flush line: %s", fd.log()[-1000:])
        n = int(re.search(r"removed=(\d+)", got[0]).group(1))
        expect(n >= 2, "removed=%d", n)
        expect(fd.log_lines(r"notice: event=flush_request action=flush", m), "not at notice")

    with res.case("permanent-entries-and-other-interfaces-kept"):
        t = lab.neigh("host")
        expect(STATIC_IP in t and "PERMANENT" in t[STATIC_IP]["state"], "permanent: %s", t)
        expect(SIDE_IP in lab.neigh("host", "side0"), "side0 (not -i) was flushed: %s",
               lab.neigh("host", "side0"))

    with res.case("wrong-key-refused"):
        holdoff_over()
        add(VIP1)
        before = fd.counters()
        m = fd.log_mark()
        p = flush_request("-n", "1", HOST_IP, keyfile=wrong)
        expect(p.returncode == 0, "send failed: %s", p.stderr)
        expect(fd.wait_log(r"info: event=flush_request action=drop reason=bad_auth from=%s" %
                           SENDER_IP, m), "no bad_auth line: %s", fd.log()[-800:])
        expect(stays(VIP1), "%s flushed by a wrong key", VIP1)
        after = fd.counters()
        expect(after["bad_auth"] == before["bad_auth"] + 1, "bad_auth %d -> %d",
               before["bad_auth"], after["bad_auth"])
        expect(after["flushed"] == before["flushed"], "flushed %d -> %d", before["flushed"],
               after["flushed"])

    with res.case("captured-request-replayed-refused"):
        # capture what `arpha flush-request` puts on the wire ...
        sn = subprocess.Popen(["ip", "netns", "exec", lab.ns("sender"), PY, "-u", "-c",
                               SNIFFER, str(PORT)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        try:
            expect(sn.stdout.readline().strip() == "ready", "sniffer did not start")
            m = fd.log_mark()
            flush_request("-n", "1", "-a", VIP1, HOST_IP)
            line = sn.stdout.readline().split()
            sn.wait(10)
        finally:
            if sn.poll() is None:
                sn.kill()
                sn.wait()
        expect(len(line) == 2 and line[0] == "got", "nothing captured: %s", line)
        captured = bytes.fromhex(line[1])
        expect(len(captured) == 32 + 4 + 32 and captured[:4] == b"ARFL",
               "captured %d bytes: %s", len(captured), captured[:8].hex())
        expect(gone(VIP1), "the original request did not flush %s", VIP1)
        expect(fd.wait_log(r"action=flush from=%s addrs=%s removed=1" % (SENDER_IP, VIP1), m),
               "no flush line for the original")
        # ... and send the same bytes again, after the hold-off, from elsewhere
        holdoff_over()
        add(VIP1)
        before = fd.counters()
        m = fd.log_mark()
        send_raw("attacker", captured)
        expect(fd.wait_log(r"reason=replay from=%s" % ATTACKER_IP, m), "no replay line: %s",
               fd.log()[-800:])
        expect(stays(VIP1), "%s flushed by a replayed request", VIP1)
        after = fd.counters()
        expect(after["replay"] == before["replay"] + 1, "replay %d -> %d", before["replay"],
               after["replay"])
        expect(after["bad_auth"] == before["bad_auth"], "counted as bad_auth")

    with res.case("stale-and-future-refused"):
        add(VIP1)
        before = fd.counters()
        m = fd.log_mark()
        now = time.time_ns()
        send_raw("sender", request_bytes(KEY, now - 60 * 10**9),
                 request_bytes(KEY, now + 60 * 10**9))
        expect(fd.wait_log(r"reason=stale from=%s" % SENDER_IP, m), "no stale line")
        expect(fd.wait_log(r"reason=future from=%s" % SENDER_IP, m), "no future line")
        expect(stays(VIP1), "%s flushed by a stale or future request", VIP1)
        after = fd.counters()
        for r in ("stale", "future"):
            expect(after[r] == before[r] + 1, "%s %d -> %d", r, before[r], after[r])
        expect(after["flushed"] == before["flushed"], "flushed %d -> %d", before["flushed"],
               after["flushed"])

    with res.case("request-built-from-the-spec-accepted"):
        # the layout of flushmsg.h, made independently here, within the window
        add(VIP1)
        m = fd.log_mark()
        send_raw("sender", request_bytes(KEY, time.time_ns() - 10 * 10**9, [VIP1]))
        expect(gone(VIP1), "%s not flushed by a request built from the spec", VIP1)
        expect(fd.wait_log(r"action=flush from=%s addrs=%s removed=1" % (SENDER_IP, VIP1), m),
               "no flush line")

    with res.case("hold-off"):
        # the repeats of one request (same request ID: the nonce's first 8
        # bytes) flush once; another request flushes at once, hold-off or not
        holdoff_over()
        add(VIP1)
        t0 = time.monotonic()
        rid = os.urandom(8)
        send_raw("sender", request_bytes(KEY, time.time_ns(), nonce=rid + os.urandom(8)))
        expect(gone(VIP1), "first request did not flush")
        before = fd.counters()
        add(VIP1)
        send_raw("sender", request_bytes(KEY, time.time_ns(), nonce=rid + os.urandom(8)))
        expect(stays(VIP1, 0.3), "a repeat of the request within HoldOff flushed again")
        expect(time.monotonic() - t0 < HOLDOFF, "too slow to test within HoldOff (%.2f s)",
               time.monotonic() - t0)
        after = fd.counters()
        expect(after["held_off"] == before["held_off"] + 1, "held_off %d -> %d",
               before["held_off"], after["held_off"])
        expect(after["flushed"] == before["flushed"], "flushed %d -> %d", before["flushed"],
               after["flushed"])
        flush_request("-n", "1", HOST_IP)
        expect(gone(VIP1), "a new request within HoldOff did not flush")
        expect(time.monotonic() - t0 < HOLDOFF, "too slow to test within HoldOff (%.2f s)",
               time.monotonic() - t0)
        add(VIP1)
        time.sleep(max(0, t0 + HOLDOFF + 0.2 - time.monotonic()))
        send_raw("sender", request_bytes(KEY, time.time_ns(), nonce=rid + os.urandom(8)))
        expect(gone(VIP1), "a repeat after HoldOff did not flush")

    with res.case("repeats-flush-once"):
        # the sender's repeats (here 4, 100 ms apart) make one flush
        holdoff_over()
        add(VIP1)
        before = fd.counters()
        flush_request("-n", "4", "-i", "100", HOST_IP)
        expect(gone(VIP1), "not flushed")
        after = fd.counters()
        expect(after["flushed"] == before["flushed"] + 1 and
               after["held_off"] == before["held_off"] + 3,
               "flushed %d -> %d, held_off %d -> %d", before["flushed"], after["flushed"],
               before["held_off"], after["held_off"])

    with res.case("one-address-only"):
        holdoff_over()
        add(VIP1)
        add(VIP2)
        m = fd.log_mark()
        flush_request("-n", "1", "-a", VIP1, HOST_IP)
        expect(gone(VIP1), "%s not flushed", VIP1)
        expect(stays(VIP2, 0.2), "%s flushed too, though not listed", VIP2)
        expect(fd.wait_log(r"addrs=%s removed=1" % VIP1, m), "no flush line")

    with res.case("garbage-counted-rate-limited-survived"):
        before = fd.counters()
        m = fd.log_mark()
        rnd = random.Random(7411)
        junk = [b"", b"hello", b"ARFL" + bytes(60), b"ARFL\x02" + bytes(59),
                b"ARFL\x01\x00\x00\x41" + bytes(24 + 65 * 4 + 32),
                b"ARFL\x01\x00\x00\x01" + bytes(24 + 32)]
        junk += [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 400)))
                 for _ in range(60)]
        send_raw("attacker", *junk)
        time.sleep(0.5)
        expect(fd.alive(), "arpha-flushd died on garbage: %s", fd.log()[-2000:])
        after = fd.counters()
        refused = sum(after[r] - before[r] for r in
                      ("truncated", "bad_magic", "bad_version", "bad_flags", "too_many_addrs",
                       "bad_length", "bad_auth"))
        expect(refused == len(junk), "%d of %d garbage datagrams counted", refused, len(junk))
        for r in ("truncated", "bad_magic", "bad_version", "too_many_addrs", "bad_length"):
            expect(after[r] > before[r], "no %s counted", r)
        lines = fd.log_lines(r"action=drop", m)
        expect(len(lines) <= 10, "%d refusal lines for one burst (rate limit 5/s)", len(lines))
        expect(after["log_suppressed"] > before["log_suppressed"], "nothing suppressed")
        got = fd.wait_log(r"event=log_suppressed count=\d+", m, timeout=2)
        expect(got, "the suppressed lines were not reported")

    with res.case("flushd-clean-exit"):
        expect(fd.alive(), "arpha-flushd died: %s", fd.log()[-1500:])
        rc = fd.stop()
        expect(rc == 0, "exit %s on SIGTERM: %s", rc, fd.log()[-1500:])
        expect(fd.log_lines(r"event=counters "), "no counters at exit")
        rep = fd.sanitizer_report()
        expect(not rep, "sanitizer report:\n%s", rep)
res.exit()
