#!/usr/bin/env python3
"""connect-and-run.py: give a program a network connection on its stdin, inside ns-run-ext.

Run by try-from/run-case.sh as the command of `ns-run-ext --lo-up` (so: as root, in a fresh
network namespace whose loopback interface is up, with the case's /etc/hosts).

usage: connect-and-run.py CONN-FILE ARGV0 PROGRAM [ARGS...]

CONN-FILE holds "key=value" lines (blank lines and #-comments ignored):

  proto=tcp            a TCP connection: PROGRAM's fd 0 is the server side of an accepted
                       connection from client:ANY-PORT to server:PORT (default)
  proto=udp            an unconnected UDP socket bound to server:PORT on which one datagram
                       ("try-from test datagram\\n") from client:ANY-PORT is waiting
  proto=udp-connected  like udp, but the socket is also connect()ed to the client
  proto=unix           one end of a Unix-domain stream socketpair
  proto=devnull        fd 0 = /dev/null (no socket)
  proto=closed         fd 0 closed
  family=inet|inet6|mapped   address family (mapped = IPv6 server socket, IPv4 client, so
                       the peer is ::ffff:a.b.c.d); default inet
  server=ADDR          server (local) address, default 127.0.0.1 (inet) / ::1 (inet6) /
                       ::ffff:127.0.0.1 (mapped)
  client=ADDR          client source address, default 127.0.0.1 / ::1 / 127.0.0.1
                       (any 127.0.0.0/8 address works: the whole range is local on lo)
  ident=REPLY          run a fake RFC 1413 server on client:113 that answers one query with
                       REPLY, where "{q}" is replaced by the query's "CPORT , SPORT" (the
                       ports as received, so the reply is valid for this connection),
                       "\\r" and "\\n" are CR and LF; nothing is appended.  Without ident=
                       nothing listens on port 113 (the lookup is refused: user unknown).

PROGRAM runs with argv[0] = ARGV0, stdout/stderr inherited; the exit status of this script
is PROGRAM's (128+N when killed by signal N); 125 on set-up errors.
"""
import os, socket, subprocess, sys, threading

def die(msg):
    sys.stderr.write("connect-and-run.py: %s\n" % msg)
    sys.exit(125)

if len(sys.argv) < 4:
    die("usage: connect-and-run.py CONN-FILE ARGV0 PROGRAM [ARGS...]")
conn_file, argv0, prog = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
conf = {}
with open(conn_file) as f:
    for line in f:
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        k, _, v = line.partition("=")
        conf[k.strip()] = v
proto = conf.get("proto", "tcp")
family = conf.get("family", "inet")
if family == "inet":
    sfam, cfam, sdef, cdef = socket.AF_INET, socket.AF_INET, "127.0.0.1", "127.0.0.1"
elif family == "inet6":
    sfam, cfam, sdef, cdef = socket.AF_INET6, socket.AF_INET6, "::1", "::1"
elif family == "mapped":
    sfam, cfam, sdef, cdef = socket.AF_INET6, socket.AF_INET, "::ffff:127.0.0.1", "127.0.0.1"
else:
    die("bad family=%s" % family)
server = conf.get("server", sdef)
client = conf.get("client", cdef)
PORT = 7001

keep = []           # sockets that must stay open while PROGRAM runs
ident_thread = None
if "ident" in conf:
    reply_t = conf["ident"].replace("\\r", "\r").replace("\\n", "\n")
    ifam = socket.AF_INET if cfam == socket.AF_INET else socket.AF_INET6
    isock = socket.socket(ifam, socket.SOCK_STREAM)
    isock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    isock.bind((client, 113))
    isock.listen(1)
    isock.settimeout(30)

    def identd():
        try:
            c, _ = isock.accept()
        except OSError:
            return
        c.settimeout(30)
        buf = b""
        while b"\n" not in buf:
            d = c.recv(512)
            if not d:
                break
            buf += d
        q = buf.split(b"\r")[0].split(b"\n")[0].decode("latin-1")
        c.sendall(reply_t.replace("{q}", q).encode("latin-1"))
        c.close()
    ident_thread = threading.Thread(target=identd, daemon=True)
    ident_thread.start()

stdin = None
if proto == "tcp":
    ls = socket.socket(sfam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sfam == socket.AF_INET6 and family == "mapped":
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind((server, PORT))
    ls.listen(1)
    cs = socket.socket(cfam, socket.SOCK_STREAM)
    cs.bind((client, 0))
    target = server[7:] if family == "mapped" else server
    cs.connect((target, PORT))
    conn, _ = ls.accept()
    ls.close()
    keep += [cs, conn]
    stdin = conn.fileno()
elif proto in ("udp", "udp-connected"):
    ss = socket.socket(sfam, socket.SOCK_DGRAM)
    if sfam == socket.AF_INET6 and family == "mapped":
        ss.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ss.bind((server, PORT))
    cs = socket.socket(cfam, socket.SOCK_DGRAM)
    cs.bind((client, 0))
    target = server[7:] if family == "mapped" else server
    cs.sendto(b"try-from test datagram\n", (target, PORT))
    if proto == "udp-connected":
        cport = cs.getsockname()[1]
        ss.connect(("::ffff:" + client if family == "mapped" else client, cport))
    keep += [cs, ss]
    stdin = ss.fileno()
elif proto == "unix":
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep += [a, b]
    stdin = a.fileno()
elif proto == "devnull":
    stdin = subprocess.DEVNULL
elif proto == "closed":
    stdin = None
else:
    die("bad proto=%s" % proto)

def close_fd0():
    os.close(0)

try:
    if proto == "closed":
        p = subprocess.Popen([argv0] + args, executable=prog, preexec_fn=close_fd0)
    else:
        p = subprocess.Popen([argv0] + args, executable=prog, stdin=stdin)
    st = p.wait()
except OSError as e:
    die("cannot run %s: %s" % (prog, e))
for s in keep:
    s.close()
sys.exit(st if st >= 0 else 128 - st)
