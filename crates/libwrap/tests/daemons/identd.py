#!/usr/bin/env python3
"""Fake RFC 1413 server for the libwrap tests: on 127.0.0.1:113, answers
"CPORT , SPORT : USERID : UNIX : alice" to a query "CPORT,SPORT", except
that it keeps silent when CPORT ends in 7 (to provoke a time-out). Writes
PIDFILE when ready. Runs until killed."""
import os
import socket
import sys
import threading

pidfile = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 113))
s.listen(16)
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))


def serve(c):
    with c:
        data = b""
        while b"\n" not in data:
            chunk = c.recv(512)
            if not chunk:
                return
            data += chunk
        q = data.split(b"\r")[0].split(b"\n")[0].decode()
        cport, sport = [p.strip() for p in q.split(",")]
        if cport.endswith("7"):
            c.recv(1)
            return
        c.sendall(f"{cport} , {sport} : USERID : UNIX : alice\r\n".encode())


while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
