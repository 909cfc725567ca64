"""dhcplab: fwlab's two firewalls with a DHCP server and its clients on the
LAN, for the end-to-end test of the neighbour cache (issue 15). Runs as
root; the clients are Debian's own (dnsmasq-base, isc-dhcp-client,
dhcpcd-base) and scapy (python3-scapy) for crafted requests.

    client 198.18.1.10 (ignores gratuitous ARP) -+
    dhcp   198.18.1.5  dnsmasq, leases .100-.199 -+
    dhc    (no address) dhclient                  +--(brc)-- fw1 eth0 .1.2 / fw2 eth0 .1.3
    dcd    (no address) dhcpcd                    -+          (VIP in 198.18.1.1, lan)
    crafted (no address) scapy: crafted requests  -+
    obs  198.18.4.1  --(brb)-- bulk 198.18.4.10: a lone arphad and the
         host that makes hundreds of devices, on a bridge of their own

fw1 and fw2 are FwLab's (their srv link to the server and their sync link
included). The DHCP clients touch only their namespace's interface and
files in the lab's directory: dhclient gets -cf, -lf, -pf and a script of
the lab's own (it puts the leased address on eth0 and nothing else);
dhcpcd has no option for its lease and pid files (/var/lib/dhcpcd,
/run/dhcpcd), so it runs in a mount namespace of its own with an empty
tmpfs on both, with -f /dev/null and -c /bin/true (no hooks).

    with NbLab("nbcache") as lab:
        lab.dnsmasq()
        ip = lab.dhclient("dhc", "nbdhclient")      # the leased address
        lab.craft("crafted", DEVICES)               # nbcraft.py send
        lab.dnsmasq_log()                           # what the server saw
"""
import json
import os
import re
import subprocess
import time

from fwlab import FwLab
from lab import HERE, PY, check_addr, run

SERVER_IP, SERVER_MAC = "198.18.1.5", "02:00:00:00:01:05"
POOL = ("198.18.1.100", "198.18.1.199")
# role: (ip/len or None, mac, bridge)
LAN = {
    "dhcp": (SERVER_IP + "/24", SERVER_MAC, "brc"),
    "dhc": (None, "00:14:22:11:22:21", "brc"),  # Dell Inc.: a Debian PC's dhclient
    "dcd": (None, "dc:a6:32:11:22:22", "brc"),  # Raspberry Pi Trading: dhcpcd
    "crafted": (None, "02:00:00:00:01:20", "brc"),
    "obs": ("198.18.4.1/24", "02:00:00:00:04:01", "brb"),
    "bulk": ("198.18.4.10/24", "02:00:00:00:04:10", "brb"),
}
CLIENT_SCRIPT = """#!/bin/sh
# dhclient's script in the lab: the leased address on the interface, nothing else
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
	ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
esac
exit 0
"""
# what Debian's /etc/dhcp/dhclient.conf asks for (without its DHCPv6 names)
DHCLIENT_CONF = """option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "%s";
request subnet-mask, broadcast-address, time-offset, routers,
	domain-name, domain-name-servers, domain-search, host-name,
	netbios-name-servers, netbios-scope, interface-mtu,
	rfc3442-classless-static-routes, ntp-servers;
"""


class NbLab(FwLab):
    def __init__(self, label="nbcache"):
        self.dns = None
        super().__init__(label)
        for role, (addr, mac, _br) in LAN.items():
            self.hosts[role] = (addr.split("/")[0] if addr else None, mac)

    def _setup(self):
        super()._setup()
        self.ip("sw", "link", "add", "brb", "type", "bridge", "stp_state", "0",
                "forward_delay", "0", "mcast_snooping", "0")
        self.ip("sw", "link", "set", "brb", "up")
        for role, (addr, mac, br) in LAN.items():
            self._addns(role)
            self._plug_maybe(role, "eth0", "p-" + role, br, addr, mac)
        # the device only the master will have seen ignores gratuitous ARP
        self.exec("client", "sysctl", "-qw", "net.ipv4.conf.all.drop_gratuitous_arp=1",
                  "net.ipv4.conf.eth0.drop_gratuitous_arp=1")

    def _plug_maybe(self, role, dev, port, br, addr, mac):
        """FwLab._plug, with no address when addr is None (a DHCP client)."""
        if addr is not None:
            return self._plug(role, dev, port, br, addr, mac)
        self.ip("sw", "link", "add", port, "type", "veth", "peer", "name", dev, "netns",
                self.ns(role))
        self.ip(role, "link", "set", dev, "address", mac)
        self.ip("sw", "link", "set", port, "master", br)
        self.ip("sw", "link", "set", port, "up")
        self.ip(role, "link", "set", dev, "up")

    def addresses(self, role, dev="eth0"):
        p = self.ip(role, "-j", "-4", "addr", "show", "dev", dev, check=False)
        return [a["local"] for l in json.loads(p.stdout or "[]") for a in l.get("addr_info", [])]

    def path(self, name):
        return os.path.join(self.tmp, name)

    def _spawn(self, role, cmd, logname):
        logf = open(self.path(logname), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(role)] + cmd,
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        self.procs.append(p)
        return p

    def text(self, name):
        try:
            with open(self.path(name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- the DHCP server
    def dnsmasq(self, timeout=5.0):
        """dnsmasq on "dhcp", in the foreground, DHCP only (no DNS), bound
        to its eth0, lease and pid files in the lab's directory, logging
        every request (--log-dhcp) to dnsmasq.log."""
        self.dns = self._spawn("dhcp", [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--port=0", "--interface=eth0", "--bind-interfaces",
            "--dhcp-range=%s,%s,255.255.255.0,10m" % tuple(check_addr(a) for a in POOL),
            "--dhcp-leasefile=" + self.path("dnsmasq.leases"),
            "--pid-file=" + self.path("dnsmasq.pid"), "--log-dhcp", "--no-ping",
            "--dhcp-authoritative", "--log-facility=" + self.path("dnsmasq.log")],
            "dnsmasq.out")
        end = time.monotonic() + timeout
        while not re.search(r"DHCP, IP range", self.dnsmasq_log()):
            if self.dns.poll() is not None or time.monotonic() > end:
                raise RuntimeError("dnsmasq did not start (exit %s): %s %s" % (
                    self.dns.poll(), self.text("dnsmasq.out")[-800:],
                    self.dnsmasq_log()[-800:]))
            time.sleep(0.05)
        return self.dns

    def dnsmasq_log(self):
        return self.text("dnsmasq.log")

    def leases(self):
        """dnsmasq's lease file: {mac: (ip, hostname)}."""
        out = {}
        for line in self.text("dnsmasq.leases").splitlines():
            w = line.split()
            if len(w) >= 4:
                out[w[1].lower()] = (w[2], w[3])
        return out

    def seen_by_server(self, mac):
        """dnsmasq's --log-dhcp lines about mac's requests."""
        return [l for l in self.dnsmasq_log().splitlines() if mac.lower() in l.lower()]

    # -- the real clients
    def dhclient(self, role, hostname, timeout=20.0):
        """isc-dhcp-client on role's eth0, one try (-1), sending hostname;
        returns the address it put on eth0 (then it is stopped)."""
        conf = self.path("dhclient-%s.conf" % role)
        with open(conf, "w") as f:
            f.write(DHCLIENT_CONF % hostname)
        script = self.path("dhclient-script")
        with open(script, "w") as f:
            f.write(CLIENT_SCRIPT)
        os.chmod(script, 0o755)
        p = self._spawn(role, ["dhclient", "-d", "-1", "-4", "-v", "-cf", conf,
                               "-lf", self.path("dhclient-%s.leases" % role),
                               "-pf", self.path("dhclient-%s.pid" % role), "-sf", script, "eth0"],
                        "dhclient-%s.log" % role)
        return self._leased(role, p, "dhclient-%s.log" % role, timeout)

    def dhcpcd(self, role, hostname, timeout=20.0):
        """dhcpcd-base on role's eth0: IPv4 only, one lease then exit (-1),
        no config file, no hooks, sending hostname; returns its address."""
        inner = ("mount -t tmpfs -o mode=0755 arpha-lab /var/lib/dhcpcd && "
                 "mount -t tmpfs -o mode=0755 arpha-lab /run && "
                 "exec dhcpcd -B -1 -4 -p -A -L --noipv6rs -f /dev/null -c /bin/true "
                 "-t %d -h %s eth0" % (int(timeout), hostname))
        p = self._spawn(role, ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               inner], "dhcpcd-%s.log" % role)
        return self._leased(role, p, "dhcpcd-%s.log" % role, timeout)

    def _leased(self, role, p, logname, timeout):
        end = time.monotonic() + timeout
        while True:
            got = [a for a in self.addresses(role)
                   if POOL[0].rsplit(".", 1)[0] == a.rsplit(".", 1)[0]]
            if got:
                break
            if time.monotonic() > end:
                raise RuntimeError("%s got no lease in %.0f s: %s" % (
                    role, timeout, self.text(logname)[-800:]))
            time.sleep(0.05)
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return got[0]

    # -- crafted requests
    def craft(self, role, devices, inter_ms=0.0):
        """nbcraft.py send in role: one DHCP request a device (a list of
        dicts: mac, type of message, hostname, vendor_class, prl, ...);
        returns the number of frames sent."""
        p = run(["ip", "netns", "exec", self.ns(role), PY, os.path.join(HERE, "nbcraft.py"),
                 "send", "eth0", "%g" % inter_ms], input=json.dumps(devices), timeout=120)
        return int(p.stdout.split()[-1])

    def sniff(self, role, count, timeout):
        """nbcraft.py sniff in role, started now: a handle; .result() is the
        list of client MACs whose DHCP requests it saw (each once)."""
        return Sniffer(self, role, count, timeout)

class Sniffer:
    def __init__(self, lab, role, count, timeout):
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns(role), PY, "-u", os.path.join(HERE, "nbcraft.py"),
             "sniff", "eth0", str(count), "%g" % timeout], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lab.procs.append(self.p)
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("sniffer in %s: %r %s" % (role, line, self.p.stderr.read()[-500:]))

    def result(self, timeout=60):
        out, err = self.p.communicate(timeout=timeout)
        if self.p.returncode != 0:
            raise RuntimeError("sniffer: exit %d: %s" % (self.p.returncode, err[-500:]))
        return json.loads(out)

