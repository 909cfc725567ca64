#!/usr/bin/env python3
"""arphad's Prometheus endpoint ([Daemon] Metrics=) in network namespaces.

A firewall pair (fwlab: fw1 master of both VIPs, fw2 backup, [ConnSync]),
fw1 with Metrics=198.18.3.1:9774 on its sync address and a health check
([Track maint], a file) on one VIP; a client pings the
VIP first, so the ARP counters are not all zero. Every fetch runs inside
fw1's namespace (python urllib, through the lab's exec).

  format        GET /metrics: 200, Content-Type text/plain; version=0.0.4,
                and the body passes a strict check of the text format
                written here (names and labels by the format's grammar,
                escapes, one HELP and one TYPE before a family's samples,
                a family's samples together, no series twice), the
                conventions (arpha_ names, counters end in _total, base
                units: no _ms or _us, no untyped family: every field has its
                rule), and Prometheus's own Python parser
                (python3-prometheus-client) reads the same families.
  same-numbers  `arpha -j stats, vip, cluster, conns, neighbors` taken just
                before and just after one scrape: every number they show has
                its sample, a counter between its two readings (the cluster's
                heartbeats do not stop for the test), a gauge and a state
                equal to what arpha showed, an age in seconds within what
                arpha showed and the time between.
  http          /other: 404; POST /metrics: 405 with Allow: GET.
  slow-client   a client that sends half a request and then nothing: arpha
                and another scrape answer at once meanwhile, and arphad
                closes that connection after its 5 s of silence.
  bounded       24 clients connect and trickle a byte a second (a slowloris):
                arphad holds at most 16 of them (the rest wait in the
                listening queue), arpha answers at once meanwhile, each
                connection is closed 10 s after it was accepted however it
                trickles, and once they are gone a scrape works.
  active-active two nodes of an active-active cluster (aalab), n1 scraped: the
                ranges' families pass the same checks (none untyped), and
                its buckets, claimed and members equal `arpha -j ranges`.
  bad-value     Metrics=localhost:9774 and Metrics=198.18.3.1:0: arphad -n
                refuses them with FILE:LINE and what was expected.
  port-in-use   another process listens on the address and port: arphad
                does not start, says so (bind ...: Address already in use),
                and leaves no nftables table behind.
"""
import json
import math
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
from fwlab import FwLab, VIP_IN, info  # noqa: E402
import aalab  # noqa: E402
from aalab import AaLab  # noqa: E402

SUITE = "netns/metrics"
need_root(SUITE)
res = Results(SUITE)

ADDR, PORT = "198.18.3.1", 9774
URL = "http://%s:%d/metrics" % (ADDR, PORT)
CONNSYNC = {"Protocols": "tcp udp icmp"}

FETCH = r"""
import json, sys, urllib.request, urllib.error
url, method = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method, data=b"x" if method == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=5)
    out = {"status": r.status, "headers": dict(r.headers), "body": r.read().decode()}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "headers": dict(e.headers), "body": e.read().decode()}
print(json.dumps(out))
"""


def fetch(lab, role, url=URL, method="GET"):
    p = lab.exec(role, PY, "-c", FETCH, url, method, timeout=20)
    return json.loads(p.stdout)


def with_metrics(text, where):
    return text.replace("[Daemon]\n", "[Daemon]\nMetrics=%s\n" % where, 1)


def fail(msg, *args):
    expect(False, msg, *args)


# ------------------------------------------------------------ the format

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(s):
    if s in ("NaN", "+Inf", "-Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", s):
        raise ValueError("value %r is not a float" % s)
    return float(s)


def parse_labels(s, where):
    """'{a="x",b="y"}' -> ({a: x, b: y}, rest of the line after '}')."""
    labels = {}
    i = 1
    while True:
        if s[i] == "}":
            return labels, s[i + 1:]
        m = re.match(r"[a-zA-Z_][a-zA-Z0-9_]*", s[i:])
        expect(m, "%s: a label name expected at %r", where, s[i:])
        name = m.group(0)
        expect(not name.startswith("__"), "%s: label %s is reserved", where, name)
        expect(name not in labels, "%s: label %s twice", where, name)
        i += len(name)
        expect(s[i:i + 2] == '="', "%s: '=\"' expected after %s", where, name)
        i += 2
        val = []
        while s[i] != '"':
            if s[i] == "\\":
                nxt = s[i + 1]
                expect(nxt in '\\"n', "%s: bad escape \\%s in label %s", where, nxt, name)
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            else:
                expect(s[i] != "\n", "%s: newline in label %s", where, name)
                val.append(s[i])
                i += 1
        labels[name] = "".join(val)
        i += 1
        if s[i] == ",":
            i += 1
        else:
            expect(s[i] == "}", "%s: ',' or '}' expected after label %s", where, name)


def check_format(body):
    """The strict check: {family: {"type", "help", "samples": {(name, labels): value}}}."""
    expect(body.endswith("\n"), "the exposition does not end with a newline")
    fams = {}
    current = None
    done = set()
    for n, line in enumerate(body[:-1].split("\n"), 1):
        where = "line %d %r" % (n, line[:120])
        expect(line, "%s: empty line", where)
        if line.startswith("#"):
            w = line.split(" ", 3)
            if len(w) >= 3 and w[1] in ("HELP", "TYPE"):
                name = w[2]
                expect(NAME_RE.match(name), "%s: bad metric name", where)
                expect(name not in done, "%s: family %s again after other families", where,
                       name)
                f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
                expect(not f["samples"], "%s: %s after the family's samples", where, w[1])
                if w[1] == "HELP":
                    expect(f["help"] is None, "%s: second HELP for %s", where, name)
                    text = w[3] if len(w) > 3 else ""
                    expect(not re.search(r"\\[^\\n]", text.replace("\\\\", "")),
                           "%s: bad escape in HELP", where)
                    f["help"] = text
                else:
                    expect(f["type"] is None, "%s: second TYPE for %s", where, name)
                    expect(len(w) == 4 and w[3] in TYPES, "%s: bad TYPE", where)
                    f["type"] = w[3]
                if current and current != name:
                    done.add(current)
                current = name
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        expect(m, "%s: no metric name", where)
        name = m.group(0)
        rest = line[len(name):]
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest, where)
        expect(rest.startswith(" "), "%s: a space expected before the value", where)
        parts = rest[1:].split(" ")
        expect(1 <= len(parts) <= 2, "%s: value [timestamp] expected", where)
        try:
            value = parse_value(parts[0])
        except ValueError as e:
            fail("%s: %s", where, e)
        expect(name == current, "%s: sample of %s outside its family (%s)", where, name,
               current)
        f = fams[name]
        expect(f["type"] is not None, "%s: sample before its TYPE line", where)
        key = tuple(sorted(labels.items()))
        expect(key not in f["samples"], "%s: the same series twice", where)
        f["samples"][key] = value
    for name, f in fams.items():
        expect(f["samples"], "family %s has no sample", name)
        expect(f["help"], "family %s has no HELP", name)
        # the conventions
        expect(name.startswith("arpha_"), "%s: not under arpha_", name)
        expect(f["type"] != "untyped", "%s is untyped: give its field a rule in "
               "src/daemon/metrics.c", name)
        expect((f["type"] == "counter") == name.endswith("_total"),
               "%s: a %s; counters and only counters end in _total", name, f["type"])
        expect(not re.search(r"_(ms|us|msec|milliseconds|microseconds)(_|$)", name),
               "%s: not in base units (seconds)", name)
        for key, v in f["samples"].items():
            expect(math.isfinite(v), "%s%s: %s", name, key, v)
            if f["type"] == "counter":
                expect(v >= 0, "%s%s: a counter below zero", name, key)
    return fams


def check_with_client(body, fams):
    """Prometheus's own parser reads the same families, types and samples."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        fail("python3-prometheus-client is missing (tools/deps.sh installs it)")
    got = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            got[(s.name, tuple(sorted(s.labels.items())))] = (fam.type, s.value)
    want = {}
    for name, f in fams.items():
        for key, v in f["samples"].items():
            want[(name, key)] = (f["type"], v)
    expect(got == want, "prometheus_client reads otherwise: %d samples, %d ours; first "
           "differences %s", len(got), len(want),
           sorted(set(got.items()) ^ set(want.items()))[:5])


# ------------------------------------------------------------ the numbers

def lab_(**kw):
    return tuple(sorted((k, str(v)) for k, v in kw.items()))


def expected(j):
    """From `arpha -j` of each command: [(name, labels, value, kind)], kind one of
    counter (between the readings), exact (gauge, state), age (ms: seconds)."""
    out = []
    add = lambda name, labels, v, kind: out.append((name, labels, v, kind))  # noqa: E731
    num = lambda v: int(v) if not isinstance(v, bool) else int(v)  # noqa: E731
    # stats
    for i in j["stats"]["interfaces"]:
        iface = i["interface"]
        add("arpha_arp_cache_entries", lab_(interface=iface), i["entries"], "exact")
        add("arpha_arp_interface_state", lab_(interface=iface, state=i["state"]), 1, "exact")
        for k, v in i["counters"].items():
            add("arpha_arp_events_total", lab_(interface=iface, reason=k), v, "counter")
    for k, v in j["stats"]["kernel"].items():
        add("arpha_kernel_%s_total" % k, (), v, "counter")
    # vip
    counters = {"changes": "state_changes", "garp_rounds": "garp_rounds",
                "targeted_sent": "targeted_sent", "flush_rounds": "flush_rounds",
                "notify_runs": "notify_runs", "notify_failed": "notify_failed",
                "notify_dropped": "notify_dropped"}
    for x in j["vip"]:
        lb = dict(vip=x["name"], group=x["group"])
        add("arpha_vip_state", lab_(state=x["state"], **lb), 1, "exact")
        add("arpha_vip_address", lab_(address=x["address"], **lb), 1, "exact")
        add("arpha_vip_priority", lab_(**lb), x["priority"], "exact")
        for k in ("configured_priority", "demote", "demoted_by_hand"):
            add("arpha_vip_%s" % k, lab_(**lb), x[k], "exact")
        for c in x["checks"]:
            cl = dict(lb, check=c["name"])
            add("arpha_vip_check_state", lab_(state=c["state"], **cl), 1, "exact")
            add("arpha_vip_check_weight", lab_(**cl), c["weight"], "exact")
            add("arpha_vip_check_runs_total", lab_(**cl), c["runs"], "counter")
            add("arpha_vip_check_failed_total", lab_(**cl), c["failed"], "counter")
        add("arpha_vip_holding", lab_(**lb), num(x["holding"]), "exact")
        if x["owner"] is not None:
            add("arpha_vip_owner_node", lab_(**lb), x["owner"], "exact")
        add("arpha_vip_last_change_seconds", lab_(**lb), x["last_change_ms"], "age")
        for k, n in counters.items():
            add("arpha_vip_%s_total" % n, lab_(**lb), x[k], "counter")
    # cluster
    c = j["cluster"]
    add("arpha_cluster_node_id", (), c["node_id"], "exact")
    add("arpha_cluster_sync_link", lab_(state=c["sync_link"]), 1, "exact")
    for m in c["members"]:
        lb = dict(node="" if m["node_id"] is None else m["node_id"], address=m["address"] or "")
        add("arpha_cluster_member_state", lab_(state=m["state"], **lb), 1, "exact")
        for k, v in m.items():
            if k in ("node_id", "address", "state") or v is None:
                continue
            if k == "last_heard_ms":
                add("arpha_cluster_member_last_heard_seconds", lab_(**lb), v, "age")
            else:
                add("arpha_cluster_member_%s_total" % k, lab_(**lb), v, "counter")
    for k, v in c["counters"].items():
        if k.startswith("drop_"):
            add("arpha_cluster_dropped_total", lab_(reason=k[5:]), v, "counter")
        elif k.startswith("state_drop_"):
            add("arpha_cluster_state_dropped_total", lab_(reason=k[11:]), v, "counter")
        elif k == "peers_never_heard":
            add("arpha_cluster_peers_never_heard", (), v, "exact")
        else:
            add("arpha_cluster_%s_total" % k, (), v, "counter")
    # conns
    s = j["conns"]
    names = {"messages_in": "messages_received", "messages_out": "messages_sent"}
    for k in ("messages_in", "messages_out", "resyncs_sent", "resyncs_received",
              "resync_requests_sent", "checks_agree", "checks_disagree", "adopted", "commits",
              "committed", "commit_failed", "refused_full"):
        add("arpha_conns_%s_total" % names.get(k, k), (), s[k], "counter")
    add("arpha_conns_local_entries", (), s["local"], "exact")
    add("arpha_conns_last_check", lab_(result=s["last_check"]), 1, "exact")
    for obj, fam, label in (("records_in", "records_received", "type"),
                            ("records_out", "records_sent", "type"),
                            ("malformed", "malformed", "reason")):
        for k, v in s[obj].items():
            add("arpha_conns_%s_total" % fam, lab_(**{label: k}), v, "counter")
    for k, v in s["kernel"].items():
        add("arpha_conns_kernel_%s_total" % k, (), v, "counter")
    for p in s["peers"]:
        lb = dict(node=p["node"])
        add("arpha_conns_peer_up", lab_(**lb), num(p["up"]), "exact")
        add("arpha_conns_peer_entries", lab_(**lb), p["entries"], "exact")
        add("arpha_conns_peer_messages_total", lab_(**lb), p["messages"], "counter")
        add("arpha_conns_peer_check", lab_(result=p["check"], **lb), 1, "exact")
        if p["last_message_ms"] is not None:
            add("arpha_conns_peer_last_message_seconds", lab_(**lb), p["last_message_ms"], "age")
    # neighbors
    for k, v in j["neighbors"]["counters"].items():
        if isinstance(v, dict):
            fam = {"dhcp_refused": "dhcp_refused", "sync_malformed": "sync_malformed"}[k]
            for r, n in v.items():
                add("arpha_neighbors_%s_total" % fam, lab_(reason=r), n, "counter")
        elif k in ("entries", "size"):
            add("arpha_neighbors_%s" % k, (), v, "exact")
        else:
            add("arpha_neighbors_%s_total" % k, (), v, "counter")
    return out


CMDS = ("stats", "vip", "cluster", "conns", "neighbors")


def readings(d):
    return {c: d.arpha_json(c) for c in CMDS}


def compare(before, fams, after, elapsed_ms):
    """Every number of `arpha -j` has its sample, equal to it as the kinds say."""
    a = {(n, l): (v, k) for n, l, v, k in expected(after)}
    problems = []
    checked = 0
    for name, labels, v1, kind in expected(before):
        f = fams.get(name)
        got = f and f["samples"].get(labels)
        if got is None:
            problems.append("%s%s missing" % (name, dict(labels)))
            continue
        checked += 1
        v2 = a.get((name, labels), (v1, kind))[0]
        if kind == "counter":
            ok = v1 <= got <= v2
        elif kind == "exact":
            ok = got in (v1, v2)
        else:  # an age in ms: seconds no more than arpha showed plus the time between
            ok = 0 <= got * 1000 <= max(v1, v2) + elapsed_ms + 1
        if not ok:
            problems.append("%s%s = %s, arpha -j showed %s then %s" %
                            (name, dict(labels), got, v1, v2))
    expect(not problems, "%d of %d differ: %s", len(problems), checked + len(problems),
           "; ".join(problems[:8]))
    return checked


# ------------------------------------------------------------ the cases

SLOW = r"""
import json, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /metr")
print("sent", flush=True)
t0 = time.monotonic()
s.settimeout(15)
try:
    data = s.recv(100)
except socket.timeout:
    data = None
print(json.dumps({"closed_after": time.monotonic() - t0, "data": data is not None and
                  data.decode(errors="replace")}), flush=True)
"""

TRICKLE = r"""
import errno, json, socket, sys, time
n = int(sys.argv[3])
t0 = time.monotonic()
conns = []
for _ in range(n):  # all at once: those past the listening queue retry their SYN
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex((sys.argv[1], int(sys.argv[2])))
    conns.append([c, None])
print("connected", flush=True)
WAIT = (errno.EAGAIN, errno.ENOTCONN, errno.EINPROGRESS, errno.EALREADY)
while time.monotonic() < t0 + 40 and any(x[1] is None for x in conns):
    for x in conns:
        if x[1] is not None:
            continue
        try:
            if x[0].recv(100) == b"":
                x[1] = time.monotonic() - t0
                continue
        except OSError as e:
            if e.errno not in WAIT:
                x[1] = time.monotonic() - t0
                continue
        try:
            x[0].send(b"G")
        except OSError as e:
            if e.errno not in WAIT:
                x[1] = time.monotonic() - t0
    time.sleep(1.0)
print(json.dumps([x[1] for x in conns]), flush=True)
"""


def held_by_arphad(lab, role):
    """TCP connections to the endpoint that arphad has accepted (ss -p names it)."""
    p = lab.exec(role, "ss", "-tnpH", "state", "established", "( sport = :%d )" % PORT)
    return sum(1 for ln in p.stdout.splitlines() if "arphad" in ln)


with FwLab("metrics") as lab:
    orig = lab.fw_config
    maint = os.path.join(lab.tmp, "maint")  # a health check that stays healthy (0)
    with open(maint, "w") as fh:
        fh.write("0\n")

    def fw1_config(text):
        text = with_metrics(text, "%s:%d" % (ADDR, PORT))
        text = text.replace("[VIP in]\n", "[VIP in]\nTrack=maint:50\n", 1)
        return text + "\n[Track maint]\nFile=%s\nInterval=100ms\n" % maint

    lab.fw_config = lambda role, *a, **kw: (
        fw1_config(orig(role, *a, **kw)) if role == "fw1" else orig(role, *a, **kw))
    d = None
    with res.case("start"):
        d = lab.start_firewalls(connsync=CONNSYNC)
        expect(lab.ping("client", VIP_IN, count=3), "the client gets no answer from the VIP")
        time.sleep(0.3)

    body = fams = None
    with res.case("format"):
        expect(d is not None, "the firewalls did not start")
        r = fetch(lab, "fw1")
        expect(r["status"] == 200, "GET /metrics: %s %s", r["status"], r["body"][:300])
        ctype = r["headers"].get("Content-Type", "")
        expect(ctype.startswith("text/plain; version=0.0.4"), "Content-Type: %r", ctype)
        expect(d["fw1"].log_lines(r"event=metrics_listening url=%s$" % re.escape(URL)),
               "no metrics_listening line in the log")
        body = r["body"]
        fams = check_format(body)
        check_with_client(body, fams)
        info("%s/format %d families, %d samples, %d bytes" %
             (SUITE, len(fams), sum(len(f["samples"]) for f in fams.values()), len(body)))

    with res.case("same-numbers"):
        expect(d is not None, "the firewalls did not start")
        t0 = time.monotonic()
        before = readings(d["fw1"])
        r = fetch(lab, "fw1")
        after = readings(d["fw1"])
        elapsed = (time.monotonic() - t0) * 1000
        expect(r["status"] == 200, "GET /metrics: %s", r["status"])
        f = check_format(r["body"])
        st = before["stats"]["interfaces"][0]["counters"]
        expect(st["rx_frames"] > 0, "no ARP frame counted before the scrape: %s", st)
        n = compare(before, f, after, elapsed)
        info("%s/same-numbers %d numbers of arpha -j equal their samples" % (SUITE, n))

    with res.case("http"):
        expect(d is not None, "the firewalls did not start")
        r = fetch(lab, "fw1", url="http://%s:%d/other" % (ADDR, PORT))
        expect(r["status"] == 404, "GET /other: %s", r["status"])
        r = fetch(lab, "fw1", method="POST")
        expect(r["status"] == 405, "POST /metrics: %s", r["status"])
        expect(r["headers"].get("Allow") == "GET", "POST /metrics: Allow: %r",
               r["headers"].get("Allow"))

    with res.case("slow-client"):
        expect(d is not None, "the firewalls did not start")
        slow = subprocess.Popen(["ip", "netns", "exec", lab.ns("fw1"), PY, "-c", SLOW, ADDR,
                                 str(PORT)], stdout=subprocess.PIPE, text=True)
        try:
            expect(slow.stdout.readline().strip() == "sent", "the slow client did not connect")
            t = time.monotonic()
            d["fw1"].arpha("stats")
            r = fetch(lab, "fw1")
            took = time.monotonic() - t
            expect(r["status"] == 200, "a scrape beside the slow client: %s", r["status"])
            expect(took < 2.0, "arpha and a scrape took %.2f s beside the slow client", took)
            out = json.loads(slow.stdout.readline())
        finally:
            slow.kill()
            slow.wait()
        info("%s/slow-client arpha + a scrape beside it: %.3f s; it was closed after %.1f s"
             % (SUITE, took, out["closed_after"]))
        expect(out["data"] is not None and 4.0 <= out["closed_after"] <= 8.0,
               "the silent client was not closed after 5 s: %s", out)

    with res.case("bounded"):
        expect(d is not None, "the firewalls did not start")
        tr = subprocess.Popen(["ip", "netns", "exec", lab.ns("fw1"), PY, "-c", TRICKLE, ADDR,
                               str(PORT), "24"], stdout=subprocess.PIPE, text=True)
        try:
            expect(tr.stdout.readline().strip() == "connected", "the trickling clients failed")
            time.sleep(1.5)
            held = held_by_arphad(lab, "fw1")
            t = time.monotonic()
            d["fw1"].arpha("stats")
            took = time.monotonic() - t
            closed = json.loads(tr.stdout.readline())
        finally:
            tr.kill()
            tr.wait()
        first = sorted(c for c in closed if c is not None)[:16]
        info("%s/bounded arphad held %d of 24 trickling connections; arpha answered in "
             "%.3f s; the first 16 closed after %.1f-%.1f s" %
             (SUITE, held, took, min(first or [0]), max(first or [0])))
        expect(1 <= held <= 16, "arphad held %d connections at once", held)
        expect(took < 1.0, "arpha took %.2f s beside the trickling clients", took)
        expect(len(first) == 16 and all(9.0 <= c <= 13.0 for c in first),
               "the connections arphad took were not closed 10 s after: %s", closed)
        r = fetch(lab, "fw1")
        expect(r["status"] == 200, "a scrape after the trickling clients: %s", r["status"])

    res.daemon_checks(lab, alive=d and d["fw1"], name="arphad-clean")

with AaLab("metrics-aa", nodes=("n1", "n2")) as lab:
    n1_ip = aalab.NODES["n1"][1]["eth2"][0].split("/")[0]
    aa_url = "http://%s:%d/metrics" % (n1_ip, PORT)
    with res.case("active-active"):
        lab.start_node("n1", config=with_metrics(lab.node_config("n1"), "%s:%d" % (n1_ip, PORT)))
        lab.start_node("n2")
        ok, secs, share, why = lab.wait_balanced(["n1", "n2"])
        expect(ok, "the buckets did not settle: %s", why)
        before = lab.nodes["n1"].arpha_json("ranges")
        r = fetch(lab, "n1", url=aa_url)
        after = lab.nodes["n1"].arpha_json("ranges")
        expect(r["status"] == 200, "GET /metrics: %s", r["status"])
        f = check_format(r["body"])
        check_with_client(r["body"], f)
        ranges = {n: v for n, v in f.items() if n.startswith("arpha_ranges_")}
        info("%s/active-active %d families of arpha_ranges_" % (SUITE, len(ranges)))
        for k in ("buckets", "claimed", "members"):
            got = f.get("arpha_ranges_" + k, {"samples": {}})["samples"].get(())
            expect(got in (before[k], after[k]), "arpha_ranges_%s = %s, arpha -j ranges: %s "
                   "then %s", k, got, before[k], after[k])
        for nd in before["nodes"]:
            got = f.get("arpha_ranges_node_claimed", {"samples": {}})["samples"].get(
                lab_(node=nd["node"]))
            expect(got == nd["claimed"], "node %s claims %s, arpha -j ranges: %s", nd["node"],
                   got, nd["claimed"])
        v1, v2 = before["kernel"]["updates"], after["kernel"]["updates"]
        got = f["arpha_ranges_kernel_updates_total"]["samples"][()]
        expect(v1 <= got <= v2, "arpha_ranges_kernel_updates_total %s, arpha: %s then %s", got,
               v1, v2)
    res.daemon_checks(lab, alive=lab.nodes.get("n1"), name="arphad-clean-aa")

with Lab("metrics-conf") as lab:
    ip = lab.hosts["node"][0]
    with res.case("bad-value"):
        for value, want in (("localhost:9774", "Metrics: expected an IPv4 address and a "
                             "port, such as 127.0.0.1:9774, or \"no\", got \"localhost:9774\""),
                            ("%s:0" % ip, "Metrics: the port must be from 1 to 65535, "
                             "got \"0\"")):
            text = with_metrics(make_config(os.path.join(lab.tmp, "x.sock")), value)
            path = os.path.join(lab.tmp, "bad.conf")
            with open(path, "w") as fh:
                fh.write(text)
            line = text.split("\n").index("Metrics=%s" % value) + 1
            p = run([binary("arphad"), "-n", "-f", path], check=False)
            msg = (p.stderr + p.stdout).strip()
            expect(p.returncode != 0, "arphad -n accepts Metrics=%s", value)
            expect("%s:%d: %s" % (path, line, want) in msg, "Metrics=%s: arphad -n says %r",
                   value, msg)

    with res.case("port-in-use"):
        hold = subprocess.Popen(["ip", "netns", "exec", lab.ns("node"), PY, "-c",
                                 "import socket,sys,time\ns=socket.socket()\n"
                                 "s.bind((sys.argv[1],%d))\ns.listen()\nprint('up',flush=True)\n"
                                 "time.sleep(60)" % PORT, ip], stdout=subprocess.PIPE, text=True)
        try:
            expect(hold.stdout.readline().strip() == "up", "the other listener did not start")
            a = lab.arphad("node", config=with_metrics(make_config("@SOCK@"),
                                                       "%s:%d" % (ip, PORT)), start=False)
            try:
                a.start(timeout=10)
                fail("arphad started while %s:%d was taken", ip, PORT)
            except RuntimeError:
                pass
            rc = a.p.wait(5)
            log = a.log()
            expect(rc == 1, "arphad exited with %s", rc)
            want = "bind %s:%d: Address already in use" % (ip, PORT)
            expect("event=start_failed what=metrics" in log and want in log,
                   "arphad's log does not say %r: %s", want, log[-800:])
            tables = lab.exec("node", "nft", "list", "tables").stdout
            expect("arpha" not in tables, "a failed start left nftables tables: %s", tables)
        finally:
            hold.kill()
            hold.wait()
    with res.case("arphad-clean-conf"):
        probs = [p for p in lab.daemon_problems() if "exit" not in p]
        expect(not probs, "; ".join(probs))

res.exit()
