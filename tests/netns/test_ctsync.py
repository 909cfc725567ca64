#!/usr/bin/python3
"""Connection-tracking sync end to end (issue 5), in the firewall lab of
fwlab.py: a client opens 1000 TCP connections and 8 UDP flows through two
stateful firewalls (fw1 master, fw2 backup of both gateway VIPs, tcp_loose
off: a firewall without the state of a TCP connection drops it), each
carries data both ways; then fw1 crashes (SIGKILL of its arphad and its
three links cut at the same instant) and at once every connection sends a
message (into the failure, as live traffic would: TCP retransmits it),
fw2 takes the VIPs over, and each message must come back within 10 s of
the crash; the time from the crash to each echo is reported.

  without-sync   no [ConnSync]: fw2 knows none of the connections, so the
                 crash must LOSE (nearly) every TCP connection, while new
                 connections through fw2 work (the loss is the state's).
  with-sync      [ConnSync] Protocols=tcp udp icmp: fw2 holds fw1's entries
                 and, as they come, puts them in its kernel (before the
                 crash fw2's kernel must hold every connection, so the
                 takeover has nothing left to commit: its conns_commit log
                 line must say so), and every connection must
                 carry data again; the time until each did is reported
                 (p50/p99/max). Skipped, with a SKIP line, while this arphad
                 rejects [ConnSync] (arphad -n) or has no `arpha conns`.
  backup-stop    fw1 and fw2 again, the connections synced into fw2's
                 kernel; fw2's arphad stops (SIGTERM): it must take them out
                 of its kernel, and fw1's connections go on.

  reload         [ConnSync] changed by a reload on both (Protocols=, CheckInterval=):
                 fw2 still holds fw1's 100 connections, in its table and its
                 kernel; 50 opened after the reload are synced too; all 150
                 carry data after fw1's crash.

UDP flows survive either way (the ruleset lets a new UDP flow through), so
only TCP decides; UDP is reported."""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import fwlab  # noqa: E402
from fwlab import FwLab, info, summary  # noqa: E402

SUITE = "netns/ctsync"
need_root(SUITE)
res = Results(SUITE)

N_TCP = int(os.environ.get("ARPHA_CT_CONNS", "1000"))
N_UDP = 8
DEADLINE_S = 10.0
LOST_AT_LEAST = 0.95   # without sync: this share of TCP connections must be lost
KEPT_AT_LEAST = 1.0    # with sync: every connection must carry data again
CONNSYNC = {"Protocols": "tcp udp icmp"}


def skip(name, why):
    print("SKIP %s/%s: %s" % (SUITE, name, why), flush=True)


def held_from_peers(dmn):
    """Entries fw2 holds from the other nodes (`arpha -j conns`), or None."""
    r = dmn.arpha("conns", json_out=True, check=False)
    if r.returncode != 0:
        return None
    try:
        v = json.loads(r.stdout)
        return sum(int(p.get("entries", 0)) for p in v.get("peers", []))
    except (ValueError, AttributeError, TypeError):
        return None


def echo_entries(lab, role):
    """Conntrack entries of the echo service in role's kernel."""
    p = lab.exec(role, "conntrack", "-L", "-p", "tcp", "--dport", str(fwlab.ECHO_PORT),
                 check=False)
    return sum(1 for ln in p.stdout.splitlines() if "dport=%d" % fwlab.ECHO_PORT in ln)


def wait_held(d, want):
    end = time.monotonic() + 5
    held = held_from_peers(d["fw2"])
    while (held or 0) < want and time.monotonic() < end:
        time.sleep(0.05)
        held = held_from_peers(d["fw2"])
    return held


def synced_firewalls(lab, n):
    """fw1 and fw2 with [ConnSync], n TCP connections through fw1 (the client in
    lab.clients), waited for on fw2: (daemons, client)."""
    d = lab.start_firewalls(connsync=CONNSYNC)
    lab.echo_server()
    cli = lab.echo_client(n, 0)
    lab.clients.append(cli)
    expect(cli.established["tcp_ok"] == n, "only %d/%d connections up",
           cli.established["tcp_ok"], n)
    wait_held(d, n)
    return d, cli


def establish(lab, name):
    lab.echo_server()
    cli = lab.echo_client(N_TCP, N_UDP)
    e = cli.established
    expect(e["tcp_ok"] == N_TCP and e["udp_ok"] == N_UDP,
           "before the crash only %d/%d TCP and %d/%d UDP carried data: %s", e["tcp_ok"],
           N_TCP, e["udp_ok"], N_UDP, e["failed"])
    info("%s/%s %d TCP connections and %d UDP flows up in %.2f s; conntrack entries "
         "fw1 %s, fw2 %s" % (SUITE, name, N_TCP, N_UDP, e["seconds"],
                             lab.conntrack_count("fw1"), lab.conntrack_count("fw2")))
    return cli


def crash_and_round(lab, d, name):
    """Crash fw1; at once every connection sends (into the failure, as live
    traffic would) and the time to its echo is counted from the crash."""
    cli = lab.clients[-1]
    t = lab.crash("fw1")
    cli.start_round("r1", t, DEADLINE_S)
    ok, got = lab.wait_states(d, {"fw2": "master"}, 5)
    took = time.monotonic() - t
    cli_r = cli.finish_round(DEADLINE_S)
    expect(ok, "fw2 did not take both VIPs over: %s; log: %s", got, d["fw2"].log()[-1500:])
    info("%s/%s fw2 master of both VIPs %.0f ms after the crash (polled)" %
         (SUITE, name, took * 1000))
    info("%s/%s after the crash: %s; conntrack entries on fw2: %s" %
         (SUITE, name, summary(cli_r), lab.conntrack_count("fw2")))
    return cli_r


# ---------------------------------------------------------------- without sync

with FwLab("ctsync-nosync") as lab:
    lab.clients = []
    d = None
    with res.case("without-sync/connections-lost"):
        d = lab.start_firewalls(connsync=None)
        lab.clients.append(establish(lab, "without-sync"))
        time.sleep(0.2)
        r = crash_and_round(lab, d, "without-sync")
        lost = r["tcp_total"] - r["tcp_ok"]
        expect(r["tcp_total"] == N_TCP, "only %d connections went into the crash",
               r["tcp_total"])
        expect(lost >= LOST_AT_LEAST * N_TCP,
               "without sync only %d of %d TCP connections were lost (want >= %d%%): fw2 "
               "must drop packets of connections it has no state for", lost, N_TCP,
               int(LOST_AT_LEAST * 100))
    with res.case("without-sync/new-connections-pass-fw2"):
        expect(d is not None and d["fw2"].alive(), "fw2 is not running")
        fresh = lab.echo_client(20, 2)
        lab.clients.append(fresh)
        e = fresh.established
        expect(e["tcp_ok"] == 20 and e["udp_ok"] == 2,
               "after the takeover new connections fail too (%d/20 TCP, %d/2 UDP: %s): the "
               "loss above is not the missing state's", e["tcp_ok"], e["udp_ok"], e["failed"])
    for c in lab.clients:
        c.quit()
    if d is not None:
        res.daemon_checks(lab, alive=d["fw2"], name="without-sync/arphad-clean")

# ---------------------------------------------------------------- with sync

with FwLab("ctsync-sync") as lab:
    lab.clients = []
    ok, msg = lab.config_check(lab.fw_config("fw1", CONNSYNC))
    if not ok:
        skip("with-sync", "this arphad does not accept [ConnSync] yet (arphad -n: %s)" % msg)
    else:
        d = None
        with res.case("with-sync/start"):
            d = lab.start_firewalls(connsync=CONNSYNC)
        if d is not None and held_from_peers(d["fw2"]) is None:
            skip("with-sync", "arphad accepts [ConnSync] but `arpha -j conns` does not "
                 "answer: the sync is not wired in yet")
        elif d is not None:
            with res.case("with-sync/connections-survive"):
                lab.clients.append(establish(lab, "with-sync"))
                want = N_TCP + N_UDP
                held = wait_held(d, want)
                in_kernel = echo_entries(lab, "fw2")
                info("%s/with-sync fw2 holds %s entries from fw1 before the crash, %d TCP "
                     "ones in its kernel" % (SUITE, held, in_kernel))
                expect((held or 0) >= want, "fw2 holds %s of fw1's %d connections", held,
                       want)
                expect(in_kernel >= N_TCP, "before the crash fw2's kernel holds %d of fw1's "
                       "%d TCP connections: arphad did not put them in as they came",
                       in_kernel, N_TCP)
                own = d["fw2"].arpha("conns", json_out=True, check=False)
                own = json.loads(own.stdout).get("local") if own.returncode == 0 else None
                expect(own == 0, "fw2 claims %s connections as its own: the entries it put "
                       "in its kernel for fw1 came back to it as events of its own", own)
                r = crash_and_round(lab, d, "with-sync")
                commit = [ln for ln in d["fw2"].log().splitlines() if "event=conns_commit" in ln]
                info("%s/with-sync %s" % (SUITE, commit[-1] if commit else "no commit line"))
                m = re.search(r"connections=(\d+) in_kernel=(\d+) committed=(\d+)",
                              commit[-1] if commit else "")
                expect(m and int(m.group(2)) >= want and m.group(1) == m.group(2),
                       "the takeover did not find every connection in the kernel already: %s",
                       commit[-1] if commit else "no event=conns_commit line")
                expect(r["tcp_ok"] >= KEPT_AT_LEAST * N_TCP,
                       "with sync only %d of %d TCP connections carried data within %.0f s "
                       "after the crash (want >= %d%%); %s", r["tcp_ok"], N_TCP, DEADLINE_S,
                       int(KEPT_AT_LEAST * 100), summary(r))
                expect(r["udp_ok"] == N_UDP, "UDP %d/%d", r["udp_ok"], N_UDP)
        for c in lab.clients:
            c.quit()
        if d is not None:
            res.daemon_checks(lab, alive=d["fw2"], name="with-sync/arphad-clean")

# ---------------------------------------------------------------- the backup stops

with FwLab("ctsync-stop") as lab:
    lab.clients = []
    d = None
    with res.case("backup-stop/held-connections-leave-the-kernel"):
        d, cli = synced_firewalls(lab, 100)
        before = echo_entries(lab, "fw2")
        expect(before >= 100, "fw2's kernel holds %d of fw1's 100 connections", before)
        d["fw2"].stop()  # SIGTERM
        after = echo_entries(lab, "fw2")
        info("%s/backup-stop fw2's kernel: %d echo connections before its arphad stopped, "
             "%d after" % (SUITE, before, after))
        expect(after == 0, "fw2's arphad stopped and left %d of fw1's connections in its "
               "kernel", after)
        r = cli.round("r1", time.monotonic(), DEADLINE_S)
        expect(r["tcp_ok"] == 100, "fw1's connections broke when fw2 stopped: %s", summary(r))
    for c in lab.clients:
        c.quit()

# ---------------------------------------------------------------- a reload keeps the tables

with FwLab("ctsync-reload") as lab:
    lab.clients = []
    d = None
    with res.case("reload/keeps-the-tables"):
        d, _cli = synced_firewalls(lab, 100)
        expect((held_from_peers(d["fw2"]) or 0) >= 100, "fw2 holds %s of fw1's 100 "
               "connections", held_from_peers(d["fw2"]))
        # [ConnSync] changed on both: ICMP no longer synced, another CheckInterval
        changed = {"Protocols": "tcp udp", "CheckInterval": "5s"}
        for role in ("fw1", "fw2"):
            m = d[role].log_mark()
            with open(d[role].conf, "w") as f:
                f.write(lab.fw_config(role, changed).replace("@SOCK@", d[role].sock))
            d[role].p.send_signal(signal.SIGHUP)
            expect(d[role].wait_log("event=reload what=ConnSync .*resync=yes", since=m,
                                    timeout=3), "%s: no ConnSync reload line", role)
        held = held_from_peers(d["fw2"])
        expect((held or 0) >= 100, "after the reload fw2 holds %s of fw1's 100", held)
        expect(echo_entries(lab, "fw2") >= 100, "after the reload fw2's kernel holds %d",
               echo_entries(lab, "fw2"))
        after = lab.echo_client(50, 0)  # opened after the reload: synced as before
        lab.clients.append(after)
        expect(after.established["tcp_ok"] == 50, "only %d/50 new connections up",
               after.established["tcp_ok"])
        expect((wait_held(d, 150) or 0) >= 150, "fw2 holds %s of fw1's 150 connections",
               held_from_peers(d["fw2"]))
        t = lab.crash("fw1")
        for c in lab.clients:
            c.start_round("r1", t, DEADLINE_S)
        rs = [c.finish_round(DEADLINE_S) for c in lab.clients]
        ok = [r["tcp_ok"] for r in rs]
        info("%s/reload after fw1's crash: %d/100 opened before the reload and %d/50 after "
             "carried data again" % (SUITE, ok[0], ok[1]))
        expect(ok == [100, 50], "after the crash only %s of [100, 50] carried data", ok)
    for c in lab.clients:
        c.quit()
    if d is not None:
        res.daemon_checks(lab, alive=d["fw2"], name="reload/arphad-clean")
res.exit()
