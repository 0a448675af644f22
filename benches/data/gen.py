#!/usr/bin/env python3
"""Generate the tcpwrap benchmark tables deterministically.

Usage: gen.py OUTDIR

Writes:
  OUTDIR/seed/hosts.allow   8 rules modelled on the real-world seed documents
  OUTDIR/seed/hosts.deny    "ALL: ALL"
  OUTDIR/big/hosts.allow    empty
  OUTDIR/big/hosts.deny     100,000 "sshd: 10.x.y.z" lines (DenyHosts style)
  OUTDIR/cases.tsv          the benchmark requests (one per line, tab-separated)

Only the Python standard library is used.  The output is byte-for-byte
identical on every run (fixed PRNG seed, no timestamps); re-running it
overwrites the files.  See README.md in this directory for the cases.
"""

import os
import random
import sys

# ---------------------------------------------------------------------------
# seed: a small hand-written hosts.allow.  Every rule is taken (verbatim apart
# from whitespace) from the seed documents in /work/shared/seeds:
#   001 Linux IPv6 HOWTO          -> rules 1, 2 and the hosts.deny
#   002 Nagios NRPE FAQ           -> rule 3
#   003 Red Hat banners guide     -> rule 4 (banners dir does not exist: the
#                                    option would only log a warning; no
#                                    benchmark request matches this rule)
#   004 IBM Systems Magazine      -> rules 5..8
# No rule uses an option that forks or writes files (spawn/twist/aclexec).
SEED_ALLOW_RULES = [
    "sshd:           1.2.3. [3ffe:ffff:100:200::]/64",
    "daytime-stream: 1.2.3. [3ffe:ffff:100:200::]/64",
    "nrpe: LOCAL,,",
    "vsftpd : ALL : banners /etc/banners/",
    "ftpd : .abc.com,123.123.123.4",
    "telnetd : 123.123.123.0/255.255.255.0",
    "portmap: 123.123. 255.255.255.",
    "rexecd : LOCAL,.abc.com,123.123.123.4",
]
SEED_DENY = "ALL: ALL\n"

# ---------------------------------------------------------------------------
# big: a hosts.deny as written by DenyHosts (fail2ban's hostsdeny action and
# sshguard produce the same one-address-per-line shape).
BIG_LINES = 100_000
BIG_SEED = 20240607          # fixed PRNG seed -> deterministic output
BIG_DAEMON = "sshd"
BIG_NET = 10                 # all blocked addresses are in 10.0.0.0/8

# A client address that matches nothing in either table (TEST-NET-1, RFC 5737).
NOMATCH_ADDR = "192.0.2.77"

# The benchmark requests: (case, table dir, daemon, client name, client addr,
# client user, expected verdict, matching rule).  "" = unknown (hosts_ctl
# semantics); no request can trigger a DNS or ident lookup through hosts_ctl.
CASES = [
    # walks all 8 allow rules without a match, then hosts.deny line 1 (ALL: ALL)
    ("seed-deny", "seed", "sshd", "", NOMATCH_ADDR, "", "DENY",
     "hosts.deny:1"),
    # granted by the 5th of 8 allow rules (ftpd : .abc.com,123.123.123.4)
    ("seed-grant", "seed", "ftpd", "", "123.123.123.4", "", "GRANT",
     "hosts.allow:5"),
    # empty allow table, then all 100,000 deny lines without a match
    ("big", "big", "sshd", "", NOMATCH_ADDR, "", "GRANT", "-"),
]


def big_addresses():
    rng = random.Random(BIG_SEED)
    seen = set()
    out = []
    while len(out) < BIG_LINES:
        # 24 random bits -> 10.x.y.z; skip .0 and .255 hosts as a blocklist
        # would never contain them
        v = rng.getrandbits(24)
        x, y, z = (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
        if z in (0, 255) or v in seen:
            continue
        seen.add(v)
        out.append(f"{BIG_NET}.{x}.{y}.{z}")
    return out


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen.py OUTDIR\n")
        return 2
    out = argv[1]

    assert len(SEED_ALLOW_RULES) == 8
    write(os.path.join(out, "seed", "hosts.allow"),
          "".join(r + "\n" for r in SEED_ALLOW_RULES))
    write(os.path.join(out, "seed", "hosts.deny"), SEED_DENY)

    addrs = big_addresses()
    assert NOMATCH_ADDR not in addrs and len(set(addrs)) == BIG_LINES
    write(os.path.join(out, "big", "hosts.allow"), "")
    write(os.path.join(out, "big", "hosts.deny"),
          "".join(f"{BIG_DAEMON}: {a}\n" for a in addrs))

    lines = ["#case\tdir\tdaemon\tclient_name\tclient_addr\tuser\texpect\trule\n"]
    for c in CASES:
        lines.append("\t".join(c) + "\n")
    write(os.path.join(out, "cases.tsv"), "".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
