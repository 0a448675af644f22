#!/usr/bin/env python3
"""Time from connect() to the daemon's first byte through inetd + tcpd.

usage: client.py PORT SOURCE-ADDR COUNT
Prints the median, mean, p10 and p90 in microseconds as one line of JSON.
"""
import json
import socket
import statistics
import sys
import time

port, src, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
samples = []
for i in range(count + 3):
    s = socket.socket()
    s.bind((src, 0))
    t0 = time.perf_counter()
    s.connect(("127.0.0.1", port))
    b = s.recv(1)
    t1 = time.perf_counter()
    s.close()
    if not b:
        sys.exit(f"connection {i}: closed without a byte (refused?)")
    if i >= 3:  # warm-up: page cache, inetd's first fork
        samples.append((t1 - t0) * 1e6)
samples.sort()
q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
print(json.dumps({"median_us": round(statistics.median(samples)), "mean_us": round(statistics.mean(samples)),
                  "p10_us": round(q(0.1)), "p90_us": round(q(0.9)), "n": len(samples)}))
