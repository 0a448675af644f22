#!/usr/bin/env python3
"""tcpwrapd against real peers (see README.md).

    peers.py [--tcpwrapd PATH] [-j N] [--keep] [-v] [--show] [--list] [--all-scenarios]
             [NAME...]

Every test runs in private mount, network and pid namespaces (tests/golden/ns-run and the
private file system of tests/tcpd/harness.py, imported from there):

  compare-NAME   a scenario of tests/tcpd (the subset COMPARE, or all with
                 --all-scenarios) with the same generated inetd.conf line, tables, hosts,
                 ident server and client under Debian's openbsd-inetd + Debian's tcpd and
                 under tcpwrapd: decisions, client bytes, the service's report, side
                 effects and syslog records must be equal once the documented differences
                 (docs/divergences.md W1, W3, W7, W12, W13, W16) are normalised
  clients-many-addresses
                 21 clients at once from IPv4, IPv6 and IPv4-mapped addresses, one table,
                 compared the same way; every deciding rule (W3) is checked
  nrpe-seed      the NRPE seed literally (inetd.conf line, /etc/services entry, tables)
                 with the real nrpe --inetd, queried with check_nrpe
  aix-seed-trap  the AIX seed's ftp line and `tcpd /bin/false rlogind` trap literally
  load           10,000 connections from one source while 12 other sources connect,
                 tcpwrapd only: the others are all served, no zombies, descriptors,
                 threads and memory back to their baseline, the counts add up

Exit status: 0 all passed (or skipped: peers missing outside CI), 1 a failure (or a missing
peer under CI=true), 2 a set-up problem. Internal modes: --inner-tcpwrapd CONFIG.json
(one tcpd-harness scenario under tcpwrapd), --inner CONFIG.json (the other tests),
--flood SRC DST PORT N (the load test's flooding client).
"""

import argparse
import concurrent.futures
import difflib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tcpd"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness as H  # noqa: E402  (tests/tcpd/harness.py)

HOSTS = os.path.join(ROOT, "tests", "tcpd", "hosts")
INETD = "/usr/sbin/inetd"
DEBIAN_TCPD = "/usr/sbin/tcpd"
NRPE = "/usr/sbin/nrpe"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"
CHECK_DUMMY = "/usr/lib/nagios/plugins/check_dummy"
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Scenarios of tests/tcpd run under both (names or prefixes). Together they cover grants
# and refusals by address, name, domain, netmask and prefix, PARANOID and KNOWN/UNKNOWN,
# ident (user, error, stall, hostile replies), spawn and twist (with hostile host names),
# banners, setenv, severity, umask, UDP, IPv6, IPv4-mapped clients and the seeds' lines.
COMPARE = [
    "t01-", "t02-", "t03-", "t07-", "t08-", "t10-", "t11-", "t12-", "t13-", "t18-", "t19-",
    "t25-", "t29-", "t31-", "t32-", "t34-", "t35-", "t39-", "t40-", "t44-",
    "ident-error-reply", "ident-hostile-user", "ident-ipv6-client", "ident-mapped-client",
    "ident-stall-default-timeout",
    "host-semicolon-spawn", "host-semicolon-twist", "host-utf8-log-line",
    "para-non-fqdn", "para-unknown-no-reverse", "para-server-endpoint-pattern",
    "seed-aix-false-trap", "seed-aix-ftpd-domain", "seed-aix-telnetd-netmask",
    "seed-aix-portmap-prefix", "seed-icinga-twist-ident-user", "seed-ipv6howto-",
    "seed-nrpe-", "seed-redhat-banners", "seed-redhat-spawn-exact-address",
    # fixed in tcpwrapd by this test: refusals write their banners, tcpd's umask 022,
    # tcpd's ident for exec errors, nothing run for a connection reset before accept()
    "seed-redhat-banners-in-deny", "t05-argv0-subdir", "bad-peer-reset-inetd",
    "t06-not-executable", "t20-aclexec-fail-then-deny", "t38-ip-options", "t42-spawn-waits",
    "bad-option-shell-command",
]


# Scenarios whose difference is documented, not normalised (--all-scenarios reports them
# as KNOWN, not as failures; they are not in COMPARE).
KNOWN = {
    "bad-allow-unreadable": "W14", "bad-allow-unreadable-empty-deny": "W14",
    "bad-deny-unreadable": "W14", "bad-banner-expansion-too-long": "W15",
    "t15-nice-negative": "W5", "t16-user-nobody-noop": "E1",
}

PARTS = {}  # name -> function(opts) -> (problems, notes)
PART_DESC = {}


def ci():
    return os.environ.get("CI") == "true"


def find_tcpwrapd(explicit):
    if explicit:
        return os.path.abspath(explicit)
    if os.environ.get("TCPWRAPD"):
        return os.path.abspath(os.environ["TCPWRAPD"])
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.abspath(os.path.join(target, "debug", "tcpwrapd"))


def ns_command(scratch, inner_flag, hosts):
    return [H.NS_RUN, "--hosts", hosts, "--syslog", os.path.join(scratch, "syslog"), "--",
            "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
            PY, os.path.abspath(__file__), inner_flag, os.path.join(scratch, "config.json")]


def run_ns(scratch, inner_flag, cfg, timeout, hosts=HOSTS):
    """Run this file's inner mode in fresh namespaces; -> (result dict, syslog lines)."""
    with open(os.path.join(scratch, "config.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(scratch, "inner.log"), "wb") as log:
        try:
            st = subprocess.run(ns_command(scratch, inner_flag, hosts), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            st = "timeout"
    rpath = os.path.join(scratch, "result.json")
    if st != 0 or not os.path.exists(rpath):
        with open(os.path.join(scratch, "inner.log"), "rb") as f:
            tail = f.read().decode("utf-8", "replace")[-4000:]
        raise RuntimeError("inner run failed (status %s):\n%s" % (st, tail))
    with open(rpath) as f:
        res = json.load(f)
    try:
        with open(os.path.join(scratch, "stop.json")) as f:
            res["stop"] = json.load(f)
    except FileNotFoundError:
        res["stop"] = None
    try:
        with open(os.path.join(scratch, "tcpwrapd.json"), "rb") as f:
            res["json_log"] = [json.loads(l) for l in f.read().decode("utf-8", "surrogateescape").splitlines()]
    except FileNotFoundError:
        res["json_log"] = None
    try:
        with open(os.path.join(scratch, "syslog"), "rb") as f:
            syslog = f.read().decode("utf-8", "surrogateescape").splitlines()
    except FileNotFoundError:
        syslog = []
    return res, syslog


# ------------------------------------------------------------------------------ records

REC_RE = re.compile(r"^(\S+) ([^\s\[]*)\[(\d+)\]: (.*)$")


def split_own(syslog):
    """tcpwrapd's own records (ident `tcpwrapd`: start, listen, stop) are its super-server
    records, as inetd's are for openbsd-inetd; -> (others, own)."""
    others, own = [], []
    for l in syslog:
        m = REC_RE.match(l)
        (own if m and m.group(2) == "tcpwrapd" else others).append(l)
    return others, own


def stop_problems(res):
    """tcpwrapd ends on SIGTERM with status 0 (W10)."""
    st = res.get("stop")
    if st is None:
        return ["tcpwrapd was not stopped (no stop record)"]
    if st["killed"] or st["status"] != "exited 0":
        return ["tcpwrapd after SIGTERM: %s%s after %.1fs" % (
            st["status"], " (SIGKILL needed)" if st["killed"] else "", st["seconds"])]
    return []


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def rule_ends(path):
    """Line numbers where a rule ends: a rule continued with backslashes is numbered by
    its last line, as libwrap numbers its warnings (tcpd_context.line)."""
    ends = set()
    if not path:
        return ends
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    start = None
    for n, raw in enumerate(lines, 1):
        if start is None:
            s = raw.strip()
            if not s or s.startswith(b"#"):
                continue
            start = n
        if not raw.endswith(b"\\"):
            ends.add(n)
            start = None
    return ends


SUFFIX_RE = re.compile(r"^(  \S+ \S+\[PID\]: (?:refused )?connect from .*) \((/etc/hosts\.(?:allow|deny)):(\d+)\)$")


def normalise_tcpwrapd(text, tables, own_pid):
    """The documented differences of tcpwrapd's side (docs/divergences.md):
    W3: decision records end with ` (FILE:LINE)` of the deciding rule: checked (LINE must
        end a rule of that table) and stripped;
    W12: `%p` is tcpwrapd's pid (given: own_pid, for tables that use %p), where tcpd's is
        the pid of its records: in what the scenario's commands wrote, it becomes PID.
    -> (text, problems, rules)."""
    out, problems, rules = [], [], []
    for line in text.split("\n"):
        m = SUFFIX_RE.match(line)
        if m:
            path, n = m.group(2), int(m.group(3))
            if n not in tables.get(path, set()):
                problems.append("W3 rule %s:%d of record %r is not the last line of a rule" % (path, n, line.strip()))
            rules.append("%s:%d" % (path, n))
            line = m.group(1)
        if own_pid and line.startswith("    | "):
            line = re.sub(r"(?<![0-9])%s(?![0-9])" % own_pid, "PID", line)
        out.append(line)
    return "\n".join(out), problems, rules


def comparable(text, debian):
    """Drop what belongs to the super-server, not to the wrapper: the header, inetd's and
    tcpwrapd's own records and inetd's child-status notes. On the Debian side also the
    `inetd_dummy=` variable openbsd-inetd adds to every child's environment (W7)."""
    out = []
    skip = False
    for line in text.split("\n"):
        if line.startswith("# "):
            continue
        if line.startswith("super-server syslog ("):
            skip = True
            continue
        if skip:
            if line.startswith("  "):
                continue
            skip = False
        if line.startswith("super-server: "):
            continue
        if debian and line.startswith("  env=inetd_dummy="):
            continue
        if line.startswith("  sigign="):
            # W13: glibc's internal signal 33 (SIGSETXID), ignored in processes that
            # glibc's posix_spawn starts (the harness starts both super-servers so)
            sigs = [x for x in line[len("  sigign="):].split() if x != "33"]
            line = "  sigign=" + (" ".join(sigs) or "none")
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------------------ compare

def run_compare(sc, opts):
    """One tcpd-harness scenario under Debian (inetd + tcpd) and under tcpwrapd."""
    problems, notes = [], []
    deb_text, deb_timing, deb_problems, deb_wall = H.run_one(sc, "openbsd-inetd", DEBIAN_TCPD,
                                                             opts.cache, opts.keep, opts.verbose)
    for p in deb_problems:
        problems.append("Debian's tcpd: expectation: %s" % p)
    scratch = tempfile.mkdtemp(prefix="tcpwrapd-peers.%s." % sc["name"][:40])
    try:
        hosts = os.path.join(scratch, "hosts")
        with open(hosts, "wb") as out:
            with open(HOSTS, "rb") as f:
                out.write(f.read())
            if sc["hosts.extra"]:
                with open(sc["hosts.extra"], "rb") as f:
                    out.write(b"\n# hosts.extra of the scenario\n" + f.read())
        cfg = dict(sc)
        cfg.update({"variant": "tcpwrapd", "tcpd": DEBIAN_TCPD, "tcpwrapd": opts.tcpwrapd,
                    "cache": opts.cache, "scratch": scratch})
        res, syslog = run_ns(scratch, "--inner-tcpwrapd", cfg,
                             sc["quiet_timeout"] + sc["client_timeout"] + 30, hosts)
        problems.extend(stop_problems(res))
        others, own = split_own(syslog)
        text, timing, twd_problems = H.render(sc, "tcpwrapd", res, others)
        for p in twd_problems:
            problems.append("tcpwrapd: expectation: %s" % p)
        for l in own:
            m = REC_RE.match(l)
            if m and (m.group(1).endswith((".err", ".crit", ".alert", ".emerg"))):
                problems.append("tcpwrapd reported: %s" % H.esc_text(l))
        tables = {"/etc/hosts.allow": rule_ends(sc["hosts.allow"]),
                  "/etc/hosts.deny": rule_ends(sc["hosts.deny"])}
        own_pid = None
        for l in own:
            m = REC_RE.match(l)
            own_pid = m.group(3) if m else own_pid
        uses_p = any(b"%p" in read_bytes(p) for p in (sc["hosts.allow"], sc["hosts.deny"]) if p)
        ntext, w3, rules = normalise_tcpwrapd(text, tables, own_pid if uses_p else None)
        problems.extend(w3)
        a, b = comparable(deb_text, True), comparable(ntext, False)
        if a != b:
            problems.append("differs from Debian's openbsd-inetd + tcpd:\n" + "\n".join(
                difflib.unified_diff(a.split("\n"), b.split("\n"), "debian", "tcpwrapd",
                                     lineterm="", n=2)))
        # W1: a refusal is closed at once, not after tcpd's 5-second pause.
        refused = re.search(r"^  \S+ \S+\[PID\]: refused connect from ", a, re.M) and not \
            re.search(r"^  \S+ \S+\[PID\]: twist ", a, re.M)
        if sc["proto"] == "tcp" and refused and "eof" in deb_timing and "eof" in timing:
            if timing["eof"] > deb_timing["eof"] - 4:
                problems.append("W1: refused client closed after %.1fs (Debian's tcpd: %.1fs)" % (
                    timing["eof"], deb_timing["eof"]))
            notes.append("refusal closed after %.2fs (Debian's tcpd: %.2fs)" % (timing["eof"], deb_timing["eof"]))
        if rules:
            notes.append("deciding rule(s): %s" % ", ".join(rules))
        if opts.show:
            notes.append("Debian:\n" + deb_text + "tcpwrapd:\n" + text + "tcpwrapd's own records:\n" +
                         "\n".join("  " + H.esc_text(l) for l in own))
        return problems, notes
    finally:
        if opts.keep:
            print("peers: kept %s" % scratch, file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def inner_tcpwrapd(cfg_path):
    """One tcpd-harness scenario with tcpwrapd as the super-server: the harness's own inner
    run (private fs, addresses, ident, client, waiting, collecting) with tcpwrapd started
    where it starts openbsd-inetd, on the same generated inetd.conf line."""
    with open(cfg_path) as f:
        cfg = json.load(f)
    pinned = pin_binary(cfg["tcpwrapd"])
    orig_setup, orig_start = H.setup_private_fs, H.start_superserver
    orig_counts, orig_notes = H.ss_counts, H.superserver_notes

    def setup(c):
        orig_setup(c)
        bind_pinned(pinned, "/run/tw/tcpwrapd")

    def start(c, variant, port, out):
        if variant != "tcpwrapd":
            return orig_start(c, variant, port, out)
        orig_start(c, "openbsd-inetd", port, out)  # writes /run/tw/inetd.conf
        return "/run/tw/tcpwrapd", ["tcpwrapd", "--syslog-socket", "/dev/log", "/run/tw/inetd.conf"]

    def decisions(out):
        """Records of the wrapper so far (anything not tagged tcpwrapd)."""
        try:
            with open(os.path.join(out, "syslog"), "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return 0
        return len(split_own(lines)[0])

    def counts(variant, out):
        if variant != "tcpwrapd":
            return orig_counts(variant, out)
        n = decisions(out)
        return n, n, []

    def notes(variant, out):
        return [] if variant == "tcpwrapd" else orig_notes(variant, out)

    H.setup_private_fs, H.start_superserver = setup, start
    H.ss_counts, H.superserver_notes = counts, notes
    H.stop_pid = stop_patiently
    return H.inner_main(cfg_path)


# ------------------------------------------------------------------------------ many clients and the seeds
# One namespace per super-server; every client at its own address, all at once; the same
# inetd.conf and tables under openbsd-inetd + Debian's tcpd and under tcpwrapd.

MATRIX_ALLOW = b"""# tests/tcpwrapd: one table for clients at many addresses
twsvc: 1.2.3.4 : setenv TW_RULE allow-2
twsvc: .abc.com EXCEPT ws77.abc.com : setenv TW_RULE allow-3
twsvc: 206.182.68. EXCEPT 206.182.68.5 : setenv TW_RULE allow-4
twsvc: [3ffe:ffff:100:200::]/64 : setenv TW_RULE allow-5
twsvc: 10.1.1.0/255.255.255.0 EXCEPT PARANOID : setenv TW_RULE allow-6
twsvc: LOCAL : setenv TW_RULE allow-7
in.telnetd: 1.2.3.4 [3ffe:ffff:100:200::]/64 : setenv TW_RULE allow-8
in.telnetd: KNOWN EXCEPT .crackers.example : banners /etc/tw-banners
"""
MATRIX_DENY = b"""# tests/tcpwrapd: refusals
twsvc: 206.182.68.5 : spawn (echo %a %h %d %c > /var/log/refused.%a)
ALL: PARANOID : severity auth.notice
ALL: ALL
"""
MATRIX_CONF = ("# tests/tcpwrapd: clients at many addresses\n"
               "8001\tstream\ttcp\tnowait\troot\t/usr/sbin/tcpd\ttwsvc\n"
               "8003\tstream\ttcp46\tnowait\troot\t/usr/sbin/tcpd\tin.telnetd -h\n")


def tcp(frm, to, port, expect, rule=None, cport=40123):
    return {"kind": "tcp", "from": frm, "to": to, "port": port, "cport": cport,
            "expect": expect, "rule": rule}


V6A = "3ffe:ffff:100:200:212:34ff:fe12:3456"  # v6client.example.org
V6B = "3ffe:ffff:100:300::1"  # v6other.example.com
MATRIX_CLIENTS = [
    tcp("1.2.3.4", "127.0.0.1", 8001, "grant", "allow:2"),
    tcp("123.123.5.9", "127.0.0.1", 8001, "grant", "allow:3"),
    tcp("123.123.123.77", "127.0.0.1", 8001, "deny", "deny:4"),
    tcp("206.182.68.0", "127.0.0.1", 8001, "grant", "allow:4"),
    tcp("206.182.68.5", "127.0.0.1", 8001, "deny", "deny:2"),
    tcp(V6A, "::1", 8001, "grant", "allow:5"),
    tcp(V6B, "::1", 8001, "deny", "deny:4"),
    tcp("10.1.1.1", "127.0.0.1", 8001, "grant", "allow:6"),
    tcp("10.1.1.40", "127.0.0.1", 8001, "deny", "deny:3"),
    tcp("10.1.1.50", "127.0.0.1", 8001, "deny", "deny:3"),  # reverse name "1.2.3": PARANOID
    tcp("10.1.1.60", "127.0.0.1", 8001, "grant", "allow:6"),
    tcp("192.168.1.12", "127.0.0.1", 8001, "grant", "allow:7"),
    tcp("192.168.1.10", "127.0.0.1", 8001, "deny", "deny:4"),
    tcp("10.9.9.9", "127.0.0.1", 8001, "deny", "deny:4"),
    tcp("127.0.0.1", "127.0.0.1", 8001, "grant", "allow:7"),
    tcp("1.2.3.4", "127.0.0.1", 8003, "grant", "allow:8", 40124),  # as ::ffff:1.2.3.4
    tcp("206.182.68.5", "127.0.0.1", 8003, "deny", "deny:4", 40124),
    tcp("10.0.0.5", "127.0.0.1", 8003, "grant", "allow:9", 40124),
    tcp(V6A, "::1", 8003, "grant", "allow:8", 40124),
    tcp(V6B, "::1", 8003, "grant", "allow:9", 40124),
    tcp("10.9.9.9", "127.0.0.1", 8003, "deny", "deny:4", 40124),
]

NRPE_CFG = b"""# tests/tcpwrapd: nrpe.cfg of the NRPE seed (inetd mode reads the commands)
log_facility=daemon
debug=0
nrpe_user=nagios
nrpe_group=nagios
# every client may ask: tcpd's tables (or tcpwrapd's) are what refuses
allowed_hosts=192.168.1.12,192.168.1.10,10.9.9.9
dont_blame_nrpe=0
allow_bash_command_substitution=0
command_timeout=10
connection_timeout=30
command[check_tw]=/usr/lib/nagios/plugins/check_dummy 0 "firestorm answers through the wrapper"
"""
NRPE_ALLOW = b"""# /etc/hosts.allow: list of hosts that are allowed to access the system.
#                   See the manual pages hosts_access(5), hosts_options(5)
#                   and /usr/doc/netbase/portmapper.txt.gz
nrpe: LOCAL,,
"""
NRPE_DENY = b"""# /etc/hosts.deny: list of hosts that are _not_ allowed to access the system.
#                  See the manual pages hosts_access(5), hosts_options(5)
#                  and /usr/doc/netbase/portmapper.txt.gz
nrpe: ALL
"""
# The seed's inetd.conf line, literally (tcpd in front of /usr/local/nagios/nrpe).
NRPE_LINE = ("nrpe    stream  tcp     nowait  nagios /usr/sbin/tcpd /usr/local/nagios/nrpe "
             "-c /usr/local/nagios/nrpe.cfg --inetd\n")
FIRESTORM = "10.2.2.3"


def nrpe(frm, expect, rule, command=None):
    argv = [CHECK_NRPE, "-H", FIRESTORM, "-p", "9000", "-b", frm]
    if command:
        argv += ["-c", command]
    return {"kind": "cmd", "from": frm, "argv": argv, "expect": expect, "rule": rule}


NRPE_CLIENTS = [
    nrpe("192.168.1.12", "grant", "allow:4"),
    nrpe("192.168.1.12", "grant", "allow:4", "check_tw"),
    nrpe("192.168.1.10", "deny", "deny:4", "check_tw"),
    nrpe("10.9.9.9", "deny", "deny:4", "check_tw"),
]

# The AIX seed: its sample hosts.allow, `all:all` in hosts.deny, its ftp line and the
# `tcpd /bin/false` logging trap, literally (tcp6: IPv6 clients only on Linux).
AIX_ALLOW = b"""portmap: 123.123. 255.255.255.
ftpd : .abc.com,123.123.123.4
sshd : all
telnetd : 123.123.123.0/255.255.255.0
xmservd : .abc.com,123.123.123.4
rexecd : LOCAL,.abc.com,123.123.123.4
"""
AIX_DENY = b"all:all\n"
AIX_CONF = ("ftp stream tcp6 nowait root /usr/local/bin/tcpd /usr/sbin/ftpd -l\n"
            "login stream tcp6 nowait root /usr/local/bin/tcpd /bin/false rlogind\n")
AIX_HOSTS = b"\n# tests/tcpwrapd: an IPv6 client in the seed's domain\n3ffe:ffff:100:400::9\tv6ftp.abc.com\n"
AIX_CLIENTS = [
    tcp("3ffe:ffff:100:400::9", "::1", 21, "grant", "allow:2"),
    tcp(V6B, "::1", 21, "deny", "deny:1"),
    tcp("3ffe:ffff:100:400::9", "::1", 513, "deny", "deny:1"),
    tcp(V6B, "::1", 513, "deny", "deny:1"),
    # tcp6: no IPv4 socket under either
    tcp("123.123.123.4", "127.0.0.1", 21, "no connection"),
]

CLIENT_TESTS = {
    "clients-many-addresses": {
        "desc": "21 clients at once from IPv4, IPv6 and IPv4-mapped addresses (names, domains, "
                "netmasks, prefixes, PARANOID, LOCAL, KNOWN, banners, setenv, severity, spawn), "
                "one table, `tcp` and `tcp46` lines",
        "conf": MATRIX_CONF, "allow": MATRIX_ALLOW, "deny": MATRIX_DENY,
        "files": {"/etc/tw-banners/in.telnetd": b"Welcome %c to %d (%a)\n"},
        "clients": MATRIX_CLIENTS, "ports": [8001, 8003], "servers": []},
    "nrpe-seed": {
        "desc": "the NRPE seed: its inetd.conf line, /etc/services entry and tables; the real "
                "nrpe --inetd queried with check_nrpe from an allowed and refused addresses",
        "conf": NRPE_LINE, "allow": NRPE_ALLOW, "deny": NRPE_DENY,
        "files": {"/usr/local/nagios/nrpe.cfg": NRPE_CFG},
        "services": ("nrpe", "nrpe            9000/tcp                        # nrpe daemon"),
        "nrpe": True, "clients": NRPE_CLIENTS, "ports": [9000], "servers": [FIRESTORM]},
    "aix-seed-trap": {
        "desc": "the AIX seed: `ftp … tcpd /usr/sbin/ftpd -l` and the `tcpd /bin/false rlogind` "
                "trap on tcp6, its sample hosts.allow and all:all",
        "conf": AIX_CONF, "allow": AIX_ALLOW, "deny": AIX_DENY, "hosts_extra": AIX_HOSTS,
        "files": {}, "clients": AIX_CLIENTS, "ports": [21, 513], "servers": []},
}


def report_lines(data, debian):
    """Bytes a client received as comparable lines: a twsvc report loses its pid line and
    gets its signal masks named (W13: without 33); on Debian's side openbsd-inetd's
    `inetd_dummy` variable goes (W7)."""
    out = []
    for raw in data.split(b"\n"):
        l = H.esc(raw)
        if l.startswith("pid="):
            continue
        if debian and l.startswith("env=inetd_dummy="):
            continue
        m = re.match(r"^(sigign|sigblk)=([0-9a-f]+)$", l)
        if m:
            names = [x for x in H.sigset_names(int(m.group(2), 16)).split() if x not in ("33", "none")]
            l = "%s=%s" % (m.group(1), " ".join(names) or "none")
        out.append(l)
    return out


def norm_records(syslog, debian, tables):
    """The wrapper's (and nrpe's) records, pids replaced, sorted (the clients are
    concurrent); the super-servers' own and check_nrpe's are left out; on tcpwrapd's
    side W3's ` (FILE:LINE)` is checked and stripped.
    -> (lines, {client address: [rule, ...]}, problems)."""
    lines, rules, problems = [], {}, []
    for l in syslog:
        m = REC_RE.match(l)
        if m and m.group(2) in ("inetd", "tcpwrapd"):
            continue
        if re.match(r"^\S+ check_nrpe: ", l):
            continue  # the client's own records (its output and status are compared)
        t = REC_RE.sub(lambda mm: "%s %s[PID]: %s" % (mm.group(1), mm.group(2), mm.group(4)), l)
        t = "  " + H.esc_text(t)
        if not debian:
            mm = SUFFIX_RE.match(t)
            if mm:
                path, n = mm.group(2), int(mm.group(3))
                if n not in tables.get(path, set()):
                    problems.append("W3 rule %s:%d of %r is not the last line of a rule" % (path, n, t.strip()))
                addr = re.search(r"connect from \S+ \(([^)]*)\)", mm.group(1))
                rules.setdefault(addr.group(1) if addr else "?", []).append(
                    "%s:%d" % (path.rsplit(".", 1)[1], n))
                t = mm.group(1)
        lines.append(t)
    return sorted(lines), rules, problems


def client_label(c):
    if c["kind"] == "tcp":
        return "%s -> %s port %d" % (c["from"], c["to"], c["port"])
    return "%s: %s" % (c["from"], " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(c["argv"])))


def render_clients(test, res, debian):
    out = []
    for c, r in zip(test["clients"], res["clients"]):
        out.append("client %s:" % client_label(c))
        if c["kind"] == "tcp":
            out.append("  connect: %s" % r["connect"])
            out.extend("  | " + l for l in report_lines(bytes.fromhex(r["received_hex"]), debian))
            out.append("  end: %s" % r["end"])
        else:
            out.append("  exit status: %s" % r["status"])
            out.extend("  | " + l for l in report_lines(bytes.fromhex(r["stdout_hex"]), debian))
    out.append("files written:")
    for f in res["files"]:
        out.append("  %s %s %s" % (f["path"], f["type"], f.get("mode", "")))
        if "content_hex" in f:
            out.extend("    | " + H.esc(x) for x in bytes.fromhex(f["content_hex"]).split(b"\n"))
    for p in res["leftovers"]:
        out.append("leftover process killed: %s" % p)
    return out


def run_client_test(name, opts):
    test = CLIENT_TESTS[name]
    results = {}

    def one(variant):
        scratch = tempfile.mkdtemp(prefix="tcpwrapd-peers.%s.%s." % (name, variant))
        os.chmod(scratch, 0o755)
        try:
            hosts = os.path.join(scratch, "hosts")
            with open(hosts, "wb") as out:
                with open(HOSTS, "rb") as f:
                    out.write(f.read())
                out.write(test.get("hosts_extra", b""))
            files = {}
            for dest, data in test["files"].items():
                src = os.path.join(scratch, "f-" + dest.strip("/").replace("/", "-"))
                with open(src, "wb") as f:
                    f.write(data)
                files[dest] = src
            tables = {}
            for key in ("allow", "deny"):
                tables["hosts." + key] = os.path.join(scratch, "hosts." + key)
                with open(tables["hosts." + key], "wb") as f:
                    f.write(test[key])
            cfg = {"part": "clients", "variant": variant, "name": name, "scratch": scratch,
                   "tcpd": DEBIAN_TCPD, "tcpwrapd": opts.tcpwrapd, "cache": opts.cache,
                   "daemons": ["twsvc", "in.telnetd", "ftpd"], "links": [], "not_executable": [],
                   "files": files, "hosts.allow": tables["hosts.allow"],
                   "hosts.deny": tables["hosts.deny"], "allow_is_dir": False, "allow_mode": None,
                   "deny_mode": None, "conf": test["conf"], "clients": test["clients"],
                   "ports": test["ports"], "servers": test["servers"],
                   "services": test.get("services"), "nrpe": test.get("nrpe", False)}
            results[variant] = run_ns(scratch, "--inner", cfg, 90, hosts)
        finally:
            if opts.keep:
                print("peers: kept %s" % scratch, file=sys.stderr)
            else:
                shutil.rmtree(scratch, ignore_errors=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for f in [ex.submit(one, v) for v in ("debian", "tcpwrapd")]:
            f.result()
    problems, notes = [], []
    # W1: tcpwrapd holds a refused connection until the client speaks (then closes it
    # with the bytes unread, a reset as when tcpd exits) instead of pausing 5 seconds,
    # so a refused check_nrpe must print exactly what it prints under tcpd (never die
    # of SIGPIPE writing into a closed connection).
    tables = {"/etc/hosts.allow": rule_ends_bytes(test["allow"]),
              "/etc/hosts.deny": rule_ends_bytes(test["deny"])}
    texts = {}
    rules = {}
    syslog_twd, dropped = account_dropped(results["tcpwrapd"][0], results["tcpwrapd"][1],
                                          results["debian"][1], problems)
    if dropped:
        notes.append("W16: %d syslog record(s) dropped by tcpwrapd (the receiver's queue was "
                     "full), counted by its status dump, taken from its --json-log: %s" % (
                         len(dropped), "; ".join(H.esc_text(d) for d in dropped)))
    results["tcpwrapd"] = (results["tcpwrapd"][0], syslog_twd)
    for variant in ("debian", "tcpwrapd"):
        res, syslog = results[variant]
        debian = variant == "debian"
        recs, rules_v, probs = norm_records(syslog, debian, tables)
        problems.extend(probs)
        if not debian:
            rules = rules_v
        texts[variant] = render_clients(test, res, debian) + ["syslog (sorted):"] + recs
        # the declared outcome of each client (Debian's tcpd is the reference; this
        # keeps both from being wrong the same way unnoticed)
        for c, r in zip(test["clients"], res["clients"]):
            got = outcome(c, r)
            if got != c["expect"]:
                problems.append("%s: %s: expected %s, got %s" % (variant, client_label(c), c["expect"], got))
        for l in res["leftovers"]:
            problems.append("%s: process left at the end: %s" % (variant, l))
        if not debian:
            problems.extend(stop_problems(res))
        own = [l for l in syslog if (REC_RE.match(l) or [None, None, None])[2] in ("tcpwrapd",)]
        for l in own:
            if re.match(r"^\S+\.(err|crit|alert|emerg) ", l):
                problems.append("tcpwrapd reported: %s" % H.esc_text(l))
        if opts.show:
            notes.append("%s:\n" % variant + "\n".join(texts[variant]) +
                         "\nsuper-server records:\n" + "\n".join(
                             "  " + H.esc_text(l) for l in syslog
                             if (REC_RE.match(l) or [None, None, None])[2] in ("inetd", "tcpwrapd")))
        timing = ", ".join("%s %.2fs" % (client_label(c).split(" ")[0] if c["kind"] == "tcp" else c["from"], r["t"])
                           for c, r in zip(test["clients"], res["clients"]) if c["expect"] == "deny")
        notes.append("%s: refused clients done after: %s" % (variant, timing))
    # W3: the deciding rule of each decision
    want = {}
    for c in test["clients"]:
        if c.get("rule"):
            want.setdefault(H.unmap(c["from"]) if ":" not in c["from"] else c["from"], []).append(c["rule"])
    got_rules = {}
    for addr, lst in rules.items():
        got_rules.setdefault(H.unmap(addr), []).extend(lst)
    for addr in sorted(set(want) | set(got_rules)):
        if sorted(want.get(addr, [])) != sorted(got_rules.get(addr, [])):
            problems.append("W3: deciding rules for %s: expected %s, logged %s" % (
                addr, sorted(want.get(addr, [])), sorted(got_rules.get(addr, []))))
    if texts["debian"] != texts["tcpwrapd"]:
        problems.append("differs from Debian's openbsd-inetd + tcpd:\n" + "\n".join(
            difflib.unified_diff(texts["debian"], texts["tcpwrapd"], "debian", "tcpwrapd",
                                 lineterm="", n=2)))
    # W1: every refused TCP client of tcpwrapd is closed at once
    res = results["tcpwrapd"][0]
    for c, r in zip(test["clients"], res["clients"]):
        if c["kind"] == "tcp" and c["expect"] == "deny" and r["t"] > 2:
            problems.append("W1: %s: refusal took %.1fs" % (client_label(c), r["t"]))
    if name == "nrpe-seed":
        problems.extend(check_nrpe_outputs(test, results))
    return problems, notes


def record_key(level, tag, message):
    return (level, tag, message.replace("\n", " "))


def account_dropped(res, syslog, debian_syslog, problems):
    """W16: tcpwrapd never blocks on /dev/log; a record the receiving socket cannot take
    at once (its queue is full: the kernel's default is 10 datagrams) is dropped and
    counted. Every record is also in its --json-log. The records logged before the status
    dump that are missing from syslog must be exactly as many as the dump counts; each
    is put back with the text of the Debian record that has the same level, ident and
    message (or marked `?.LEVEL` when Debian has none, which the comparison then shows).
    -> (syslog with the dropped records put back, the dropped ones)."""
    log = res.get("json_log")
    if log is None:
        problems.append("tcpwrapd wrote no --json-log")
        return syslog, []
    status = [i for i, r in enumerate(log) if r.get("event") == "status"]
    if not status:
        problems.append("tcpwrapd's --json-log has no status record after SIGUSR1")
        return syslog, []
    first = status[0]
    m = re.search(r"(\d+) syslog record\(s\) dropped", log[first]["message"])
    counted = int(m.group(1)) if m else -1
    seen = {}
    for l in syslog:
        mm = REC_RE.match(l)
        if mm:
            k = record_key(mm.group(1).rsplit(".", 1)[-1], mm.group(2), mm.group(4))
            seen[k] = seen.get(k, 0) + 1
    missing = []
    for r in log[:first]:
        k = record_key(r["level"], r["tag"], r["message"])
        if seen.get(k):
            seen[k] -= 1
        else:
            missing.append((r, k))
    if len(missing) != counted:
        problems.append("W16: %d record(s) before the status dump are missing from syslog, the dump "
                        "counts %d dropped" % (len(missing), counted))
    deb = {}
    for l in debian_syslog:
        mm = REC_RE.match(l)
        if mm:
            deb.setdefault(record_key(mm.group(1).rsplit(".", 1)[-1], mm.group(2), mm.group(4)),
                           []).append(mm.group(1))
    out, dropped = list(syslog), []
    for r, k in missing:
        # Debian's records have no W3 suffix
        plain = (k[0], k[1], re.sub(r" \(/etc/hosts\.(?:allow|deny):\d+\)$", "", k[2]))
        fac = deb.get(plain, ["?." + r["level"]])[0]
        line = "%s %s[%d]: %s" % (fac, r["tag"], r["pid"], k[2])
        dropped.append(line)
        if r["tag"] != "tcpwrapd":
            out.append(line)
    return out, dropped


def rule_ends_bytes(data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return rule_ends(f.name)


def outcome(c, r):
    if c["kind"] == "tcp":
        if r["connect"] != "ok":
            return "no connection"
        data = bytes.fromhex(r["received_hex"])
        return "grant" if data else "deny"
    out = bytes.fromhex(r["stdout_hex"])
    return "grant" if r["status"] == 0 and out else "deny"


def check_nrpe_outputs(test, results):
    """The plugin's own words: NRPE's version and the command's output for the allowed
    Nagios station; CRITICAL and no answer of nrpe for the refused ones."""
    problems = []
    for variant in ("debian", "tcpwrapd"):
        res, syslog = results[variant]
        for c, r in zip(test["clients"], res["clients"]):
            out = bytes.fromhex(r["stdout_hex"]).decode("utf-8", "replace")
            label = "%s: %s" % (variant, client_label(c))
            if c["expect"] == "grant":
                want = ("OK: firestorm answers through the wrapper\n" if "-c" in c["argv"]
                        else "NRPE v4.1.0\n")
                if (r["status"], out) != (0, want):
                    problems.append("%s: expected exit 0 and %r, got %s %r" % (label, want, r["status"], out))
            else:
                if r["status"] != 2 or not out.startswith("CHECK_NRPE: ") or "firestorm answers" in out:
                    problems.append("%s: expected CRITICAL (2) and a CHECK_NRPE error, got %s %r" % (
                        label, r["status"], out))
        # nrpe's own records (not the wrapper's, which carry its name too) never name a
        # refused client
        for l in syslog:
            m = REC_RE.match(l)
            if m and m.group(2) == "nrpe" and not re.match(r"(refused )?connect from ", m.group(4)) \
                    and re.search(r"192\.168\.1\.10\b|10\.9\.9\.9", m.group(4)):
                problems.append("%s: nrpe talked to a refused client: %s" % (variant, l))
    return problems


for _n, _t in CLIENT_TESTS.items():
    PARTS[_n] = (lambda n: lambda opts: run_client_test(n, opts))(_n)
    PART_DESC[_n] = _t["desc"]


# ------------------------------------------------------------------------------ inner side

def pin_binary(path):
    """A descriptor of the binary, taken before the private file system may shadow the
    directory it is in (a CARGO_TARGET_DIR below /tmp)."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def bind_pinned(fd, dest):
    """Bind the pinned binary at dest (inside the private /run)."""
    H.put_file(dest, b"", mode=0o755)
    H.sh("mount", "--bind", "/proc/%d/fd/%d" % (os.getpid(), fd), dest)
    os.close(fd)


def stop_patiently(pid, reaper, sig=signal.SIGTERM):
    """H.stop_pid with more patience (a loaded machine may need seconds to schedule the
    exit of a process with many threads): sig, up to 15 s, then SIGKILL until reaped.
    The time it took and how it ended go to /run/tw/out/stop.json."""
    t0 = time.monotonic()
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    killed = False
    deadline = t0 + 15
    while pid not in reaper.status:
        reaper.reap()
        if pid in reaper.status:
            break
        if time.monotonic() > deadline:
            if killed:
                break
            os.kill(pid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 10
        time.sleep(0.02)
    with open("/run/tw/out/stop.json", "w") as f:
        json.dump({"seconds": time.monotonic() - t0, "killed": killed,
                   "status": H.describe_status(reaper.status[pid]) if pid in reaper.status else "not reaped"}, f)


def start_super(cfg, reaper, out, extra_args=()):
    """openbsd-inetd (debug mode, in the foreground) or tcpwrapd on /run/tw/inetd.conf."""
    devnull = os.open("/dev/null", os.O_RDWR)
    sslog = os.open(os.path.join(out, "superserver.stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if cfg["variant"] == "debian":
        path, argv = INETD, ["inetd", "-d", "-E", "/run/tw/inetd.conf"]
    else:
        path, argv = "/run/tw/tcpwrapd", ["tcpwrapd"] + list(extra_args) + ["/run/tw/inetd.conf"]
    pid = H.spawn(path, argv, dict(H.SS_ENV), {0: devnull, 1: sslog, 2: sslog}, umask_value=0)
    os.close(devnull)
    os.close(sslog)
    for port in cfg["ports"]:
        H.wait_listening({"proto": "tcp"}, port, pid, reaper)
    return pid


class Conn(threading.Thread):
    """One TCP client from its own address: connect, read until EOF."""

    def __init__(self, c, t0):
        super().__init__(daemon=True)
        self.c, self.t0 = c, t0
        self.r = {"connect": None, "received_hex": "", "end": None, "t": None}

    def run(self):
        c = self.c
        fam = socket.AF_INET6 if ":" in c["from"] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        data = b""
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(H.saddr(c["from"], c["cport"]))
            s.settimeout(25)
            try:
                s.connect(H.saddr(c["to"], c["port"]))
            except OSError as e:
                self.r["connect"] = "failed: %s" % e.strerror
                return
            self.r["connect"] = "ok"
            while True:
                try:
                    d = s.recv(65536)
                except ConnectionResetError:
                    self.r["end"] = "connection reset"
                    break
                except socket.timeout:
                    self.r["end"] = "no EOF (client gave up)"
                    break
                if not d:
                    self.r["end"] = "EOF"
                    break
                data += d
        finally:
            s.close()
            self.r["received_hex"] = data.hex()
            self.r["t"] = time.monotonic() - self.t0


class Reaper:
    """H.Reaper's interface (reap(), status), but it never reaps the client programs'
    processes: their own threads wait for them (a waitpid(-1) here would take their exit
    status, and subprocess would then report 0)."""

    def __init__(self):
        self.status = {}
        self.lock = threading.Lock()
        self.protected = set()

    def reap(self):
        with self.lock:
            for pid in H.list_pids() - {1} - self.protected:
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        st = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if st[0] == "Z" and int(st[1]) == os.getpid():
                    try:
                        p, status = os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        continue
                    if p:
                        self.status[p] = status


class Cmd(threading.Thread):
    """A client program (check_nrpe), waited for by this thread."""

    def __init__(self, c, t0, reaper):
        super().__init__(daemon=True)
        self.c, self.t0, self.reaper = c, t0, reaper
        self.r = {"status": None, "stdout_hex": "", "t": None}

    def run(self):
        with self.reaper.lock:
            p = subprocess.Popen(self.c["argv"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "LANG": "C"})
            self.reaper.protected.add(p.pid)
        try:
            out, _ = p.communicate(timeout=40)
            self.r["status"], self.r["stdout_hex"] = p.returncode, out.hex()
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.r["status"] = "timeout"
        self.r["t"] = time.monotonic() - self.t0


def inner_clients(cfg):
    out = "/run/tw/out"

    def inside(p):  # the scratch directory is seen at /run/tw/out once /tmp is private
        return out + p[len(cfg["scratch"]):] if p and p.startswith(cfg["scratch"] + "/") else p

    pinned = pin_binary(cfg["tcpwrapd"]) if cfg["variant"] == "tcpwrapd" else None
    cfg["files"] = {dest: inside(src) for dest, src in cfg["files"].items()}
    for k in ("hosts.allow", "hosts.deny"):
        cfg[k] = inside(cfg[k])
    H.setup_private_fs(cfg)
    if pinned is not None:
        bind_pinned(pinned, "/run/tw/tcpwrapd")
    if cfg["services"]:
        # the seed's step 2: the service's port in /etc/services (ours replaces Debian's)
        name, line = cfg["services"]
        with open("/etc/services") as f:
            kept = [l for l in f if not re.match(r"^%s\s" % re.escape(name), l)]
        with open("/etc/services", "w") as f:
            f.writelines(kept + [line + "\n"])
    if cfg["nrpe"]:
        H.put_file("/usr/local/nagios/nrpe", src=NRPE, mode=0o755)
    with open("/run/tw/inetd.conf", "w") as f:
        f.write(cfg["conf"])
    addrs = set(cfg["servers"])
    for c in cfg["clients"]:
        addrs.add(c["from"])
        if c.get("to"):
            addrs.add(c["to"])
    H.add_addresses(addrs)
    reaper = Reaper()
    ss = start_super(cfg, reaper, out, ["--syslog-socket", "/dev/log",
                                        "--json-log", "/run/tw/out/tcpwrapd.json"])
    t0 = time.monotonic()
    threads = [Conn(c, t0) if c["kind"] == "tcp" else Cmd(c, t0, reaper) for c in cfg["clients"]]
    for t in threads:
        t.start()
    deadline = t0 + 60
    quiet = None
    while time.monotonic() < deadline:
        reaper.reap()
        busy = any(t.is_alive() for t in threads) or bool(H.list_pids() - {1, ss} - reaper.protected)
        now = time.monotonic()
        if busy:
            quiet = None
        elif quiet is None:
            quiet = now
        elif now - quiet >= 0.5:
            break
        time.sleep(0.02)
    if cfg["variant"] == "tcpwrapd":
        # the status dump counts the syslog records dropped so far (W16)
        os.kill(ss, signal.SIGUSR1)
        end = time.monotonic() + 5
        while time.monotonic() < end and b'"event":"status"' not in read_bytes(
                "/run/tw/out/tcpwrapd.json"):
            time.sleep(0.05)
    stop_patiently(ss, reaper)
    leftovers = []
    for pid in sorted(H.list_pids() - {1}):
        leftovers.append(H.proc_desc(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reaper.reap()
    return {"clients": [t.r for t in threads], "files": H.snapshot_effects(), "leftovers": leftovers}


def inner_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    os.umask(0o022)
    os.chdir("/")
    res = {"clients": inner_clients, "load": inner_load}[cfg["part"]](cfg)
    out = "/run/tw/out"
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(res, f, indent=1)
    os.rename(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))
    return 0


# ------------------------------------------------------------------------------ load

LOAD_PORT = 9100
LOAD_SERVER = "10.7.0.100"
LOAD_SERVER6 = "3ffe:ffff:7::100"
FLOOD_SOURCE = "10.7.0.1"
LOAD_OTHERS = ["10.7.1.%d" % i for i in range(1, 9)] + ["3ffe:ffff:7:%d::1" % i for i in range(1, 5)]
LOAD_ALLOW = b"twsvc: 10.7.0.0/255.255.0.0 [3ffe:ffff:7::]/48\n"
LOAD_DENY = b"ALL: ALL\n"
FLOOD = 10000
FLOOD_WINDOW = 96


def run_load(opts):
    scratch = tempfile.mkdtemp(prefix="tcpwrapd-peers.load.")
    os.chmod(scratch, 0o755)
    try:
        cfg = {"part": "load", "variant": "tcpwrapd", "scratch": scratch, "tcpd": DEBIAN_TCPD,
               "tcpwrapd": opts.tcpwrapd, "cache": opts.cache, "daemons": ["twsvc"], "links": [],
               "not_executable": [], "files": {}, "hosts.allow": None, "hosts.deny": None,
               "allow_is_dir": False, "allow_mode": None, "deny_mode": None,
               "flood": FLOOD, "others": LOAD_OTHERS}
        res, _ = run_ns(scratch, "--inner", cfg, 240)
        try:
            with open(os.path.join(scratch, "tcpwrapd.log"), "rb") as f:
                log = f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            log = []
        return evaluate_load(res, log, opts)
    finally:
        if opts.keep:
            print("peers: kept %s" % scratch, file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def evaluate_load(res, log, opts):
    problems, notes = [], []
    fl = res["flood"]
    notes.append("flood from %s: %d connections in %.1fs: %d served, %d refused, %d failed" % (
        FLOOD_SOURCE, fl["done"], fl["t"], fl["served"], fl["refused"], fl["errors"]))
    if fl["done"] != FLOOD or fl["errors"]:
        problems.append("flood: %d of %d connections done, %d failed to connect" % (fl["done"], FLOOD, fl["errors"]))
    if fl["stuck"]["connected"]:
        problems.append("flood: %d connections accepted by the kernel were never answered or closed "
                        "by tcpwrapd within 60 s" % fl["stuck"]["connected"])
    if fl["stuck"]["connecting"]:
        problems.append("flood: %d connections still not established after 60 s (tcpwrapd did "
                        "not empty its accept queue)" % fl["stuck"]["connecting"])
    if fl["t"] > 90:
        problems.append("flood took %.1fs (bound: 90s)" % fl["t"])
    # the flood source is limited to its rate (60 a minute, bursts of 60) and 16 at once
    bound = 60 + int(fl["t"]) + 2
    if not 1 <= fl["served"] <= bound:
        problems.append("flood source served %d times (expected 1..%d: per-source rate)" % (fl["served"], bound))
    others = res["others"]
    n = sum(len(o["results"]) for o in others)
    bad = ["%s #%d: %s" % (o["source"], i + 1, r["end"]) for o in others for i, r in enumerate(o["results"])
           if not r["served"]]
    lat = sorted(r["t"] for o in others for r in o["results"])
    notes.append("%d other sources: %d connections during the flood, %d served; latency median %.3fs, max %.3fs" % (
        len(others), n, n - len(bad), lat[len(lat) // 2] if lat else 0, lat[-1] if lat else 0))
    if bad:
        problems.append("other sources not served: %s" % "; ".join(bad[:10]))
    during = sum(1 for o in others for r in o["results"] if r["during"])
    notes.append("%d of them started while the flood ran" % during)
    if during < len(others):
        problems.append("only %d connections of the other sources started during the flood" % during)
    if any(len(o["results"]) < 3 for o in others):
        problems.append("some other source made fewer than 3 connections during the flood: %s" % (
            [(o["source"], len(o["results"])) for o in others]))
    m = res["measure"]
    notes.append("tcpwrapd: fds %d before, %d after (max %d during); RSS %d KiB before, max %d, %d after; "
                 "threads %d before, %d after; zombies max %d during, %d at the end" % (
                     m["fds0"], m["fds1"], m["fds_max"], m["rss0"], m["rss_max"], m["rss1"],
                     m["threads0"], m["threads1"], m["zombies_max"], m["zombies1"]))
    if m["fds1"] != m["fds0"]:
        problems.append("descriptors of tcpwrapd: %d after the load, %d before" % (m["fds1"], m["fds0"]))
    if m["zombies1"]:
        problems.append("%d zombie children of tcpwrapd at the end" % m["zombies1"])
    if m["children1"]:
        problems.append("%d children of tcpwrapd still running at the end" % m["children1"])
    if m["rss_max"] - m["rss0"] > 32 * 1024:
        problems.append("RSS grew by %d KiB during the load (bound: 32 MiB)" % (m["rss_max"] - m["rss0"]))
    if m["rss1"] - m["rss0"] > 16 * 1024:
        problems.append("RSS %d KiB after the load, %d before (bound: +16 MiB)" % (m["rss1"], m["rss0"]))
    if m["threads1"] != m["threads0"]:
        problems.append("threads of tcpwrapd: %d after, %d before" % (m["threads1"], m["threads0"]))
    problems.extend(stop_problems(res))
    for l in res["leftovers"]:
        problems.append("process left at the end: %s" % l)
    # accounting: the status dump counts every connection exactly once
    total = 1 + FLOOD + n
    st = [l for l in log if re.search(r"tcpwrapd\[\d+\]: status: %d/tcp \(twsvc\)" % LOAD_PORT, l)]
    if not st:
        problems.append("no status record of %d/tcp after SIGUSR1" % LOAD_PORT)
    else:
        mm = re.search(r"granted (\d+), refused (\d+), limited (\d+) \[([^]]*)\]", st[-1])
        g, r, lim = (int(mm.group(i)) for i in (1, 2, 3))
        notes.append("status: granted %d, refused %d, limited %d [%s]" % (g, r, lim, mm.group(4)))
        if g + r + lim != total or r:
            problems.append("status counts %d granted + %d refused + %d limited, expected %d connections, "
                            "none refused by the tables" % (g, r, lim, total))
        if g != 1 + fl["served"] + n - len(bad):
            problems.append("status: %d granted, clients were served %d times" % (g, 1 + fl["served"] + n - len(bad)))
    # a flood does not flood the log: one limit record per source and service every 10 s
    limit = [l for l in log if "refused connect from %s (%s) (limit:" % (FLOOD_SOURCE, FLOOD_SOURCE) in l]
    notes.append("%d limit record(s) for %s, e.g. %s" % (len(limit), FLOOD_SOURCE, limit[-1] if limit else "-"))
    if not 1 <= len(limit) <= int(fl["t"] / 10) + 2:
        problems.append("%d limit records for the flood source in %.1fs" % (len(limit), fl["t"]))
    other_limits = [l for l in log if "(limit:" in l and FLOOD_SOURCE not in l]
    if other_limits:
        problems.append("other sources were limited: %s" % other_limits[:3])
    errors = [l for l in log if re.search(r"\]: (error|warning):|: accept: ", l)]
    if errors:
        problems.append("tcpwrapd logged: %s" % errors[:5])
    return problems, notes


PARTS["load"] = run_load
PART_DESC["load"] = ("%d connections from one source while %d other sources connect: the others "
                     "are all served, no zombies, descriptors, threads and memory back to normal" % (
                         FLOOD, len(LOAD_OTHERS)))


def flood_main(src, dst, port, n):
    """--flood: n connections from src as fast as possible, each read until the server
    closes it; prints the counts as JSON. At most FLOOD_WINDOW at once: with the other
    sources' connections that stays below tcpwrapd's listen() backlog (128), so the
    kernel never drops a handshake and every connection reaches tcpwrapd. A connection
    counts as served when the service's report came. One that neither ends nor gets
    data within 60 s is given up: "stuck", split into those connected (tcpwrapd never
    answered or closed it) and those still connecting."""
    import selectors
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    sel = selectors.DefaultSelector()
    inflight = {}  # socket -> [data, start]
    started = done = served = refused = errors = 0
    stuck = {"connected": 0, "connecting": 0}
    t0 = time.monotonic()
    while done < n:
        while started < n and len(inflight) < FLOOD_WINDOW:
            started += 1
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            s.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT: the port at connect()
            s.bind((src, 0))
            rc = s.connect_ex((dst, port))
            if rc not in (0, 115):  # EINPROGRESS
                errors += 1
                done += 1
                s.close()
                continue
            inflight[s] = [b"", time.monotonic()]
            sel.register(s, selectors.EVENT_READ)
        now = time.monotonic()
        for s in [s for s, (_, t) in inflight.items() if now - t > 60]:
            try:
                s.getpeername()
                stuck["connected"] += 1
            except OSError:
                stuck["connecting"] += 1
            del inflight[s]
            sel.unregister(s)
            s.close()
            done += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if d:
                inflight[s][0] += d
                continue
            data = inflight.pop(s)[0]
            sel.unregister(s)
            s.close()
            done += 1
            if b"TWSVC END" in data:
                served += 1
            else:
                refused += 1
    print(json.dumps({"done": done, "served": served, "refused": refused, "errors": errors,
                      "stuck": stuck, "t": time.monotonic() - t0}))
    return 0


def one_connection(src, dst, port):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    t0 = time.monotonic()
    data, end = b"", None
    try:
        s.bind((src, 0))
        s.settimeout(15)
        s.connect((dst, port))
        while True:
            d = s.recv(65536)
            if not d:
                end = "EOF"
                break
            data += d
    except OSError as e:
        end = "error: %s" % e
    finally:
        s.close()
    return {"served": b"TWSVC END" in data, "end": end if b"TWSVC END" not in data or end != "EOF"
            else "served", "t": time.monotonic() - t0, "start": t0}


def proc_numbers(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    rss = int(re.search(r"^VmRSS:\s+(\d+)", st, re.M).group(1))
    threads = int(re.search(r"^Threads:\s+(\d+)", st, re.M).group(1))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    children = zombies = 0
    for p in H.list_pids():
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children += 1
            zombies += fields[0] == "Z"
    return {"rss": rss, "threads": threads, "fds": fds, "children": children, "zombies": zombies}


def inner_load(cfg):
    out = "/run/tw/out"
    pinned = pin_binary(cfg["tcpwrapd"])
    H.setup_private_fs(cfg)
    bind_pinned(pinned, "/run/tw/tcpwrapd")
    with open("/run/tw/inetd.conf", "w") as f:
        f.write("# tests/tcpwrapd: the load test\n%d stream tcp nowait root /usr/sbin/tcpd twsvc\n" % LOAD_PORT)
    with open("/run/tw/load.allow", "wb") as f:
        f.write(LOAD_ALLOW)
    with open("/run/tw/load.deny", "wb") as f:
        f.write(LOAD_DENY)
    # our namespace's own sysctls: room for 10,000 client ports
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("10000 65000")
    H.add_addresses({LOAD_SERVER, LOAD_SERVER6, FLOOD_SOURCE, "10.7.9.9"} | set(cfg["others"]))
    reaper = Reaper()
    cfg["ports"] = [LOAD_PORT]
    ss = start_super(cfg, reaper, out, ["--allow", "/run/tw/load.allow", "--deny", "/run/tw/load.deny",
                                        "--log-file", "/run/tw/out/tcpwrapd.log"])

    def settle(until):
        """Wait until tcpwrapd has no children (spawned services reaped)."""
        deadline = time.monotonic() + until
        while time.monotonic() < deadline:
            reaper.reap()
            if proc_numbers(ss)["children"] == 0:
                return
            time.sleep(0.05)

    warm = one_connection("10.7.9.9", LOAD_SERVER, LOAD_PORT)
    if not warm["served"]:
        raise SystemExit("load: the warm-up connection was not served: %s" % warm)
    settle(5)
    time.sleep(1.2)  # one collection round of the event loop
    m0 = proc_numbers(ss)
    peak = dict(m0)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                m = proc_numbers(ss)
            except (OSError, AttributeError):
                return
            for k in ("rss", "fds", "zombies"):
                peak[k] = max(peak[k], m[k])
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    flood_done = threading.Event()
    others = []

    def other(src):
        dst = LOAD_SERVER6 if ":" in src else LOAD_SERVER
        rec = {"source": src, "results": []}
        others.append(rec)
        while len(rec["results"]) < 8 and (len(rec["results"]) < 3 or not flood_done.is_set()):
            rec["results"].append(one_connection(src, dst, LOAD_PORT))
            time.sleep(0.02)

    t_flood = time.monotonic()
    with reaper.lock:
        fp = subprocess.Popen([PY, os.path.abspath(__file__), "--flood", FLOOD_SOURCE, LOAD_SERVER,
                               str(LOAD_PORT), str(cfg["flood"])], stdout=subprocess.PIPE)
        reaper.protected.add(fp.pid)
    threads = [threading.Thread(target=other, args=(src,), daemon=True) for src in cfg["others"]]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 150
    while fp.poll() is None and time.monotonic() < deadline:
        reaper.reap()
        time.sleep(0.05)
    if fp.poll() is None:
        fp.kill()
    flood = json.loads(fp.communicate()[0] or b'{"done": 0, "served": 0, "refused": 0, "errors": 0, '
                       b'"stuck": {"connected": 0, "connecting": 0}, "t": 150}')
    flood_done.set()
    t_flood_end = time.monotonic()
    for t in threads:
        while t.is_alive() and time.monotonic() < deadline + 20:
            reaper.reap()
            t.join(0.05)
    for o in others:
        for r in o["results"]:
            r["during"] = t_flood <= r["start"] <= t_flood_end
    settle(10)
    # descriptors of refused and finished connections are closed at once; give the
    # loop a collection round, then compare with the baseline
    end = time.monotonic() + 5
    while time.monotonic() < end:
        reaper.reap()
        if proc_numbers(ss)["fds"] == m0["fds"]:
            break
        time.sleep(0.1)
    time.sleep(1.2)
    reaper.reap()
    stop.set()
    sampler.join(2)
    m1 = proc_numbers(ss)
    os.kill(ss, signal.SIGUSR1)
    end = time.monotonic() + 5
    while time.monotonic() < end and b"status: %d/tcp" % LOAD_PORT not in read_bytes(
            "/run/tw/out/tcpwrapd.log"):
        time.sleep(0.05)
    stop_patiently(ss, reaper)
    leftovers = []
    for pid in sorted(H.list_pids() - {1}):
        leftovers.append(H.proc_desc(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reaper.reap()
    return {"flood": flood, "others": others, "leftovers": leftovers,
            "measure": {"fds0": m0["fds"], "fds1": m1["fds"], "fds_max": peak["fds"],
                        "rss0": m0["rss"], "rss1": m1["rss"], "rss_max": peak["rss"],
                        "threads0": m0["threads"], "threads1": m1["threads"],
                        "zombies_max": peak["zombies"], "zombies1": m1["zombies"],
                        "children1": m1["children"]}}


# ------------------------------------------------------------------------------ main

def outer_main(args):
    if args.list:
        for name, _kind, desc in select_jobs(args.names, args.all_scenarios):
            print("%-44s %s" % (name, desc))
        return 0
    if os.geteuid() != 0:
        print("peers: must run as root (namespaces)", file=sys.stderr)
        return 2
    args.tcpwrapd = find_tcpwrapd(args.tcpwrapd)
    if not os.access(args.tcpwrapd, os.X_OK):
        print("peers: tcpwrapd %s is not executable (cargo build -p tcpwrapd, or --tcpwrapd)"
              % args.tcpwrapd, file=sys.stderr)
        return 2
    args.cache = os.environ.get("TCPD_HARNESS_CACHE", H.DEFAULT_CACHE)
    missing = []
    for what, path in (("openbsd-inetd", INETD), ("Debian's tcpd", DEBIAN_TCPD),
                       ("nrpe (nagios-nrpe-server)", NRPE), ("check_nrpe (nagios-nrpe-plugin)", CHECK_NRPE),
                       ("check_dummy (monitoring-plugins-basic)", CHECK_DUMMY),
                       ("the test service (tests/tcpd/setup.sh)", os.path.join(args.cache, "twsvc"))):
        if not os.access(path, os.X_OK):
            missing.append("%s: %s" % (what, path))
    if missing:
        for m in missing:
            print("peers: missing peer: %s" % m)
        if ci():
            print("peers: FAIL: peers missing under CI=true")
            return 1
        print("peers: SKIP: peers missing (run tests/tcpwrapd/setup.sh as root)")
        return 0
    jobs = select_jobs(args.names, args.all_scenarios)
    print("peers: tcpwrapd %s" % args.tcpwrapd)
    t0 = time.monotonic()
    failed = []

    def work(job):
        name, kind, _ = job
        t = time.monotonic()
        try:
            if kind == "compare":
                r = run_compare(H.load_scenario(name[len("compare-"):]), args)
            else:
                r = PARTS[kind](args)
            return job, r, None, time.monotonic() - t
        except Exception as e:  # noqa
            import traceback
            return job, None, "%s\n%s" % (e, traceback.format_exc()), time.monotonic() - t

    # the load test runs alone at the end (it needs the CPUs)
    first = [j for j in jobs if j[1] != "load"]
    last = [j for j in jobs if j[1] == "load"]
    for batch, n in ((first, args.jobs), (last, 1)):
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
            for job, r, err, wall in ex.map(work, batch):
                name = job[0]
                if err is not None:
                    failed.append(name)
                    print("ERROR %s (%.1fs): %s" % (name, wall, err))
                    continue
                problems, notes = r
                status = "FAIL" if problems else "PASS"
                known = KNOWN.get(name[len("compare-"):]) if kind_of(job) == "compare" else None
                if problems and known:
                    print("KNOWN %s (%.1fs): differs as docs/divergences.md %s says" % (name, wall, known))
                    if args.verbose:
                        for p in problems:
                            print("    difference: " + p.replace("\n", "\n    "))
                    continue
                if problems:
                    failed.append(name)
                print("%s %s (%.1fs)" % (status, name, wall))
                for p in problems:
                    print("    problem: " + p.replace("\n", "\n    "))
                if problems or args.verbose:
                    for n_ in notes:
                        print("    " + n_.replace("\n", "\n    "))
    print("peers: %d test(s) in %.1fs: %d failed%s" % (len(jobs), time.monotonic() - t0, len(failed),
                                                       (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


def kind_of(job):
    return job[1]


def select_jobs(selected, every=False):
    jobs = []
    for name in H.scenario_names([] if every else COMPARE):
        sc = H.load_scenario(name)
        if sc["kind"] == "direct" or "openbsd" not in sc["superservers"]:
            continue
        jobs.append(("compare-" + name, "compare", sc["description"]))
    for kind in PARTS:
        jobs.append((kind, kind, PART_DESC[kind]))
    if not selected:
        return jobs
    out = []
    for s in selected:
        m = [j for j in jobs if j[0] == s or j[0].startswith(s)]
        if not m:
            raise SystemExit("peers: no test %r (--list shows them)" % s)
        out.extend(j for j in m if j not in out)
    return out


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--flood":
        sys.exit(flood_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    if len(sys.argv) == 3 and sys.argv[1] in ("--inner-tcpwrapd", "--inner"):
        try:
            if sys.argv[1] == "--inner-tcpwrapd":
                sys.exit(inner_tcpwrapd(sys.argv[2]))
            sys.exit(inner_main(sys.argv[2]))
        except SystemExit:
            raise
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.exit(3)
    ap = argparse.ArgumentParser(description="tcpwrapd against real peers")
    ap.add_argument("--tcpwrapd", help="tcpwrapd under test (default: $TCPWRAPD, else "
                    "$CARGO_TARGET_DIR or target/, debug/tcpwrapd)")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("TCPWRAPD_PEERS_JOBS", "16")))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories")
    ap.add_argument("-v", "--verbose", action="store_true", help="notes of every test")
    ap.add_argument("--show", action="store_true", help="print both observed results of each comparison")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--all-scenarios", action="store_true",
                    help="compare every tests/tcpd scenario that runs under openbsd-inetd, "
                    "not only the chosen subset")
    ap.add_argument("names", nargs="*", help="test names or prefixes (default: all)")
    args = ap.parse_args()
    if args.show:
        args.verbose = True
    sys.exit(outer_main(args))


if __name__ == "__main__":
    main()
