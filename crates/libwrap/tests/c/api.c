/*
 * api.c - exercises every function, variable and RQ_* key of libwrap.so.0
 * and prints what it sees (results, request fields, variables, syslog
 * records). Built against our tcpd.h and against Debian's, and run against
 * our library and Debian's: all outputs must be identical.
 *
 * usage: api WORKDIR      (WORKDIR: an empty directory, used for tables)
 *
 * Also defines clean_exit and shell_cmd: the library's internal calls must
 * reach these (interposition, as tcpdmatch relies on).
 */
#include "capture.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>

#include <tcpd.h>

extern int dry_run;
extern jmp_buf tcpd_buf;
extern unsigned long cidr_mask_addr(char *);
extern void fix_options(struct request_info *);
extern char *percent_m(char *, char *);

static int interpose_shell = 0;
static int interpose_exit = 0;

/* The library's spawn must call this (through the dynamic symbol). */
void shell_cmd(char *command)
{
    if (interpose_shell) {
        show("program shell_cmd", command);
        return;
    }
    void (*real)(char *) = (void (*)(char *)) dlsym(RTLD_NEXT, "shell_cmd");
    real(command);
}

/* refuse, twist failures and fix_options must call this. */
void clean_exit(struct request_info *r)
{
    if (interpose_exit) {
        printf("program clean_exit fd=%d sink=%s\n", r ? r->fd : -99,
               r && r->sink ? "yes" : "no");
        fflush(stdout);
        return;
    }
    void (*real)(struct request_info *) =
        (void (*)(struct request_info *)) dlsym(RTLD_NEXT, "clean_exit");
    real(r);
}

static void put(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    if (!f) {
        perror(file);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void section(const char *name)
{
    printf("== %s\n", name);
    fflush(stdout);
}

static void globals(void)
{
    printf("globals allow_severity=%d deny_severity=%d verbose=%d rfc931_timeout=%d "
           "resident=%d dry_run=%d allow=%s deny=%s\n",
           allow_severity, deny_severity, hosts_access_verbose, rfc931_timeout,
           resident, dry_run, hosts_allow_table, hosts_deny_table);
    printf("context file=%s line=%d\n",
           tcpd_context.file ? tcpd_context.file : "(null)", tcpd_context.line);
    fflush(stdout);
}

static void dump(const char *what, struct request_info *r)
{
    char pidbuf[16];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int) getpid());
    printf("%s fd=%d user=[%s] daemon=[%s] pid=%s cname=[%s] caddr=[%s] sname=[%s] "
           "saddr=[%s] csin=%s ssin=%s sink=%s hostname=%s hostaddr=%s back=%s\n",
           what, r->fd, r->user, r->daemon,
           strcmp(r->pid, pidbuf) == 0 ? "self" : r->pid,
           r->client->name, r->client->addr, r->server->name, r->server->addr,
           r->client->sin ? "set" : "null", r->server->sin ? "set" : "null",
           r->sink ? "set" : "null",
           r->hostname == 0 ? "null" : (r->hostname == sock_hostname ? "sock" : "other"),
           r->hostaddr == 0 ? "null" : (r->hostaddr == sock_hostaddr ? "sock" : "other"),
           (r->client->request == r && r->server->request == r) ? "ok" : "bad");
    fflush(stdout);
}

static void layout(void)
{
    section("layout");
    printf("host_info size=%zu name=%zu addr=%zu sin=%zu unit=%zu request=%zu\n",
           sizeof(struct host_info), offsetof(struct host_info, name),
           offsetof(struct host_info, addr), offsetof(struct host_info, sin),
           offsetof(struct host_info, unit), offsetof(struct host_info, request));
    printf("request_info size=%zu fd=%zu user=%zu daemon=%zu pid=%zu client=%zu "
           "server=%zu sink=%zu hostname=%zu hostaddr=%zu cleanup=%zu config=%zu\n",
           sizeof(struct request_info), offsetof(struct request_info, fd),
           offsetof(struct request_info, user), offsetof(struct request_info, daemon),
           offsetof(struct request_info, pid), offsetof(struct request_info, client),
           offsetof(struct request_info, server), offsetof(struct request_info, sink),
           offsetof(struct request_info, hostname), offsetof(struct request_info, hostaddr),
           offsetof(struct request_info, cleanup), offsetof(struct request_info, config));
    printf("tcpd_context size=%zu line=%zu\n", sizeof(struct tcpd_context),
           offsetof(struct tcpd_context, line));
    printf("STRING_LENGTH=%d RQ=%d,%d,%d,%d,%d,%d,%d,%d,%d AC=%d,%d,%d\n", STRING_LENGTH,
           RQ_FILE, RQ_DAEMON, RQ_USER, RQ_CLIENT_NAME, RQ_CLIENT_ADDR, RQ_CLIENT_SIN,
           RQ_SERVER_NAME, RQ_SERVER_ADDR, RQ_SERVER_SIN, AC_PERMIT, AC_DENY, AC_ERROR);
    printf("unknown=%s paranoid=%s sizes=%zu,%zu\n", unknown, paranoid,
           strlen(unknown), strlen(paranoid));
}

static struct sockaddr_in sin4(const char *a, int port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 sin6(const char *a, int port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

static void requests(void)
{
    struct request_info r;
    char long_name[300];
    struct sockaddr_in c = sin4("10.1.2.3", 4000), s = sin4("10.9.9.9", 22);

    section("request_init");
    memset(&r, 0x5a, sizeof r);
    request_init(&r, 0);
    dump("init", &r);
    printf("cleanup=%s config=%s unit=%s\n", r.cleanup ? "set" : "null",
           r.config ? "set" : "null", r.client->unit ? "set" : "null");
    request_init(&r, RQ_FILE, 7, RQ_DAEMON, "sshd", RQ_USER, "bob", RQ_CLIENT_NAME,
                 "cl.example.com", RQ_CLIENT_ADDR, "10.1.2.3", RQ_SERVER_NAME, "srv",
                 RQ_SERVER_ADDR, "10.9.9.9", RQ_CLIENT_SIN, &c, RQ_SERVER_SIN, &s, 0);
    dump("all", &r);
    printf("sin same=%d,%d\n", r.client->sin == (void *) &c, r.server->sin == (void *) &s);

    section("request_set");
    memset(long_name, 'd', sizeof long_name);
    long_name[200] = 0;
    request_set(&r, RQ_DAEMON, long_name, RQ_USER, "", 0);
    printf("daemon len=%zu user=[%s]\n", strlen(r.daemon), r.user);
    request_set(&r, RQ_CLIENT_NAME, "a", 99, "x", RQ_CLIENT_ADDR, "zzz", 0);
    dump("badkey", &r);
    request_set(&r, -1, RQ_DAEMON, "never", 0);
    dump("negkey", &r);
    request_set(&r, RQ_CLIENT_NAME, "", RQ_CLIENT_ADDR, "", RQ_SERVER_NAME, "",
                RQ_SERVER_ADDR, "", 0);
    dump("cleared", &r);
}

static void evals(void)
{
    struct request_info r;
    struct sockaddr_in c = sin4("10.1.2.3", 4000), s = sin4("10.9.9.9", 22);
    struct sockaddr_in6 c6 = sin6("2001:db8::7", 65535);

    section("eval");
    request_init(&r, RQ_DAEMON, "in.ftpd", 0);
    printf("user=%s\n", eval_user(&r));
    printf("hostname=%s hostaddr=%s hostinfo=%s\n", eval_hostname(r.client),
           eval_hostaddr(r.client), eval_hostinfo(r.client));
    printf("client=%s server=%s daemon=%s pid=%s\n", eval_client(&r), eval_server(&r),
           eval_daemon(&r), strcmp(eval_pid(&r), r.pid) == 0 ? "same" : "diff");
    dump("after", &r);

    request_init(&r, RQ_DAEMON, "d", RQ_USER, "alice", RQ_CLIENT_ADDR, "10.0.0.1",
                 RQ_SERVER_NAME, "srv.example.com", 0);
    printf("client=%s server=%s hostinfo=%s\n", eval_client(&r), eval_server(&r),
           eval_hostinfo(r.server));
    request_set(&r, RQ_CLIENT_NAME, "paranoid", RQ_USER, "unknown", 0);
    printf("client=%s hostinfo=%s\n", eval_client(&r), eval_hostinfo(r.client));
    request_set(&r, RQ_CLIENT_NAME, "Host.Example.COM", RQ_USER, "UNKNOWN", 0);
    printf("client=%s\n", eval_client(&r));
    request_set(&r, RQ_SERVER_NAME, "unknown", RQ_SERVER_ADDR, "UnKnown", 0);
    printf("server=%s\n", eval_server(&r));

    printf("port null=%s v4=%s v6=%s\n", eval_port(NULL), eval_port((void *) &c),
           eval_port((void *) &c6));

    /* Socket addresses without methods: never turned into text. */
    request_init(&r, RQ_CLIENT_SIN, &c, RQ_SERVER_SIN, &s, RQ_USER, "u", 0);
    printf("nomethods addr=%s name=%s\n", eval_hostaddr(r.client), eval_hostname(r.client));
    /* With the socket methods. */
    request_init(&r, RQ_CLIENT_SIN, &c6, RQ_SERVER_SIN, &s, RQ_USER, "u", 0);
    sock_methods(&r);
    printf("methods addr=%s saddr=%s\n", eval_hostaddr(r.client), eval_hostaddr(r.server));
    printf("methods name=%s\n", eval_hostname(r.client));
    dump("methods", &r);
    {
        struct host_info h;
        struct sockaddr_in lo = sin4("127.0.0.1", 0);
        memset(&h, 0, sizeof h);
        h.sin = (void *) &lo;
        sock_hostaddr(&h);
        sock_hostname(&h);
        printf("direct addr=%s name=[%s]\n", h.addr, h.name);
        h.sin = 0;
        memset(h.name, 0, sizeof h.name);
        sock_hostname(&h);
        sock_hostaddr(&h);
        printf("null sin name=[%s]\n", h.name);
    }
}

static void helpers(void)
{
    static const char *quads[] = {
        "1.2.3.4", "10.0.0.1", "255.255.255.255", "1.2.3", "1.2.3.4.5", "1..2.3.4",
        "0x1.2.3.4", "010.0.0.1", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "256.1.1.1", "",
        "1.2.3.4x", "1.2.3.4\t5", ".1.2.3.4", "1.2.3.4.", 0
    };
    static const char *masks[] = {
        "24", "0", "1", "32", "33", "-1", " 8", "8x", "x", "", "16.5", "+12",
        /* atoi() is (int) strtol(): lengths wrap modulo 2^32 (fuzzing) */
        "4294967304", "-4294967288", "99999999999999999999", 0
    };
    static const char *splits[] = {
        "a:b:c", "[a:b]:c:d", "no colon", ":lead", "[unclosed:x", "]x:y", "a]b[:c", "", 0
    };
    char buf[256];
    int i;

    section("helpers");
    for (i = 0; quads[i]; i++)
        printf("dot_quad_addr(%s)=%#lx\n", quads[i], dot_quad_addr((char *) quads[i]));
    for (i = 0; masks[i]; i++)
        printf("cidr_mask_addr(%s)=%#lx\n", masks[i], cidr_mask_addr((char *) masks[i]));
    for (i = 0; splits[i]; i++) {
        char *rest;
        strcpy(buf, splits[i]);
        rest = split_at(buf, ':');
        printf("split_at(%s)=[%s] [%s]\n", splits[i], buf, rest ? rest : "(null)");
    }
    strcpy(buf, "x,y");
    printf("split_at(x,y ',')=[%s]\n", split_at(buf, ','));
    /* The delimiter is an int compared with a (signed) char: 255 and 257
     * never match, -1 matches byte 0xff (found by fuzzing). */
    {
        static const int delims[] = { 255, 257, -1, 1, -255, 0 };
        for (i = 0; delims[i]; i++) {
            char *rest;
            strcpy(buf, "a\001b\377c");
            rest = split_at(buf, delims[i]);
            printf("split_at(%d)=%zu %s\n", delims[i], strlen(buf), rest ? rest : "(null)");
        }
    }
    errno = ENOENT;
    printf("percent_m=%s\n", percent_m(buf, "a %m b %%m c %"));
    errno = EACCES;
    printf("percent_m=%s\n", percent_m(buf, "%m"));
}

static void xgets_test(void)
{
    char buf[64];
    FILE *f;

    section("xgets");
    put("lines", "one\ntwo \\\ncontinued\n\\\n\nlast no newline");
    f = fopen("lines", "r");
    tcpd_context.file = "lines";
    tcpd_context.line = 0;
    while (xgets(buf, sizeof buf, f))
        printf("line %d [%s]\n", tcpd_context.line, buf);
    fclose(f);
    put("lines", "0123456789012345678901234567890\n");
    f = fopen("lines", "r");
    tcpd_context.line = 0;
    while (xgets(buf, 8, f))
        printf("short %d [%s]\n", tcpd_context.line, buf);
    fclose(f);
    tcpd_context.file = 0;
    tcpd_context.line = 0;
}

static void diag(void)
{
    section("diag");
    tcpd_warn("plain %d %s", 42, "x");
    errno = EPERM;
    tcpd_warn("with errno: %m");
    tcpd_context.file = "ctxfile";
    tcpd_context.line = 12;
    tcpd_warn("in context");
    if (setjmp(tcpd_buf) == 0) {
        tcpd_jump("jumping %s", "now");
        printf("not reached\n");
    } else {
        printf("jumped\n");
    }
    tcpd_context.file = 0;
    tcpd_context.line = 0;
}

static void options(void)
{
    struct request_info r;
    char opts[256];
    int v;
    static const char *cases[] = {
        "allow", "deny", "severity mail.info", "bogus", "severity local5.debug: allow",
        "rfc931 3", "umask 027", "setenv TW_OPT %d-%a", "linger 5", "keepalive",
        "nice x", "banners /nonexistent-dir", "twist echo hi", "spawn echo %d",
        "aclexec exit 0", "allow: deny", "", 0
    };
    int i;

    section("process_options");
    tcpd_context.file = "opts.table";
    tcpd_context.line = 3;
    for (i = 0; cases[i]; i++) {
        int saved_dry = dry_run;
        request_init(&r, RQ_DAEMON, "optd", RQ_CLIENT_ADDR, "10.0.0.5", 0);
        strcpy(opts, cases[i]);
        dry_run = (strncmp(cases[i], "twist", 5) == 0 || strncmp(cases[i], "spawn", 5) == 0
                   || strncmp(cases[i], "aclexec", 7) == 0);
        if ((v = setjmp(tcpd_buf)) == 0) {
            process_options(opts, &r);
            printf("options [%s] -> returned dry_run=%d\n", cases[i], dry_run);
        } else {
            printf("options [%s] -> jump %d\n", cases[i], v);
        }
        dry_run = saved_dry;
    }
    printf("env TW_OPT=%s\n", getenv("TW_OPT") ? getenv("TW_OPT") : "(unset)");
    {
        mode_t m = umask(022);
        printf("umask=%03o\n", (unsigned) m);
    }
    globals();
    allow_severity = LOG_INFO;
    deny_severity = LOG_WARNING;
    rfc931_timeout = 10;
    tcpd_context.file = 0;
    tcpd_context.line = 0;
}

static void ctl(const char *what, char *d, char *n, char *a, char *u)
{
    int v = hosts_ctl(d, n, a, u);
    printf("hosts_ctl %s -> %s\n", what, v ? "GRANT" : "DENY");
    fflush(stdout);
}

static void access_control(void)
{
    section("hosts_ctl");
    hosts_allow_table = "allow";
    hosts_deny_table = "deny";
    put("allow",
        "# comment\n"
        "sshd: 10.0.0.1, .example.com\n"
        "ftpd: 10.0.0.2 : severity local3.crit\n"
        "in.telnetd: ALL EXCEPT 10.0.0.3: spawn echo %a %d >> spawned\n"
        "bad line without separator\n"
        "opt: 10.0.0.4: setenv TW_X %a: umask 077: allow\n"
        "errd: ALL: frob\n"
        "twistd: ALL: twist echo %a\n"
        "userd: bob@ALL, KNOWN@10.9.9.9\n"
        "verbose: ALL: deny\n");
    put("deny", "ALL: 10.0.0.0/8\nnrpe: ALL\n");
    ctl("sshd allowed", "sshd", "", "10.0.0.1", "");
    ctl("sshd by name", "sshd", "h.example.com", "192.0.2.1", "");
    ctl("sshd denied", "sshd", "", "10.0.0.9", "");
    ctl("sshd default grant", "sshd", "", "192.0.2.9", "");
    ctl("ftpd severity", "ftpd", "", "10.0.0.2", "");
    globals();
    ctl("telnet spawn", "in.telnetd", "", "10.0.0.7", "");
    ctl("opt allow", "opt", "", "10.0.0.4", "");
    printf("env TW_X=%s\n", getenv("TW_X") ? getenv("TW_X") : "(unset)");
    {
        mode_t m = umask(022);
        printf("umask=%03o\n", (unsigned) m);
    }
    globals();
    ctl("option error", "errd", "", "10.0.0.8", "");
    globals();
    ctl("user bob", "userd", "", "192.0.2.1", "bob");
    ctl("user unknown", "userd", "", "192.0.2.1", "");
    ctl("twist resident", "twistd", "", "192.0.2.1", "");
    ctl("nrpe", "nrpe", "", "192.0.2.1", "");
    hosts_access_verbose = 2;
    ctl("verbose deny option", "verbose", "", "192.0.2.1", "");
    hosts_access_verbose = 1;
    ctl("verbose 1", "sshd", "", "10.0.0.1", "");
    hosts_access_verbose = -1;
    ctl("verbose -1", "opt", "", "10.0.0.4", "");
    hosts_access_verbose = 0;
    globals();
    /* Tables swapped between calls (socat does this). */
    put("allow2", "ALL: 192.0.2.9: deny\n");
    hosts_allow_table = "allow2";
    ctl("swapped table", "sshd", "", "192.0.2.9", "");
    hosts_allow_table = "missing-allow";
    hosts_deny_table = "missing-deny";
    ctl("missing tables", "sshd", "", "10.0.0.1", "");
    mkdir("dirtable", 0755);
    hosts_deny_table = "dirtable";
    ctl("directory table", "sshd", "", "10.0.0.1", "");
    put("unterminated", "sshd: 10.0.0.99");
    hosts_deny_table = "unterminated";
    ctl("deny table without newline", "sshd", "", "192.0.2.1", "");
    put("unreadable", "ALL: ALL\n");
    chmod("unreadable", 0);
    if (access("unreadable", R_OK) != 0) {
        hosts_deny_table = "unreadable";
        ctl("unreadable deny table", "sshd", "", "192.0.2.1", "");
    } else {
        printf("hosts_ctl unreadable deny table -> skipped (root)\n");
    }
    hosts_allow_table = "allow";
    hosts_deny_table = "deny";
    {
        FILE *f = fopen("spawned", "r");
        char line[128];
        while (f && fgets(line, sizeof line, f))
            printf("spawned: %s", line);
        if (f)
            fclose(f);
    }
}

static void access_request(void)
{
    struct request_info r;
    struct sockaddr_in c = sin4("10.0.0.1", 4000), s = sin4("10.9.9.9", 22);
    char buf[1024];

    section("hosts_access");
    put("allow",
        "22@10.9.9.9: 10.0.0.1: setenv TW_Y %r-%R\n"
        "portd: [::1]\n"
        "sane: ALL: spawn echo %u\n");
    put("deny", "ALL: ALL\n");
    request_init(&r, RQ_DAEMON, "sshd", RQ_CLIENT_SIN, &c, RQ_SERVER_SIN, &s,
                 RQ_USER, "bob", 0);
    sock_methods(&r);
    printf("access port rule -> %d\n", hosts_access(&r));
    dump("after", &r);
    printf("env TW_Y=%s\n", getenv("TW_Y") ? getenv("TW_Y") : "(unset)");
    request_init(&r, RQ_DAEMON, "x y;z", RQ_CLIENT_ADDR, "10.0.0.1", RQ_USER, "al;ice$", 0);
    printf("access default -> %d\n", hosts_access(&r));
    printf("percent_x=%s\n",
           percent_x(buf, sizeof buf, "%a|%A|%c|%d|%h|%H|%n|%N|%r|%R|%s|%u|%%|%x|%", &r));
    percent_x(buf, sizeof buf, "%p", &r);
    printf("percent_p=%s\n", atoi(buf) == (int) getpid() ? "pid" : buf);
    dump("sanitised", &r);
    interpose_shell = 1;
    request_init(&r, RQ_DAEMON, "sane", RQ_CLIENT_ADDR, "10.0.0.1", RQ_USER, "eve", 0);
    printf("access spawn interposed -> %d\n", hosts_access(&r));
    interpose_shell = 0;

    section("stale context");
    put("allow", "ALL: 10.0.0.1: allow\nALL: 10.0.0.2\n");
    request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, "10.0.0.2", 0);
    printf("plain match -> %d\n", hosts_access(&r));
    percent_x(buf, sizeof buf, "%x", &r);
    request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, "10.0.0.1", 0);
    printf("allow option -> %d\n", hosts_access(&r));
    globals();
    percent_x(buf, sizeof buf, "%x", &r);
    tcpd_warn("after allow");
    request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, "10.0.0.2", 0);
    hosts_deny_table = "unreadable-missing-dir/x";
    printf("next call -> %d\n", hosts_access(&r));
    globals();
    /* A table that cannot be opened (not ENOENT): the warning carries the
     * context left over from the earlier call. */
    request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, "10.0.0.3", 0);
    hosts_deny_table = "allow/x";
    printf("not a directory -> %d\n", hosts_access(&r));
    globals();
    hosts_deny_table = "deny";
    tcpd_context.file = 0;
    tcpd_context.line = 0;

    section("percent_x limits");
    request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, "10.0.0.1", 0);
    printf("fits=%s\n", percent_x(buf, 12, "0123456789", &r));
    printf("null request=%s\n", percent_x(buf, sizeof buf, "abc %% def", NULL));
}

static void resident_twist(void)
{
    struct request_info r;
    int fds[2];
    char out[256];
    ssize_t n;

    section("twist");
    put("allow", "ALL: ALL: twist echo twisted %d\n");
    interpose_exit = 1;
    resident = 1;
    request_init(&r, RQ_DAEMON, "twistd", RQ_CLIENT_ADDR, "10.0.0.1", 0);
    printf("resident twist -> %d\n", hosts_access(&r));
    resident = -1;
    fflush(stdout);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        request_init(&r, RQ_DAEMON, "twistd", RQ_FILE, fds[1], RQ_CLIENT_ADDR, "10.0.0.1", 0);
        hosts_access(&r);
        printf("twist returned\n");
        _exit(3);
    }
    close(fds[1]);
    n = read(fds[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = 0;
    {
        int st;
        waitpid(pid, &st, 0);
        printf("twist output [%s] status=%d\n", out, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    close(fds[0]);
    /* fd -1: the dup fails and clean_exit (ours here) is called. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        request_init(&r, RQ_DAEMON, "twistd", RQ_CLIENT_ADDR, "10.0.0.1", 0);
        printf("twist without fd -> %d\n", hosts_access(&r));
        fflush(stdout);
        _exit(4);
    }
    {
        int st;
        waitpid(pid, &st, 0);
        printf("child status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    interpose_exit = 0;
}

static void sockets(void)
{
    struct request_info r;
    int lst, cl, sv;
    struct sockaddr_in a = sin4("127.0.0.1", 0);
    socklen_t len = sizeof a;
    char buf[512];

    section("sock_host");
    lst = socket(AF_INET, SOCK_STREAM, 0);
    bind(lst, (void *) &a, sizeof a);
    listen(lst, 1);
    getsockname(lst, (void *) &a, &len);
    cl = socket(AF_INET, SOCK_STREAM, 0);
    connect(cl, (void *) &a, sizeof a);
    sv = accept(lst, 0, 0);
    request_init(&r, RQ_DAEMON, "tcpd", RQ_FILE, sv, RQ_USER, "nobody", 0);
    fromhost(&r);
    dump("tcp", &r);
    printf("tcp client=%s addr=%s saddr=%s name=%s sname=%s server=%s\n", eval_client(&r),
           eval_hostaddr(r.client), eval_hostaddr(r.server), eval_hostname(r.client),
           eval_hostname(r.server), eval_server(&r));
    {
        char cport[16];
        strcpy(cport, eval_port(r.client->sin));
        printf("ports differ=%d\n", strcmp(cport, eval_port(r.server->sin)) != 0);
    }
    fix_options(&r);
    put("allow", "ALL: LOCAL, 127.0.0.1: spawn echo %h %n > local.out\n");
    printf("tcp access -> %d\n", hosts_access(&r));
    interpose_exit = 1;
    refuse(&r);
    interpose_exit = 0;
    close(cl);
    close(sv);

    /* Not a socket: warnings, and fix_options ends with clean_exit. */
    {
        int p[2];
        pipe(p);
        request_init(&r, RQ_DAEMON, "tcpd", RQ_FILE, p[0], 0);
        sock_host(&r);
        dump("pipe", &r);
        interpose_exit = 1;
        fix_options(&r);
        interpose_exit = 0;
        close(p[0]);
        close(p[1]);
    }
    /* A datagram socket with a pending datagram. */
    {
        int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in ua = sin4("127.0.0.1", 0);
        len = sizeof ua;
        bind(u, (void *) &ua, sizeof ua);
        getsockname(u, (void *) &ua, &len);
        sendto(v, "ping", 4, 0, (void *) &ua, sizeof ua);
        request_init(&r, RQ_DAEMON, "udpd", RQ_FILE, u, 0);
        sock_host(&r);
        dump("udp", &r);
        printf("udp user=%s client=%s\n", eval_user(&r), eval_client(&r));
        interpose_exit = 1;
        refuse(&r);
        interpose_exit = 0;
        pid_t pid = fork();
        if (pid == 0) {
            clean_exit(&r);
            _exit(9);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("clean_exit status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        printf("datagram left=%zd\n", recv(u, buf, sizeof buf, MSG_DONTWAIT));
        close(u);
        close(v);
    }
    close(lst);
}

static void rfc931_test(void)
{
    struct sockaddr_in c = sin4("127.0.0.1", 4000), s = sin4("127.0.0.1", 22);
    struct sockaddr_in6 c6 = sin6("::1", 4000);
    char dest[STRING_LENGTH];

    section("rfc931");
    rfc931_timeout = 2;
    strcpy(dest, "x");
    rfc931((void *) &c, (void *) &s, dest);
    printf("rfc931 refused=%s\n", dest);
    strcpy(dest, "x");
    rfc931((void *) &c6, (void *) &s, dest);
    printf("rfc931 mixed=%s\n", dest);
    rfc931_timeout = 10;
}

int main(int argc, char **argv)
{
    if (argc != 2 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: api WORKDIR\n");
        return 2;
    }
    umask(022);
    section("defaults");
    globals();
    layout();
    requests();
    evals();
    helpers();
    xgets_test();
    diag();
    options();
    access_control();
    access_request();
    resident_twist();
    sockets();
    rfc931_test();
    section("end");
    globals();
    return 0;
}
