#!/usr/bin/python3
"""Command-line conventions (issue 16; review items 32 and 37): --help and
--version on all three programs with the short forms their man pages list,
usage errors exit 2 with the usage, `arphad -t` is `arphad -n` and reports
every error, MAC forms of other tools accepted in the config and by arpha,
and the bash completion of arpha: its commands are the command table's,
its interfaces the configuration's; meson installs it and the examples."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403

SUITE = "netns/conventions"
need_root(SUITE)
res = Results(SUITE)

PROGS = ["arphad", "arpha", "arpha-flushd"]
COMPLETION = os.path.join(TOP, "contrib", "bash-completion", "arpha")
with open(os.path.join(TOP, "meson.build")) as f:
    VERSION = re.search(r"version : '([^']+)'", f.read()).group(1)


def man(prog):
    with open(os.path.join(TOP, "docs", prog + ".8")) as f:
        return f.read()


def table_commands():
    """The first words of arpha's commands, from the sources: the listed
    rows of the command table (those with a help line) and arpha's own."""
    with open(os.path.join(TOP, "src", "daemon", "ctl_cmds.c")) as f:
        src = f.read()
    table = src[src.index("ctl_cmds[] = {"):]
    table = table[:table.index("{0}")]
    words = set()
    for row in table.split("{.words = ")[1:]:
        if ".help" in row:
            words.add(re.match(r'"([^"]+)"', row).group(1).split()[0])
    with open(os.path.join(TOP, "src", "arpha.c")) as f:
        src = f.read()
    offline = src[src.index("} offline[] = {"):]
    offline = offline[:offline.index("};")]
    words |= set(re.findall(r'\{"([a-z-]+)[ "]', offline))
    return words


def complete(*words, conf=None):
    """What bash completes for `arpha WORDS` (the last word is the one
    being completed), with the completion file sourced as bash-completion
    would, and ARPHA_CONF naming the configuration."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _arpha; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, ARPHA_CONF=conf or "/nonexistent/arphad.conf")
    p = run(["bash", "-c", script, "bash", COMPLETION, binary("arpha")] + list(words),
            env=env, check=False)
    expect(p.returncode == 0 and not p.stderr, "bash: rc %d %r", p.returncode, p.stderr)
    return [w for w in p.stdout.split("\n") if w]


tmp = tempfile.mkdtemp(prefix="arpha-conventions-")
try:
    with res.case("item32/help-and-version"):
        bad = []
        for prog in PROGS:
            for opt in ("--help", "-h"):
                p = run([binary(prog), opt], check=False)
                if p.returncode != 0 or not p.stdout.startswith("usage: %s " % prog) or \
                        "--help" not in p.stdout or "--version" not in p.stdout or p.stderr:
                    bad.append("%s %s: rc %d %r %r" % (prog, opt, p.returncode, p.stdout[:80],
                                                       p.stderr))
            for opt in ("--version", "-V"):
                p = run([binary(prog), opt], check=False)
                if p.returncode != 0 or p.stdout != "%s %s\n" % (prog, VERSION):
                    bad.append("%s %s: rc %d %r" % (prog, opt, p.returncode, p.stdout))
        expect(not bad, "; ".join(bad))

    with res.case("item32/usage-errors-exit-2-with-the-usage"):
        bad = []
        cases = [(prog, args) for prog in PROGS for args in (["--bogus"], ["-Z"])]
        cases += [("arphad", ["-n", "extra"]), ("arphad", ["-f"]), ("arpha", ["-s"]),
                  ("arpha", []), ("arpha-flushd", ["-p", "0"]), ("arpha-flushd", ["extra"])]
        for prog, args in cases:
            p = run([binary(prog)] + args, check=False)
            if p.returncode != 2 or "usage: %s " % prog not in p.stderr or p.stdout:
                bad.append("%s %s: rc %d %r" % (prog, " ".join(args), p.returncode,
                                                p.stderr[:120]))
        expect(not bad, "; ".join(bad))

    with res.case("item32/man-pages-list-the-options"):
        bad = []
        for prog in PROGS:
            text = man(prog)
            synopsis = text.split(".SH SYNOPSIS", 1)[1].split(".SH", 1)[0]
            options = text.split(".SH OPTIONS", 1)[1].split("\n.SH", 1)[0]
            for opt in (r"\-h", r"\-\-help", r"\-V", r"\-\-version"):
                if opt not in synopsis or opt not in options:
                    bad.append("%s(8) lacks %s" % (prog, opt))
        if r"\-t" not in man("arphad").split(".SH OPTIONS", 1)[1]:
            bad.append("arphad(8) lacks -t")
        expect(not bad, "; ".join(bad))

    with Lab("conventions") as lab:
        def check(flag, text, name):
            path = os.path.join(lab.tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path, lab.exec("node", binary("arphad"), flag, "-f", path, check=False)

        head = "[Interface lan]\nDevice=eth0\n"
        with res.case("item32/t-is-n"):
            good = head + "[ARP]\nExpire=600\n"
            _, pn = check("-n", good, "good.conf")
            _, pt = check("-t", good, "good.conf")
            expect(pt.returncode == pn.returncode == 0 and pt.stdout == pn.stdout and
                   "configuration OK" in pt.stdout, "-n rc %d %r, -t rc %d %r",
                   pn.returncode, pn.stdout, pt.returncode, pt.stderr)

        with res.case("item32/t-reports-every-error"):
            # errors of the parse, and one past it (a key file that is missing)
            bad = head + ("[ARP]\nExpire=0\nARPChanges=yes\n[ARPEntry]\nInterface=lan\n"
                          "IP=198.18.0.300\nMode=Publish\nMAC=0000.0c12.345\n")
            path, pt = check("-t", bad, "bad.conf")
            _, pn = check("-n", bad, "bad.conf")
            got = [int(m.group(1)) for m in (re.match(re.escape(path) + r":(\d+): ", l)
                                             for l in pt.stderr.splitlines()) if m]
            expect(pt.returncode == 1 and got == [4, 5, 8, 10], "rc %d, lines %s: %r",
                   pt.returncode, got, pt.stderr)
            expect(pt.stderr == pn.stderr, "-t and -n differ: %r %r", pt.stderr, pn.stderr)
            keys = head + ("[Cluster]\nNodeID=1\nInterface=eth0\nPeers=198.18.0.2\n"
                           "KeyFile=%s/none.key\n[VIP a]\nAddress=198.18.0.100/24\n"
                           "Interface=lan\nFlushHosts=198.18.0.10\n[Flush]\nKeyFile=%s/none2.key\n"
                           % (lab.tmp, lab.tmp))
            path, pt = check("-t", keys, "keys.conf")
            got = [int(m.group(1)) for m in (re.match(re.escape(path) + r":(\d+): ", l)
                                             for l in pt.stderr.splitlines()) if m]
            expect(pt.returncode == 1 and got == [7, 13], "rc %d, lines %s: %r",
                   pt.returncode, got, pt.stderr)

        with res.case("item37/mac-forms-in-the-config"):
            text = head
            forms = ["4a86.f6c5.a201", "4a86f6c5a202", "4a:86:f6:c5:a2:3", "4A-86-F6-C5-A2-04"]
            for i, mac in enumerate(forms):
                text += ("[ARPEntry]\nInterface=lan\nIP=198.18.0.%d\nMode=Static\nMAC=%s\n"
                         % (50 + i, mac))
            _, p = check("-t", text, "macs.conf")
            expect(p.returncode == 0 and "4 ARP entries" in p.stdout, "rc %d: %s",
                   p.returncode, p.stderr.strip())

    with res.case("item37/mac-forms-of-arpha-vendor"):
        want = run([binary("arpha"), "vendor", "00:00:0c:12:34:56"], check=False)
        bad = []
        for mac in ("0000.0c12.3456", "00000c123456", "0:0:c:12:34:56", "00-00-0C-12-34-56"):
            p = run([binary("arpha"), "vendor", mac], check=False)
            if (p.returncode, p.stdout) != (want.returncode, want.stdout):
                bad.append("%s: rc %d %r %r" % (mac, p.returncode, p.stdout, p.stderr))
        for mac in ("0000.0c12.345", "00000c1234567", "0:0:c:12:34", "0000.0c12:3456",
                    "00:00:0c-12-34-56", "000.00c12.3456"):
            p = run([binary("arpha"), "vendor", mac], check=False)
            if p.returncode != 2 or "is not a MAC address" not in p.stderr:
                bad.append("%s accepted: rc %d %r" % (mac, p.returncode, p.stdout))
        expect(want.returncode == 0 and "00:00:0c:12:34:56" in want.stdout and not bad,
               "%r; %s", want.stdout, "; ".join(bad))

    conf = os.path.join(tmp, "arphad.conf")
    with open(conf, "w") as f:
        f.write("[Daemon]\nLogLevel=info\n[Interface lan]\nDevice=eth0\n"
                "[interface  Uplink2 ]\nDevice=eth1\n[ARP]\nExpire=600\n")

    with res.case("completion/commands-are-the-table's"):
        got = complete("")
        want = table_commands()
        expect(len(want) >= 10 and set(got) == want and len(got) == len(set(got)),
               "completion %s, table %s", sorted(got), sorted(want))
        # and arpha -h lists the same (the completion reads it)
        p = run([binary("arpha"), "-h"])
        listed = set(re.findall(r"^  ([a-z][a-z-]*)", p.stdout.split("options:")[0], re.M))
        expect(listed == want, "arpha -h lists %s", sorted(listed))

    with res.case("completion/verbs"):
        expect(complete("arp", "") == ["show", "flush"], "arpha arp: %s", complete("arp", ""))
        expect(complete("-j", "-s", "/x.sock", "arp", "f") == ["flush"], "with options: %s",
               complete("-j", "-s", "/x.sock", "arp", "f"))
        expect(complete("neighbors", "s", conf=conf) == ["show"], "neighbors s: %s",
               complete("neighbors", "s", conf=conf))

    with res.case("completion/interfaces-from-the-config"):
        got = complete("arp", "show", "", conf=conf)
        expect(got == ["lan", "Uplink2"], "arp show: %s", got)
        got = complete("announce", "U", conf=conf)
        expect(got == ["Uplink2"], "announce U: %s", got)
        got = complete("arp", "show", "", conf=os.path.join(tmp, "nope.conf"))
        expect(got == [], "no config: %s", got)
        got = complete("arp", "show", "lan", "", conf=conf)
        expect(got == [], "past IFACE: %s", got)

    with res.case("completion/options"):
        got = complete("-")
        expect({"-j", "-s", "-h", "-V", "--help", "--version"} <= set(got), "arpha -: %s", got)
        got = complete("neighbors", "-names", "-", conf=conf)
        expect(got == ["-devinfo", "-ip6"], "neighbors -names -: %s", got)
        got = complete("flush-request", "-")
        expect(set(got) == {"-k", "-p", "-n", "-i", "-a"}, "flush-request -: %s", got)
        got = complete("-s", os.path.join(tmp, "arphad.c"))
        expect(got == [conf], "-s FILE: %s", got)
        got = complete("flush-request", "-k", os.path.join(tmp, "arphad.c"))
        expect(got == [conf], "-k KEY: %s", got)

    with res.case("install/examples-and-completion"):
        dest = os.path.join(tmp, "root")
        p = run(["meson", "install", "-C", build_dir(), "--destdir", dest, "--no-rebuild",
                 "--quiet"], check=False, timeout=120)
        expect(p.returncode == 0, "meson install: %s", p.stderr[-500:])
        found = {}
        for d, _, fs in os.walk(dest):
            for f in fs:
                found.setdefault(f, []).append(os.path.relpath(os.path.join(d, f), dest))
        comp = [x for x in found.get("arpha", []) if "/bash-completion/completions/" in x]
        expect(comp, "no completion installed: %s", found.get("arpha"))
        examples = sorted(f for f in os.listdir(os.path.join(TOP, "docs", "examples"))
                          if f.endswith(".conf"))
        missing = [e for e in examples
                   if not any(x.endswith("share/doc/arpha/examples/" + e)
                              for x in found.get(e, []))]
        expect(examples and not missing, "examples not installed: %s", missing)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

res.exit()
