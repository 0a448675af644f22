#!/usr/bin/env python3
"""End-to-end proof of the Icinga "TCP Wrapper Integration" alert chain (see README.md).

A real openbsd-inetd runs the tcpd under test in front of "sshd" on firestorm; a client
from a refused address connects; tcpd either twists to the seed's handler scripts, which
pipe the result into send_nsca, or (native scenarios) sends the result itself through the
`alert` option and /etc/tcpwrap/alerts.conf. The real NSCA daemon (Debian's nsca 2.10)
runs as the host `monitor` and writes into a command FIFO that this test reads. Every
scenario runs in its own private mount, network and pid namespace (tests/golden/ns-run and
the private file system of tests/tcpd/harness.py, imported from there).

    e2e.py [--tcpd PATH] [--send-nsca PATH] [--tcpdchk PATH] [-j N] [--keep] [-v]
           [--list] [SCENARIO...]

Exit status: 0 all passed, 1 a failure (or a missing peer under CI=true), 2 a set-up
problem. Internal mode (inside the namespaces): e2e.py --inner CONFIG.json
"""

import argparse
import concurrent.futures
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tcpd"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness as H  # noqa: E402  (tests/tcpd/harness.py: namespaces, private fs, client)

EXAMPLES = os.path.join(ROOT, "examples", "icinga")
HOSTS = os.path.join(ROOT, "tests", "tcpd", "hosts")  # firestorm, monitor, intruder...
TEST_ALERTS_CONF = os.path.join(HERE, "alerts.conf")


def alerts_conf_window():
    """The rate-limit window (seconds) of the alert in tests/alerts/alerts.conf."""
    with open(TEST_ALERTS_CONF, encoding="utf-8") as f:
        m = re.search(r"^\[alert tcp-wrappers\]\n(?:(?!\[).*\n)*?\s*window\s*=\s*(\d+)\s*$", f.read(), re.M)
    if not m:
        raise SystemExit("e2e: %s has no window for [alert tcp-wrappers]" % TEST_ALERTS_CONF)
    return int(m.group(1))


WINDOW = alerts_conf_window()

NSCA = "/usr/sbin/nsca"
INETD = "/usr/sbin/inetd"
DEBIAN_SEND_NSCA = "/usr/sbin/send_nsca"

FIRESTORM = "10.2.2.3"  # firestorm.example.com in tests/tcpd/hosts
MONITOR = "192.168.1.12"  # monitor in tests/tcpd/hosts
SSH_PORT = 22
NSCA_PORT = 5667
ICINGA_ID = 9001

# The seed document's paths (inside the namespace only).
HANDLER = "/usr/local/icinga/libexec/eventhandlers/handle_tcp_wrapper"
SUBMIT = "/usr/local/icinga/libexec/eventhandlers/submit_check_result"
SEND_NSCA = "/usr/local/icinga/bin/send_nsca"
SEND_CFG = "/usr/local/nagios/etc/send_nsca.cfg"
# The monitoring side (Icinga 1.x source-install layout).
NSCA_CFG = "/usr/local/icinga/etc/nsca.cfg"
CMD_FILE = "/usr/local/icinga/var/rw/icinga.cmd"
DUMP_FILE = "/usr/local/icinga/var/rw/nsca.dump"
ALERTS_CONF = "/etc/tcpwrap/alerts.conf"

# hosts.allow of the "-name" scenarios: firestorm lets its own domain in. The rule does
# not match the intruder, but it makes tcpd look the client's name up, and %h is then
# the name (Debian's tcpd makes no implicit lookups: tests/tcpd/NOTES.md, "Icinga").
NAME_RULE = b"ALL: .example.com\n"

SEED_TWIST = "ALL: ALL: RFC931: twist (/usr/local/icinga/libexec/eventhandlers/handle_tcp_wrapper %h %d) &"
NATIVE = "ALL: ALL: RFC931: alert tcp-wrappers"


def scenario(name, mode, client, who, description, allow=None, connections=1):
    """One scenario; "expect" lists the command-file lines, in order, each with the plugin
    output nsca must log (None: not checked), a pattern for the text after "[time] " and
    that text for messages."""
    out = "Denied sshd-" + who
    line = "PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;" + out
    expect = [{"output": out, "re": re.escape(line), "show": line}]
    if connections > 1:
        head = ("PROCESS_SERVICE_CHECK_RESULT;firestorm;TCP Wrappers;2;"
                "%d refused connections from %s to 1 services in " % (connections, client))
        expect.append({"output": None, "summary": True, "show": head + "N s",
                       "re": re.escape(head) + r"(\d+) s"})
    return {"name": name, "mode": mode, "client": client, "who": who, "allow": allow,
            "connections": connections, "description": description, "expect": expect,
            "deadline": 15.0 if connections == 1 else WINDOW + 25.0}


SCENARIOS = [
    scenario("chain-address", "chain", "206.182.68.5", "206.182.68.5",
             "seed hosts.deny twist -> handle_tcp_wrapper -> submit_check_result -> send_nsca; "
             "the client has a name, but no rule looked it up: %h is its address"),
    scenario("chain-name", "chain", "206.182.68.5", "intruder.crackers.example",
             "as chain-address, with a (non-matching) domain rule in hosts.allow: %h is the name",
             allow=NAME_RULE),
    scenario("chain-no-name", "chain", "206.182.68.9", "206.182.68.9",
             "as chain-name, from an address without a name: %h is the address", allow=NAME_RULE),
    scenario("native-address", "native", "206.182.68.5", "206.182.68.5",
             "hosts.deny 'alert tcp-wrappers' with /etc/tcpwrap/alerts.conf: tcpd sends the result itself"),
    scenario("native-name", "native", "206.182.68.5", "intruder.crackers.example",
             "as native-address, with the domain rule in hosts.allow: %h is the name", allow=NAME_RULE),
    scenario("native-burst", "native", "206.182.68.5", "206.182.68.5",
             "12 refused connections from one client within the %d s window: one alert, then one "
             "summary" % WINDOW, connections=12),
]


def ci():
    return os.environ.get("CI") == "true"


# ------------------------------------------------------------------------------ outer side

def native_hosts_deny():
    """examples/icinga/hosts.deny switched to the native option the way its comment says:
    the twist line commented out, the alert line uncommented."""
    with open(os.path.join(EXAMPLES, "hosts.deny"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if SEED_TWIST not in lines or "# " + NATIVE not in lines:
        raise RuntimeError("examples/icinga/hosts.deny lacks the seed line or '# %s'" % NATIVE)
    return "\n".join("# " + l if l == SEED_TWIST else NATIVE if l == "# " + NATIVE else l
                     for l in lines).encode()


def nsca_cfg():
    """examples/icinga/nsca.cfg plus two test settings (the daemon takes the last value)."""
    with open(os.path.join(EXAMPLES, "nsca.cfg"), "rb") as f:
        base = f.read()
    return base + (b"\n# appended by tests/alerts/e2e.py: listen on monitor's address only, log every result\n"
                   b"server_address=%s\ndebug=1\n" % MONITOR.encode())


def run_one(sc, opts):
    scratch = tempfile.mkdtemp(prefix="alerts-e2e.%s." % sc["name"])
    os.chmod(scratch, 0o755)
    try:
        bindir = os.path.join(scratch, "bin")
        os.mkdir(bindir)
        files = {NSCA_CFG: os.path.join(scratch, "nsca.cfg")}
        with open(files[NSCA_CFG], "wb") as f:
            f.write(nsca_cfg())
        deny = os.path.join(scratch, "hosts.deny")
        allow = None
        if sc["mode"] == "chain":
            shutil.copyfile(os.path.join(EXAMPLES, "hosts.deny"), deny)
            for dest, name in ((HANDLER, "handle_tcp_wrapper"), (SUBMIT, "submit_check_result"),
                               (SEND_CFG, "send_nsca.cfg")):
                files[dest] = os.path.join(EXAMPLES, name)
            shutil.copyfile(opts.send_nsca, os.path.join(bindir, "send_nsca"))
            os.chmod(os.path.join(bindir, "send_nsca"), 0o755)
        else:
            with open(deny, "wb") as f:
                f.write(native_hosts_deny())
            files[ALERTS_CONF] = TEST_ALERTS_CONF
        if sc["allow"] is not None:
            allow = os.path.join(scratch, "hosts.allow")
            with open(allow, "wb") as f:
                f.write(sc["allow"])
        if opts.tcpdchk:
            shutil.copyfile(opts.tcpdchk, os.path.join(bindir, "tcpdchk"))
            os.chmod(os.path.join(bindir, "tcpdchk"), 0o755)
        cfg = dict(sc)
        cfg.pop("allow")
        cfg.update({
            "scratch": scratch, "tcpd": opts.tcpd, "cache": opts.cache,
            "daemons": ["sshd"], "links": [], "not_executable": [], "files": files,
            "hosts.allow": allow, "hosts.deny": deny, "allow_is_dir": False,
            "allow_mode": None, "deny_mode": None, "has_tcpdchk": bool(opts.tcpdchk),
        })
        with open(os.path.join(scratch, "config.json"), "w") as f:
            json.dump(cfg, f)
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        cmd = [H.NS_RUN, "--hosts", HOSTS, "--syslog", os.path.join(scratch, "syslog"), "--",
               "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
               py, os.path.abspath(__file__), "--inner", os.path.join(scratch, "config.json")]
        t0 = time.monotonic()
        with open(os.path.join(scratch, "inner.log"), "wb") as log:
            try:
                st = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    timeout=sc["deadline"] + 40).returncode
            except subprocess.TimeoutExpired:
                st = "timeout"
        wall = time.monotonic() - t0
        rpath = os.path.join(scratch, "result.json")
        if st != 0 or not os.path.exists(rpath):
            with open(os.path.join(scratch, "inner.log"), "rb") as f:
                tail = f.read().decode("utf-8", "replace")[-3000:]
            return wall, ["set-up: inner run failed (status %s):\n%s" % (st, tail)], [], None
        with open(rpath) as f:
            res = json.load(f)
        try:
            with open(os.path.join(scratch, "syslog"), "rb") as f:
                syslog = f.read().decode("utf-8", "surrogateescape").splitlines()
        except FileNotFoundError:
            syslog = []
        problems, notes, unavailable = evaluate(sc, res, syslog)
        if opts.verbose:
            notes.append("syslog:")
            notes.extend("  " + H.esc_text(l) for l in syslog)
        return wall, problems, notes, unavailable
    finally:
        if opts.keep:
            print("e2e: kept %s" % scratch, file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


PID_RE = re.compile(r"^(\S+) ([^\s\[]+)\[\d+\]: (.*)$")


def evaluate(sc, res, syslog):
    """-> (problems, notes, unavailable): unavailable is the evidence that the tcpd under
    test does not know the alert option (native scenarios), else None."""
    problems, notes = [], []
    recs = []  # (prio, ident, message)
    for l in syslog:
        m = PID_RE.match(l)
        recs.append(m.groups() if m else ("?", "?", l))
    tcpd_recs = [r for r in recs if r[1] == "sshd"]
    nsca_recs = [r for r in recs if r[1] == "nsca"]

    chk = res.get("tcpdchk")
    unavailable = None
    if sc["mode"] == "native":
        bad = [r[2] for r in tcpd_recs if 'bad option name: "alert"' in r[2]]
        if chk and 'bad option name: "alert"' in chk["output"]:
            unavailable = "tcpdchk: " + chk["output"].strip().splitlines()[0]
        elif bad:
            unavailable = "tcpd logged: " + bad[0]
    if chk is not None:
        if chk["status"] != 0 or chk["output"].strip():
            if unavailable is None:
                problems.append("tcpdchk (exit %s) complains about the tables:\n%s" % (
                    chk["status"], chk["output"].rstrip()))
        else:
            notes.append("tcpdchk: no complaint")

    # 1. the command file
    lines = res["command_file"]
    t_lo, t_hi = res["wall_start"] - 2, res["wall_end"] + 2
    want = sc["expect"]
    if len(lines) != len(want):
        problems.append("command file: %d line(s), expected %d:%s" % (
            len(lines), len(want), "".join("\n    " + H.esc(x["text"]) for x in lines) or " none"))
    for i, (exp, got) in enumerate(zip(want, lines)):
        m = re.fullmatch(r"\[(\d+)\] " + exp["re"], got["text"])
        if not m:
            problems.append("command file line %d is\n    %s\nexpected [time] %s" % (
                i + 1, H.esc(got["text"]), exp["show"]))
            continue
        ts = int(m.group(1))
        if not t_lo <= ts <= t_hi:
            problems.append("command file line %d: timestamp %d outside the run (%d..%d)" % (i + 1, ts, t_lo, t_hi))
        notes.append("command file +%.1fs: %s" % (got["t"], got["text"]))
        if exp.get("summary"):
            n = int(m.group(2))
            if n > WINDOW + 2:
                problems.append("summary: %d s is longer than the %d s window" % (n, WINDOW))
    # 2. the refused clients
    for i, c in enumerate(res["clients"], 1):
        ok = c["connect"] == "ok" and c["received_hex"] == "" and c["end"] == "EOF"
        desc = "connect %s, received \"%s\", %s after %.1fs" % (
            c["connect"], H.esc(bytes.fromhex(c["received_hex"])), c["end"], c["eof"] if c["eof"] is not None else -1)
        if not ok:
            problems.append("client %d: expected a connection closed without data: %s" % (i, desc))
        elif i == 1 or not problems:
            notes.append("client %d: %s" % (i, desc))
    # 3. tcpd's syslog records
    who, n = sc["who"], sc["connections"]
    if sc["mode"] == "chain":
        exp = "twist %s to (%s %s sshd) &" % (who, HANDLER, who)
    else:
        exp = "refused connect from %s (%s)" % (who, sc["client"])  # Debian's format
    got = sum(1 for r in tcpd_recs if r[0] == "daemon.warning" and r[2] == exp)
    if got != n:
        problems.append("syslog: %d record(s) 'daemon.warning sshd[PID]: %s', expected %d" % (got, exp, n))
    else:
        notes.append("syslog: %d x daemon.warning sshd[PID]: %s" % (n, exp))
    for r in tcpd_recs:
        if r[2].startswith("error:") or r[2].startswith("warning:"):
            problems.append("syslog: tcpd reported: %s %s" % (r[0], H.esc_text(r[2])))
    # 4. the NSCA daemon's syslog records (debug=1)
    for exp_out in (e["output"] for e in want):
        if exp_out is None:
            continue
        rec = ("SERVICE CHECK -> Host Name: 'firestorm', Service Description: 'TCP Wrappers', "
               "Return Code: '2', Output: '%s'" % exp_out)
        if not any(r[2] == rec for r in nsca_recs):
            problems.append("syslog: no nsca record %r" % rec)
    for r in nsca_recs:
        if re.search(r"invalid|Dropping|Could not|Cannot|Strict mode", r[2]):
            problems.append("syslog: nsca reported: %s" % H.esc_text(r[2]))
    # 5. clean end
    if res["dump_file"]:
        problems.append("nsca wrote its alternate dump file: %s" % res["dump_file"])
    for p in res["leftovers"]:
        problems.append("process still running at the end (killed): %s" % p)
    if res["nsca_exit"] != "exited 0":
        problems.append("nsca: %s (expected a clean exit after SIGTERM)" % res["nsca_exit"])
    return problems, notes, unavailable


def find_tool(name, explicit, env):
    if explicit:
        return explicit
    if os.environ.get(env):
        return os.environ[env]
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "debug", name)


def outer_main(args):
    if os.geteuid() != 0:
        print("e2e: must run as root (namespaces)", file=sys.stderr)
        return 2
    args.tcpd = os.path.abspath(find_tool("tcpd", args.tcpd, "TCPD"))
    if not os.access(args.tcpd, os.X_OK):
        print("e2e: tcpd under test %s is not executable (cargo build -p tcpwrap-tools, or --tcpd)"
              % args.tcpd, file=sys.stderr)
        return 2
    if args.send_nsca is None:
        ours = find_tool("send_nsca", None, "SEND_NSCA")
        args.send_nsca = ours if os.access(ours, os.X_OK) else DEBIAN_SEND_NSCA
    args.send_nsca = os.path.abspath(args.send_nsca)
    if args.tcpdchk is None:
        beside = os.path.join(os.path.dirname(args.tcpd), "tcpdchk")
        args.tcpdchk = beside if os.access(beside, os.X_OK) else None
    elif args.tcpdchk == "none":
        args.tcpdchk = None
    args.cache = os.environ.get("TCPD_HARNESS_CACHE", H.DEFAULT_CACHE)
    names = select_names(args.scenarios)
    chosen = [s for s in SCENARIOS if s["name"] in names]
    # the peers: a missing one fails under CI=true, elsewhere the run is skipped
    missing = []
    for what, path in (("the nsca daemon (apt-get install nsca)", NSCA),
                       ("openbsd-inetd", INETD),
                       ("the test service (tests/tcpd/setup.sh)", os.path.join(args.cache, "twsvc"))):
        if not os.access(path, os.X_OK):
            missing.append("%s: %s" % (what, path))
    if any(s["mode"] == "chain" for s in chosen) and not os.access(args.send_nsca, os.X_OK):
        missing.append("send_nsca: %s" % args.send_nsca)
    if missing:
        for m in missing:
            print("e2e: missing peer: %s" % m)
        if ci():
            print("e2e: FAIL: peers missing under CI=true")
            return 1
        print("e2e: SKIP: peers missing (run tests/alerts/setup.sh as root)")
        return 0
    print("e2e: tcpd %s, send_nsca %s, tcpdchk %s" % (args.tcpd, args.send_nsca, args.tcpdchk or "-"))
    t0 = time.monotonic()
    failed, unavailable = [], []

    def work(sc):
        try:
            return sc, run_one(sc, args), None
        except Exception as e:  # noqa
            return sc, None, e

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for sc, r, err in ex.map(work, chosen):
            if err is not None:
                failed.append(sc["name"])
                print("ERROR %s: %s" % (sc["name"], err))
                continue
            wall, problems, notes, unavail = r
            if unavail is not None:
                unavailable.append(sc["name"])
                failed.append(sc["name"])
                print("FAIL %s (%.1fs): alert option not available in this tcpd (%s)" % (
                    sc["name"], wall, unavail))
                if args.verbose:
                    for n in notes:
                        print("    " + n)
                continue
            status = "FAIL" if problems else "PASS"
            if problems:
                failed.append(sc["name"])
            print("%s %s (%.1fs): %s" % (status, sc["name"], wall, sc["description"]))
            for p in problems:
                print("    problem: " + p.replace("\n", "\n    "))
            if problems or args.verbose:
                for n in notes:
                    print("    " + n)
    print("e2e: %d scenario(s) in %.1fs: %d failed" % (len(chosen), time.monotonic() - t0, len(failed)))
    if unavailable:
        print("e2e: alert option not available in this tcpd (%s): %s need(s) the merged `alert` "
              "option and /etc/tcpwrap/alerts.conf support" % (args.tcpd, ", ".join(unavailable)))
    return 1 if failed else 0


def select_names(selected):
    allnames = [s["name"] for s in SCENARIOS]
    if not selected:
        return allnames
    out = []
    for s in selected:
        m = [n for n in allnames if n == s or n.startswith(s)]
        if not m:
            raise SystemExit("e2e: no scenario %r (have: %s)" % (s, " ".join(allnames)))
        out.extend(n for n in m if n not in out)
    return out


# ------------------------------------------------------------------------------ inner side
# pid 1 of a fresh pid namespace, inside ns-run's mount + network namespace.

class CommandPipe(threading.Thread):
    """Reader of Icinga's external command FIFO. Opened read-write, so the FIFO always has
    a reader (nsca's non-blocking open would otherwise fail with ENXIO and lose the
    result) and reads never see EOF between writers."""

    def __init__(self, path, t0):
        super().__init__(daemon=True)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.t0 = t0
        self.lines = []
        self.buf = b""
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            now = time.monotonic() - self.t0
            with self.lock:
                self.buf += data
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    self.lines.append({"t": now, "text": line.decode("utf-8", "surrogateescape")})

    def count(self):
        with self.lock:
            return len(self.lines)


def option_rejected(out):
    """tcpd logged that it does not know the alert option: no line will come."""
    try:
        with open(os.path.join(out, "syslog"), "rb") as f:
            return b'bad option name: "alert"' in f.read()
    except FileNotFoundError:
        return False


def inner_main(cfg_path):
    with open(cfg_path) as f:
        cfg = json.load(f)
    os.umask(0o022)
    os.chdir("/")
    out = "/run/tw/out"

    def inside(p):  # the scratch directory is seen at /run/tw/out (/tmp becomes private)
        return out + p[len(cfg["scratch"]):] if p and p.startswith(cfg["scratch"] + "/") else p

    cfg["files"] = {dest: inside(src) for dest, src in cfg["files"].items()}
    for k in ("hosts.allow", "hosts.deny"):
        cfg[k] = inside(cfg[k])
    H.setup_private_fs(cfg)
    # state an alert implementation might keep must not reach the machine either
    for d in ("/var/lib", "/var/cache", "/var/spool"):
        if os.path.isdir(d):
            H.overlay(d, "/run/tw/ovl" + d.replace("/", "-"))
    # the monitor's user (nsca drops root to it, see nsca.cfg)
    pw = "icinga:x:%d:%d:icinga:/usr/local/icinga:/usr/sbin/nologin\n" % (ICINGA_ID, ICINGA_ID)
    for path, entry in (("/etc/passwd", pw), ("/etc/group", "icinga:x:%d:\n" % ICINGA_ID)):
        with open(path) as f:
            kept = [l for l in f if not l.startswith("icinga:")]
        with open(path, "w") as f:
            f.writelines(kept)
            f.write(entry)
    if cfg["mode"] == "chain":
        H.put_file(SEND_NSCA, src=os.path.join(out, "bin", "send_nsca"), mode=0o755)
    # the monitor's Icinga directories and command FIFO (owned by icinga, like Icinga 1.x)
    for d, mode in (("/usr/local/icinga/var", 0o755), ("/usr/local/icinga/var/rw", 0o770)):
        H.materialize(d)
        os.chown(d, ICINGA_ID, ICINGA_ID)
        os.chmod(d, mode)
    os.mkfifo(CMD_FILE, 0o660)
    os.chown(CMD_FILE, ICINGA_ID, ICINGA_ID)
    # inetd.conf of firestorm: sshd behind tcpd
    with open("/etc/inetd.conf", "w") as f:
        f.write("# generated by tests/alerts/e2e.py\n%d\tstream\ttcp4\tnowait\troot\t/usr/sbin/tcpd\tsshd\n" % SSH_PORT)
    H.add_addresses({cfg["client"], FIRESTORM, MONITOR})

    reaper = H.Reaper()
    devnull = os.open("/dev/null", os.O_RDWR)
    result = {}
    if cfg["has_tcpdchk"]:
        r = subprocess.run([os.path.join(out, "bin", "tcpdchk")], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        result["tcpdchk"] = {"status": r.returncode, "output": r.stdout.decode("utf-8", "replace")}
    t0 = time.monotonic()
    result["wall_start"] = time.time()
    pipe = CommandPipe(CMD_FILE, t0)
    pipe.start()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    nlog = os.open(os.path.join(out, "nsca.stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    nsca_pid = H.spawn(NSCA, ["nsca", "-c", NSCA_CFG, "-f", "--single"], env, {0: devnull, 1: nlog, 2: nlog})
    H.wait_listening({"proto": "tcp"}, NSCA_PORT, nsca_pid, reaper)
    sslog = os.open(os.path.join(out, "superserver.stderr"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    ss_pid = H.spawn(INETD, ["inetd", "-d", "-E", "/etc/inetd.conf"], dict(H.SS_ENV),
                     {0: devnull, 1: sslog, 2: sslog}, umask_value=0)
    H.wait_listening({"proto": "tcp"}, SSH_PORT, ss_pid, reaper)

    clients = []
    for _ in range(cfg["connections"]):
        c = H.Client({"client": cfg["client"], "client_port": 0, "server": FIRESTORM, "proto": "tcp",
                      "action": "read", "client_timeout": cfg["deadline"]}, SSH_PORT)
        c.start()
        clients.append(c)
        time.sleep(0.05)  # inetd accepts them one by one anyway; keep the order stable
    # wait: clients done, inetd's children reaped, no other process left (the twisted
    # handler, send_nsca, anything an alert implementation leaves behind), every
    # expected line arrived, and then 1.5 s without change
    deadline = t0 + cfg["deadline"]
    want = len(cfg["expect"])
    settled = None
    last = None
    while time.monotonic() < deadline:
        reaper.reap()
        others = H.list_pids() - {1, ss_pid, nsca_pid}
        started, ended, _ = H.ss_counts("openbsd-inetd", out)
        state = (len(others), started, ended, pipe.count())
        done = (all(not c.is_alive() for c in clients) and not others
                and started >= cfg["connections"] and ended >= started
                and (pipe.count() >= want or option_rejected(out)))
        now = time.monotonic()
        if not done or state != last or settled is None:
            settled = now if done else None
        elif now - settled >= 1.5:
            break
        last = state
        time.sleep(0.05)
    for c in clients:
        c.finish()
    H.stop_pid(ss_pid, reaper)
    # nsca last: anything sent to it before is processed (single mode reads in order)
    time.sleep(0.2)
    H.stop_pid(nsca_pid, reaper)
    result["nsca_exit"] = H.describe_status(reaper.status[nsca_pid]) if nsca_pid in reaper.status else "not reaped"
    result["wall_end"] = time.time()
    pipe.stop.set()
    pipe.join(2)
    leftovers = []
    for pid in sorted(H.list_pids() - {1}):
        leftovers.append(H.proc_desc(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    reaper.reap()
    result["leftovers"] = leftovers
    result["command_file"] = pipe.lines
    result["clients"] = []
    for c in clients:
        s = c.summary()
        s["eof"] = c.times["eof"] - c.t_start if "eof" in c.times else None
        result["clients"].append(s)
    result["dump_file"] = DUMP_FILE if os.path.lexists(DUMP_FILE) else None
    result["superserver_notes"] = H.superserver_notes("openbsd-inetd", out)
    with open(os.path.join(out, "result.json.tmp"), "w") as f:
        json.dump(result, f, indent=1)
    os.rename(os.path.join(out, "result.json.tmp"), os.path.join(out, "result.json"))
    return 0


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
    ap = argparse.ArgumentParser(description="Icinga TCP Wrappers alert chain, end to end")
    ap.add_argument("--tcpd", help="tcpd under test (default: $TCPD, else target/debug/tcpd)")
    ap.add_argument("--send-nsca", help="send_nsca for the script chain (default: $SEND_NSCA, else "
                    "target/debug/send_nsca if built, else Debian's /usr/sbin/send_nsca)")
    ap.add_argument("--tcpdchk", help="tcpdchk that checks the tables first (default: the one beside "
                    "--tcpd, if any; 'none' to skip)")
    ap.add_argument("-j", "--jobs", type=int, default=len(SCENARIOS))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories")
    ap.add_argument("-v", "--verbose", action="store_true", help="details and syslog of every scenario")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("scenarios", nargs="*", help="names or name prefixes (default: all)")
    args = ap.parse_args()
    if args.list:
        for s in SCENARIOS:
            print("%-15s %s" % (s["name"], s["description"]))
        sys.exit(0)
    sys.exit(outer_main(args))


if __name__ == "__main__":
    main()
