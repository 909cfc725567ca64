"""notifysock: what arphad tells systemd, heard as systemd would hear it, for
the tests of READY=1, WATCHDOG=1 and STATUS= (test_sdnotify.py,
test_aaready.py, test_latedev.py).

    ns = NotifySocket(os.path.join(lab.tmp, "n.notify"))
    d = lab.arphad(role, config=..., start=False)
    t0 = start_notified(lab, d, ns.path)     # arphad -d with NOTIFY_SOCKET
    ns.ready.wait(10); ns.lines("STATUS=")   # READY=1 heard; STATUS= values
"""
import os
import socket
import subprocess
import threading
import time

from lab import binary


class NotifySocket:
    """A datagram socket where systemd's would be: every message, with its time."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.s.settimeout(0.2)
        self.msgs = []  # (monotonic time, text)
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.done = False
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        while not self.done:
            try:
                data = self.s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            with self.lock:
                self.msgs.append((time.monotonic(), text))
            if "READY=1" in text.split("\n"):
                self.ready.set()

    def with_line(self, line):
        """The times of the messages carrying line (e.g. "WATCHDOG=1")."""
        with self.lock:
            return [t for t, m in self.msgs if line in m.split("\n")]

    def ready_at(self):
        """The times of the READY=1 messages."""
        return self.with_line("READY=1")

    def all(self):
        """Every message: (monotonic time, text)."""
        with self.lock:
            return list(self.msgs)

    def lines(self, prefix):
        """Every line starting with prefix (e.g. "STATUS="), the prefix cut off, in order."""
        with self.lock:
            return [l[len(prefix):] for _t, m in self.msgs for l in m.split("\n")
                    if l.startswith(prefix)]

    def close(self):
        self.done = True
        self.t.join()
        self.s.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def start_notified(lab, d, path, watchdog_usec=None):
    """arphad -d of d (an Arphad made with start=False) with NOTIFY_SOCKET=path
    (and WATCHDOG_USEC when given), not waiting for anything; returns the
    monotonic time of the start."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    env["NOTIFY_SOCKET"] = path
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    d.logf = open(d.logpath, "ab")
    t0 = time.monotonic()
    # ip netns exec runs arphad in its own process: WATCHDOG_PID is not needed
    d.p = subprocess.Popen(["ip", "netns", "exec", lab.ns(d.role), binary("arphad"), "-d", "-f",
                            d.conf], stdin=subprocess.DEVNULL, stdout=d.logf,
                           stderr=subprocess.STDOUT, env=env)
    return t0
