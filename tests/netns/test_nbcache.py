#!/usr/bin/python3
"""The neighbour cache end to end (issue 15), on dhcplab.py's LAN: fw1
(master) and fw2 (backup) share the VIP 198.18.1.1; on their LAN a
dnsmasq hands out leases to a real dhclient and a real dhcpcd, and a host
sends crafted DHCP requests (scapy) with the option 55 lists and vendor
classes of Windows 10/11, macOS, iOS, Android, a Debian dhclient and an
HP printer, each from a MAC of its maker's OUI. Expected types are what
data/devtypes.txt says for each (core/devtype's rules, checked there).

  identify     `arpha -j neighbors` on fw1 lists each device with its host
               name, vendor, vendor class, option 55 list, type, OS and
               brand, the [Host] name of the printer, the leased address of
               each real client; `neighbors show MAC` gives one device; a
               device_identified line in fw1's log; the text table runs
  inactive     a device that stops sending is "inactive" after
               ActiveTimeout=3s (not before), with timeout_ms 0
  size         obs, a lone arphad with Size=400 on a bridge of its own:
               50 devices, then (when those are inactive) 400 more leave
               400 entries, the first 50 gone, evicted_inactive 50
  failover     fw2 lists the same devices as fw1 (the client that only fw1
               saw, with node 1); fw1 SIGKILLed: fw2 still lists them all
               and its targeted ARP reaches that client, which ignores
               gratuitous ARP (its entry for the VIP moves to fw2's MAC
               while it sends nothing)

What needs no arphad is checked on every run: the DHCP server answers,
both clients get a lease, the crafted and the bulk requests are on the
wire as built (dnsmasq's --log-dhcp, a capture on obs), and the lab goes
away (no namespace of it left)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
from dhcplab import NbLab  # noqa: E402
from fwlab import CLIENT_IP, FWS, VIP_IN  # noqa: E402

SUITE = "netns/nbcache"
need_root(SUITE)
res = Results(SUITE)

ACTIVE_S = 3.0
NEIGHBORS = "[Neighbors]\nSize=400\nActiveTimeout=3s\nSnoop=yes\n"
PRINTER_NAME = "office-printer"

# mac: (request, expected {field: value} in `arpha -j neighbors`)
CRAFTED = {
    "d8:9e:f3:11:22:01": (  # Dell Inc.
        dict(hostname="DESKTOP-NB7Q2W", vendor_class="MSFT 5.0",
             prl=[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]),
        dict(vendor="Dell Inc.", type="computer", os="Windows 10/11", brand="")),
    "a4:83:e7:11:22:02": (  # Apple, Inc.
        dict(hostname="Annas-MacBook-Air", prl=[1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46]),
        dict(vendor="Apple, Inc.", type="computer", os="macOS", brand="Apple")),
    "f0:18:98:11:22:03": (  # Apple, Inc.
        dict(hostname="iPhone", prl=[1, 121, 3, 6, 15, 108, 114, 119, 252]),
        dict(vendor="Apple, Inc.", type="phone", os="iOS", brand="Apple")),
    "3c:28:6d:11:22:04": (  # Google, Inc.
        dict(hostname="Pixel-7", vendor_class="android-dhcp-13",
             prl=[1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108]),
        dict(vendor="Google, Inc.", type="phone", os="Android 13", brand="Google")),
    "f8:bc:12:11:22:05": (  # Dell Inc.
        dict(hostname="buildbox", prl=[1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]),
        dict(vendor="Dell Inc.", type="computer", os="Linux (Debian/Ubuntu)", brand="")),
    "3c:d9:2b:11:22:07": (  # Hewlett Packard
        dict(hostname="NPI2B3C4D", prl=[1, 3, 44, 6, 7, 12, 15, 22, 54, 58, 59, 69, 18, 144]),
        dict(vendor="Hewlett Packard", type="printer", os="", brand="HP",
             cfg_name=PRINTER_NAME)),
}
IPHONE, PRINTER = "f0:18:98:11:22:03", "3c:d9:2b:11:22:07"
# the real clients: role: (host name, expected); the lists they ask for are
# their own (dhclient with Debian's request list, dhcpcd with no config)
REAL = {
    "dhc": ("nbdhclient", dict(vendor="Dell Inc.", type="computer", os="Linux (Debian/Ubuntu)",
                               brand="", vendor_class="",
                               prl="1,28,2,3,15,6,119,12,44,47,26,121,42")),
    "dcd": ("nbdhcpcd", dict(vendor="Raspberry Pi Trading Ltd", type="computer", os="Linux",
                             brand="Raspberry Pi", prl="1,3,28,33,51,58,59")),
}
BULK_OLD, BULK_NEW = 50, 400
BULK = ["02:4e:42:00:%02x:%02x" % (i >> 8, i & 0xFF) for i in range(BULK_OLD + BULK_NEW)]


def fw_config(lab, role):
    """FwLab's firewall config, the VIP in without a virtual MAC (so that a
    takeover must change the neighbours' entries), with the contract's
    [Neighbors] and a [Host] name for the printer."""
    text = lab.fw_config(role).replace("\n[VIP out]", "VirtualMAC=no\n\n[VIP out]", 1)
    return text + "\n" + NEIGHBORS + "\n[Host %s]\nMAC=%s\n" % (PRINTER_NAME, PRINTER)


def obs_config():
    return ("[Daemon]\nControlSocket=@SOCK@\nLogTarget=stderr\nLogLevel=info\n\n"
            "[Interface lan]\nDevice=eth0\n\n" + NEIGHBORS)


def neighbors(dmn, iface="lan"):
    """`arpha -j neighbors`: ({mac: entry} of iface, counters)."""
    v = dmn.arpha_json("neighbors")
    return ({e["mac"]: e for e in v["neighbors"] if e["interface"] == iface},
            v.get("counters", {}))


def wait_neighbors(dmn, pred, timeout=5.0):
    """Poll `arpha -j neighbors` until pred(table) holds; the last table."""
    end = time.monotonic() + timeout
    while True:
        t = neighbors(dmn)[0]
        if pred(t) or time.monotonic() > end:
            return t
        time.sleep(0.1)


def show_one(dmn, mac):
    """`arpha -j neighbors show MAC`: the device's object."""
    v = dmn.arpha_json("neighbors", "show", mac)
    if isinstance(v, dict) and "neighbors" in v:
        v = v["neighbors"][0] if len(v["neighbors"]) == 1 else v
    return v


def expect_fields(e, want, who):
    expect(e is not None, "%s is not listed", who)
    bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
    expect(not bad, "%s: (got, want) %s", who, bad)


def expect_crafted(e, mac):
    req, want = CRAFTED[mac]
    w = dict(want, mac=mac, hostname=req["hostname"], vendor_class=req.get("vendor_class", ""),
             prl=",".join(map(str, req["prl"])))
    w.setdefault("cfg_name", "")
    expect_fields(e, w, mac)
    expect("dhcp" in e.get("sources", []), "%s: sources %s, no dhcp", mac, e.get("sources"))


def requested(lines):
    """Option 55 as dnsmasq's --log-dhcp lines of a transaction give it
    ("requested options: 1:netmask, ..., 249, 252"), in order: the first
    run of such lines (the next message of the transaction logs it again)."""
    out = []
    for l in lines:
        if "requested options:" in l:
            out += [int(w.split(":")[0]) for w in
                    l.split("requested options:", 1)[1].replace(",", " ").split()]
        elif out:
            break
    return out


def server_saw(lab, mac, req):
    """What dnsmasq logged of mac's crafted request is what was built."""
    log = lab.dnsmasq_log()
    m = re.search(r" (\d+) DHCPDISCOVER\(eth0\) %s" % re.escape(mac), log)
    expect(m, "dnsmasq saw no DHCPDISCOVER from %s", mac)
    xid = m.group(1)
    lines = [l.split(xid, 1)[1] for l in log.splitlines() if " %s " % xid in l]
    got = requested(lines)
    expect(got[:len(req["prl"])] == req["prl"], "%s: dnsmasq read option 55 as %s", mac, got)
    expect(any("client provides name: %s" % req["hostname"] in l for l in lines),
           "%s: dnsmasq logged no host name %s", mac, req["hostname"])
    if req.get("vendor_class"):
        expect(any("vendor class: %s" % req["vendor_class"] in l for l in lines),
               "%s: dnsmasq logged no vendor class %s", mac, req["vendor_class"])


def start(lab):
    """fw1 master, fw2 backup, obs: {role: Arphad}. The first step that
    needs the neighbour cache: arphad -n must take the [Neighbors] and
    [Host] sections of the contract."""
    for role, text in (("fw1", fw_config(lab, "fw1")), ("obs", obs_config())):
        ok, msg = lab.config_check(text)
        expect(ok, "arphad -n refuses %s's config with [Neighbors]: %s", role, msg)
    d = {"fw1": lab.arphad("fw1", config=fw_config(lab, "fw1"), name="fw1")}
    ok, got = lab.wait_states(d, {"fw1": "master"}, 5)
    expect(ok, "fw1 alone is not master: %s; log: %s", got, d["fw1"].log()[-1500:])
    d["fw2"] = lab.arphad("fw2", config=fw_config(lab, "fw2"), name="fw2")
    ok, got = lab.wait_states(d, {"fw1": "master", "fw2": "backup"}, 5)
    expect(ok, "not fw1 master, fw2 backup: %s; fw2 log: %s", got, d["fw2"].log()[-1500:])
    d["obs"] = lab.arphad("obs", config=obs_config(), name="obs")
    return d


def run_all(lab):
    d = {}
    with res.case("dhcp-server"):
        lab.dnsmasq()
    with res.case("start"):
        d = start(lab)
    up = bool(d)
    if not up:
        info("%s: no arphad with the neighbour cache; only the lab's own cases run" % SUITE)

    # the first 50 of obs's devices; the 400 others come when these are inactive
    t_old = None
    with res.case("bulk-old-on-wire"):
        sn = lab.sniff("obs", BULK_OLD, 15)
        lab.craft("bulk", [{"mac": m} for m in BULK[:BULK_OLD]], inter_ms=1)
        t_old = time.monotonic()
        got = sn.result()
        expect(got == BULK[:BULK_OLD], "obs saw %d of the first %d requests", len(got), BULK_OLD)

    # the client that only fw1 sees: fw2's LAN port cut while it comes
    if up:
        with res.case("client-seen-by-fw1-only"):
            lab.cut_port("fw2", "eth0")
            try:
                expect(lab.ping("client", VIP_IN), "the client gets no answer from the VIP")
                mac = lab.hosts["client"][1]
                t = wait_neighbors(d["fw1"], lambda t: CLIENT_IP in t.get(mac, {}).get("ip4", []))
                e = t.get(mac)
                expect(e and CLIENT_IP in e["ip4"], "fw1 lists the client as %s", e)
            finally:
                lab.cut_port("fw2", "eth0", cut=False)

    leased = {}
    for role, (host, _want) in REAL.items():
        with res.case("%s-lease" % ("dhclient" if role == "dhc" else "dhcpcd")):
            ip = lab.dhclient(role, host) if role == "dhc" else lab.dhcpcd(role, host)
            mac = lab.hosts[role][1]
            expect(lab.leases().get(mac) == (ip, host), "dnsmasq's lease for %s is %s, "
                   "%s has %s", mac, lab.leases().get(mac), role, ip)
            leased[role] = ip
            # a word to the VIP, as a host that just came up: ARP with the address
            lab.kernel_asks(VIP_IN, role=role)

    with res.case("crafted-on-wire"):
        n = lab.craft("crafted", [dict(req, mac=mac) for mac, (req, _w) in CRAFTED.items()],
                      inter_ms=5)
        expect(n == len(CRAFTED), "sent %d of %d", n, len(CRAFTED))
        end = time.monotonic() + 3
        while not all(lab.seen_by_server(m) for m in CRAFTED) and time.monotonic() < end:
            time.sleep(0.1)
        for mac, (req, _w) in CRAFTED.items():
            server_saw(lab, mac, req)
        # the real clients' requests as the server read them, for the expected values
        for role, (host, want) in REAL.items():
            mac = lab.hosts[role][1]
            m = re.search(r" (\d+) DHCPDISCOVER\(eth0\) %s" % mac, lab.dnsmasq_log())
            expect(m, "dnsmasq saw no DHCPDISCOVER from %s", role)
            lines = [l for l in lab.dnsmasq_log().splitlines() if " %s " % m.group(1) in l]
            prl = ",".join(map(str, requested(lines)))
            expect(prl.startswith(want["prl"]), "%s asked for %s, not %s", role, prl, want["prl"])
            want["prl"] = prl
            vc = [l.split("vendor class: ", 1)[1].strip() for l in lines if "vendor class:" in l]
            if role == "dcd":
                expect(vc and vc[0].startswith("dhcpcd-") and ":Linux-" in vc[0],
                       "dhcpcd's vendor class: %s", vc)
                want["vendor_class"] = vc[0]
            info("%s %s (%s) asks for %s, vendor class %r" % (SUITE, role, mac, prl,
                                                             vc[0] if vc else ""))

    if up:
        fw1, fw2, obs = d["fw1"], d["fw2"], d["obs"]
        with res.case("identify"):
            macs = list(CRAFTED) + [lab.hosts[r][1] for r in REAL]
            t = wait_neighbors(fw1, lambda t: all(m in t for m in macs) and all(
                leased.get(r) in t[lab.hosts[r][1]]["ip4"] for r in leased))
            for mac in CRAFTED:
                expect_crafted(t.get(mac), mac)
            for role, (host, want) in REAL.items():
                mac = lab.hosts[role][1]
                expect_fields(t.get(mac), dict(want, hostname=host, cfg_name=""), role)
                expect(leased.get(role) in t[mac]["ip4"], "%s: ip4 %s, not its lease %s", role,
                       t[mac]["ip4"], leased.get(role))
        with res.case("show-one"):
            e = show_one(fw1, IPHONE)
            expect_crafted(e, IPHONE)
            for k in ("idx", "interface", "ip4", "state", "last_seen_ms", "first_seen_ms",
                      "timeout_ms", "fqdn", "confidence", "node", "sources"):
                expect(k in e, "neighbors show %s has no %s: %s", IPHONE, k, e)
        with res.case("device-identified-log"):
            got = fw1.wait_log(r'event=device_identified if=lan hostname="iPhone" srcmac=%s '
                               r'device_ip4=\S* device_type="phone" device_os_name="iOS" '
                               r'device_vendor="Apple, Inc\."' % IPHONE)
            expect(got, "no device_identified line for the iPhone; log tail: %s",
                   fw1.log()[-1500:])
        with res.case("text-table"):
            out = fw1.arpha("neighbors", "lan", "-names", "-devinfo").stdout
            if os.environ.get("ARPHA_SHOW_TABLE"):
                info("%s fw1's `arpha neighbors lan -names -devinfo`:\n%s" % (SUITE, out))
            for word in ("iPhone", PRINTER_NAME, "printer", "Apple, Inc."):
                expect(word in out, "no %r in `arpha neighbors lan -names -devinfo`: %s", word,
                       out[-1500:])

        with res.case("inactive-after-timeout"):
            req, _w = CRAFTED[PRINTER]
            lab.craft("crafted", [dict(req, mac=PRINTER)])
            t0 = time.monotonic()
            e = show_one(fw1, PRINTER)
            expect(e["state"] == "active" and 0 < e["timeout_ms"] <= ACTIVE_S * 1000,
                   "the printer just sent: %s (timeout_ms %s)", e["state"], e["timeout_ms"])
            while e["state"] == "active" and time.monotonic() < t0 + ACTIVE_S + 3:
                time.sleep(0.1)
                e = show_one(fw1, PRINTER)
            took = time.monotonic() - t0
            expect(e["state"] == "inactive", "still %s %.1f s after its last request",
                   e["state"], took)
            expect(took >= ACTIVE_S - 0.2, "inactive after %.1f s, ActiveTimeout=%gs", took,
                   ACTIVE_S)
            expect(e["timeout_ms"] == 0, "inactive with timeout_ms %s", e["timeout_ms"])

        with res.case("size-old-inactive"):
            wait = t_old + ACTIVE_S + 0.5 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            t, c = neighbors(obs)
            old = [t.get(m, {}).get("state") for m in BULK[:BULK_OLD]]
            expect(old == ["inactive"] * BULK_OLD, "obs's first %d: %s", BULK_OLD,
                   {s: old.count(s) for s in set(old)})
    elif t_old is not None:
        time.sleep(max(0, t_old + ACTIVE_S + 0.5 - time.monotonic()))

    with res.case("bulk-new-on-wire"):
        sn = lab.sniff("obs", BULK_NEW, 30)
        lab.craft("bulk", [{"mac": m} for m in BULK[BULK_OLD:]], inter_ms=1)
        got = sn.result()
        expect(got == BULK[BULK_OLD:], "obs saw %d of the %d requests", len(got), BULK_NEW)

    if not up:
        return
    with res.case("size-400-of-450"):
        end = time.monotonic() + 5
        while True:
            t, c = neighbors(obs)
            if all(m in t for m in BULK[BULK_OLD:]) or time.monotonic() > end:
                break
            time.sleep(0.2)
        info("%s obs's counters after %d devices: %s" % (SUITE, len(BULK), c))
        expect(len(t) == 400 and c.get("entries") == 400, "obs holds %d (entries %s), not 400",
               len(t), c.get("entries"))
        expect(not [m for m in BULK[:BULK_OLD] if m in t], "old devices left: %s",
               [m for m in BULK[:BULK_OLD] if m in t][:5])
        expect(all(m in t for m in BULK[BULK_OLD:]), "new devices missing: %s",
               [m for m in BULK[BULK_OLD:] if m not in t][:5])
        expect(c.get("evicted_inactive") == BULK_OLD and c.get("evicted_active") == 0,
               "evicted_inactive %s, evicted_active %s", c.get("evicted_inactive"),
               c.get("evicted_active"))

    keys = ("hostname", "vendor", "type", "os", "brand", "cfg_name", "prl", "vendor_class")
    client_mac = lab.hosts["client"][1]
    before = {}
    with res.case("backup-same-table"):
        before = neighbors(fw1)[0]
        macs = list(CRAFTED) + [lab.hosts[r][1] for r in REAL] + [client_mac]
        t = wait_neighbors(fw2, lambda t: all(m in t for m in before))
        missing = [m for m in macs if m not in before]
        expect(not missing, "fw1 does not list %s", missing)
        missing = [m for m in before if m not in t]
        expect(not missing, "fw2 does not list %s", missing)
        for m in macs:
            expect_fields(t[m], {k: before[m][k] for k in keys}, "fw2's " + m)
        expect(t[client_mac]["node"] == FWS["fw1"][0], "fw2 says node %s saw the client, "
               "not fw1 (%d): %s", t[client_mac]["node"], FWS["fw1"][0], t[client_mac])
    with res.case("failover-keeps-table"):
        cli = lab.agent("client")
        m0 = cli.mark()
        lab.crash("fw1")
        ok, got = lab.wait_states(d, {"fw2": "master"}, 5)
        expect(ok, "fw2 is not master after fw1's crash: %s", got)
        t = neighbors(fw2)[0]
        missing = [m for m in before if m not in t]
        expect(not missing, "fw2 lost %s", missing)
        for m in before:
            expect_fields(t[m], {k: before[m][k] for k in keys}, "fw2's " + m)
        fw2_mac = FWS["fw2"][2]["eth0"][1]
        got = cli.wait(lambda f: f.ok and f.op == 1 and f.incoming and f.eth_src == fw2_mac and
                       f.spa == VIP_IN and f.tpa == CLIENT_IP and f.eth_dst == client_mac, m0,
                       timeout=3)
        expect(got, "no targeted ARP from fw2 reached the client; it saw %s",
               cli.frames(m0)[:6])
        e = lab.wait_neigh(VIP_IN, lambda e: e and e["lladdr"] == fw2_mac, role="client")
        expect(e and e["lladdr"] == fw2_mac, "the client's entry for the VIP is %s, not fw2's "
               "%s", e, fw2_mac)
    res.daemon_checks(lab, alive=fw2, name="arphad-clean-fw2")
    res.daemon_checks(lab, alive=obs, name="arphad-clean-obs")


prefix = None
with NbLab("nbcache") as lab:
    prefix = lab.prefix
    run_all(lab)
with res.case("teardown"):
    left = [n for n in netns_list() if n.startswith(prefix + "-")]
    expect(not left, "namespaces left behind: %s", left)
res.exit()
