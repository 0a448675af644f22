#!/usr/bin/env python3
"""Sequential TCP clients for a fixed time: connections per second.

usage: client.py PORT SOURCE-ADDR SECONDS EXPECT
  EXPECT  "data": every connection must receive at least one byte before the
          server closes it (access granted); "closed": the server must close
          it without sending anything (access refused).

Each connection: bind SOURCE-ADDR, connect to 127.0.0.1:PORT, read until
the server closes, close. Three untimed warm-up connections first. Prints one
line of JSON: connections, seconds, conns_per_s, mean/median/p90 latency
(connect to close, microseconds), and how many connections did not give
the expected outcome or failed (both must be 0 for a valid measurement).
"""
import json
import socket
import statistics
import sys
import time

port, src, seconds, expect = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
assert expect in ("data", "closed"), expect
# Bounded in count as well as in time.
MAX_CONNECTIONS = 2_000_000


def one():
    s = socket.socket()
    try:
        s.settimeout(20)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        got = 0
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += len(b)
        return (got > 0) == (expect == "data")
    except OSError:
        return None
    finally:
        s.close()


for _ in range(3):
    one()
lat = []
wrong = failed = 0
t_start = time.perf_counter()
deadline = t_start + seconds
while len(lat) < MAX_CONNECTIONS:
    t0 = time.perf_counter()
    if t0 >= deadline:
        break
    r = one()
    t1 = time.perf_counter()
    lat.append((t1 - t0) * 1e6)
    if r is None:
        failed += 1
    elif not r:
        wrong += 1
elapsed = time.perf_counter() - t_start
lat.sort()
print(json.dumps({
    "connections": len(lat),
    "seconds": round(elapsed, 3),
    "conns_per_s": round(len(lat) / elapsed, 1),
    "mean_us": round(statistics.mean(lat)) if lat else None,
    "median_us": round(statistics.median(lat)) if lat else None,
    "p90_us": round(lat[min(len(lat) - 1, int(0.9 * len(lat)))]) if lat else None,
    "wrong": wrong,
    "failed": failed,
}))
