#!/usr/bin/env python3
"""DESIGN.md's promise about src/core/, checked on the built library: the
cores make no system call, read no clock and keep no global state.

  check_core.py NM LIBRARY ALLOWLIST

Reads the symbol table of LIBRARY (libarpha_core.a) with NM and fails on

  - an undefined symbol that no object of the library defines and that
    ALLOWLIST does not name: a call out of the core (a system call, the
    clock, stdio, randomness, ...), or a global of someone else's;
  - a symbol defined in writable data (.data, .bss, thread-local, common),
    not in ALLOWLIST's [data] part: a global or function-level static
    whose value can change, i.e. state shared by every instance.
    Constant tables of pointers live in .data.rel.ro (written once by the
    loader, read-only after), which is not writable data here.

ALLOWLIST: one symbol or fnmatch pattern per line, '#' comments; the
lines after "[data]" name allowed data symbols, those before it allowed
undefined symbols. A fortified libc call (__memcpy_chk) is allowed when
its plain name (memcpy) is.

Every failure names the symbol and the object file; the exit status is 1
then, 2 when the library cannot be read, 0 when the core is pure."""
import fnmatch
import os
import re
import subprocess
import sys

WRITABLE = re.compile(r"^(\.data|\.bss|\.tdata|\.tbss|\*COM\*|COMMON)(\..*)?$")
READ_ONLY_AFTER_RELOC = re.compile(r"^\.data\.rel\.ro(\..*)?$")
# GNU nm: "Symbols from LIB[OBJ]:", llvm-nm: "Symbols from OBJ:"
HEADER = re.compile(r"^Symbols from (?:.*\[(.*)\]|(.*)):$")


def load_allowlist(path):
    undefined, data, part = [], [], None
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line == "[data]":
                part = data
                continue
            (part if part is not None else undefined).append(line)
    return undefined, data


def allowed(name, patterns):
    if any(fnmatch.fnmatchcase(name, p) for p in patterns):
        return True
    m = re.match(r"^__(.+)_chk$", name)
    return bool(m) and any(fnmatch.fnmatchcase(m.group(1), p) for p in patterns)


def source_of(obj):
    """build/libarpha_core.a.p/src_core_vip.c.o -> src/core/vip.c (meson's object names)."""
    base = os.path.basename(obj)
    if base.startswith("src_core_") and base.endswith(".o"):
        return "src/core/" + base[len("src_core_"):-2]
    return base


def read_symbols(nm, lib):
    """(object, name, class, section) for every symbol, from nm's System V format."""
    p = subprocess.run([nm, "--format=sysv", lib], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        print("check_core: %s %s failed: %s" % (nm, lib, p.stderr.strip()), file=sys.stderr)
        sys.exit(2)
    obj, out = None, []
    for line in p.stdout.splitlines():
        m = HEADER.match(line.strip())
        if m:
            obj = m.group(1) or m.group(2)
            continue
        cols = [c.strip() for c in line.split("|")]
        if obj is None or len(cols) < 7 or cols[0] == "Name":
            continue
        out.append((obj, cols[0], cols[2], cols[6]))
    return out


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    nm, lib, allowlist = argv[1], argv[2], os.path.normpath(argv[3])
    allow_undef, allow_data = load_allowlist(allowlist)
    syms = read_symbols(nm, lib)
    objects = {o for o, _n, _c, _s in syms}
    defined = {n for _o, n, c, s in syms if s != "*UND*" and c.isupper()}
    if not objects or not defined:
        print("check_core: no objects or no symbols in %s: nothing was checked" % lib)
        return 2

    bad = []
    for obj, name, _cls, sect in syms:
        where = "%s (%s)" % (source_of(obj), os.path.basename(obj))
        if sect == "*UND*":
            if name not in defined and not allowed(name, allow_undef):
                bad.append("%s: uses %s, which the allow-list does not name" % (where, name))
        elif WRITABLE.match(sect) and not READ_ONLY_AFTER_RELOC.match(sect):
            if not allowed(name, allow_data):
                bad.append("%s: writable data %s in %s (global state)" % (where, name, sect))

    if bad:
        for line in sorted(set(bad)):
            print("core purity: " + line)
        print("core purity: %d finding(s) in %s" % (len(set(bad)), lib))
        print("src/core/ makes no system call, reads no clock, keeps no global state "
              "(DESIGN.md): take the call to src/os/ and pass its result in, or keep the "
              "state in the caller's struct. A symbol that is pure belongs in %s, with a "
              "comment." % allowlist)
        return 1
    print("core purity: %d objects of %s, %d symbols: nothing outside %s" %
          (len(objects), lib, len(syms), allowlist))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
