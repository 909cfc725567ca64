#!/usr/bin/python3
"""probe: ask a target for an answer every millisecond and measure the
longest silence. Standard library only; runs inside a namespace:

    ip netns exec NS /usr/bin/python3 probe.py 198.18.0.100 [options]

Sends an ICMP echo request (raw socket; any host holding the address
answers from its kernel) or a UDP datagram (--udp PORT; the target must
echo it, e.g. with `probe.py --serve PORT` running there) on a fixed
schedule of absolute deadlines (start + k * interval), so a late wake-up
does not shift the following sends. Stops after --duration seconds, when
--stop-file appears, or on SIGTERM/SIGINT, and prints one JSON object:

  sent, received, duplicates, send_errors, longest_gap_ms, gap_start and
  gap_end (CLOCK_MONOTONIC seconds, the same clock as time.monotonic() in
  any namespace), gap_start_ms (from the start), recovered (an answer came
  after the longest gap; false when it lasted to the end), first_answer_ms,
  gaps_over_10ms, late_max_ms (the worst lateness of a send), skipped
  (send slots dropped because the probe fell more than 10 intervals
  behind), start, end, duration_s.

The longest gap is the longest interval between consecutive answers,
counting also from the start to the first answer and from the last answer
to the end. --status MS adds a JSON line {"type": "status", ...} every MS
milliseconds (for a controller that waits for recovery); the result line
then carries "type": "result". --ready-file is written at the first answer.
"""
import argparse
import errno
import json
import os
import select
import signal
import socket
import struct
import sys
import time

ICMP_ECHO, ICMP_ECHOREPLY = 8, 0


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_request(ident, seq, payload):
    hdr = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    c = checksum(hdr + payload)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, c, ident, seq) + payload


class Icmp:
    def __init__(self, target, ident):
        self.target, self.ident = target, ident
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.s.setblocking(False)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    def send(self, seq):
        self.s.sendto(echo_request(self.ident, seq & 0xFFFF, struct.pack("!Q", seq)),
                      (self.target, 0))

    def recv(self):
        """One answer's seq, None for something else; raises BlockingIOError."""
        data, (src, _p) = self.s.recvfrom(2048)
        if src != self.target or len(data) < 20:
            return None
        ihl = (data[0] & 0x0F) * 4
        icmp = data[ihl:]
        if len(icmp) < 16:
            return None
        typ, _code, _c, ident, _seq = struct.unpack("!BBHHH", icmp[:8])
        if typ != ICMP_ECHOREPLY or ident != self.ident:
            return None
        return struct.unpack("!Q", icmp[8:16])[0]


class Udp:
    def __init__(self, target, port, ident):
        self.target, self.port, self.ident = target, port, ident
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setblocking(False)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    def send(self, seq):
        self.s.sendto(struct.pack("!HQ", self.ident, seq), (self.target, self.port))

    def recv(self):
        data, (src, _p) = self.s.recvfrom(2048)
        if src != self.target or len(data) != 10:
            return None
        ident, seq = struct.unpack("!HQ", data)
        return seq if ident == self.ident else None


def serve(port):
    """A UDP echo server (for --udp probes)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        data, peer = s.recvfrom(2048)
        try:
            s.sendto(data, peer)
        except OSError:
            pass


class Gaps:
    """Receive times folded into the longest gap, without keeping them."""

    def __init__(self, start):
        self.start = start
        self.last = start          # last answer (or the start)
        self.first = None
        self.longest = (0.0, start, start)
        self.over10 = 0
        self.received = 0

    def answer(self, t):
        self.received += 1
        if self.first is None:
            self.first = t
        g = t - self.last
        if g > self.longest[0]:
            self.longest = (g, self.last, t)
        if g > 0.010:
            self.over10 += 1
        self.last = t

    def result(self, end):
        g, a, b = self.longest
        recovered = True
        if end - self.last > g:
            g, a, b, recovered = end - self.last, self.last, end, False
        return g, a, b, recovered


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("target", nargs="?")
    ap.add_argument("--udp", type=int, metavar="PORT", help="UDP to PORT instead of ICMP echo")
    ap.add_argument("--serve", type=int, metavar="PORT", help="be a UDP echo server on PORT")
    ap.add_argument("--interval", type=float, default=1.0, metavar="MS",
                    help="send interval in ms (default 1)")
    ap.add_argument("--duration", type=float, default=3600.0, metavar="S")
    ap.add_argument("--stop-file", metavar="PATH", help="stop when PATH exists")
    ap.add_argument("--ready-file", metavar="PATH", help="write PATH at the first answer")
    ap.add_argument("--status", type=float, default=0, metavar="MS",
                    help="print a status line every MS ms")
    a = ap.parse_args()
    if a.serve:
        return serve(a.serve)
    if not a.target:
        ap.error("a target address is needed")

    stop = [False]

    def on_sig(*_):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_sig)
    signal.signal(signal.SIGINT, on_sig)

    ident = os.getpid() & 0xFFFF
    sock = Udp(a.target, a.udp, ident) if a.udp else Icmp(a.target, ident)
    interval = a.interval / 1000.0
    status_every = a.status / 1000.0
    start = time.monotonic()
    gaps = Gaps(start)
    end_at = start + a.duration
    seq, sent, send_errors, dups, skipped, late_max = 0, 0, 0, 0, 0, 0.0
    seen = bytearray(1 << 16)          # seq mod 65536 answered (dedup)
    next_send = start
    next_check = start                 # stop-file polling
    next_status = start + status_every if status_every else float("inf")
    ready = False
    fd = sock.s.fileno()
    while not stop[0]:
        now = time.monotonic()
        if now >= end_at:
            break
        if now >= next_send:
            late = now - next_send
            if late > 10 * interval:   # fell far behind: drop the missed slots
                missed = int(late / interval)
                skipped += missed
                next_send += missed * interval
                late = now - next_send
            late_max = max(late_max, late)
            seen[seq & 0xFFFF] = 0
            try:
                sock.send(seq)
                sent += 1
            except OSError as e:
                if e.errno not in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENOBUFS,
                                   errno.EAGAIN, errno.ECONNREFUSED, errno.EHOSTDOWN):
                    raise
                send_errors += 1
            seq += 1
            next_send += interval
        if now >= next_check:
            next_check = now + 0.01
            if a.stop_file and os.path.exists(a.stop_file):
                break
        if now >= next_status:
            next_status += status_every
            print(json.dumps({"type": "status", "now": now, "sent": sent,
                              "received": gaps.received, "last_answer": gaps.last
                              if gaps.first is not None else None}), flush=True)
        wait = max(0.0, min(next_send, end_at) - time.monotonic())
        try:
            r, _w, _x = select.select([fd], [], [], wait)
        except InterruptedError:
            continue
        if not r:
            continue
        while True:
            try:
                s = sock.recv()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:            # ICMP errors queued on the socket
                continue
            if s is None:
                continue
            if s >= seq or seen[s & 0xFFFF]:
                dups += 1
                continue
            seen[s & 0xFFFF] = 1
            gaps.answer(time.monotonic())
            if not ready and a.ready_file:
                ready = True
                with open(a.ready_file + ".tmp", "w") as f:
                    f.write("%.6f\n" % gaps.first)
                os.rename(a.ready_file + ".tmp", a.ready_file)
    end = time.monotonic()
    g, ga, gb, recovered = gaps.result(end)
    out = {"target": a.target, "mode": "udp" if a.udp else "icmp", "interval_ms": a.interval,
           "sent": sent, "received": gaps.received, "duplicates": dups,
           "send_errors": send_errors, "longest_gap_ms": round(g * 1000, 3),
           "gap_start": round(ga, 6), "gap_end": round(gb, 6),
           "gap_start_ms": round((ga - start) * 1000, 3), "recovered": recovered,
           "first_answer_ms": (round((gaps.first - start) * 1000, 3)
                               if gaps.first is not None else None),
           "gaps_over_10ms": gaps.over10, "late_max_ms": round(late_max * 1000, 3),
           "skipped": skipped, "start": round(start, 6), "end": round(end, 6),
           "duration_s": round(end - start, 3)}
    if status_every:
        out["type"] = "result"
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
