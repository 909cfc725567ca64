#!/usr/bin/python3
"""Active-active: a partition of the cluster link and its heal (issue 13;
the rule is core/ranges.h, PARTITION). Three arphad nodes n1..n3 (two with
AA_HEAL_NODES=2) of the lab of tests/netns/aalab.py (both gateway VIPs Mode=active-active, 1024
buckets, [ConnSync]), between a plain client and server, with AA_TCP TCP
connections and AA_UDP UDP flows (tests/tools/aaflows, a message every
100 ms each, every echo matched) running throughout.

  split      before the cut: every bucket has one owner, the same b2m on
             both nodes, about half each.
  partition  the cluster link is cut between n1 and the others (n1
             drops the cluster's UDP both ways; every other link stays
             up): each side declares the other down and claims every
             bucket (`arpha -j ranges`: n1 claims 1024, alone; n2 and n3,
             members of each other, 1024 between them, none twice):
             duplicates, never loss.
  heal       the cut is removed: within HEAL_S each node's b2m has every
             bucket, the same on both, owned by every NodeID, and
             `arpha -j ranges` on each says every node a member, agreed,
             none unclaimed, none duplicated, and the claims add up to
             1024: exactly one owner per bucket.
  carried    the connections and flows carried through the partition
             still carry data after the heal: every TCP connection up
             (none lost, reset or closed), no flow stalled, every UDP
             flow echoed in the last phase.
  no-dup     once healed (from the balanced b2m on, to the end of the
             traffic, at least HEALED_S seconds): no UDP echo duplicated,
             and no TCP segment received twice by the client or the server
             (each would answer it with a D-SACK: nstat
             TcpExtTCPDSACKOldSent + TcpExtTCPDSACKOfoSent). The partition
             phase, where both nodes forward everything, shows that both
             measures see duplicates.
  clean      no sanitizer report; both alive.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Results, expect, need_root, binary, build_dir  # noqa: E402
from aalab import (CLIENT_POOL, CLUSTER_PORT, NODES, AaLab, flows_line, info,  # noqa: E402
                   nft_load, phase_line)

SUITE = "netns/aaheal"
need_root(SUITE)
if not os.access(binary("aaflows"), os.X_OK):
    print("FAIL %s: no aaflows in %s (build it first)" % (SUITE, build_dir()), flush=True)
    sys.exit(1)
res = Results(SUITE)

N_TCP = int(os.environ.get("AA_TCP", 200))
N_UDP = int(os.environ.get("AA_UDP", 40))
PERIOD_MS = 100
PARTITION_S = 2.0
HEAL_S = 10.0
HEALED_S = 3.0
# AA_HEAL_NODES=2: n1 | n2; 3 (the default): n1 | n2 + n3, so the two owners
# of a bucket at the heal are n1 and whichever of n2, n3 the other side gave it
ROLES = ["n1", "n2", "n3"][:int(os.environ.get("AA_HEAL_NODES", 3))]
OTHERS = ROLES[1:]
BUCKETS = 1024

CUT = """table inet aaheal_cut {
  chain in { type filter hook input priority -10; iifname "eth2" udp dport %d drop; }
  chain out { type filter hook output priority -10; oifname "eth2" udp dport %d drop; }
}
""" % (CLUSTER_PORT, CLUSTER_PORT)


def config(lab, role):
    """aalab's node config, with the other node alone as Peers=."""
    text = lab.node_config(role)
    other = [NODES[r][1]["eth2"][0].split("/")[0] for r in ROLES if r != role]
    lines = ["Peers=%s" % " ".join(other) if ln.startswith("Peers=") else ln
             for ln in text.splitlines()]
    return "\n".join(lines) + "\n"


def ranges(lab, role):
    return lab.nodes[role].arpha_json("ranges")


def dsacks(lab):
    """The duplicate TCP segments the client and the server received so far
    (each answers one with a D-SACK; SACK is on by default)."""
    n = 0
    for role in ("client", "server"):
        out = lab.exec(role, "nstat", "-asz", "TcpExtTCPDSACKOldSent",
                       "TcpExtTCPDSACKOfoSent").stdout
        n += sum(int(ln.split()[1]) for ln in out.splitlines()[1:] if len(ln.split()) > 1)
    return n


def flows_file_dups(path, phase):
    """{proto: echoes duplicated in phase} from aaflows --flows-file."""
    out = {"tcp": 0, "udp": 0}
    with open(path) as f:
        for ln in f:
            w = ln.split()
            if len(w) < 6 or w[0] not in out:
                continue
            per = w[6:]
            if len(per) >= 3 * (phase + 1):
                out[w[0]] += int(per[3 * phase + 2])
    return out


with AaLab("aaheal", nodes=tuple(ROLES)) as lab:
    cli = None
    flows_file = os.path.join(lab.tmp, "flows.txt")
    healed_at = None
    dsack = {}  # phase: D-SACKs at its start
    with res.case("split"):
        for r in ROLES:
            lab.start_node(r, config=config(lab, r))
        ok, t, share, why = lab.wait_balanced(ROLES, timeout=15)
        expect(ok, "the nodes did not split the buckets: %s", why)
        info("%s/split in %.2f s: %s" % (SUITE, t, share))
        srv = lab.flows_server()
        duration = 1 + PARTITION_S + 2 + HEALED_S + 1
        cli = lab.flows_client(N_TCP, N_UDP, duration, PERIOD_MS, sources=CLIENT_POOL[:16],
                               gap_ms=PERIOD_MS + 250, name="heal", flows_file=flows_file)
        rd = cli.wait_ready()
        expect(rd["tcp_up"] == N_TCP and rd["udp_up"] == N_UDP, "flows up: %s", rd)
        time.sleep(1)

    with res.case("partition"):
        expect(cli is not None, "no flows")
        cli.mark()  # phase 1: the partition
        dsack[1] = dsacks(lab)
        nft_load(lab, "n1", CUT)
        t0 = time.monotonic()
        both, side = False, {}
        while time.monotonic() - t0 < 10 and not both:
            v = {r: ranges(lab, r) for r in ROLES}
            if v["n1"].get("claimed") == BUCKETS and v["n1"].get("members") == 1:
                side.setdefault("n1", round(time.monotonic() - t0, 2))
            if sum(v[r].get("claimed", 0) for r in OTHERS) == BUCKETS and \
                    all(v[r].get("members") == len(OTHERS) and v[r].get("duplicated") == 0 and
                        v[r].get("unclaimed") == 0 for r in OTHERS):
                side.setdefault("+".join(OTHERS), round(time.monotonic() - t0, 2))
            both = len(side) == 2
            time.sleep(0.05)
        took = time.monotonic() - t0
        seen = {r: {k: v[r].get(k) for k in ("members", "claimed", "unclaimed", "duplicated")}
                for r in ROLES}
        info("%s/partition: each side claims every bucket after %.2f s (%s): %s" % (
            SUITE, took, side, seen))
        expect(both, "during the partition (n1 | %s): %s", "+".join(OTHERS), seen)
        time.sleep(max(0.0, PARTITION_S - took))

    with res.case("heal"):
        expect(cli is not None, "no flows")
        cli.mark()  # phase 2: the heal
        dsack[2] = dsacks(lab)
        lab.exec("n1", "nft", "delete", "table", "inet", "aaheal_cut")
        ok, t, share, why = lab.wait_balanced(ROLES, timeout=HEAL_S)
        healed_at = time.monotonic() if ok else None
        v = {r: ranges(lab, r) for r in ROLES}
        info("%s/heal: b2m one owner per bucket after %.2f s: %s; ranges %s" % (
            SUITE, t, share, {r: {k: v[r].get(k) for k in ("members", "agreed", "claimed",
                                                          "unclaimed", "duplicated")}
                              for r in ROLES}))
        expect(ok, "after the heal: %s", why)
        for r in ROLES:
            expect(v[r].get("members") == len(ROLES) and v[r].get("agreed") and
                   v[r].get("unclaimed") == 0 and v[r].get("duplicated") == 0,
                   "%s's ranges after the heal: %s", r, v[r])
        expect(sum(v[r].get("claimed", 0) for r in ROLES) == BUCKETS,
               "the claims add up to %s, want %d", [v[r].get("claimed") for r in ROLES],
               BUCKETS)
        expect(all(v[r].get("claimed", 0) > 0 for r in ROLES), "a node claims nothing: %s",
               [v[r].get("claimed") for r in ROLES])

    r = None
    with res.case("carried"):
        expect(cli is not None and healed_at is not None, "not healed")
        cli.mark()  # phase 3: healed
        dsack[3] = dsacks(lab)
        r = cli.result()
        dsack[4] = dsacks(lab)
        cli = None
        info(flows_line(r, SUITE + "/carried"))
        for k in range(len(r["phases"])):
            info(phase_line(r, k))
        for p, n in (("tcp", N_TCP), ("udp", N_UDP)):
            s = r[p]
            expect(s["up"] == n, "%s: %d of %d up", p, s["up"], n)
            expect(s["stalled"] == 0, "%s: %d flows stalled: %s", p, s["stalled"], r["worst"])
        t = r["tcp"]
        expect(t["lost"] == 0 and t["reset"] == 0 and t["closed"] == 0 and t["errors"] == 0,
               "tcp: lost %d, reset %d, closed %d, errors %d", t["lost"], t["reset"],
               t["closed"], t["errors"])
        last = r["phases"][3]
        expect(last["udp"]["gap_over"] == 0 and last["tcp"]["gap_over"] == 0,
               "flows paused after the heal: %s", phase_line(r, 3))

    with res.case("no-dup"):
        expect(r is not None, "no report")
        dups = flows_file_dups(flows_file, 3)
        before = {k: flows_file_dups(flows_file, k) for k in (1, 2)}
        tcp_dup = {k: dsack[k + 1] - dsack[k] for k in (1, 2, 3)} if len(dsack) == 4 else {}
        info("%s/no-dup once healed: echoes duplicated %s, TCP segments received twice "
             "(D-SACKs at the ends) %s; in the partition: %s and %s; during the heal: %s and "
             "%s" % (SUITE, dups, tcp_dup.get(3), before[1], tcp_dup.get(1), before[2],
                     tcp_dup.get(2)))
        expect(dups["udp"] == 0 and dups["tcp"] == 0, "echoes duplicated once healed: %s",
               dups)
        expect(tcp_dup.get(3) == 0, "TCP segments received twice once healed: %s",
               tcp_dup.get(3))

    if cli is not None:
        cli.stop()
    for role in ROLES:
        if role in lab.nodes:
            res.daemon_checks(lab, alive=lab.nodes[role], name="arphad-clean-" + role)
res.exit()
