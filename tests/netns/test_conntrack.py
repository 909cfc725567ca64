#!/usr/bin/python3
"""os/conntrack against the real kernel (issue 5, the kernel side): in a
namespace of its own, with nf_conntrack loaded by an nftables `ct state`
rule, tests/tools/ctk_probe commits 20000 synthetic entries, dumps them
back and compares every field, reads the events (NEW, UPDATE, DESTROY),
re-commits over existing entries, deletes, checks the kernel-side event
filter (protocols, IPv6 never delivered) and that a full event buffer is
reported as ENOBUFS. One PASS/FAIL line per probe case; the measured rates
are printed as info lines."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/conntrack"
ENTRIES = int(os.environ.get("ARPHA_CT_ENTRIES", "20000"))

RULESET = """table inet arpha_ct_probe {
  chain probe_fw {
    type filter hook forward priority 0; policy accept;
    ct state established,related accept
  }
}
"""

if os.geteuid() != 0:
    print("FAIL %s: the netns tests must run as root" % SUITE, flush=True)
    sys.exit(1)
PROBE = binary("ctk_probe")
if not os.access(PROBE, os.X_OK):
    print("FAIL %s: no ctk_probe in %s (build with tests enabled)" % (SUITE, build_dir()),
          flush=True)
    sys.exit(1)

res = Results(SUITE)
LINE = re.compile(r"^(ok|FAIL) ([a-z0-9-]+): (.*)$")

with Lab("conntrack", hosts={"node": (NODE_IP, NODE_MAC)}) as lab:
    with res.case("setup"):
        p = subprocess.run(["ip", "netns", "exec", lab.ns("node"), "nft", "-f", "-"],
                           input=RULESET, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        expect(p.returncode == 0, "nft: %s", p.stderr.strip())
        p = lab.exec("node", "sysctl", "-n", "net.netfilter.nf_conntrack_max", check=False)
        expect(p.returncode == 0, "no nf_conntrack in the namespace: %s", p.stderr.strip())
        expect(int(p.stdout) >= ENTRIES + 10000, "nf_conntrack_max %s is too small",
               p.stdout.strip())

    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    p = lab.exec("node", PROBE, "-n", str(ENTRIES), check=False, timeout=120, env=env)
    out = p.stdout + p.stderr
    cases = 0
    for line in p.stdout.splitlines():
        m = LINE.match(line)
        if m:
            cases += 1
            res.record("%s/%s" % (SUITE, m.group(2)),
                       None if m.group(1) == "ok" else m.group(3))
        elif line.startswith(("rate ", "stats: ")):
            print("info %s %s" % (SUITE, line), flush=True)
    with res.case("probe-clean"):
        expect(cases >= 12, "the probe stopped after %d cases; output: %s", cases, out[-2000:])
        expect(not SANITIZER_RE.search(out), "sanitizer report: %s", out[-3000:])
        expect(p.returncode == 0, "ctk_probe exited with %d: %s", p.returncode, out[-1500:])
res.exit()
