#!/usr/bin/env python3
"""fingerd.py: fake finger server for the safe_finger golden cases (runs inside ns-run-ext).

usage: fingerd.py PAYLOAD-FILE MODE READY-FILE

Listens on 127.0.0.1:79 and [::1]:79.  For every connection: reads the query line (up to
CRLF/LF, at most 1024 bytes, 10 s), then sends the bytes of PAYLOAD-FILE, in which every
"%QUERY%" is replaced by the query line without its line ending.  MODE:
  close   close the connection after the payload (a normal server)
  hang    keep the connection open, never send anything more (safe_finger's 60 s alarm)
Creates READY-FILE once listening; runs until killed (SIGTERM).
"""
import os, select, signal, socket, sys, threading, time

payload_file, mode, ready = sys.argv[1:4]
payload = open(payload_file, "rb").read() if payload_file != "-" else b""
socks = []
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 79))
    s.listen(8)
    socks.append(s)
held = []
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))

def serve(c):
    c.settimeout(10)
    q = b""
    try:
        while b"\n" not in q and len(q) < 1024:
            d = c.recv(1024)
            if not d:
                break
            q += d
    except OSError:
        pass
    q = q.split(b"\n")[0].rstrip(b"\r")
    try:
        c.sendall(payload.replace(b"%QUERY%", q))
    except OSError:
        pass
    if mode == "hang":
        held.append(c)
    else:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        c.close()

open(ready, "w").close()
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
