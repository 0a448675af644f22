#!/usr/bin/env python3
"""Write the seed corpora fuzz/corpus/<target>/ from the repository's test
vectors: the reference rows of crates/tcpwrap-core/tests/vectors.rs (§13.1,
§13.3, §13.5), the golden tcpdmatch and tcpdchk cases of tests/golden/
(which hold every table line of the seed documents), the option and
pattern forms of the differential generator (crates/tcpwrap/tests/diffgen),
and the ident replies of §13.4; for `inetd_conf`, the inetd.conf files of
tests/golden, the service lines of the seed documents, tests/tcpwrapd and
docs/tcpwrapd.md, the inetd.conf and tcpwrapd.conf strings of the parsers'
unit tests; for `nsca_input`, the sets, delimiters and send_nsca.cfg
strings of tcpwrap-nsca's unit tests, the examples of the NSCA reference
(/work/shared/reference/nsca-and-passive-checks.md, copied here) and of the
Icinga seed document (000_*.txt).

Run from anywhere; it rewrites fuzz/corpus/ (seed files are named by the
hash of their content, so re-running is idempotent). Only small files are
kept (at most 4 KiB; 12 KiB for nsca_input, whose sets go up to 5 KiB).
"""

import hashlib
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
SEEDS = "/work/shared/seeds"
MAX = 4096
SEP = b"%%%\n"


def rust_str(lit):
    """Decode the body of a Rust string literal."""
    out = bytearray()
    i = 0
    while i < len(lit):
        c = lit[i]
        if c == "\\":
            n = lit[i + 1]
            if n == "n":
                out += b"\n"
            elif n == "t":
                out += b"\t"
            elif n == "r":
                out += b"\r"
            elif n == "0":
                out += b"\0"
            elif n in "\\\"'":
                out += n.encode()
            elif n == "x":
                out.append(int(lit[i + 2:i + 4], 16))
                i += 4
                continue
            elif n == "u":
                end = lit.index("}", i)
                out += chr(int(lit[i + 3:end], 16)).encode()
                i = end + 1
                continue
            elif n == "\n":
                # Line continuation: skip the newline and leading blanks.
                i += 2
                while i < len(lit) and lit[i] in " \t":
                    i += 1
                continue
            i += 2
        else:
            out += c.encode()
            i += 1
    return bytes(out)


def escape(v):
    out = bytearray()
    for b in v:
        if b == 10:
            out += b"\\n"
        elif b == 9:
            out += b"\\t"
        elif b == 13:
            out += b"\\r"
        elif b == 92:
            out += b"\\\\"
        elif b == 0:
            out += b"\\0"
        elif 0x20 <= b <= 0x7E:
            out.append(b)
        else:
            out += b"\\x%02x" % b
    return bytes(out)


def case(header, *sections):
    out = bytearray()
    for k, v in header:
        if isinstance(v, str):
            v = v.encode()
        out += k.encode() + b"=" + escape(v) + b"\n"
    for s in sections:
        if isinstance(s, str):
            s = s.encode()
        out += SEP + s
    return bytes(out)


class Corpus:
    def __init__(self):
        self.files = {}

    def add(self, target, data, limit=MAX):
        if len(data) > limit:
            return
        self.files.setdefault(target, set()).add(data)

    def write(self):
        for target, items in sorted(self.files.items()):
            d = os.path.join(CORPUS, target)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            for data in sorted(items):
                name = hashlib.sha1(data).hexdigest()[:16]
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            print(f"{target}: {len(items)} seeds")


STR = r'"((?:[^"\\]|\\.)*)"'


def vector_rows():
    src = open(os.path.join(ROOT, "crates/tcpwrap-core/tests/vectors.rs")).read()
    rows = []
    pat = re.compile(r"r\((\d+),\s*" + r",\s*".join([STR] * 6), re.S)
    for m in pat.finditer(src):
        rows.append([rust_str(g) for g in m.groups()[1:]])
    req = []
    pat = re.compile(r"ReqRow \{ n: (\d+), allow: " + STR + r", client: " + STR
                     + r", server: (None|Some\(" + STR + r"\))")
    for m in pat.finditer(src):
        server = rust_str(m.group(5)) if m.group(5) is not None else None
        req.append((rust_str(m.group(2)), rust_str(m.group(3)), server))
    opts = []
    block = src[src.index("fn option_parsing_13_5"):]
    block = block[:block.index("for (opt, grant, err)")]
    for m in re.finditer(r"\(\s*" + STR + r",\s*(true|false)", block):
        opts.append(rust_str(m.group(1)))
    pats = [rust_str(m.group(1)) for m in re.finditer(
        r"expand::expand\(\s*b" + STR, src)]
    return rows, req, opts, pats


def sockaddr(s):
    """'10.1.1.1:4000' or '[::ffff:10.1.1.1]:4000' -> 'IP|PORT'."""
    s = s.decode()
    host, port = s.rsplit(":", 1)
    return host.strip("[]") + "|" + port


def golden_cases(kind):
    base = os.path.join(ROOT, "tests/golden", kind)
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)

        def read(f):
            p = os.path.join(d, f)
            return open(p, "rb").read() if os.path.isfile(p) else None

        args = (read("args") or b"").decode(errors="replace").split("\n")
        yield name, args, read("hosts.allow"), read("hosts.deny")


def diffgen_forms():
    src = open(os.path.join(ROOT, "crates/tcpwrap/tests/diffgen/mod.rs")).read()

    def const(name):
        body = src[src.index(f"pub const {name}"):]
        body = body[:body.index("];")]
        return [rust_str(m.group(1)) for m in re.finditer(STR, body)]

    body = src[src.index("pub fn gen_options"):]
    body = body[:body.index(".iter()")]
    options = [rust_str(m.group(1)) for m in re.finditer(STR, body)]
    return {
        "addrs": const("ADDRS"),
        "names": const("NAMES"),
        "users": const("USERS"),
        "daemons": const("DAEMONS"),
        "hosts": const("HOSTS"),
        "options": options,
    }


def looks_like_addr(s):
    return re.fullmatch(r"[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*", s) is not None


def literals(path):
    """The decoded string literals of a Rust (or Python) source file."""
    src = open(os.path.join(ROOT, path)).read()
    return [rust_str(m.group(1)) for m in re.finditer(STR, src)]


SERVICE_LINE = re.compile(rb"^\s*(?:OLD: |NEW: )?(\S+\s+(?:stream|dgram)\s+\S+\s+\S+\s+\S+\s+\S+.*)$")

# Every tcpwrapd.conf key (docs/tcpwrapd.md), and some bad lines.
TCPWRAPD_CONF = [
    b"",
    b"per-source-max 4\nper-source-rate = 10\nservice-max 100\nservice-rate 0\n"
    b"source-prefix-v4 24\nsource-prefix-v6 48\nlookup-timeout 0.5\n"
    b"internal-timeout 30\nworkers 2\nqueue 10\nbacklog 64\nmax-spawn 8\n"
    b"tripwire-alert tcp-wrappers\n",
    b"# limits\nper-source-max 4\nbogus 1\nworkers\nlookup-timeout 1e-3 # s\n"
    b"tripwire-alert none\nsource-prefix-v6 129\nbacklog 0\n",
    b"internal-timeout 86400\nlookup-timeout 0.000000001\ntripwire-alert bad;name\n",
]


def inetd_seeds(c):
    texts = []
    for kind in ("tcpdmatch", "tcpdchk"):
        base = os.path.join(ROOT, "tests/golden", kind)
        for name in sorted(os.listdir(base)):
            f = os.path.join(base, name, "inetd.conf")
            if os.path.isfile(f):
                texts.append(open(f, "rb").read())
    lines = []
    for d in (SEEDS, os.path.join(ROOT, "docs")):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not name.endswith((".txt", ".md")):
                continue
            for raw in open(os.path.join(d, name), "rb").read().split(b"\n"):
                for part in raw.split(b"`"):
                    m = SERVICE_LINE.match(part)
                    if m:
                        lines.append(m.group(1).strip())
    for path in ("crates/tcpwrap-tools/src/inetcf.rs", "crates/tcpwrapd/src/config.rs",
                 "tests/tcpwrapd/peers.py"):
        for lit in literals(path):
            if re.search(rb"\b(stream|dgram)\b", lit) or re.fullmatch(rb"[0-9A-Za-z.*\[\],:]+:\n?", lit):
                texts.append(lit)
    texts.append(b"\n".join(lines) + b"\n")
    for line in lines:
        texts.append(line + b"\n")
    # The forms of the parser: hosts, limits, buffers, users, programs.
    texts += [
        b"127.0.0.1:\necho stream tcp4 nowait.10 nobody:nogroup internal\n"
        b"[::1],127.0.0.2:7 dgram udp,rcvbuf=64k,sndbuf=1m wait root.staff internal\n"
        b"*:\ndaytime stream tcp46 nowait/5/60/2 nobody:nogroup/daemon internal\n"
        b"x stream tcp nowait root ?/no/such/prog prog\n",
        b"127.0.0.1:7023 stream tcp nowait nobody tripwire telnet\n"
        b"127.0.0.1:7024 stream tcp nowait nobody tripwire\n"
        b"7007 stream tcp6 nowait root internal echo\n0 stream tcp nowait root internal echo\n",
        b"9000 stream tcp nowait/4/10/2 root internal echo\n9001 stream tcp46 nowait.30 root internal echo\n"
        b"9002 dgram udp6 wait root internal echo\n65536 stream tcp nowait root internal echo\n",
        b"127.0.0.1:7079 stream tcp nowait nobody /usr/sbin/tcpd /bin/date -u\n"
        b"127.0.0.1:7080 stream tcp nowait nobody /usr/sbin/tcpd in.telnetd\n"
        b"127.0.0.1:7081 stream tcp nowait root /bin/false\n",
        b"# c\n\nbad line\necho stream tcp nowait root internal\n\t \r\n"
        b"rstatd/1-3 dgram rpc/udp wait root /x\necho stream tcp nowait root internal \\\n x\n",
    ]
    for i, t in enumerate(texts):
        c.add("inetd_conf", case([], t, TCPWRAPD_CONF[i % len(TCPWRAPD_CONF)]))
    for t in TCPWRAPD_CONF:
        c.add("inetd_conf", case([], b"", t))
    for lit in literals("crates/tcpwrapd/src/config.rs"):
        if re.search(rb"per-source|tripwire-alert|workers", lit):
            c.add("inetd_conf", case([], b"", lit))


def nsca_seeds(c):
    src = open(os.path.join(ROOT, "crates/tcpwrap-nsca/src/input.rs")).read()
    sets = []
    for m in re.finditer(r"parse_set\(\s*b" + STR + r",\s*(b'(\\t|.)'|0)\s*\)", src):
        d = m.group(3)
        d = b"" if d is None else rust_str(d)
        sets.append((rust_str(m.group(1)), d))
    init = bytes(range(128)) + (1700000000).to_bytes(4, "big")
    cfgs = [b"", b"password=secret\nencryption_method=1\n"]
    for lit in literals("crates/tcpwrap-nsca/src/config.rs"):
        if b"=" in lit and b"'" not in lit and len(lit) < 200:
            cfgs.append(lit)
    cfgs += [b"password=secret\nencryption_method=%d\n" % n for n in range(27)]
    cfgs += [b"password=correct horse battery staple\nencryption_method=3\nlegacy_2_7_mode=true\n"]
    header = [("chunks", "7")]
    for i, (s, d) in enumerate(sets):
        h = header + ([("d", d)] if d != b"\t" else [])
        c.add("nsca_input", case(h, s, cfgs[i % len(cfgs)], init), 12 << 10)
    for i, cfg in enumerate(cfgs):
        c.add("nsca_input", case(header, b"web01\tsshd\t2\tREFUSED sshd from 10.1.2.3\n", cfg,
                                 init if i % 2 else b""), 12 << 10)
    # The reference's examples (§3.3, §6) and the Icinga seed's
    # submit_check_result line (echo -e "$1\t$2\t$3\t$4\n").
    for inp, h in [
            (b"web01\tsshd\t2\tREFUSED sshd from 10.1.2.3\n", []),
            (b"web01\t1\thost down-ish\n", []),
            (b"h1\ts1\t0\tone\nh2\ts2\t1\ttwo\n", []),
            (b"h1\ts1\t0\tone\nh2\ts2\t1\ttwo\n", [("ds", "0x0a")]),
            (b"h1\ts1\t0\tone\nh2\ts2\t1\ttwo\n", [("ds", "10")]),
            (b"firestorm\tTCP Wrappers\t2\tDenied sshd-10.1.2.3\n\n", []),
            (b"firestorm;TCP Wrappers;2;Denied in.telnetd-192.0.2.7\x17firestorm;x;1;y", [("d", "59")]),
            (b"h1\ts\t0\tone\x17h2\ts\t1\ttwo\x17\x17tail", [("chunks", "3")]),
            (b"semi;host\tsvc;x\t0\tout;put\x17a\nb\tc\rd\t2\tx\x7f", []),
            (b"h" * 100 + b"\t" + b"s" * 200 + b"\t-1\t" + b"o" * 4200, [("legacy", "1")]),
            (b"h" * 100 + b"\t" + b"s" * 200 + b"\t70000\t" + b"o" * 4200, []),
            (b"h\ts\t0\t" + b"o" * (5120 - 6) + b"\x17next\ts\t1\tx", []),
            (b"h\ts\t0\t" + b"o" * (5120 - 7) + b"\x17next\ts\t1\tx", []),
            (b"o", [("repeat", "5120")]),
            (b"o", [("repeat", "5121")]),
            (b"h\ts\t0\tx\x17", [("repeat", "900")]),
            (b"h\ts\t0\to \0xyz\t ", []),
            (b"  h \t s \t 0x10 \t o\x0b", [("d", "0x09"), ("ds", "+23")]),
    ]:
        for cfg in (b"", b"password=secret\nencryption_method=14\n"):
            c.add("nsca_input", case(header + h, inp, cfg, init), 12 << 10)
    for d in [b";", b"59", b"0x3b", b"073", b"+59", b"59x", b"315", b"9", b"0", b"-1", b"300",
              b"-0x3b", b"99999999999", b"ab", b" 59", b"", b"00", b"08", b"0x"]:
        c.add("nsca_input", case(header + [("d", d)], b"a;b;0;c\x17d9e90f", b""))
        c.add("nsca_input", case(header + [("ds", d)], b"a\tb\t0\tc;d\te\t1\tf", b""))


def main():
    c = Corpus()
    rows, req_rows, opt_rows, pats = vector_rows()
    forms = diffgen_forms()
    if len(rows) < 100 or not req_rows or not opt_rows:
        sys.exit(f"make-seeds.py: could not read the vectors ({len(rows)} rows)")

    # §13.1: hosts_ctl rows, for the engine and against Debian.
    for allow, deny, daemon, cname, caddr, user in rows:
        h = [("daemon", daemon), ("cname", cname), ("caddr", caddr), ("user", user)]
        c.add("table", case(h, allow, deny))
        c.add("differential", case(h, allow, deny))
        c.add("differential", case([("mode", "req"), ("verbose", "2")] + h, allow, deny))
    # §13.1 request-API rows: socket addresses and a resolver.
    for allow, client, server in req_rows:
        h = [("mode", "req"), ("daemon", "sshd"), ("csin", sockaddr(client)),
             ("methods", "1"), ("rev", "good.example.com"), ("fwd", "10.1.1.1"),
             ("ident", "4000 , 22 : USERID : UNIX : alice\r\n")]
        if server:
            h.append(("ssin", sockaddr(server)))
        c.add("table", case(h, allow, ""))
    # The differential target's own files ($DIR: /file lists, banners).
    for allow, deny, h in [
            ("sshd: $DIR/list0\n", "ALL: ALL\n", [("caddr", "10.0.0.2")]),
            ("ALL: $DIR/list1 EXCEPT 10.9.9.9\n", "ALL: ALL\n", [("cname", "a.example.com"), ("caddr", "10.0.0.7")]),
            ("sshd: ALL: banners $DIR: allow\n", "", [("mode", "req"), ("caddr", "10.0.0.1"), ("expand", "%a %d %u")]),
            ("ALL: $DIR/missing, $DIR/list2: allow\n", "ALL: $DIR/list1: severity mail.info\n", [("caddr", "::1")]),
            ("ALL: ALL: banners .\n", "", [("mode", "req"), ("verbose", "1")]),
            ("sshd: ALL: spawn echo %a %u: twist /bin/echo %c\n", "", [("dry", "1"), ("caddr", "10.0.0.1")]),
            ("sshd: ALL: setenv X %a: umask 077: nice 5: keepalive: linger 3: rfc931 2\n", "", [("caddr", "10.0.0.1")]),
            ("sshd: ALL: twist echo %a\n", "", [("mode", "req"), ("caddr", "10.0.0.1")]),
            ("sshd: ALL: spawn echo %p\n", "", [("mode", "req"), ("verbose", "2"), ("caddr", "10.0.0.1"), ("expand", "%p %d")]),
            ("sshd: ALL: user nobody: group nogroup: allow\n", "", [("caddr", "10.0.0.1")]),
            ("sshd: ALL: spawn " + "%h" * 100 + "\n", "", [("caddr", "10.0.0.1"), ("cname", "x" * 127)])]:
        c.add("differential", case([("daemon", "sshd")] + h, allow, deny))

    # Golden tcpdmatch and tcpdchk cases: the tables of the seed
    # documents and of every pattern, option and format case.
    for kind in ("tcpdmatch", "tcpdchk"):
        for name, args, allow, deny in golden_cases(kind):
            if allow is None and deny is None:
                continue
            words = [a for a in args if a and not a.startswith("-")]
            if "-i" in args:
                words = words[1:]
            h = [("verbose", "2"), ("dry", "1")]
            if len(words) >= 2:
                daemon, client = words[0], words[1]
                h.append(("daemon", daemon.split("@")[0]))
                if "@" in client:
                    u, client = client.split("@", 1)
                    h.append(("user", u))
                h.append(("caddr" if looks_like_addr(client) else "cname", client))
            else:
                h.append(("daemon", "sshd"))
                h.append(("caddr", "10.0.0.1"))
            a, d = allow or b"", deny or b""
            if allow is None:
                h.append(("allow", "missing"))
            if deny is None:
                h.append(("deny", "missing"))
            c.add("table", case(h, a, d))
            c.add("differential", case(h, a, d))
            c.add("differential", case([x for x in h if x[0] != "dry"], a, d))
            for t in (a, d):
                for line in t.split(b"\n"):
                    parts = line.split(b":", 2)
                    if len(parts) == 3:
                        c.add("options", case([("daemon", "sshd"), ("caddr", "10.0.0.1")],
                                              parts[2] + b"\n"))
                    if b"%" in line:
                        c.add("expand", case(
                            [("mode", "req"), ("daemon", "sshd"), ("cname", "h.example.com"),
                             ("caddr", "10.0.0.1"), ("user", "bob")], line))
    # §13.5 option strings and the differential generator's option forms.
    for o in opt_rows + forms["options"]:
        for dry in ("0", "1"):
            c.add("options", case([("dry", dry), ("daemon", "sshd"), ("caddr", "10.0.0.1"),
                                   ("acct", "nobody"), ("acct", "root")], o))
    # §13.3 and the differential test's expansions.
    pats += [b"%a %A %c %d %h %H %n %N %r %R %s %u %% %x %", b"%c@%s", b"[%u] %n %h", b"%x",
             b"%p %%%u", b"%"]
    for p in pats:
        c.add("expand", case([("mode", "req"), ("daemon", "sshd"), ("csin", "10.1.1.1|4000"),
                              ("ssin", "10.1.1.200|22"), ("methods", "1"),
                              ("rev", "good.example.com"), ("fwd", "10.1.1.1"),
                              ("ident", "4000,22:USERID:UNIX:al;ice$\r\n")], p))
        c.add("expand", case([("daemon", "x y"), ("cname", "a`b`.example.com"),
                              ("caddr", "10.0.0.1"), ("user", "x$(id)")], p))
    # §13.4 ident replies.
    for reply in [b"1000 , 2000 : USERID : UNIX : alice\r\n", b"1000,2000:USERID:UNIX:alice\r\n",
                  b"  1000  ,  2000  :  USERID  :  UNIX  :   bob  \n",
                  b"1000 , 2000 : USERID : UNIX : bob\r\nextra\r\n",
                  b"1000 , 2000 : USERID : : alice\r\n", b"1000 , 2000 : USERID ::alice\r\n",
                  b"1000 , 2000 : USERID : UNIX :\r\n", b"2000 , 1000 : USERID : UNIX : alice\r\n",
                  b"1000 , 2000 : ERROR : NO-USER\r\n", b"1000 , 2000 : userid : UNIX : alice\r\n",
                  b"1000 , 2000 : USERID : UNIX : alice smith\r\n",
                  b"1000 , 2000 : USERID : UNIX,US-ASCII : al;ice$\r\n",
                  b"-1 , 2000 : USERID : UNIX : root\r\n",
                  b"99999999999 , 2000 : USERID : UNIX : root\r\n",
                  b"1000 , 2000 : USERID : UNIX : " + b"x" * 300 + b"\r\n"]:
        c.add("ident", case([("cport", "1000"), ("sport", "2000")], reply))
    # C primitives: numbers and addresses as the language writes them.
    for s in forms["addrs"] + forms["hosts"] + [
            b"0", b"+3", b"-1", b"077", b"08", b"0x1f", b" 5", b"5 ", b"4294967296",
            b"99999999999999999999", b"-2147483649", b"1.2.3", b"10.3.3", b"0x0a.0.0.1",
            b"1.2.3.4.", b"fe80::1%lo", b"::ffff:1.2.3.4", b"1::2:3:4:5:6:7", b"::1.2.3.04"]:
        c.add("cprims", s)
    # The C ABI: scripts of request_init/request_set key lists.
    capi = [
        b"init 2 sshd 5 10.0.0.1 0\naccess 0\n",
        b"init 2 sshd\nset 4 h.example.com 5 10.0.0.1 3 bob\naccess 1\nclient\nserver\n",
        b"init 1 -1 2 ftpd\nsin 6 10.0.0.1 4000\nsin 9 10.1.1.200 22\nuser\naccess 2\n",
        b"init 2 sshd\nset 99 x 2 never\naccess 0\n",
        b"init 2 \\xff\\xfe\nset 3 @\nnull 4\naccess 3\npercent 40 %a %u %h %d %%\n",
        b"ctl sshd h.example.com 10.0.0.1 bob 0\nctl NULL NULL NULL NULL 1\n",
        b"xgets 1 abc\\\\\\ndef\\n\nxgets 4096 a\\0b\\n\nsplit [a:b]:c 58\nquad 10.0.0.1\ncidr 24\n",
        b"init 2 sshd\nsin 6 ::ffff:10.0.0.1 4000\nhostname 1\nhostaddr 0\nhostinfo 1\nport 1\n",
        b"init\noptions severity mail.info: allow\noptions frob\n",
        b"percentm %m and %%m\n",
    ]
    for s in capi:
        c.add("capi", s)
    inetd_seeds(c)
    nsca_seeds(c)
    c.write()


if __name__ == "__main__":
    main()
