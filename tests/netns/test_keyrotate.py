#!/usr/bin/python3
"""A cluster key rotation with the cluster up throughout (issue 16): three
arphad nodes on one bridge at 20 ms heartbeats, DeadInterval=3, the VIP
198.18.0.100/24 on n1 (Priority 200; n2 150, n3 100), each node's KeyFile
its own copy of the old key.

  rotate    node by node, SIGHUP after each change of its file: every file
            "old new" (send with old, take both), then every file "new old"
            (send with new), then "new" alone. After each step every node
            sees the other two up, no VIP state changed (each node's
            NotifyScript records none after the start), no node counted a
            datagram refused for its authentication, and the log says
            event=reload what=KeyFile keys=N
  control   a node whose file holds only the new key while the others know
            only the old one (the step the two-key file avoids): the others
            refuse its datagrams (bad_auth) and it loses them
  errors    a SIGHUP with a file that does not parse, and with a key file
            that is not a key: each error logged with its line, nothing
            changes (the keys in use stay, the cluster stays up)
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402

SUITE = "netns/keyrotate"
need_root(SUITE)
res = Results(SUITE)

GROUP, PORT = "239.192.74.11", 7410
NODES = {  # role: (node id, ip, mac, priority)
    "n1": (1, "198.18.0.1", "02:00:00:00:00:01", 200),
    "n2": (2, "198.18.0.2", "02:00:00:00:00:02", 150),
    "n3": (3, "198.18.0.3", "02:00:00:00:00:03", 100),
}
HOSTS = {r: (ip, mac) for r, (_i, ip, mac, _p) in NODES.items()}


def config(role, keyfile, notify):
    node_id, _ip, _mac, prio = NODES[role]
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n"
            "[Interface lan]\nDevice=eth0\n"
            "[Cluster]\nNodeID=%d\nInterface=eth0\nGroup=%s\nPort=%d\nKeyFile=%s\n"
            "HeartbeatInterval=20ms\nDeadInterval=3\n"
            "[VIP vip1]\nAddress=198.18.0.100/24\nInterface=lan\nPriority=%d\n"
            "NotifyScript=%s\n" % (node_id, GROUP, PORT, keyfile, prio, notify))


def new_key(lab, name):
    path = os.path.join(lab.tmp, name)
    run([binary("arpha"), "keygen", path])
    with open(path) as f:
        return f.read().strip()


def write_keys(path, *keys):
    with open(path, "w") as f:
        f.write("".join(k + "\n" for k in keys))
    os.chmod(path, 0o600)


def members(d):
    return {m["node_id"]: m for m in d.arpha_json("cluster")["members"]}


def all_up(daemons, timeout=1.0):
    end = time.monotonic() + timeout
    while True:
        bad = {}
        for r, d in daemons.items():
            m = members(d)
            for other, (i, _ip, _mac, _p) in NODES.items():
                if other != r and m.get(i, {}).get("state") != "up":
                    bad[r] = {k: v.get("state") for k, v in m.items()}
        if not bad or time.monotonic() > end:
            return not bad, bad


def refused_auth(d):
    """Datagrams this node refused for their authentication, so far."""
    return d.arpha_json("cluster")["counters"].get("drop_bad_auth", 0)


with Lab("keyrotate", hosts=HOSTS) as lab:
    old = new_key(lab, "old.key")
    new = new_key(lab, "new.key")
    files, notify, d = {}, {}, {}
    for r in NODES:
        files[r] = os.path.join(lab.tmp, "%s.key" % r)
        write_keys(files[r], old)
        script, notify[r] = vipnet.notify_script(lab, r)
        d[r] = lab.arphad(r, config=config(r, files[r], script), name=r)

    with res.case("start"):
        ok, st = vipnet.wait_vip_states(d, {"n1": "master", "n2": "backup", "n3": "backup"},
                                        timeout=10)
        expect(ok, "VIP states at start: %s", st)
        ok, bad = all_up(d, timeout=5)
        expect(ok, "not all up at start: %s", bad)
    time.sleep(1.0)  # the notify calls of the start run one after another, a bit late
    t_rotate = time.time()
    auth0 = {r: refused_auth(d[r]) for r in NODES}

    def step(name, keys, want_keys):
        with res.case("rotate/" + name):
            for r in NODES:
                write_keys(files[r], *keys)
                d[r].p.send_signal(signal.SIGHUP)
                time.sleep(0.3)  # a few heartbeats with this node changed, the others not
                ok, bad = all_up(d, timeout=0.2)
                expect(ok, "after %s's SIGHUP: %s", r, bad)
            for r in NODES:
                expect(d[r].wait_log("event=reload what=KeyFile keys=%d" % want_keys, timeout=1.0),
                       "%s: no reload line with keys=%d", r, want_keys)
            trans = {r: [x for x in vipnet.read_states(notify[r]) if x[0] >= t_rotate]
                     for r in NODES}
            expect(not any(trans.values()), "VIP state changes during the rotation: %s", trans)
            auth = {r: refused_auth(d[r]) - auth0[r] for r in NODES}
            expect(not any(auth.values()), "datagrams refused for their authentication: %s", auth)

    step("old-new", (old, new), 2)
    step("new-old", (new, old), 2)
    step("new", (new,), 1)

    with res.case("errors/bad-config-changes-nothing"):
        cfg = d["n3"].conf
        expect(cfg and os.path.exists(cfg), "no config path for n3")
        if cfg:
            with open(cfg) as f:
                good = f.read()
            with open(cfg, "w") as f:
                f.write(good + "[VIP broken]\nAddress=198.18.0.300/24\n")
            d["n3"].p.send_signal(signal.SIGHUP)
            got = d["n3"].wait_log(r"event=reload_failed error=.*:\d+: ", timeout=2.0)
            expect(got, "no reload_failed line with FILE:LINE")
            with open(cfg, "w") as f:
                f.write(good)
            ok, bad = all_up(d, timeout=1.0)
            expect(ok, "after a bad reload: %s", bad)

    with res.case("errors/bad-key-keeps-keys"):
        write_keys(files["n3"], "not-a-key")
        d["n3"].p.send_signal(signal.SIGHUP)
        expect(d["n3"].wait_log("event=reload_failed what=KeyFile", timeout=2.0),
               "no reload_failed what=KeyFile line")
        time.sleep(0.3)
        ok, bad = all_up(d, timeout=0.5)
        expect(ok, "after a bad key file: %s", bad)
        write_keys(files["n3"], new)

    with res.case("control/one-key-each-splits"):
        # n3 alone back on the old key: the others, on the new one alone, refuse it
        write_keys(files["n3"], old)
        d["n3"].p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        m1 = members(d["n1"])
        expect(m1.get(3, {}).get("state") != "up",
               "n1 still sees n3 up with a key it does not know: %s", m1.get(3))
        expect(refused_auth(d["n1"]) > auth0["n1"], "n1 counted no refusal for the auth")
        write_keys(files["n3"], new)
        d["n3"].p.send_signal(signal.SIGHUP)
        ok, bad = all_up(d, timeout=2.0)
        expect(ok, "n3 back on the new key: %s", bad)

    res.daemon_checks(lab)
res.exit()
