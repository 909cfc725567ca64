#!/usr/bin/env python3
"""The house's rules, checked on the code (DESIGN: three layers, one direction).

Includes (from the sources):
  src/core/       includes only src/core/ (and system headers);
  src/os/         includes src/os/ and src/core/, never src/daemon/;
  src/daemon/svc_*.c  (the services) include daemon/host.h and daemon/svc.h of
                  src/daemon/, and nothing else of it: no other service, not
                  the daemon's private daemon.h;
  src/daemon/ other files never include a service (they know none by name),
                  except arphad.c, the composition root, through svc.h's table.
Calls (from the objects, when a build directory is given): an object of a
lower layer uses no symbol defined in a higher one; a service uses no
symbol of another daemon file but host_*; daemon.c, links.c, transport.c
and ctl.c use no service's symbol.

usage: check_layers.py SRCDIR [BUILDDIR]   (exit 1 and one line per breach)
"""
import os
import re
import subprocess
import sys

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer(path):
    parts = path.split(os.sep)
    return parts[1] if len(parts) > 2 and parts[0] == 'src' else 'tools'


def is_service(path):
    return os.path.basename(path).startswith('svc_') and path.endswith('.c')


def include_breaches(src):
    out = []
    for root, _, files in os.walk(os.path.join(src, 'src')):
        for f in files:
            if not f.endswith(('.c', '.h')):
                continue
            full = os.path.join(root, f)
            rel = os.path.relpath(full, src)
            with open(full, encoding='utf-8') as fh:
                text = fh.read()
            here = layer(rel)
            for inc in INC.findall(text):
                top = inc.split('/')[0] if '/' in inc else here
                target = inc if '/' in inc else f'{here}/{inc}'
                if inc == 'arpha_build.h':
                    continue
                if here == 'core' and top != 'core':
                    out.append(f'{rel}: includes "{inc}": src/core/ includes only src/core/')
                elif here == 'os' and top == 'daemon':
                    out.append(f'{rel}: includes "{inc}": src/os/ never includes src/daemon/')
                elif here == 'daemon' and top == 'daemon':
                    name = os.path.basename(target)
                    if is_service(rel) and name not in ('host.h', 'svc.h'):
                        out.append(f'{rel}: includes "{inc}": a service sees only '
                                   'daemon/host.h and daemon/svc.h')
                    elif name.startswith('svc_'):
                        out.append(f'{rel}: includes "{inc}": the daemon knows no '
                                   'service by name')
    return out


def nm_all(objs):
    """{object: (defined global symbols, undefined symbols)}, one nm for all."""
    r = subprocess.run(['nm', '-A', *objs], capture_output=True, text=True, check=True)
    out = {o: (set(), set()) for o in objs}
    for line in r.stdout.splitlines():
        path, _, rest = line.partition(':')
        f = rest.split()
        if path not in out or not f:
            continue
        if len(f) == 2 and f[0] == 'U':
            out[path][1].add(f[1])
        elif len(f) == 3 and f[1].isupper() and f[1] not in 'UW':
            out[path][0].add(f[2])
    return out


def objects(build):
    """(source path, object path) for every object of src/ in the build."""
    found = {}
    for root, _, files in os.walk(build):
        for f in files:
            m = re.match(r'src_(core|os|daemon)_(.+)\.c\.o$', f)
            if m:
                found.setdefault(f'src/{m.group(1)}/{m.group(2)}.c', os.path.join(root, f))
    return found


def call_breaches(build):
    objs = objects(build)
    syms = nm_all(list(objs.values()))
    defined = {}
    for src, obj in objs.items():
        for s in syms[obj][0]:
            defined.setdefault(s, src)
    rank = {'core': 0, 'os': 1, 'daemon': 2}
    out = []
    for src, obj in sorted(objs.items()):
        here = layer(src)
        for s in sorted(syms[obj][1]):
            home = defined.get(s)
            if not home or home == src:
                continue
            there = layer(home)
            if rank[there] > rank[here]:
                out.append(f'{src}: calls {s} of {home}: a lower layer calls up')
            elif here == there == 'daemon':
                if is_service(src) and not s.startswith('host_'):
                    out.append(f'{src}: uses {s} of {home}: a service uses host_* only')
                elif is_service(home) and not src.endswith('arphad.c'):
                    out.append(f'{src}: uses {s} of {home}: the daemon knows no service')
    return out


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    breaches = include_breaches(sys.argv[1])
    if len(sys.argv) == 3:
        breaches += call_breaches(sys.argv[2])
    for b in breaches:
        print(b)
    if breaches:
        print(f'{len(breaches)} breaches of the layers (DESIGN.md, "Three layers, one direction")')
        return 1
    print('layers: every include and call goes down, services see only the host')
    return 0


if __name__ == '__main__':
    sys.exit(main())
