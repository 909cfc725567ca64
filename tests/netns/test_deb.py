#!/usr/bin/python3
"""The Debian packages (debian/, `make deb`): built as `make deb` builds them
(tools/mkdeb.sh, into a scratch directory; with DEB_BUILD_OPTIONS=nocheck
parallel=2, so the unit tests, which make check runs anyway, are not run
twice and the build stays near a minute), checked by lintian, unpacked into a
scratch root and looked at as a user's machine would have them. No network
namespace: it is here so that tests/netns/run.sh runs it as root, with the
others.

  build      tools/deps.sh deb installs the tools; both packages build
  lintian    no error (the warnings are printed)
  arpha      arphad, arpha, three man pages, arphad.service; /etc/arpha is
             0750 root:root with the commented example as a conffile, and no
             arphad.conf (so the unit does not start before one is written);
             the example passes `arphad -n`; the installed arphad runs
  flushd     arpha-flushd, its man page and unit in a package of their own
  units      arphad.service is Type=notify with WatchdogSec=, starts only
             once /etc/arpha/arphad.conf is not empty, runs the installed
             binaries, restricts address families to the five arphad uses;
             dh_installsystemd enables both units
  security   systemd-analyze security --offline=yes rates arphad.service
             and arpha-flushd.service 3.0 or lower (the check itself rates a
             unit without the sandbox above 3.0, so it can fail)
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import CaseFailed, Results, expect, info, need_root, unit_values  # noqa: E402

SUITE = "netns/deb"
need_root(SUITE)
res = Results(SUITE)
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FAMILIES = {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"}


def sh(cmd, timeout=200, env=None, cwd=None):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def unit(path):
    """{key: [values]} of a unit file (every section together)."""
    with open(path) as f:
        return unit_values(f.read())


def exposure(root, name):
    """systemd-analyze security's overall exposure of a unit in root."""
    r = sh(["systemd-analyze", "security", "--offline=yes", "--root=" + root, name], 60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
    if not m:
        raise CaseFailed("systemd-analyze security %s: rc %d: %s" % (
            name, r.returncode, (r.stdout + r.stderr)[-600:]))
    return float(m.group(1))


def mode(path):
    st = os.lstat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


tmp = tempfile.mkdtemp(prefix="arpha-deb-")
try:
    out = os.path.join(tmp, "out")
    root = os.path.join(tmp, "root")
    debs = {}
    with res.case("build/tools"):
        r = sh([os.path.join(TOP, "tools", "deps.sh"), "deb"], 600)
        expect(r.returncode == 0, "tools/deps.sh deb: %s", (r.stdout + r.stderr)[-800:])
    with res.case("build/both-packages"):
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
        t0 = time.monotonic()
        r = sh([os.path.join(TOP, "tools", "mkdeb.sh"), out], 200, env=env)
        info("%s dpkg-buildpackage took %.0f s" % (SUITE, time.monotonic() - t0))
        expect(r.returncode == 0, "tools/mkdeb.sh: %s", (r.stdout + r.stderr)[-1500:])
        for p in ("arpha", "arpha-flushd"):
            got = [f for f in os.listdir(out) if re.match(r"%s_[^_]+_[^_]+\.deb$" % p, f)]
            expect(len(got) == 1, "%s: %s in %s", p, got, sorted(os.listdir(out)))
            debs[p] = os.path.join(out, got[0])
        expect(not [f for f in os.listdir(out) if f.startswith("arpha-") and
                    os.path.isdir(os.path.join(out, f))], "the build's copy of the tree stayed")
    with res.case("lintian/no-error"):
        expect(debs, "nothing built")
        r = sh(["lintian", "--fail-on", "error", debs["arpha"], debs["arpha-flushd"]], 200)
        for line in (r.stdout + r.stderr).splitlines():
            if re.match(r"^[EW]: ", line):
                info("%s lintian: %s" % (SUITE, line))
        expect(r.returncode == 0, "lintian: %s", (r.stdout + r.stderr)[-1500:])

    control = {}
    with res.case("arpha/unpacks"):
        expect(debs, "nothing built")
        os.mkdir(root)
        for p, deb in debs.items():
            r = sh(["dpkg", "-x", deb, root])
            expect(r.returncode == 0, "dpkg -x %s: %s", deb, r.stderr)
            control[p] = os.path.join(tmp, "control-" + p)
            r = sh(["dpkg", "-e", deb, control[p]])
            expect(r.returncode == 0, "dpkg -e %s: %s", deb, r.stderr)

    def files_of(deb):
        r = sh(["dpkg", "-c", deb])
        return {l.split()[-1].lstrip(".") for l in r.stdout.splitlines()}

    with res.case("arpha/files"):
        expect(debs, "nothing built")
        have = files_of(debs["arpha"])
        want = ["/usr/sbin/arphad", "/usr/bin/arpha", "/usr/share/man/man8/arphad.8.gz",
                "/usr/share/man/man8/arpha.8.gz", "/usr/share/man/man5/arphad.conf.5.gz",
                "/lib/systemd/system/arphad.service", "/etc/arpha/arphad.conf.example",
                "/usr/share/doc/arpha/arphad.conf.example",
                "/usr/share/bash-completion/completions/arpha",
                "/usr/share/doc/arpha/examples/firewall-pair.conf"]
        missing = [f for f in want if f not in have]
        expect(not missing, "missing from arpha: %s", missing)
        expect(not [f for f in have if "flushd" in f], "arpha holds flushd's files: %s",
               [f for f in have if "flushd" in f])
        for b in ("usr/sbin/arphad", "usr/bin/arpha"):
            expect(os.access(os.path.join(root, b), os.X_OK), "%s not executable", b)
    with res.case("arpha/etc-arpha-0750-and-conffile"):
        expect(control, "not unpacked")
        m = mode(os.path.join(root, "etc/arpha"))
        expect(m == (0o750, 0, 0), "/etc/arpha is %o %d:%d", *m)
        with open(os.path.join(control["arpha"], "conffiles")) as f:
            conffiles = f.read().split()
        expect(conffiles == ["/etc/arpha/arphad.conf.example"], "conffiles: %s", conffiles)
        expect(not os.path.exists(os.path.join(root, "etc/arpha/arphad.conf")),
               "the package ships /etc/arpha/arphad.conf: the unit would start on it")
        with open(os.path.join(root, "etc/arpha/arphad.conf.example")) as f:
            text = f.read()
        expect(text.startswith("# arphad.conf"), "the example does not start with its comment")
    with res.case("arpha/example-passes-arphad-n"):
        expect(control, "not unpacked")
        arphad = os.path.join(root, "usr/sbin/arphad")
        r = sh([arphad, "-V"])
        expect(r.returncode == 0 and r.stdout.startswith("arphad "), "arphad -V: %s %s",
               r.stdout, r.stderr)
        r = sh([arphad, "-n", "-f", os.path.join(root, "etc/arpha/arphad.conf.example")])
        expect(r.returncode == 0 and "configuration OK" in r.stdout, "arphad -n: rc %d: %s%s",
               r.returncode, r.stdout, r.stderr)
    with res.case("flushd/files"):
        expect(debs, "nothing built")
        have = files_of(debs["arpha-flushd"])
        want = ["/usr/sbin/arpha-flushd", "/usr/share/man/man8/arpha-flushd.8.gz",
                "/lib/systemd/system/arpha-flushd.service"]
        missing = [f for f in want if f not in have]
        expect(not missing, "missing from arpha-flushd: %s", missing)
        expect(not [f for f in have if "arphad" in f], "arpha-flushd holds arphad's files")
        r = sh([os.path.join(root, "usr/sbin/arpha-flushd"), "-h"])
        expect("usage" in (r.stdout + r.stderr), "arpha-flushd -h: %s%s", r.stdout, r.stderr)

    with res.case("units/arphad"):
        expect(control, "not unpacked")
        u = unit(os.path.join(root, "lib/systemd/system/arphad.service"))
        expect(u.get("Type") == ["notify"], "Type=%s", u.get("Type"))
        expect(u.get("WatchdogSec"), "no WatchdogSec=")
        expect(u.get("ExecReload") == ["/bin/kill -HUP $MAINPID"], "ExecReload=%s",
               u.get("ExecReload"))
        expect(u.get("ConditionFileNotEmpty") == ["/etc/arpha/arphad.conf"],
               "ConditionFileNotEmpty=%s", u.get("ConditionFileNotEmpty"))
        for k in ("ExecStartPre", "ExecStart", "ExecStopPost"):
            for v in u.get(k, []):
                exe = v.split()[0].lstrip("-+!@:")
                expect(os.access(os.path.join(root, exe.lstrip("/")), os.X_OK),
                       "%s=%s: not in the package", k, v)
        expect(u.get("ExecStartPre") == ["/usr/sbin/arphad -n -f /etc/arpha/arphad.conf"],
               "ExecStartPre=%s", u.get("ExecStartPre"))
        fam = set(" ".join(u.get("RestrictAddressFamilies", [])).split())
        expect(fam == FAMILIES, "RestrictAddressFamilies=%s", sorted(fam))
        with open(os.path.join(control["arpha"], "postinst")) as f:
            expect("arphad.service" in f.read(), "postinst does not enable arphad.service")
    with res.case("units/arpha-flushd"):
        expect(control, "not unpacked")
        u = unit(os.path.join(root, "lib/systemd/system/arpha-flushd.service"))
        expect(u.get("ConditionFileNotEmpty") == ["/etc/arpha/flush.key"],
               "ConditionFileNotEmpty=%s", u.get("ConditionFileNotEmpty"))
        expect(u.get("ExecStart", [""])[0].startswith("/usr/sbin/arpha-flushd "),
               "ExecStart=%s", u.get("ExecStart"))
        with open(os.path.join(control["arpha-flushd"], "postinst")) as f:
            expect("arpha-flushd.service" in f.read(), "postinst does not enable the unit")

    with res.case("security/check-can-fail"):
        # the unit arphad had before its sandbox: the check must reject it
        bare = os.path.join(tmp, "bare")
        os.makedirs(os.path.join(bare, "lib/systemd/system"))
        with open(os.path.join(bare, "lib/systemd/system/bare.service"), "w") as f:
            f.write("[Service]\nExecStart=/usr/sbin/arphad -d\nNoNewPrivileges=yes\n"
                    "ProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n"
                    "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_NICE\n")
        e = exposure(bare, "bare.service")
        expect(e > 3.0, "a unit without the sandbox rates %.1f", e)
    for name in ("arphad.service", "arpha-flushd.service"):
        with res.case("security/%s" % name.replace(".service", "")):
            expect(control, "not unpacked")
            e = exposure(root, name)
            info("%s systemd-analyze security %s: %.1f" % (SUITE, name, e))
            expect(e <= 3.0, "%s rates %.1f (3.0 or lower wanted)", name, e)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
res.exit()
