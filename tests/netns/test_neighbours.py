#!/usr/bin/python3
"""The neighbour-compatibility matrix: who follows a failover, and how fast.

Rows, the neighbour (vipnet.py): a plain Linux host; Linux with
drop_gratuitous_arp=1 holding a fresh entry; arphad with
UnsolicitedARPReplies=DropLog (the seed's default, arphad's before
Verify); arphad with UnsolicitedARPReplies=Verify (the default). Columns, who moves the address 198.18.0.100
from n1 to n2 at 20 ms heartbeats / adverts: arpha after a crash of n1,
arpha after a graceful stop of n1, keepalived (VRRPv3, gratuitous ARP)
after a crash of n1. A cell is the neighbour's longest gap in answers
from the address it probes every millisecond (one run; "> 3 s" when the
answers had not come back 3 s after the failure).

Bounds: the Verify neighbour follows within the plain neighbour's gap of
the same column + VerifyTimeout (the longest a check waits for the old
holder) + one heartbeat interval (each cell is one run, and the failure
falls at a random point of the cycle). The issue's target, 1.5 x the plain
gap, is measured by bench/failover.py and missed at 20 ms behind arpha's
crash (README: the holder's wait is timed through arphad's receive ring);
this test holds what is promised. The DropLog arphad neighbour does not
follow arpha's crash within 3 s, which shows what Verify changes.
The other cells are shown as they are. bench/failover.py measures the same
matrix over several runs.
"""
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402

SUITE = "netns/neighbours"
need_root(SUITE)
res = Results(SUITE)

HB_MS = 20
MAX_GAP = 3.0
VERIFY_TIMEOUT_MS = 50.0  # VerifyTimeout's default
CLIENTS = ("client", "gclient", "aclient", "vclient")
COLUMNS = (("arpha", "crash"), ("arpha", "graceful"), ("keepalived", "crash"))
rng = random.Random()


def fmt(v):
    return "> %.0f s" % MAX_GAP if v is None else "%.1f ms" % v


cells = {}
for system, how in COLUMNS:
    if system == "keepalived" and not shutil.which("keepalived"):
        with res.case("keepalived-installed"):
            expect(False, "keepalived is not installed (tools/deps.sh installs it)")
        continue
    for c in CLIENTS:
        with res.case("%s-%s/%s" % (system, how, c)):
            try:
                cells[(system, how, c)] = vipnet.one_run(system, HB_MS, how, rng, c,
                                                         max_gap=MAX_GAP, log=info)
            except Exception as e:  # noqa: BLE001 - the cell fails, the matrix goes on
                expect(False, "the run failed: %s", e)
                continue
            info("%s %s-%s %s: longest gap %s" % (SUITE, system, how, c,
                                                   fmt(cells[(system, how, c)])))

for system, how in COLUMNS:
    plain = cells.get((system, how, "client"))
    if plain is None:
        continue
    with res.case("%s-%s/verify-follows" % (system, how)):
        v = cells.get((system, how, "vclient"))
        bound = plain + VERIFY_TIMEOUT_MS + HB_MS
        expect(v is not None and v <= bound,
               "the Verify neighbour's gap %s, bound %.1f ms (plain %.1f ms)", fmt(v), bound,
               plain)

with res.case("arpha-crash/droplog-does-not-follow"):
    expect(("arpha", "crash", "aclient") in cells and cells[("arpha", "crash", "aclient")] is None,
           "the DropLog neighbour followed arpha's crash: %s",
           fmt(cells.get(("arpha", "crash", "aclient"))))

info("%s matrix (longest gap; 20 ms heartbeats / adverts):" % SUITE)
info("| neighbour | %s |" % " | ".join("%s %s" % c for c in COLUMNS))
for c in CLIENTS:
    info("| %s | %s |" % (c, " | ".join(
        fmt(cells[(s, h, c)]) if (s, h, c) in cells else "-" for s, h in COLUMNS)))
res.exit()
