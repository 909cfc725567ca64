#!/usr/bin/python3
"""ctecho: the traffic of the connection-sync tests (tests/netns/fwlab.py).
Standard library only; one process, selectors, no threads.

    ctecho.py server PORT
        TCP: accept and echo every byte back; UDP on the same port: echo
        every datagram. Prints "ready" once listening; runs until killed.

    ctecho.py client SERVER PORT TCP_CONNS UDP_FLOWS
        Opens TCP_CONNS connections and UDP_FLOWS UDP flows (connected
        sockets, one source port each), sends one message on each and
        waits for its echo; prints one JSON line
            {"type": "established", "tcp_ok": N, "udp_ok": N, "seconds": S,
             "failed": [...first few reasons]}
        then reads commands on stdin, one per line:
            round NAME T0 DEADLINE_S
                every connection and flow sends a message and waits for its
                echo; prints {"type": "round", "name": NAME, "tcp_ok": N,
                "udp_ok": N, "tcp_ms": [...], "udp_ms": [...], "tcp_dead": N,
                ...}: the *_ms are the times from T0 (a time.monotonic()
                of the caller: CLOCK_MONOTONIC is the same in every
                namespace) until each echo came back, for those that came
                back within DEADLINE_S; tcp_dead counts connections reset
                or closed. UDP messages are resent every 100 ms.
            quit
"""
import json
import os
import resource
import selectors
import socket
import sys
import time


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, hard), max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- server

def server(port):
    raise_nofile(65536)
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    ls.setblocking(False)
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind(("0.0.0.0", port))
    us.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, "listen")
    sel.register(us, selectors.EVENT_READ, "udp")
    pending = {}  # sock -> bytes not yet echoed
    print("ready", flush=True)
    while True:
        for key, ev in sel.select():
            s = key.fileobj
            if key.data == "listen":
                while True:
                    try:
                        c, _a = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    c.setblocking(False)
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    pending[c] = b""
                    sel.register(c, selectors.EVENT_READ, "tcp")
            elif key.data == "udp":
                while True:
                    try:
                        d, a = us.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    try:
                        us.sendto(d, a)
                    except OSError:
                        pass
            else:
                if ev & selectors.EVENT_READ:
                    try:
                        d = s.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        d = None
                    except OSError:
                        d = b""
                    if d == b"":
                        sel.unregister(s)
                        pending.pop(s, None)
                        s.close()
                        continue
                    if d:
                        pending[s] += d
                if pending.get(s):
                    try:
                        n = s.send(pending[s])
                        pending[s] = pending[s][n:]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        sel.unregister(s)
                        pending.pop(s, None)
                        s.close()
                        continue
                    sel.modify(s, selectors.EVENT_READ |
                               (selectors.EVENT_WRITE if pending[s] else 0), "tcp")


# ---------------------------------------------------------------- client

class Conn:
    def __init__(self, i, sock, proto):
        self.i, self.sock, self.proto = i, sock, proto
        self.want = b""
        self.got = b""
        self.done_at = None
        self.dead = None
        self.sent_at = 0.0


def client(host, port, n_tcp, n_udp):
    raise_nofile(n_tcp + n_udp + 1024)
    t_start = time.monotonic()
    sel = selectors.DefaultSelector()
    tcp, udp, failed = [], [], []
    # connect in waves, so the listen queue and the firewalls see a
    # reasonable burst
    wave = 100
    for base in range(0, n_tcp, wave):
        batch = []
        for i in range(base, min(n_tcp, base + wave)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
            try:
                s.connect((host, port))
            except BlockingIOError:
                pass
            c = Conn(i, s, "tcp")
            batch.append(c)
            sel.register(s, selectors.EVENT_WRITE, c)
        left = set(batch)
        end = time.monotonic() + 10
        while left and time.monotonic() < end:
            for key, _ev in sel.select(0.2):
                c = key.data
                if c not in left:
                    continue
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sel.unregister(c.sock)
                left.discard(c)
                if err:
                    c.dead = "connect: %s" % os.strerror(err)
                    failed.append(c.dead)
                    c.sock.close()
                else:
                    tcp.append(c)
        for c in left:
            sel.unregister(c.sock)
            c.sock.close()
            failed.append("connect timed out")
    for i in range(n_udp):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, port))
        s.setblocking(False)
        udp.append(Conn(i, s, "udp"))
    for c in tcp + udp:
        sel.register(c.sock, selectors.EVENT_READ, c)
    r = run_round(sel, tcp, udp, "r0", time.monotonic(), 10.0)
    say({"type": "established", "tcp_ok": r["tcp_ok"], "udp_ok": r["udp_ok"],
         "tcp_opened": len(tcp), "seconds": round(time.monotonic() - t_start, 3),
         "failed": failed[:5] + r["failed"][:5]})
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "quit":
            break
        if w[0] == "round" and len(w) == 4:
            res = run_round(sel, tcp, udp, w[1], float(w[2]), float(w[3]))
            res["type"] = "round"
            res["name"] = w[1]
            say(res)


def run_round(sel, tcp, udp, name, t0, deadline_s):
    """Every live connection sends "NAME i\\n" and waits for it back."""
    end = t0 + deadline_s
    now = time.monotonic()
    live = [c for c in tcp if not c.dead]
    for c in live + udp:
        c.want = ("%s %s%d\n" % (name, c.proto[0], c.i)).encode()
        c.got = b""
        c.done_at = None
        c.sent_at = now
    for c in live:
        try:
            c.sock.sendall(c.want)  # small: fits the send buffer at once
        except OSError as e:
            c.dead = "send: %s" % e
    for c in udp:
        try:
            c.sock.send(c.want)
        except OSError:
            pass
    waiting = {c for c in live if not c.dead} | set(udp)
    while waiting and time.monotonic() < end:
        for key, _ev in sel.select(0.05):
            c = key.data
            if c not in waiting:
                # stale echo of an earlier round (UDP) or data after done
                try:
                    c.sock.recv(65536)
                except OSError:
                    pass
                continue
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                if c.proto == "tcp":
                    c.dead = "recv: %s" % e
                    waiting.discard(c)
                continue
            if c.proto == "tcp" and d == b"":
                c.dead = "closed by the peer"
                waiting.discard(c)
                continue
            if c.proto == "udp":
                if d == c.want:
                    c.done_at = time.monotonic()
                    waiting.discard(c)
                continue
            c.got += d
            if c.got == c.want:
                c.done_at = time.monotonic()
                waiting.discard(c)
            elif not c.want.startswith(c.got):
                c.dead = "wrong echo %r" % c.got[:40]
                waiting.discard(c)
        now = time.monotonic()
        for c in udp:
            if c in waiting and now - c.sent_at >= 0.1:
                c.sent_at = now
                try:
                    c.sock.send(c.want)
                except OSError:
                    pass
    tcp_ms = sorted(round((c.done_at - t0) * 1000, 2) for c in live if c.done_at)
    udp_ms = sorted(round((c.done_at - t0) * 1000, 2) for c in udp if c.done_at)
    dead = [c.dead for c in live if c.dead]
    return {"tcp_ok": len(tcp_ms), "udp_ok": len(udp_ms), "tcp_total": len(live),
            "udp_total": len(udp), "tcp_ms": tcp_ms, "udp_ms": udp_ms,
            "tcp_dead": len(dead), "failed": dead[:5]}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        server(int(sys.argv[2]))
    elif len(sys.argv) == 6 and sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
