#!/usr/bin/env python3
"""End-to-end harness for tcpd: runs a tcpd binary under real super-servers (openbsd-inetd,
xinetd) or directly, inside a private network + mount + pid namespace, and records what
happens (client transcript, syslog records, service runs, ident traffic, files written).

    harness.py [--capture] [--tcpd PATH] [--inetd openbsd|xinetd|both] [-j N]
               [--timing check|warn|off] [--keep] [-v] [SCENARIO...]

Capture mode stores the observations as goldens in each scenario directory
(expected.VARIANT.txt, expected.VARIANT.timing); check mode compares against them.
See README.md.  Internal mode (inside the namespace): harness.py --inner CONFIG.json
"""

import argparse
import concurrent.futures
import difflib
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
NS_RUN = os.path.normpath(os.path.join(HERE, "..", "golden", "ns-run"))
DEFAULT_CACHE = "/var/cache/tcpwrap-tcpd-harness"
VARIANTS = {"openbsd": "openbsd-inetd", "xinetd": "xinetd"}
PORT_TCP = 8001
PORT_UDP = 8002
CLIENT_PORT = 40123
# Environment given to the super-server (and by it, to tcpd).  /run/tw/bin holds fake
# `date` and `mail` commands so that spawn side effects are reproducible.
SS_ENV = {
    "PATH": "/run/tw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C",
    "HOME": "/root",
    "TW_MARK": "from-superserver",
}
# Directories whose content after a run is reported as side effects (all are empty,
# private tmpfs mounts inside the namespace).
EFFECT_DIRS = ["/tmp", "/var/tmp", "/var/log", "/var/mail"]
# Names under /usr/sbin (private overlay) that run the test service.
STD_DAEMONS = ["in.telnetd", "telnetd", "vsftpd", "sshd", "ftpd", "in.ftpd", "portmap",
               "xmservd", "rexecd", "daytime-stream", "fakedaemon", "twsvc", "nrpe"]
# Absolute paths (private overlays) that run the test service.
STD_LINKS = ["/usr/local/tw/bin/fakedaemon", "/usr/local/tw/bin/argvd",
             "/usr/local/nagios/nrpe", "/usr/local/tw/bin/in.telnetd"]


# ------------------------------------------------------------------------------ scenarios

def parse_scenario(path):
    """scenario.conf: `key = value` lines, `#` comments, keys may repeat."""
    conf = {}
    with open(os.path.join(path, "scenario.conf"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not s.strip() or s.lstrip().startswith("#"):
                continue
            if "=" not in s:
                raise ValueError("%s/scenario.conf:%d: no '='" % (path, n))
            k, v = s.split("=", 1)
            conf.setdefault(k.strip(), []).append(v.strip())
    return conf


def one(conf, key, default=None):
    v = conf.get(key)
    return v[-1] if v else default


def unescape(s):
    """C-like escapes in scenario values: \\n \\r \\t \\0 \\xHH \\\\ ."""
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5c and i + 1 < len(b):
            n = chr(b[i + 1])
            if n == "n":
                out += b"\n"; i += 2; continue
            if n == "r":
                out += b"\r"; i += 2; continue
            if n == "t":
                out += b"\t"; i += 2; continue
            if n == "0":
                out += b"\0"; i += 2; continue
            if n == "\\":
                out += b"\\"; i += 2; continue
            if n == "x" and i + 3 < len(b) + 1:
                out.append(int(b[i + 2:i + 4], 16)); i += 4; continue
        out.append(c)
        i += 1
    return bytes(out)


def esc(b):
    """bytes -> printable text (\\xHH for non-printables, \\\\ for backslash)."""
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    out = []
    for c in b:
        if c == 0x5c:
            out.append("\\\\")
        elif c == 0x0a:
            out.append("\\n")
        elif c == 0x0d:
            out.append("\\r")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def esc_text(s):
    """text from syslog (str with surrogate escapes) -> printable: valid UTF-8 printable
    characters are kept, control characters, invalid bytes and backslashes are escaped."""
    b = s.encode("utf-8", "surrogateescape")
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x5c:
            out.append("\\\\")
            i += 1
            continue
        if 0x20 <= c < 0x7f:
            out.append(chr(c))
            i += 1
            continue
        n = 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        if n:
            try:
                ch = b[i:i + n].decode("utf-8")
                if len(ch) == 1 and ch.isprintable():
                    out.append(ch)
                    i += n
                    continue
            except UnicodeDecodeError:
                pass
        out.append("\\x%02x" % c)
        i += 1
    return "".join(out)


def is_debian(tcpd):
    """Whether the tcpd under test is Debian's own binary."""
    return os.path.realpath(tcpd) == os.path.realpath("/usr/sbin/tcpd") and \
        subprocess.run(["dpkg", "-S", "/usr/sbin/tcpd"], capture_output=True).returncode == 0


def divergence_documented(key):
    """A scenario with tcpwrap-specific expectations must name a row of
    docs/divergences.md (e.g. "divergence = D2")."""
    if not key:
        return False, "expected.*.tcpwrap.txt exists but scenario.conf names no divergence"
    path = os.path.join(HERE, "..", "..", "docs", "divergences.md")
    with open(path, encoding="utf-8") as f:
        if ("| %s |" % key) in f.read():
            return True, ""
    return False, "divergence %s is not in docs/divergences.md" % key


def load_scenario(name):
    d = os.path.join(SCENARIOS, name)
    conf = parse_scenario(d)
    kind = one(conf, "kind", "inetd")
    proto = one(conf, "proto", "tcp")
    client = one(conf, "client", "127.0.0.1")
    v6 = ":" in client
    sc = {
        "name": name,
        "dir": d,
        "kind": kind,
        "description": " ".join(conf.get("description", [])),
        "superservers": one(conf, "superservers", "openbsd xinetd").split(),
        "proto": proto,
        "listen": one(conf, "listen", "6" if v6 else "4"),
        "user": one(conf, "user", "root"),
        "program": one(conf, "program", "/usr/sbin/tcpd"),
        "client": client,
        "client_port": int(one(conf, "client_port", str(CLIENT_PORT))),
        "server": one(conf, "server", "::1" if v6 else "127.0.0.1"),
        "ident": one(conf, "ident", "none"),
        "action": one(conf, "action", "read"),
        "send": one(conf, "send"),
        "client_timeout": float(one(conf, "client_timeout", "20")),
        "quiet_timeout": float(one(conf, "quiet_timeout", "30")),
        "stdin": one(conf, "stdin", "tcp-accepted"),
        "direct_timeout": float(one(conf, "direct_timeout", "12")),
        "expect": one(conf, "expect"),
        "expect_syslog": conf.get("expect_syslog", []),
        "expect_client": conf.get("expect_client", []),
        "forbid": conf.get("forbid", []),
        "daemons": STD_DAEMONS + " ".join(conf.get("daemons", [])).split(),
        "links": STD_LINKS + " ".join(conf.get("links", [])).split(),
        "not_executable": " ".join(conf.get("not_executable", [])).split(),
        "allow_mode": one(conf, "allow_mode"),
        "deny_mode": one(conf, "deny_mode"),
        "allow_is_dir": one(conf, "allow_is_dir", "no") == "yes",
        "addresses": " ".join(conf.get("addresses", [])).split(),
        "divergence": one(conf, "divergence"),
    }
    argv = one(conf, "argv", "twsvc")
    if argv.startswith("["):
        sc["argv"] = json.loads(argv)
    else:
        sc["argv"] = argv.split()
    if sc["send"] is not None:
        sc["send_bytes"] = esc(unescape(sc["send"]))  # transported as escaped text
    if sc["expect"] not in (None, "grant", "deny"):
        raise ValueError("%s: expect must be grant or deny" % name)
    files = {}
    fdir = os.path.join(d, "files")
    if os.path.isdir(fdir):
        for root, _dirs, fnames in os.walk(fdir):
            for fn in fnames:
                p = os.path.join(root, fn)
                rel = "/" + os.path.relpath(p, fdir)
                files[rel] = p
    sc["files"] = files
    for t in ("hosts.allow", "hosts.deny", "hosts.extra"):
        p = os.path.join(d, t)
        sc[t] = p if os.path.exists(p) else None
    return sc


def scenario_names(selected):
    allnames = sorted(n for n in os.listdir(SCENARIOS)
                      if os.path.isfile(os.path.join(SCENARIOS, n, "scenario.conf")))
    if not selected:
        return allnames
    out = []
    for s in selected:
        s = s.rstrip("/").split("/")[-1]
        if s in allnames:
            out.append(s)
        else:
            m = [n for n in allnames if n.startswith(s)]
            if not m:
                raise SystemExit("harness: no scenario %r" % s)
            out.extend(m)
    return out


# ------------------------------------------------------------------------------ outer side

def run_one(sc, variant, tcpd, cache, keep, verbose):
    """Run one scenario under one variant in a fresh namespace; return (text, timing, info)."""
    scratch = tempfile.mkdtemp(prefix="tcpd-harness.%s.%s." % (sc["name"][:40], variant))
    try:
        hosts = os.path.join(scratch, "hosts")
        with open(hosts, "wb") as out:
            with open(os.path.join(HERE, "hosts"), "rb") as f:
                out.write(f.read())
            if sc["hosts.extra"]:
                with open(sc["hosts.extra"], "rb") as f:
                    out.write(b"\n# hosts.extra of the scenario\n" + f.read())
        cfg = dict(sc)
        cfg.update({"variant": variant, "tcpd": tcpd, "cache": cache, "scratch": scratch})
        with open(os.path.join(scratch, "config.json"), "w") as f:
            json.dump(cfg, f)
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        cmd = [NS_RUN, "--hosts", hosts, "--syslog", os.path.join(scratch, "syslog"), "--",
               "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
               py, os.path.abspath(__file__), "--inner", os.path.join(scratch, "config.json")]
        t0 = time.monotonic()
        with open(os.path.join(scratch, "inner.log"), "wb") as log:
            try:
                st = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    timeout=sc["quiet_timeout"] + sc["client_timeout"] + 30).returncode
            except subprocess.TimeoutExpired:
                st = "timeout"
        wall = time.monotonic() - t0
        rpath = os.path.join(scratch, "result.json")
        if st != 0 or not os.path.exists(rpath):
            with open(os.path.join(scratch, "inner.log"), "rb") as f:
                logtxt = f.read().decode("utf-8", "replace")
            raise RuntimeError("inner run failed (status %s):\n%s" % (st, logtxt[-4000:]))
        with open(rpath) as f:
            res = json.load(f)
        try:
            with open(os.path.join(scratch, "syslog"), "rb") as f:
                syslog = f.read().decode("utf-8", "surrogateescape").splitlines()
        except FileNotFoundError:
            syslog = []
        text, timing, problems = render(sc, variant, res, syslog)
        return text, timing, problems, wall
    finally:
        if keep:
            print("harness: kept %s" % scratch, file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def sigset_names(mask):
    """/proc/PID/status signal mask -> "PIPE XFSZ 32 33" (32/33: glibc-internal)."""
    names = []
    for n in range(1, 65):
        if mask & (1 << (n - 1)):
            try:
                names.append(signal.Signals(n).name[3:] if signal.Signals(n).name.startswith("SIG")
                             and not signal.Signals(n).name.startswith("SIGRT") else str(n))
            except ValueError:
                names.append(str(n))
    return " ".join(names) if names else "none"


PID_RE = re.compile(r"^(\S+ [^\s\[]*)\[(\d+)\]: ")


def render(sc, variant, res, syslog):
    """Turn the raw observations into the normalised text that is compared exactly, the
    timing dict that is compared loosely, and a list of expectation problems."""
    problems = []
    ss_ident = {"openbsd-inetd": "inetd", "xinetd": "xinetd"}.get(variant)
    tcpd_pids = set()
    recs, ss_recs = [], []
    for line in syslog:
        m = PID_RE.match(line)
        ident = None
        if m:
            ident = m.group(1).split(" ", 1)[1]
        if ss_ident and ident == ss_ident:
            ss_recs.append(line)
            continue
        if m:
            tcpd_pids.add(m.group(2))
        recs.append(line)

    def norm_pids(s):
        for p in sorted(tcpd_pids, key=len, reverse=True):
            s = re.sub(r"(?<![0-9])%s(?![0-9])" % p, "PID", s)
        return s

    def norm_line(line):
        line = PID_RE.sub(lambda m: m.group(1) + "[PID]: ", line)
        line = re.sub(r"\bprocess \d+ exited", "process PID exited", line)
        return esc_text(norm_pids(line))

    out = []
    w = out.append
    w("# %s via %s" % (sc["name"], variant))
    svc = res.get("service_runs", [])
    granted = len(svc) > 0
    w("service ran: %s" % ("yes (%d)" % len(svc) if granted else "no"))
    # client
    c = res.get("client")
    if c:
        w("client:")
        for k in ("connect", "action"):
            if c.get(k) is not None:
                w("  %s: %s" % (k, c[k]))
        if c.get("sent") is not None:
            w("  sent: \"%s\"" % c["sent"])
        data = bytes.fromhex(c.get("received_hex", ""))
        i = data.find(b"TWSVC BEGIN\n")
        if i >= 0:
            j = data.find(b"TWSVC END\n", i)
            before, report, after = data[:i], data[i:j + 10 if j >= 0 else len(data)], data[j + 10 if j >= 0 else len(data):]
            w("  before service report: \"%s\"" % esc(before))
            w("  service report: received%s" % ("" if j >= 0 else " (truncated)"))
            if after:
                w("  after service report: \"%s\"" % esc(after))
        else:
            w("  received (no service report): \"%s\"" % esc(data))
        w("  end: %s" % c.get("end"))
    # direct run
    d = res.get("direct")
    if d:
        w("direct tcpd run:")
        w("  stdin: %s" % d["stdin"])
        w("  exit: %s" % d["exit"])
        if d.get("queue"):
            w("  afterwards: %s" % d["queue"])
        for k in ("stdout", "stderr"):
            if d.get(k + "_hex") is not None:
                w("  %s: \"%s\"" % (k, esc(bytes.fromhex(d[k + "_hex"]))))
    # service runs
    for n, rep in enumerate(svc, 1):
        lines = rep.splitlines()
        pid = None
        for l in lines:
            if l.startswith("pid="):
                pid = l[4:]
        w("service run %d: (pid %s)" % (n, "= pid in tcpd's log records" if pid in tcpd_pids
                                       else "NOT seen in any log record"))
        for l in lines:
            if l.startswith("pid=") or l in ("TWSVC BEGIN", "TWSVC END"):
                continue
            m = re.match(r"^(sigign|sigblk)=([0-9a-f]+)$", l)
            if m:
                l = "%s=%s" % (m.group(1), sigset_names(int(m.group(2), 16)))
            w("  " + norm_pids(l))
    # syslog
    w("syslog (%d):" % len(recs))
    for l in recs:
        w("  " + norm_line(l))
    if ss_recs:
        w("super-server syslog (%d):" % len(ss_recs))
        for l in ss_recs:
            w("  " + norm_line(l))
    for l in res.get("superserver_notes", []):
        w("super-server: " + norm_line(l))
    # ident
    idq = res.get("ident", [])
    if sc["ident"] != "none" or idq:
        w("ident (%s): %d connection(s)" % (sc["ident"], len(idq)))
        for q in idq:
            w("  from %s to %s: query \"%s\"" % (q["from"], q["to"], q["query"]))
    # files
    files = res.get("files", [])
    w("files written (%d):" % len(files))
    for f in files:
        w("  %s %s %s" % (f["path"], f["type"], f.get("mode", "")))
        if "content_hex" in f:
            content = bytes.fromhex(f["content_hex"])
            for cl in content.split(b"\n") if content else []:
                w("    | " + norm_pids(esc(cl)))
            if content and not content.endswith(b"\n"):
                w("    (no newline at end)")
    for p in res.get("forbidden_present", []):
        w("FORBIDDEN PATH EXISTS: %s" % p)
    for p in res.get("leftovers", []):
        w("leftover process killed: %s" % p)
    text = "\n".join(out) + "\n"

    # expectations declared in scenario.conf (checked in both modes)
    if sc["expect"] == "grant" and not granted:
        problems.append("expected grant, but the service did not run")
    if sc["expect"] == "deny" and granted:
        problems.append("expected deny, but the service ran")
    for s in sc["expect_syslog"]:
        if not any(s in norm_line(l) for l in recs):
            problems.append("no syslog record contains %r" % s)
    for s in sc["expect_client"]:
        if c is None or unescape(s) not in bytes.fromhex(c.get("received_hex", "")):
            problems.append("client did not receive %r" % s)
    for p in res.get("forbidden_present", []):
        problems.append("forbidden path exists: %s" % p)
    timing = {k: round(v, 2) for k, v in res.get("timing", {}).items() if v is not None}
    return text, timing, problems


def timing_diff(exp, obs):
    bad = []
    for k in sorted(set(exp) & set(obs)):
        tol = max(1.5, 0.25 * exp[k])
        if abs(exp[k] - obs[k]) > tol:
            bad.append("%s: expected ~%.2fs, observed %.2fs (tolerance %.1fs)" % (k, exp[k], obs[k], tol))
    return bad


def outer_main(args):
    if os.geteuid() != 0:
        raise SystemExit("harness: must run as root (namespaces)")
    tcpd = os.path.abspath(args.tcpd)
    if not os.access(tcpd, os.X_OK):
        raise SystemExit("harness: %s is not executable" % tcpd)
    cache = os.environ.get("TCPD_HARNESS_CACHE", DEFAULT_CACHE)
    for need in ("twsvc", "xinetd/usr/sbin/xinetd"):
        if not os.path.exists(os.path.join(cache, need)):
            raise SystemExit("harness: %s/%s missing: run tests/tcpd/setup.sh" % (cache, need))
    wanted = {"openbsd": ["openbsd-inetd"], "xinetd": ["xinetd"],
              "both": ["openbsd-inetd", "xinetd"]}[args.inetd]
    jobs = []
    for name in scenario_names(args.scenarios):
        sc = load_scenario(name)
        if sc["kind"] == "direct":
            jobs.append((sc, "direct"))
        else:
            for v in wanted:
                short = {"openbsd-inetd": "openbsd", "xinetd": "xinetd"}[v]
                if short in sc["superservers"]:
                    jobs.append((sc, v))
    # longest-running first (ident stalls, refusals) to keep the pool busy
    def weight(job):
        sc = job[0]
        w = 0
        if sc["ident"] == "stall":
            w += 10
        if sc["expect"] == "deny":
            w += 5
        return -w
    jobs.sort(key=weight)
    t0 = time.monotonic()
    failures = []
    timing_warnings = []
    results = {}
    lock = threading.Lock()

    def work(job):
        sc, variant = job
        try:
            return job, run_one(sc, variant, tcpd, cache, args.keep, args.verbose), None
        except Exception as e:  # noqa
            return job, None, e

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for job, r, err in ex.map(work, jobs):
            sc, variant = job
            label = "%s [%s]" % (sc["name"], variant)
            with lock:
                if err is not None:
                    failures.append(label)
                    print("ERROR %s: %s" % (label, err))
                    continue
                text, timing, problems, wall = r
                gtxt = os.path.join(sc["dir"], "expected.%s.txt" % variant)
                gtim = os.path.join(sc["dir"], "expected.%s.timing" % variant)
                status = "ok"
                # A documented divergence: tcpwrap's tcpd is compared with
                # its own expected result, which must name an entry of
                # docs/divergences.md.
                alt = os.path.join(sc["dir"], "expected.%s.tcpwrap.txt" % variant)
                if not args.capture and not is_debian(tcpd) and os.path.exists(alt):
                    ok, why = divergence_documented(sc.get("divergence"))
                    if not ok:
                        failures.append(label)
                        print("FAIL %s: %s" % (label, why))
                        continue
                    gtxt = alt
                if args.capture:
                    with open(gtxt, "w", encoding="utf-8", errors="surrogateescape") as f:
                        f.write(text)
                    with open(gtim, "w") as f:
                        json.dump(timing, f, sort_keys=True)
                        f.write("\n")
                    status = "captured"
                else:
                    if not os.path.exists(gtxt):
                        failures.append(label)
                        print("FAIL %s: no golden %s (run with --capture)" % (label, os.path.basename(gtxt)))
                        continue
                    with open(gtxt, encoding="utf-8", errors="surrogateescape") as f:
                        exp = f.read()
                    if exp != text:
                        status = "FAIL"
                        failures.append(label)
                        print("FAIL %s: result differs from %s" % (label, os.path.basename(gtxt)))
                        for dl in difflib.unified_diff(exp.splitlines(), text.splitlines(),
                                                       "expected (%s)" % os.path.basename(gtxt),
                                                       "observed", lineterm="", n=2):
                            print("    " + dl)
                    if args.timing != "off" and os.path.exists(gtim):
                        with open(gtim) as f:
                            bad = timing_diff(json.load(f), timing)
                        if bad:
                            if args.timing == "check":
                                if status != "FAIL":
                                    failures.append(label)
                                status = "FAIL"
                                print("FAIL %s: timing: %s" % (label, "; ".join(bad)))
                            else:
                                timing_warnings.append(label)
                                print("WARN %s: timing: %s" % (label, "; ".join(bad)))
                if problems:
                    if status != "FAIL":
                        failures.append(label)
                    status = "FAIL"
                    for p in problems:
                        print("FAIL %s: expectation: %s" % (label, p))
                results[label] = status
                if args.verbose:
                    print("%-8s %s (%.1fs)" % (status, label, wall))
                if args.show:
                    sys.stdout.write(text)
    elapsed = time.monotonic() - t0
    n = len(jobs)
    print("harness: %d run(s) of %d scenario(s) with %s in %.1fs: %d failed%s" % (
        n, len({j[0]["name"] for j in jobs}), tcpd, elapsed, len(failures),
        ", %d timing warning(s)" % len(timing_warnings) if timing_warnings else ""))
    if args.capture and not failures:
        print("harness: goldens written")
    return 1 if failures else 0


# ------------------------------------------------------------------------------ inner side
# Runs as pid 1 of a fresh pid namespace, inside ns-run's mount + network namespace.

def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stdout.decode(errors="replace")))
    return r


def mount_tmpfs(path, mode="0755"):
    if not os.path.isdir(path):
        return False
    sh("mount", "-t", "tmpfs", "-o", "mode=" + mode, "tw-" + path.strip("/").replace("/", "-"), path)
    return True


FALLBACK_ROOTS = {}  # shadowed dir -> read-only bind mount of the real one (fallback only)


def overlay(path, base):
    """Make directory PATH privately writable: an overlay with its upper layer on our tmpfs.
    Fallback when overlayfs is unavailable: a tmpfs whose entries are symlinks into a
    read-only bind mount of the original; subdirectories are turned into real (tmpfs)
    directories on demand by materialize() before anything is written below them."""
    up, wk = os.path.join(base, "up"), os.path.join(base, "work")
    os.makedirs(up)
    os.makedirs(wk)
    if not os.environ.get("TCPD_HARNESS_NO_OVERLAY"):  # (set to test the fallback)
        r = sh("mount", "-t", "overlay", "tw-ovl", "-o",
               "lowerdir=%s,upperdir=%s,workdir=%s" % (path, up, wk), path, check=False)
        if r.returncode == 0:
            return
    real = os.path.join(base, "real")
    os.makedirs(real)
    sh("mount", "--rbind", path, real)
    sh("mount", "-o", "remount,bind,ro", real)
    mount_tmpfs(path)
    for name in os.listdir(real):
        os.symlink(os.path.join(real, name), os.path.join(path, name))
    FALLBACK_ROOTS[path] = real


def materialize(d):
    """Create directory d; below a fallback-shadowed root, replace symlinks to the real
    tree by private directories first (so nothing is ever written through them)."""
    for root, real in FALLBACK_ROOTS.items():
        if d == root or d.startswith(root + "/"):
            rel = os.path.relpath(d, root)
            cur, cur_real = root, real
            for comp in ([] if rel == "." else rel.split("/")):
                cur, cur_real = os.path.join(cur, comp), os.path.join(cur_real, comp)
                if os.path.islink(cur) and os.readlink(cur) == cur_real:
                    os.unlink(cur)
                    os.mkdir(cur)
                    if os.path.isdir(cur_real):
                        for name in os.listdir(cur_real):
                            os.symlink(os.path.join(cur_real, name), os.path.join(cur, name))
                elif not os.path.lexists(cur):
                    os.mkdir(cur)
            return
    os.makedirs(d, exist_ok=True)


def put_file(dest, data=None, src=None, mode=None):
    materialize(os.path.dirname(dest))
    if src is not None:
        shutil.copyfile(src, dest)
        if mode is None:
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
    else:
        with open(dest, "wb") as f:
            f.write(data)
    if mode is not None:
        os.chmod(dest, mode)


FAKE_DATE = b"#!/bin/sh\n# fake date(1) of the tcpd harness: fixed output\necho 'Thu Jan  1 00:00:00 UTC 1970'\n"
FAKE_MAIL = (b"#!/bin/sh\n# fake mail(1) of the tcpd harness: appends the message to /var/mail/<last arg>\n"
             b"for a; do r=$a; done\nr=$(printf %s \"$r\" | tr -c 'A-Za-z0-9@._-' _)\n"
             b"{ echo \"mail $*\"; cat; } >> /var/mail/$r\n")


class Ident(threading.Thread):
    """RFC 1413 server on port 113 (all addresses, v4 and v6)."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.log = []
        self.lock = threading.Lock()
        self.active = 0
        self.s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.s.bind(("::", 113))
        self.s.listen(16)

    def run(self):
        while True:
            try:
                c, peer = self.s.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
            threading.Thread(target=self.handle, args=(c, peer), daemon=True).start()

    def handle(self, c, peer):
        rec = {"from": unmap(peer[0]), "to": unmap(c.getsockname()[0]) + ":113", "query": ""}
        with self.lock:
            self.log.append(rec)
        try:
            mode, _, arg = self.mode.partition(" ")
            if mode == "close":
                c.close()
                return
            c.settimeout(15)
            q = b""
            while b"\n" not in q and len(q) < 1000:
                d = c.recv(1000)
                if not d:
                    break
                q += d
            rec["query"] = esc(q)
            m = re.match(rb"\s*(\d+)\s*,\s*(\d+)", q)
            cp, sp = (m.group(1).decode(), m.group(2).decode()) if m else ("0", "0")
            reply = None
            if mode == "user":
                reply = ("%s , %s : USERID : UNIX : %s\r\n" % (cp, sp, arg)).encode("utf-8", "surrogateescape")
            elif mode == "lie-ports":
                reply = ("%s , %s : USERID : UNIX : %s\r\n" % (sp, cp, arg)).encode()
            elif mode == "error":
                reply = ("%s , %s : ERROR : NO-USER\r\n" % (cp, sp)).encode()
            elif mode == "garbage":
                reply = b"\x00\xff\xfe garbage, not an ident reply \x1b[2J\r\n"
            elif mode == "raw":
                reply = unescape(arg.replace("{c}", cp).replace("{s}", sp))
            elif mode == "stall":
                c.settimeout(40)
                while c.recv(100):
                    pass
            if reply is not None:
                c.sendall(reply)
            c.close()
        except OSError:
            c.close()
        finally:
            with self.lock:
                self.active -= 1


def saddr(addr, port):
    """socket address tuple; "fe80::5%lo" gets its scope id (python would drop it)."""
    if "%" in addr:
        host, scope = addr.split("%", 1)
        return (host, port, 0, socket.if_nametoindex(scope))
    return (addr, port)


def unmap(a):
    return a[7:] if a.startswith("::ffff:") and "." in a else a


def list_pids():
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


def proc_desc(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return esc(f.read().replace(b"\0", b" ").strip())
    except OSError:
        return "?"


class Reaper:
    def __init__(self):
        self.status = {}

    def reap(self):
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.status[pid] = st


def describe_status(st):
    if os.WIFEXITED(st):
        return "exited %d" % os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st):
        return "killed by signal %d" % os.WTERMSIG(st)
    return "status %d" % st


def spawn(path, argv, env, fds, umask_value=None):
    """posix_spawn with fds = {target_fd: source_fd}; everything else is closed."""
    actions = []
    # dup sources to high numbers first to avoid clobbering
    tmp = {}
    for tgt, src in fds.items():
        n = os.dup(src)
        tmp[tgt] = n
    for tgt, n in tmp.items():
        actions.append((os.POSIX_SPAWN_DUP2, n, tgt))
    # the dups are close-on-exec (python default), so only fds 0..2 reach the child
    old = os.umask(umask_value) if umask_value is not None else None
    try:
        pid = os.posix_spawn(path, argv, env, file_actions=actions,
                             setsigdef=[s for s in signal.valid_signals()
                                        if s not in (signal.SIGKILL, signal.SIGSTOP)],
                             setsigmask=())
    finally:
        if old is not None:
            os.umask(old)
        for n in tmp.values():
            os.close(n)
    return pid


def setup_private_fs(cfg):
    """Inside ns-run's namespace: private /run, /tmp, /var/{tmp,log,mail}, overlays on
    /usr/sbin and /usr/local; the tcpd under test at /usr/sbin/tcpd and /usr/local/bin/tcpd;
    twsvc under the daemon names; fake date/mail; the nagios user; the scenario's files and
    tables.  The scratch directory is bound at /run/tw/out.  Also used by tests/alerts."""
    scratch = cfg["scratch"]
    if not os.path.ismount("/etc"):
        raise SystemExit("inner: /etc is not a private mount (ns-run failed?)")
    mount_tmpfs("/run")
    os.makedirs("/run/tw/out")
    sh("mount", "--bind", scratch, "/run/tw/out")
    # pin the binaries before /usr/sbin, /tmp, ... are shadowed (they may live there)
    put_file("/run/tw/tcpd-under-test", b"")
    sh("mount", "--bind", cfg["tcpd"], "/run/tw/tcpd-under-test")
    os.makedirs("/run/tw/cache")
    sh("mount", "--bind", cfg["cache"], "/run/tw/cache")
    cfg["cache"] = "/run/tw/cache"
    os.makedirs("/run/tw/svc")
    os.chmod("/run/tw/svc", 0o1777)
    os.makedirs("/run/tw/bin")
    for dpath in EFFECT_DIRS:
        mount_tmpfs(dpath, "1777" if "tmp" in dpath else "0755")
    ovl = "/run/tw/ovl"
    overlay("/usr/sbin", ovl + "/sbin")
    overlay("/usr/local", ovl + "/local")
    put_file("/run/tw/twsvc", src=os.path.join(cfg["cache"], "twsvc"), mode=0o755)
    put_file("/run/tw/bin/date", FAKE_DATE, mode=0o755)
    put_file("/run/tw/bin/mail", FAKE_MAIL, mode=0o755)
    # tcpd under test at the paths the configs use
    for p in ("/usr/sbin/tcpd", "/usr/local/bin/tcpd"):
        materialize(os.path.dirname(p))
        if os.path.lexists(p):
            os.unlink(p)
        put_file(p, b"")
        sh("mount", "--bind", "/run/tw/tcpd-under-test", p)
    for name in cfg["daemons"]:
        p = "/usr/sbin/" + name
        materialize(os.path.dirname(p))
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink("/run/tw/twsvc", p)
    for p in cfg["links"]:
        materialize(os.path.dirname(p))
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink("/run/tw/twsvc", p)
    for p in cfg["not_executable"]:
        materialize(os.path.dirname(p))
        if os.path.lexists(p):
            os.unlink(p)
        put_file(p, src="/run/tw/twsvc", mode=0o644)
    # users for the NRPE seed: our own nagios entry replaces one the machine
    # may have (nagios-nrpe-server creates a system user), so ids are stable
    for path, entry in (("/etc/passwd", "nagios:x:9000:9000:nagios:/nonexistent:/usr/sbin/nologin\n"),
                        ("/etc/group", "nagios:x:9000:\n")):
        with open(path) as f:
            kept = [l for l in f if not l.startswith("nagios:")]
        with open(path, "w") as f:
            f.writelines(kept)
            f.write(entry)
    # scenario files (absolute paths under files/)
    for dest, src in sorted(cfg["files"].items()):
        if not any(dest.startswith(r + "/") for r in ["/etc", "/usr/local", "/usr/sbin", "/run/tw"] + EFFECT_DIRS):
            raise SystemExit("inner: files/%s is outside the private directories" % dest)
        put_file(dest, src=src)
    # tables
    for t, key, mode_key in (("/etc/hosts.allow", "hosts.allow", "allow_mode"),
                             ("/etc/hosts.deny", "hosts.deny", "deny_mode")):
        if os.path.lexists(t):
            os.unlink(t)
        if key == "hosts.allow" and cfg["allow_is_dir"]:
            os.mkdir(t)
            continue
        if cfg[key]:
            put_file(t, src=cfg[key], mode=0o644)
            if cfg[mode_key]:
                os.chmod(t, int(cfg[mode_key], 8))


def add_addresses(addrs):
    """Bring up lo and add the addresses to it (/32, /128 nodad)."""
    sh("ip", "link", "set", "lo", "up")
    for a in sorted(addrs):
        a = a.split("%")[0]
        if a in ("127.0.0.1", "::1"):
            continue
        if ":" in a:
            sh("ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad")
        else:
            sh("ip", "addr", "add", a + "/32", "dev", "lo")


def inner_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    os.umask(0o022)
    os.chdir("/")
    # every descriptor we do not pass must be CLOEXEC (python default) -> fine.
    setup_private_fs(cfg)
    out = "/run/tw/out"
    add_addresses({cfg["client"], cfg["server"]} | set(cfg["addresses"]))

    reaper = Reaper()
    ident = None
    if cfg["ident"] != "none":
        ident = Ident(cfg["ident"])
        ident.start()

    env = dict(SS_ENV)
    result = {"timing": {}}
    ss_pid = None
    devnull = os.open("/dev/null", os.O_RDWR)
    sslog = os.open(os.path.join(out, "superserver.stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    variant = cfg["variant"]
    port = PORT_UDP if cfg["proto"] == "udp" else PORT_TCP

    if variant != "direct":
        path, argv = start_superserver(cfg, variant, port, out)
        ss_pid = spawn(path, argv, env, {0: devnull, 1: sslog, 2: sslog}, umask_value=0)
        wait_listening(cfg, port, ss_pid, reaper)

    client = Client(cfg, port)
    if cfg["action"] in ("rst", "close"):
        client.hold_pid = ss_pid
    t0 = time.monotonic()
    direct = None
    if variant == "direct":
        direct = run_direct(cfg, client, env, reaper, devnull, out)
        t_quiet = time.monotonic()
    else:
        client.start()
        t_quiet = wait_quiet(cfg, client, reaper, {ss_pid}, variant, out)
    client.finish()
    result["timing"].update({k: (v - t0 if v is not None else None) for k, v in client.times.items()})
    if variant != "direct" and t_quiet is not None:
        result["timing"]["quiet"] = t_quiet - t0
    if direct is not None:
        result["direct"] = direct
        result["timing"]["exit"] = direct.pop("duration")
    if client.used:
        result["client"] = client.summary()
    # stop the super-server
    if ss_pid is not None:
        stop_pid(ss_pid, reaper)
        result["superserver_notes"] = superserver_notes(variant, out)
    # anything still alive (should be nothing)
    leftovers = []
    for pid in sorted(list_pids() - {1}):
        leftovers.append(proc_desc(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reaper.reap()
    result["leftovers"] = leftovers
    if ident is not None:
        with ident.lock:
            result["ident"] = [dict(r) for r in ident.log]
        ident.s.close()
    # service reports
    runs = []
    for fn in sorted(os.listdir("/run/tw/svc"), key=lambda x: int(x) if x.isdigit() else 0):
        with open(os.path.join("/run/tw/svc", fn), "rb") as f:
            runs.append(f.read().decode("utf-8", "surrogateescape"))
    result["service_runs"] = runs
    result["files"] = snapshot_effects()
    result["forbidden_present"] = [p for p in cfg["forbid"] if os.path.lexists(p)]
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f, indent=1)
    os.rename(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))
    return 0


def start_superserver(cfg, variant, port, out):
    proto = cfg["proto"]
    fam = cfg["listen"]
    args = " ".join(cfg["argv"])
    if variant == "openbsd-inetd":
        p = {"4": proto + "4", "6": proto + "6", "46": proto + "46"}[fam]
        line = "%d\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
            port, "dgram" if proto == "udp" else "stream", p,
            "wait" if proto == "udp" else "nowait", cfg["user"], cfg["program"], args)
        conf = "/run/tw/inetd.conf"
        with open(conf, "w") as f:
            f.write("# generated by tests/tcpd/harness.py\n" + line)
        shutil.copy(conf, os.path.join(out, "inetd.conf"))
        return "/usr/sbin/inetd", ["inetd", "-d", "-E", conf]
    # xinetd
    flags = "NAMEINARGS NOLIBWRAP " + ("IPv4" if fam == "4" else "IPv6")
    conf = "/run/tw/xinetd.conf"
    with open(conf, "w") as f:
        f.write("# generated by tests/tcpd/harness.py\n"
                "defaults\n{\n"
                "\tlog_type = FILE /run/tw/out/xinetd-services.log\n"
                "\tlog_on_success = PID HOST EXIT\n"
                "\tlog_on_failure = HOST\n"
                "}\n"
                "service tw\n{\n"
                "\ttype = UNLISTED\n"
                "\tport = %d\n"
                "\tsocket_type = %s\n"
                "\tprotocol = %s\n"
                "\twait = %s\n"
                "\tuser = %s\n"
                "\tflags = %s\n"
                "\tserver = %s\n"
                "\tserver_args = %s\n"
                "}\n" % (port, "dgram" if proto == "udp" else "stream", proto,
                         "yes" if proto == "udp" else "no", cfg["user"], flags, cfg["program"], args))
    shutil.copy(conf, os.path.join(out, "xinetd.conf"))
    xi = os.path.join(cfg["cache"], "xinetd/usr/sbin/xinetd")
    return xi, ["xinetd", "-dontfork", "-stayalive", "-filelog", "/run/tw/out/xinetd.log", "-f", conf]


def superserver_notes(variant, out):
    notes = ss_counts(variant, out)[2]
    if variant == "xinetd":
        try:
            with open(os.path.join(out, "xinetd-services.log"), errors="replace") as f:
                for l in f:
                    m = re.search(r"\b(EXIT|START|FAIL): (\S+)(.*)$", l)
                    if m:
                        rest = re.sub(r"pid=\d+", "pid=PID", m.group(3))
                        rest = re.sub(r"duration=\d+\(sec\)", "", rest)
                        rest = re.sub(r"from=(\S+)", lambda mm: "from=" + mm.group(1), rest).strip()
                        notes.append("%s: %s %s" % (m.group(1), m.group(2), rest))
        except FileNotFoundError:
            pass
    return notes


def wait_listening(cfg, port, ss_pid, reaper):
    files = ["/proc/net/udp", "/proc/net/udp6"] if cfg["proto"] == "udp" else ["/proc/net/tcp", "/proc/net/tcp6"]
    hexport = ":%04X" % port
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for fn in files:
            with open(fn) as f:
                for l in f.readlines()[1:]:
                    parts = l.split()
                    if parts[1].endswith(hexport) and (cfg["proto"] == "udp" or parts[3] == "0A"):
                        return
        reaper.reap()
        if ss_pid in reaper.status:
            raise SystemExit("inner: super-server exited: %s" % describe_status(reaper.status[ss_pid]))
        time.sleep(0.02)
    raise SystemExit("inner: super-server is not listening on port %d" % port)


def stop_pid(pid, reaper, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        reaper.reap()
        if pid in reaper.status:
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.05)
    reaper.reap()


def ss_counts(variant, out):
    """(children started, children reaped, [exit notes]) according to the super-server's own
    debug output / service log."""
    started, ended, notes = 0, 0, []
    try:
        if variant == "openbsd-inetd":
            with open(os.path.join(out, "superserver.stderr"), errors="replace") as f:
                for l in f:
                    if re.match(r"^\d+ execv ", l):
                        started += 1
                    m = re.match(r"^\d+ reaped, status ([0-9a-f]+)", l)
                    if m:
                        ended += 1
                        notes.append("child reaped, wait status 0x%s (%s)" % (
                            m.group(1), describe_status(int(m.group(1), 16))))
        else:
            with open(os.path.join(out, "xinetd-services.log"), errors="replace") as f:
                for l in f:
                    if re.search(r"\bSTART: ", l):
                        started += 1
                    if re.search(r"\bEXIT: ", l):
                        ended += 1
    except FileNotFoundError:
        pass
    return started, ended, notes


def wait_quiet(cfg, client, reaper, keep, variant, out):
    """Wait until the client is done, every child the super-server started has been reaped,
    and no process other than us and the super-server exists (tcpd, spawned commands, the
    service, background jobs).  Returns the time the last activity was seen (None: none)."""
    t_begin = time.monotonic()
    deadline = t_begin + cfg["quiet_timeout"] + cfg["client_timeout"]
    last_busy = None
    while time.monotonic() < deadline:
        reaper.reap()
        others = list_pids() - {1} - keep
        started, ended, _ = ss_counts(variant, out)
        now = time.monotonic()
        busy = bool(others) or started > ended
        if busy or (started and last_busy is None):
            last_busy = now
        seen = started > 0 or last_busy is not None
        if client.is_alive():
            if client.udp and seen and not busy and now - last_busy >= 0.5:
                client.stop.set()
            elif client.udp and not seen and now - t_begin > 4:
                client.stop.set()
        elif not busy:
            if seen and now - last_busy >= 0.4:
                return last_busy
            if not seen and now - t_begin > 3:
                return None
        time.sleep(0.02)
    client.stop.set()
    return last_busy


class Client(threading.Thread):
    def __init__(self, cfg, port):
        super().__init__(daemon=True)
        self.cfg = cfg
        self.port = port
        self.udp = cfg["proto"] == "udp"
        self.stop = threading.Event()
        self.times = {}
        self.received = b""
        self.connect = None
        self.end = None
        self.sent = None
        self.used = False
        self.t_start = time.monotonic()
        self.sock = None
        self.hold_pid = None

    def family(self):
        return socket.AF_INET6 if ":" in self.cfg["client"] else socket.AF_INET

    def make_socket(self):
        cfg = self.cfg
        s = socket.socket(self.family(), socket.SOCK_DGRAM if self.udp else socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(saddr(cfg["client"], cfg["client_port"]))
        if cfg["action"] == "ipopts-rr" and self.family() == socket.AF_INET:
            # Record Route: type 7, length 11, pointer 4, two empty slots, then EOL padding
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 11, 4] + [0] * 8 + [0]))
        return s

    def run(self):
        self.used = True
        self.t_start = time.monotonic()
        try:
            if self.udp:
                self.run_udp()
            else:
                self.run_tcp()
        except Exception as e:  # noqa
            self.end = "client error: %s" % e

    def run_tcp(self, sock=None):
        cfg = self.cfg
        s = sock
        action = cfg["action"]
        if s is None:
            s = self.make_socket()
            s.settimeout(5)
            if self.hold_pid:
                # the super-server must not accept before the client has closed/reset:
                # stop it while connecting (the kernel completes the handshake)
                os.kill(self.hold_pid, signal.SIGSTOP)
            try:
                s.connect(saddr(cfg["server"], self.port))
                self.connect = "ok"
            except OSError as e:
                self.connect = "failed: %s" % e.strerror
                self.end = "no connection"
                if self.hold_pid:
                    os.kill(self.hold_pid, signal.SIGCONT)
                return
        self.sock = s
        if action in ("rst", "close"):
            if action == "rst":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            self.end = "client %s the connection" % ("reset" if action == "rst" else "closed")
            if self.hold_pid:
                time.sleep(0.1)
                os.kill(self.hold_pid, signal.SIGCONT)
            return
        if cfg.get("send_bytes") is not None:
            data = unescape(cfg["send_bytes"])
            s.sendall(data)
            self.sent = esc(data)
        if action == "halfclose":
            s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
        deadline = self.t_start + cfg["client_timeout"]
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.stop.is_set():
                self.end = "no EOF (client gave up)"
                break
            r, _, _ = select.select([s], [], [], min(left, 0.1))
            if not r:
                continue
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                self.times["eof"] = time.monotonic()
                self.end = "connection reset"
                break
            if not d:
                self.times["eof"] = time.monotonic()
                self.end = "EOF"
                break
            if "first_byte" not in self.times:
                self.times["first_byte"] = time.monotonic()
            self.received += d
        s.close()

    def run_udp(self):
        cfg = self.cfg
        s = self.make_socket()
        self.connect = "udp"
        data = unescape(cfg["send_bytes"]) if cfg.get("send_bytes") is not None else b"hello tcpd\n"
        s.sendto(data, saddr(cfg["server"], self.port))
        self.sent = esc(data)
        s.setblocking(False)
        deadline = self.t_start + cfg["client_timeout"]
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.stop.is_set():
                self.end = "no reply" if not self.received else "reply"
                break
            r, _, _ = select.select([s], [], [], min(left, 0.1))
            if r:
                try:
                    d, _ = s.recvfrom(65536)
                except OSError as e:
                    self.end = "error: %s" % e.strerror
                    break
                if "first_byte" not in self.times:
                    self.times["first_byte"] = time.monotonic()
                self.received += d
                if b"TWSVC END\n" in self.received:
                    self.end = "reply"
                    break
        s.close()

    def finish(self):
        self.stop.set()
        if self.is_alive():
            self.join(5)

    def summary(self):
        return {"connect": self.connect, "action": self.cfg["action"] if self.cfg["action"] != "read" else None,
                "sent": self.sent, "received_hex": self.received.hex(), "end": self.end}


def run_direct(cfg, client, env, reaper, devnull, out):
    """Run tcpd directly with a prepared fd 0."""
    kind = cfg["stdin"]
    path = cfg["program"]
    argv = cfg["argv"]
    fam = socket.AF_INET6 if ":" in cfg["client"] else socket.AF_INET
    keep = []
    outf = os.open(os.path.join(out, "direct.stdout"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    errf = os.open(os.path.join(out, "direct.stderr"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    fds = None
    client_sock = None
    udp_sock = None
    info = {"stdin": kind}
    if kind == "devnull":
        fds = {0: devnull, 1: outf, 2: errf}
    elif kind == "file":
        p = "/run/tw/stdin-file"
        with open(p, "wb") as f:
            f.write(b"hello tcpd\n")
        fd = os.open(p, os.O_RDONLY)
        keep.append(fd)
        fds = {0: fd, 1: outf, 2: errf}
    elif kind == "pipe":
        r, wfd = os.pipe()
        os.write(wfd, b"hello tcpd\n")
        os.close(wfd)
        keep.append(r)
        fds = {0: r, 1: outf, 2: errf}
    elif kind in ("tcp-unconnected", "tcp-listening"):
        s = socket.socket(fam, socket.SOCK_STREAM)
        if kind == "tcp-listening":
            s.bind(saddr(cfg["server"], PORT_TCP))
            s.listen(4)
        keep.append(s)
        fds = {0: s.fileno(), 1: outf, 2: errf}
    elif kind == "unix-stream":
        a, b = socket.socketpair()
        keep.append(b)
        client_sock = a
        fds = {0: b.fileno(), 1: b.fileno(), 2: b.fileno()}
    elif kind.startswith("udp-"):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind(saddr(cfg["server"], PORT_UDP))
        udp_sock = s.dup()
        keep.append(s)
        if kind == "udp-nodata-nonblock":
            s.setblocking(False)
        if kind == "udp-connected":
            s.connect(saddr(cfg["client"], cfg["client_port"]))
        if kind == "udp-datagram":
            c = socket.socket(fam, socket.SOCK_DGRAM)
            c.bind(saddr(cfg["client"], cfg["client_port"]))
            c.sendto(b"hello tcpd\n", saddr(cfg["server"], PORT_UDP))
            keep.append(c)
        fds = {0: s.fileno(), 1: outf, 2: errf}
    elif kind in ("tcp-accepted", "tcp-reset", "tcp-closed"):
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(saddr(cfg["server"], PORT_TCP))
        ls.listen(4)
        c = client.make_socket()
        c.connect(saddr(cfg["server"], PORT_TCP))
        client.connect = "ok"
        a, _ = ls.accept()
        ls.close()
        keep.append(a)
        if kind == "tcp-reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            client.end = "client reset the connection before tcpd started"
            client.used = True
            time.sleep(0.1)
        elif kind == "tcp-closed":
            c.close()
            client.end = "client closed the connection before tcpd started"
            client.used = True
            time.sleep(0.1)
        else:
            client_sock = c
        fds = {0: a.fileno(), 1: a.fileno(), 2: a.fileno()}
    else:
        raise SystemExit("inner: unknown stdin kind %r" % kind)
    t0 = time.monotonic()
    pid = spawn(path, argv, env, fds, umask_value=0)
    for k in keep:
        if isinstance(k, int):
            os.close(k)
        else:
            k.close()
    if client_sock is not None:
        client.t_start = t0
        client.used = True
        client.connect = client.connect or "ok"
        threading.Thread(target=client.run_tcp, args=(client_sock,), daemon=True).start()
    deadline = t0 + cfg["direct_timeout"]
    exitdesc = None
    while time.monotonic() < deadline:
        reaper.reap()
        if pid in reaper.status:
            exitdesc = describe_status(reaper.status[pid])
            break
        time.sleep(0.02)
    dur = time.monotonic() - t0
    if exitdesc is None:
        exitdesc = "still running after %gs (killed)" % cfg["direct_timeout"]
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
        reaper.reap()
    # let spawned children finish
    end = time.monotonic() + cfg["quiet_timeout"]
    quiet_since = time.monotonic()
    while time.monotonic() < end:
        reaper.reap()
        if list_pids() - {1}:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.4:
            break
        time.sleep(0.03)
    info["exit"] = exitdesc
    info["duration"] = dur
    if udp_sock is not None:
        try:
            d = udp_sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            info["queue"] = "datagram still queued: \"%s\"" % esc(d)
        except BlockingIOError:
            info["queue"] = "no datagram queued"
        udp_sock.close()
    for name, fd in (("stdout", outf), ("stderr", errf)):
        if fds.get(1 if name == "stdout" else 2) == fd:
            os.lseek(fd, 0, 0)
            data = b""
            while True:
                d = os.read(fd, 65536)
                if not d:
                    break
                data += d
            info[name + "_hex"] = data.hex()
        os.close(fd)
    return info


def snapshot_effects():
    files = []
    for root in EFFECT_DIRS:
        for dp, dns, fns in os.walk(root):
            dns.sort()
            for n in sorted(fns) + [d for d in dns if os.path.islink(os.path.join(dp, d))]:
                p = os.path.join(dp, n)
                st = os.lstat(p)
                e = {"path": p, "mode": "%04o" % stat.S_IMODE(st.st_mode)}
                if stat.S_ISREG(st.st_mode):
                    e["type"] = "file"
                    with open(p, "rb") as f:
                        e["content_hex"] = f.read(8192).hex()
                elif stat.S_ISLNK(st.st_mode):
                    e["type"] = "symlink -> " + os.readlink(p)
                else:
                    e["type"] = "special"
                files.append(e)
            for dn in dns:
                p = os.path.join(dp, dn)
                if not os.listdir(p):
                    st = os.lstat(p)
                    files.append({"path": p + "/", "type": "empty dir", "mode": "%04o" % stat.S_IMODE(st.st_mode)})
    return files


# ------------------------------------------------------------------------------ main

def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        try:
            sys.exit(inner_main(sys.argv[2]))
        except SystemExit:
            raise
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.exit(3)
    ap = argparse.ArgumentParser(description="tcpd end-to-end harness")
    ap.add_argument("--capture", action="store_true", help="write goldens (expected.*)")
    ap.add_argument("--tcpd", default=os.environ.get("TCPD", "/usr/sbin/tcpd"))
    ap.add_argument("--inetd", choices=["openbsd", "xinetd", "both"], default="both")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("TCPD_HARNESS_JOBS", "24")))
    ap.add_argument("--timing", choices=["check", "warn", "off"], default="check")
    ap.add_argument("--keep", action="store_true", help="keep scratch directories")
    ap.add_argument("-v", "--verbose", action="store_true", help="one status line per run")
    ap.add_argument("--show", action="store_true", help="print every observed result")
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = ap.parse_args()
    if args.list:
        for name in scenario_names(args.scenarios):
            sc = load_scenario(name)
            where = "direct" if sc["kind"] == "direct" else ",".join(sc["superservers"])
            print("%-42s %-7s %-15s %s" % (name, sc["expect"] or "-", where, sc["description"]))
        sys.exit(0)
    sys.exit(outer_main(args))


if __name__ == "__main__":
    main()
