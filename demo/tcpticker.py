#!/usr/bin/python3
"""tcpticker: one long-lived TCP session for the demo's connection-sync
scene. Standard library only; runs inside the client's namespace:

    ip netns exec NS /usr/bin/python3 tcpticker.py HOST PORT [options]

Connects to an echo server (tests/netns/ctecho.py server PORT), then sends
the line "tick N\\n" (N = 0, 1, 2...) every --interval ms on a fixed
schedule (start + N * interval, whatever happens to the answers) and reads
the echoes. Prints one line per event on stdout:

    connected T
    echo N SENT RECV        the echo of tick N came back (all times are
                            CLOCK_MONOTONIC seconds, the same clock as
                            time.monotonic() in any namespace)
    error MESSAGE T         the session failed (reset, timed out...); exits 1

--user-timeout MS sets TCP_USER_TIMEOUT: the kernel gives the session up
when data stays unacknowledged that long, as an application with a
deadline would. Stops (exit 0) on SIGTERM, on end of stdin or after
--duration seconds.
"""
import argparse
import os
import select
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--interval", type=float, default=20.0, help="ms between ticks")
    ap.add_argument("--user-timeout", type=int, default=0, help="TCP_USER_TIMEOUT, ms")
    ap.add_argument("--duration", type=float, default=60.0)
    a = ap.parse_args()

    def say(*w):
        sys.stdout.write(" ".join(str(x) for x in w) + "\n")
        sys.stdout.flush()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if a.user_timeout:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, a.user_timeout)
    s.settimeout(5)
    try:
        s.connect((a.host, a.port))
    except OSError as e:
        say("error", "connect: %s" % (e.strerror or e), "%.6f" % time.monotonic())
        return 1
    s.setblocking(False)
    t0 = time.monotonic()
    say("connected", "%.6f" % t0)
    step = a.interval / 1000.0
    end = t0 + a.duration
    n = 0
    sent = {}
    out = b""
    buf = b""
    watch_stdin = True
    while not stop:
        now = time.monotonic()
        if now >= end:
            break
        while t0 + n * step <= now:
            out += b"tick %d\n" % n
            sent[n] = t0 + n * step
            n += 1
        if out:
            try:
                k = s.send(out)
                out = out[k:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                say("error", "send: %s" % (e.strerror or e), "%.6f" % time.monotonic())
                return 1
        rd = [s] + ([sys.stdin] if watch_stdin else [])
        wr = [s] if out else []
        wait = max(0.0, min(t0 + n * step, end) - time.monotonic())
        try:
            r, _w, _x = select.select(rd, wr, [], wait)
        except InterruptedError:
            continue
        if sys.stdin in r:
            if not os.read(sys.stdin.fileno(), 4096):
                break
        if s in r:
            try:
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                d = None
            except OSError as e:
                say("error", "recv: %s" % (e.strerror or e), "%.6f" % time.monotonic())
                return 1
            if d == b"":
                say("error", "closed by the server", "%.6f" % time.monotonic())
                return 1
            if d:
                got = time.monotonic()
                buf += d
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    w = line.split()
                    if len(w) == 2 and w[0] == b"tick":
                        k = int(w[1])
                        say("echo", k, "%.6f" % sent.pop(k, 0.0), "%.6f" % got)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
