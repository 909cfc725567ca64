#!/usr/bin/python3
"""Starting and releasing never harm what is there (report items 1, 9d, 13, 17, 24).

- item 1, 9d: ControlSocket= names the path of a socket; only a stale
  socket (nobody listens on it) is replaced. The config file itself, a
  text file, a directory, a symbolic link, a named pipe, a path ending in
  '/' or under a file: `arphad -n` says no, the daemon does not start, and
  what was there is intact. The socket is mode 0660, a directory arphad
  makes 0750; at exit arphad removes the socket only if it is still its own.
- item 17: a start that fails changes nothing: a second arphad on the same
  socket (in another namespace, and in the same one), one in the same
  namespace on another socket (the nftables table is taken), one whose
  second device is missing: each exits 1 with a clear message, the kernel
  neighbour table it would have flushed keeps its entries, no nftables
  table is left, and the running arphad goes on. The same when another
  program holds the NFLOG group of the kernel's requests: the message
  names the group.
- item 24: started without CAP_NET_ADMIN, arphad says it needs root and
  blames no other arphad.
- item 13: `arphad -r` refuses while a VIP master runs with that
  configuration (or in that namespace): the VIP stays; after a crash it
  removes what was left.
"""
import os
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import *  # noqa: E402,F401,F403
import vipnet  # noqa: E402

SUITE = "netns/startup"
need_root(SUITE)
res = Results(SUITE)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def check_conf(lab, conf):
    """arphad -n: (exit status, its output)."""
    p = run([binary("arphad"), "-n", "-f", conf], check=False)
    return p.returncode, (p.stdout + p.stderr).strip()


def start_fails(lab, role, conf, timeout=3):
    """arphad -d that must not start: (exit status or None if it ran, output)."""
    p = subprocess.Popen(["ip", "netns", "exec", lab.ns(role), binary("arphad"), "-d", "-f",
                          conf], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out.strip()
    except subprocess.TimeoutExpired:
        p.terminate()
        out, _ = p.communicate()
        return None, out.strip()


def refused(lab, role, conf, sock, words, intact):
    """-n and the daemon refuse sock (the message names it, and words), and
    intact() still holds afterwards."""
    rc, out = start_fails(lab, role, conf)
    intact()
    expect(rc is not None and rc != 0, "arphad started on ControlSocket=%s (exit %s): %s", sock,
           rc, out[-600:])
    expect(sock in out and words in out, "arphad said %r (expected the path and %r)", out[-600:],
           words)
    expect(not any("arpha" in t for t in lab.nft_tables(role)), "nft table left: %s",
           lab.nft_tables(role))
    rc, out = check_conf(lab, conf)
    expect(rc != 0, "arphad -n accepted ControlSocket=%s: %s", sock, out)
    expect(sock in out and words in out, "arphad -n said %r (expected the path and %r)", out,
           words)


NFLOG_GROUP = 16722  # os/nflog.h: NFLOG_ARP_GROUP
# binds NFLOG_GROUP (nfnetlink_log, NFULNL_CFG_CMD_BIND), says "bound <errno>", holds it
NFLOG_BLOCKER = (
    "import socket,struct,time\n"
    "s=socket.socket(socket.AF_NETLINK,socket.SOCK_RAW,12)\n"
    "s.bind((0,0))\n"
    "body=struct.pack('BBH',3,0,socket.htons(%d))+struct.pack('HHB3x',5,1,1)\n"
    "s.send(struct.pack('IHHII',16+len(body),(4<<8)|1,1|4,1,0)+body)\n"
    "print('bound',-struct.unpack_from('i',s.recv(4096),16)[0],flush=True)\n"
    "time.sleep(60)\n" % NFLOG_GROUP)


def stale_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # bound, never listened on: connect() says ECONNREFUSED


with Lab("startup") as lab:
    T = lab.tmp

    # ---- item 1, 9d: what is at the socket path is never destroyed ----
    with res.case("item1/config-file-as-socket-intact"):
        conf = os.path.join(T, "selfsock.conf")
        text = make_config(conf)
        write(conf, text)
        refused(lab, "node", conf, conf, "regular file",
                lambda: expect(os.path.exists(conf) and read(conf) == text,
                               "the config file was changed or removed"))

    with res.case("item1/regular-file-intact"):
        target = os.path.join(T, "regular.txt")
        write(target, "important data\n")
        conf = os.path.join(T, "regular.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "regular file",
                lambda: expect(os.path.isfile(target) and read(target) == "important data\n",
                               "regular.txt was changed or removed"))

    with res.case("item9d/directory-refused"):
        target = os.path.join(T, "adir")
        os.mkdir(target)
        write(os.path.join(target, "keep"), "keep\n")
        conf = os.path.join(T, "dir.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "directory",
                lambda: expect(read(os.path.join(target, "keep")) == "keep\n",
                               "the directory's content changed"))

    with res.case("item9d/trailing-slash-refused"):
        target = os.path.join(T, "run") + "/"
        conf = os.path.join(T, "slash.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "ends in '/'", lambda: None)

    with res.case("item9d/parent-not-directory-refused"):
        parent = os.path.join(T, "plain.txt")
        write(parent, "plain\n")
        target = os.path.join(parent, "arphad.sock")
        conf = os.path.join(T, "parent.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "not a directory",
                lambda: expect(read(parent) == "plain\n", "plain.txt changed"))

    with res.case("item1/symlink-intact"):
        real = os.path.join(T, "linked.txt")
        write(real, "linked\n")
        target = os.path.join(T, "link.sock")
        os.symlink(real, target)
        conf = os.path.join(T, "link.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "symbolic link",
                lambda: expect(os.path.islink(target) and read(real) == "linked\n",
                               "the link or its target changed"))

    with res.case("item1/fifo-intact"):
        target = os.path.join(T, "fifo.sock")
        os.mkfifo(target)
        conf = os.path.join(T, "fifo.conf")
        write(conf, make_config(target))
        refused(lab, "node", conf, target, "named pipe",
                lambda: expect(stat.S_ISFIFO(os.lstat(target).st_mode), "the fifo is gone"))

    with res.case("item1/stale-socket-replaced"):
        stale_socket(os.path.join(T, "stale.sock"))
        d = lab.arphad(name="stale")  # its socket is T/stale.sock
        expect(d.alive(), "arphad did not start over a stale socket")

    with res.case("item1/socket-mode-0660"):
        mode = stat.S_IMODE(os.stat(d.sock).st_mode)
        expect(stat.S_ISSOCK(os.stat(d.sock).st_mode) and mode & 0o007 == 0 and mode & 0o600,
               "socket mode %04o (expected 0660 or stricter for others)", mode)

    with res.case("item1/exit-removes-only-its-own-socket"):
        os.rename(d.sock, d.sock + ".moved")
        write(d.sock, "put here by the admin\n")
        rc = d.stop()
        expect(rc == 0, "arphad exited with %s", rc)
        expect(os.path.isfile(d.sock) and read(d.sock) == "put here by the admin\n",
               "arphad removed a file that was not its socket at exit")
        os.unlink(d.sock)
        os.unlink(d.sock + ".moved")

    with res.case("item1/new-directory-mode-0750"):
        newdir = os.path.join(T, "newdir")
        conf = make_config(os.path.join(newdir, "arphad.sock"))
        d2 = lab.arphad(config=conf, name="newdir", start=False)
        d2.sock = os.path.join(newdir, "arphad.sock")
        d2.start()
        mode = stat.S_IMODE(os.stat(newdir).st_mode)
        expect(mode & 0o027 == 0, "directory %s made with mode %04o (expected 0750 or stricter)",
               newdir, mode)
        rc = d2.stop()
        expect(rc == 0 and not os.path.exists(d2.sock), "exit %s; socket left: %s", rc,
               os.path.exists(d2.sock))

    # ---- item 17: a failed start changes nothing ----
    d = lab.arphad(name="first")
    lab.ping("node", CLIENT_IP)
    lab.ping("client", NODE_IP)

    def client_knows_node():
        lab.ping("client", NODE_IP)
        expect(lab.neigh("client").get(NODE_IP), "the client has no entry for the node to keep")

    def nothing_changed():
        e = lab.neigh("node").get(CLIENT_IP)
        expect(e and e["lladdr"] == CLIENT_MAC, "the node's kernel entry for the client: %s", e)
        e = lab.neigh("client").get(NODE_IP)
        expect(e and e["lladdr"] == NODE_MAC, "the client's kernel entry for the node: %s "
               "(flushed by an arphad that failed to start)", e)
        expect(not any("arpha" in t for t in lab.nft_tables("client")),
               "nft table left in the client: %s", lab.nft_tables("client"))
        expect(d.alive(), "the first arphad died")
        expect(d.arpha("stats", check=False).returncode == 0, "the first arphad does not answer")
        s = d.show().get(CLIENT_IP)
        expect(s and s["mac"] == CLIENT_MAC, "the first arphad's entry for the client: %s", s)

    with res.case("item17/same-socket-other-namespace-changes-nothing"):
        client_knows_node()
        conf = os.path.join(T, "second.conf")
        write(conf, make_config(d.sock))
        rc, out = start_fails(lab, "client", conf)
        nothing_changed()
        expect(rc == 1, "second arphad: exit %s: %s", rc, out[-600:])
        expect("another process is listening" in out and d.sock in out,
               "second arphad said %r", out[-600:])

    with res.case("item17/same-socket-same-namespace-refused"):
        client_knows_node()
        rc, out = start_fails(lab, "node", conf)
        nothing_changed()
        expect(rc == 1 and "another process is listening" in out, "exit %s: %s", rc,
               out[-600:])

    with res.case("item17/other-socket-same-namespace-refused"):
        client_knows_node()
        other = os.path.join(T, "other.sock")
        conf = os.path.join(T, "other.conf")
        write(conf, make_config(other))
        rc, out = start_fails(lab, "node", conf)
        nothing_changed()
        expect(rc == 1 and "arp arpha" in out, "exit %s: %s", rc, out[-600:])
        expect(not os.path.exists(other), "the refused arphad left its socket %s", other)
        expect(lab.ping("node", CLIENT_IP), "the node cannot ping the client")
        lab.flush_neigh("client")
        expect(lab.ping("client", NODE_IP), "the first arphad no longer answers for the node")

    with res.case("item24/non-root-told-to-be-root"):
        # a user without CAP_NET_ADMIN: the message says so, and blames no other arphad
        conf = os.path.join(lab.script_dir(), "nonroot.conf")  # readable by nobody too
        write(conf, make_config(os.path.join(lab.script_dir(), "nonroot.sock")))
        os.chmod(conf, 0o644)
        p = run(["ip", "netns", "exec", lab.ns("client"), "setpriv", "--reuid=65534",
                 "--regid=65534", "--clear-groups", "--inh-caps=-all", binary("arphad"), "-d",
                 "-f", conf], check=False, timeout=10)
        out = (p.stdout + p.stderr).strip()
        expect(p.returncode == 1, "exit %s: %s", p.returncode, out[-600:])
        expect("CAP_NET_ADMIN" in out and "root" in out, "arphad said %r", out[-600:])
        expect("another arphad" not in out, "a non-root start blamed another arphad: %r",
               out[-600:])
        expect(not any("arpha" in t for t in lab.nft_tables("client")), "nft table left: %s",
               lab.nft_tables("client"))

    with res.case("item17/missing-device-changes-nothing"):
        client_knows_node()
        conf = os.path.join(T, "missing.conf")
        # it waits DeviceTimeout= for the device, then gives up
        write(conf, make_config(os.path.join(T, "missing.sock")).replace(
            "LogTarget=stderr", "LogTarget=stderr\nDeviceTimeout=1s") +
              "[Interface lan2]\nDevice=eth9\n")
        rc, out = start_fails(lab, "client", conf)
        nothing_changed()
        expect(rc == 1 and "eth9" in out and "no such device" in out, "exit %s: %s", rc,
               out[-600:])
        expect(not os.path.exists(os.path.join(T, "missing.sock")), "socket left behind")

    with res.case("item17/late-failure-changes-nothing"):
        # the cluster's port is taken: arphad fails after it took the devices
        # and the table; no Static entry may be left, nothing flushed
        client_knows_node()
        key = os.path.join(T, "cluster.key")
        run([binary("arpha"), "keygen", key])
        blocker = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), PY, "-c",
             "import socket,sys,time\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.bind(('0.0.0.0',7499))\nprint('bound',flush=True)\ntime.sleep(60)\n"],
            stdout=subprocess.PIPE, text=True)
        try:
            expect(blocker.stdout.readline().strip() == "bound", "the port blocker did not start")
            conf = os.path.join(T, "late.conf")
            write(conf, make_config(os.path.join(T, "late.sock"), entries=[
                {"IP": "198.18.0.40", "Mode": "Static", "MAC": "02:00:00:00:00:40"}]) +
                "[Cluster]\nNodeID=9\nInterface=eth0\nGroup=239.192.74.99\nPort=7499\n"
                "KeyFile=%s\n" % key)
            rc, out = start_fails(lab, "client", conf)
        finally:
            blocker.kill()
            blocker.wait()
        nothing_changed()
        e = lab.neigh("client").get("198.18.0.40")
        expect(e is None, "the failed start left its Static entry in the kernel: %s", e)
        expect(rc == 1 and "in use" in out, "exit %s (expected 1, port in use): %s", rc,
               out[-600:])
        expect(not os.path.exists(os.path.join(T, "late.sock")), "socket left behind")

    with res.case("item17/nflog-group-taken-changes-nothing"):
        # another program holds the NFLOG group of the kernel's requests
        client_knows_node()
        blocker = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns("client"), PY, "-c", NFLOG_BLOCKER],
            stdout=subprocess.PIPE, text=True)
        try:
            got = blocker.stdout.readline().strip()
            expect(got == "bound 0", "the NFLOG group blocker did not bind: %r" % got)
            conf = os.path.join(T, "nflog.conf")
            write(conf, make_config(os.path.join(T, "nflog.sock")))
            rc, out = start_fails(lab, "client", conf)
        finally:
            blocker.kill()
            blocker.wait()
        nothing_changed()
        expect(rc == 1 and "NFLOG group %d" % NFLOG_GROUP in out and "another program" in out,
               "exit %s (expected 1, the group named as taken): %s", rc, out[-600:])
        expect(not os.path.exists(os.path.join(T, "nflog.sock")), "socket left behind")

    res.daemon_checks(lab, alive=d)

# ---- item 13: arphad -r never harms a live daemon ----
with Lab("startup-vip", hosts=vipnet.hosts(("client",))) as lab:
    key = os.path.join(lab.tmp, "cluster.key")
    run([binary("arpha"), "keygen", key])
    d = lab.arphad("n1", config=vipnet.arpha_config("n1", key), name="n1")
    ok, got = vipnet.wait_vip_states({"n1": d}, {"n1": "master"}, 5)

    def release(conf):
        p = lab.exec("n1", binary("arphad"), "-r", "-f", conf, check=False)
        return p.returncode, (p.stdout + p.stderr).strip()

    with res.case("item13/release-refused-while-master-runs"):
        expect(ok, "n1 alone did not become master: %s", got)
        expect(vipnet.node_has_vip(lab, "n1"), "the master has no VIP")
        rc, out = release(d.conf)
        expect(vipnet.node_has_vip(lab, "n1"), "arphad -r removed the live master's VIP")
        expect(rc == 1, "arphad -r next to a live master: exit %s: %s", rc, out)
        expect("running" in out and d.sock in out, "arphad -r said %r", out)

    with res.case("item13/release-refused-other-socket-same-namespace"):
        conf = os.path.join(lab.tmp, "other.conf")
        write(conf, read(d.conf).replace(d.sock, os.path.join(lab.tmp, "none.sock")))
        time.sleep(0.6)  # a renewal puts back what an earlier -r took
        rc, out = release(conf)
        expect(vipnet.node_has_vip(lab, "n1"), "arphad -r removed the live master's VIP")
        expect(rc == 1 and "arp arpha" in out, "exit %s: %s", rc, out)

    with res.case("item13/release-after-crash-removes-leftovers"):
        end = time.monotonic() + 2
        while not vipnet.node_has_vip(lab, "n1") and time.monotonic() < end:
            time.sleep(0.05)
        d.kill9()
        end = time.monotonic() + 3
        while any("arpha" in t for t in lab.nft_tables("n1")) and time.monotonic() < end:
            time.sleep(0.05)
        expect(vipnet.node_has_vip(lab, "n1"), "a killed master left no VIP to release")
        rc, out = release(d.conf)
        expect(rc == 0, "arphad -r after a crash: exit %s: %s", rc, out)
        expect(not vipnet.node_has_vip(lab, "n1"), "the VIP is still there after -r")

    res.daemon_checks(lab, name="arphad-clean-vip")
res.exit()
