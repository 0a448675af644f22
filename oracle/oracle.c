/*
 * oracle.c - batch differential oracle for Debian's libwrap (tcp-wrappers 7.6.q-32).
 *
 * Reads one test case per line on stdin (TAB-separated, percent-encoded key=value
 * fields), runs each case in a freshly forked child against the real libwrap.so.0 and
 * writes the observations to stdout, strictly in input order.  Protocol: README.md.
 *
 * Build: gcc -O2 -Wall -Wextra oracle.c -lwrap   (see build.sh)
 *
 * How observations are captured:
 *  - The executable defines syslog, vsyslog, __syslog_chk, __vsyslog_chk, sleep,
 *    clean_exit and execl.  libwrap calls all of them through its PLT, so the
 *    executable's definitions win (symbol interposition).  build.sh checks that they
 *    are exported.
 *  - A case child writes its result lines into a shared-memory region owned by its
 *    slot (one complete line at a time, appended atomically).  Nothing is buffered in
 *    the child across a line boundary, so output survives crashes, timeouts, exit()
 *    inside the library and exec (twist); grandchildren (spawn/aclexec shells before
 *    their exec) append to the same region.  The parent collects the region after the
 *    child has been reaped, so each case costs one fork and one SIGCHLD wake-up.
 */
#ifdef _FORTIFY_SOURCE
#undef _FORTIFY_SOURCE
#endif
#define _GNU_SOURCE 1
#define INET6 1

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tcpd.h>

extern int dry_run;                     /* exported by libwrap, not declared in tcpd.h */

/* glibc's fortified syslog entry points (what Debian's libwrap actually imports). */
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
void syslog(int pri, const char *fmt, ...);
void vsyslog(int pri, const char *fmt, va_list ap);

#define MAX_JOBS 256
#define SHM_SIZE ((size_t) 16 << 20)    /* per-slot output region (virtual, NORESERVE) */

/* ------------------------------------------------------------------------------------ */
/* Output.                                                                               */
/*  Parent: lines go to `ob` and are written to `outfd` (a private dup of stdout).       */
/*  Child:  each line is built in `ob` and appended to the slot's shared region at '\n'. */

struct shm_region {
    size_t len;                         /* bytes claimed (may exceed capacity) */
    int done;                           /* child reached its normal end */
    char data[];
};

static int outfd = -1;
static char *ob;
static size_t olen, ocap;
static int in_case;                     /* 1 in a case child and its grandchildren */
static struct shm_region *cur_shm;      /* the child's region */
static size_t shm_cap;                  /* capacity of data[] */

static void fatal(const char *what)
{
    perror(what);
    exit(2);
}

static void out_write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(outfd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fatal("oracle: write");
        }
        p += w;
        n -= (size_t) w;
    }
}

static void shm_append(const char *p, size_t n)
{
    size_t off = __atomic_fetch_add(&cur_shm->len, n, __ATOMIC_SEQ_CST);
    if (off >= shm_cap)
        return;
    if (n > shm_cap - off)
        n = shm_cap - off;
    memcpy(cur_shm->data + off, p, n);
}

static void out_flush(void)
{
    if (!olen)
        return;
    if (in_case)
        shm_append(ob, olen);
    else
        out_write_all(ob, olen);
    olen = 0;
}

static void out_raw(const char *s, size_t n)
{
    if (olen + n > ocap) {
        size_t nc = ocap ? ocap : 65536;
        while (nc < olen + n)
            nc *= 2;
        char *nb = realloc(ob, nc);
        if (!nb) {
            out_flush();                /* last resort: write the piece through */
            if (in_case)
                shm_append(s, n);
            else
                out_write_all(s, n);
            return;
        }
        ob = nb;
        ocap = nc;
    }
    memcpy(ob + olen, s, n);
    olen += n;
}

static void out_str(const char *s)
{
    out_raw(s, strlen(s));
}

/* End of a line: in a child, publish it at once. */
static void out_nl(void)
{
    out_raw("\n", 1);
    if (in_case)
        out_flush();
}

/* Percent-encode: bytes outside 0x21..0x7e, '%' and '=' become %XX (uppercase hex). */
static void out_enc_n(const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, start = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c < 0x21 || c > 0x7e || c == '%' || c == '=') {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            if (i > start)
                out_raw(s + start, i - start);
            out_raw(e, 3);
            start = i + 1;
        }
    }
    if (n > start)
        out_raw(s + start, n - start);
}

static void out_enc(const char *s)
{
    out_enc_n(s, strlen(s));
}

static void out_int(long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    out_str(b);
}

/* ------------------------------------------------------------------------------------ */
/* Interposed libc / libwrap functions.                                                  */

static void capture_log(int pri, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char small[2048];
    char *msg = small;
    va_list ap2;

    va_copy(ap2, ap);
    errno = saved_errno;                /* %m must see errno as of the syslog call */
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        small[0] = 0;
    } else if (n >= (int) sizeof small) {
        char *big = malloc((size_t) n + 1);
        if (big) {
            errno = saved_errno;
            vsnprintf(big, (size_t) n + 1, fmt, ap2);
            msg = big;
        }
    }
    va_end(ap2);
    if (in_case) {
        out_str("log ");
        out_int(pri);
        out_str(" ");
        out_enc(msg);
        out_nl();
    }
    if (msg != small)
        free(msg);
    errno = saved_errno;
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void) flag;
    capture_log(pri, fmt, ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;
    (void) flag;
    va_start(ap, fmt);
    capture_log(pri, fmt, ap);
    va_end(ap);
}

void vsyslog(int pri, const char *fmt, va_list ap)
{
    capture_log(pri, fmt, ap);
}

void syslog(int pri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    capture_log(pri, fmt, ap);
    va_end(ap);
}

/* clean_exit(): the library's version (optionally drains a datagram sink), sleeps 5 s
 * and exit(0)s.  Report it and leave at once; the parent then reports "exit 0". */
void clean_exit(struct request_info *r)
{
    if (in_case) {
        out_str("clean_exit");
        if (r && r->sink)
            out_str(" sink");
        out_nl();
    }
    _exit(0);
}

/* sleep(): report, do not sleep (percent_x overflow does sleep(5); exit(0)). */
unsigned int sleep(unsigned int seconds)
{
    if (in_case) {
        out_str("sleep ");
        out_int((long) seconds);
        out_nl();
    }
    return 0;
}

/* execl(): report "exec PATH ARG0 ARG1 ..." (spawn/aclexec in a grandchild, twist in
 * the case child itself), then really exec. */
int execl(const char *path, const char *arg, ...)
{
    const char *argv[64];
    int argc = 0;
    va_list ap;

    argv[argc++] = arg;
    va_start(ap, arg);
    {
        const char *a;
        while (argc < 63 && (a = va_arg(ap, const char *)) != NULL)
            argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;

    if (in_case) {
        out_str("exec ");
        out_enc(path);
        for (int i = 0; i < argc; i++) {
            out_str(" ");
            out_enc(argv[i]);
        }
        out_nl();
    }
    return execv(path, (char *const *) argv);
}

/* ------------------------------------------------------------------------------------ */
/* Case description and input parsing.                                                   */

struct kcase {
    char *id;
    char *allow, *deny;
    int mode_req;                       /* 0 = ctl, 1 = req */
    char *daemon, *cname, *caddr, *user, *sname, *saddr;
    char *csin, *ssin;
    int methods;
    int fd;
    int verbose;
    int dryrun, has_dryrun;
    int resident, has_resident;
    int rfc931, has_rfc931;
    int times;
    char *expand;
    int fdcap;
    int timeout;                        /* seconds; 0 = none */
    struct sockaddr_storage css, sss;
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX in place (either hex case); a '%' not followed by two hex digits stays. */
static void pct_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        int h, l;
        if (r[0] == '%' && (h = hexval((unsigned char) r[1])) >= 0
            && (l = hexval((unsigned char) r[2])) >= 0) {
            *w++ = (char) (h * 16 + l);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || errno || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int) v;
    return 0;
}

/* "IP|PORT" (or just "IP", port 0), IPv4 or IPv6, numeric only (AI_NUMERICHOST). */
static int parse_sin(const char *s, struct sockaddr_storage *ss)
{
    const char *bar = strrchr(s, '|');
    const char *port = bar ? bar + 1 : "0";
    char host[256];
    size_t hl = bar ? (size_t) (bar - s) : strlen(s);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = 0;
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* Parse one input line (modified in place; kcase points into it).  Returns NULL on
 * success, else an error word (*errarg = offending key/value).  Keeps scanning after an
 * error so that the id is still known. */
#define FAIL(msg, arg) { if (!err) { err = (msg); *errarg = (arg); } continue; }
static const char *parse_case(char *line, struct kcase *c, char **errarg)
{
    const char *err = NULL;
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->times = 1;
    c->timeout = 30;
    *errarg = NULL;

    char *p = line;
    while (p) {
        char *tab = strchr(p, '\t');
        if (tab)
            *tab = 0;
        char *field = p;
        p = tab ? tab + 1 : NULL;
        if (*field == 0)
            continue;                   /* empty field */
        char *eq = strchr(field, '=');
        if (!eq) {
            pct_decode(field);
            FAIL("field-without-equals", field);
        }
        *eq = 0;
        char *k = field, *v = eq + 1;
        pct_decode(k);
        pct_decode(v);
        int *ip = NULL;
        if (!strcmp(k, "id")) c->id = v;
        else if (!strcmp(k, "allow")) c->allow = v;
        else if (!strcmp(k, "deny")) c->deny = v;
        else if (!strcmp(k, "mode")) {
            if (!strcmp(v, "ctl")) c->mode_req = 0;
            else if (!strcmp(v, "req")) c->mode_req = 1;
            else FAIL("bad-mode", v);
        }
        else if (!strcmp(k, "daemon")) c->daemon = v;
        else if (!strcmp(k, "cname")) c->cname = v;
        else if (!strcmp(k, "caddr")) c->caddr = v;
        else if (!strcmp(k, "user")) c->user = v;
        else if (!strcmp(k, "sname")) c->sname = v;
        else if (!strcmp(k, "saddr")) c->saddr = v;
        else if (!strcmp(k, "csin")) c->csin = v;
        else if (!strcmp(k, "ssin")) c->ssin = v;
        else if (!strcmp(k, "expand")) c->expand = v;
        else if (!strcmp(k, "methods")) ip = &c->methods;
        else if (!strcmp(k, "fd")) ip = &c->fd;
        else if (!strcmp(k, "verbose")) ip = &c->verbose;
        else if (!strcmp(k, "dryrun")) { ip = &c->dryrun; c->has_dryrun = 1; }
        else if (!strcmp(k, "resident")) { ip = &c->resident; c->has_resident = 1; }
        else if (!strcmp(k, "rfc931_timeout")) { ip = &c->rfc931; c->has_rfc931 = 1; }
        else if (!strcmp(k, "times")) ip = &c->times;
        else if (!strcmp(k, "fdcap")) ip = &c->fdcap;
        else if (!strcmp(k, "timeout")) ip = &c->timeout;
        else FAIL("unknown-key", k);
        if (ip && parse_int(v, ip) != 0)
            FAIL("bad-integer", k);
    }
    if (err)
        return err;
    if (c->times < 0 || c->timeout < 0) {
        *errarg = c->times < 0 ? "times" : "timeout";
        return "bad-integer";
    }
    if (c->csin && parse_sin(c->csin, &c->css) != 0) {
        *errarg = c->csin;
        return "bad-sin";
    }
    if (c->ssin && parse_sin(c->ssin, &c->sss) != 0) {
        *errarg = c->ssin;
        return "bad-sin";
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The case child.                                                                       */

static void out_kv(const char *k, const char *v)
{
    out_str(" ");
    out_str(k);
    out_str("=");
    out_enc(v);
}

static void out_ki(const char *k, long v)
{
    out_str(" ");
    out_str(k);
    out_str("=");
    out_int(v);
}

static void out_globals(void)
{
    out_ki("allow_sev", allow_severity);
    out_ki("deny_sev", deny_severity);
    out_ki("dry_run", dry_run);
    out_ki("resident", resident);
    out_ki("rfc931_timeout", rfc931_timeout);
}

/* fdcap=1: report what the library wrote to the request fd (banners etc.). */
static void report_fdcap(int rd)
{
    char buf[4096];
    out_str("fdout ");
    for (;;) {
        ssize_t n = recv(rd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out_enc_n(buf, (size_t) n);
    }
    out_nl();
}

static void do_expand(const char *expand, struct request_info *r)
{
    char buf[1024];
    char *pat = strdup(expand);         /* percent_x takes char * */
    if (!pat)
        pat = (char *) expand;
    percent_x(buf, sizeof buf, pat, r);
    out_str("expand ");
    out_enc(buf);
    out_nl();
    if (pat != expand)
        free(pat);
}

static void run_case_child(struct kcase *c)
{
    int capfd = -1;

    if (c->allow)
        hosts_allow_table = c->allow;
    if (c->deny)
        hosts_deny_table = c->deny;
    hosts_access_verbose = c->verbose;
    if (c->has_dryrun)
        dry_run = c->dryrun;
    if (c->has_resident)
        resident = c->resident;
    if (c->has_rfc931)
        rfc931_timeout = c->rfc931;

    int reqfd = c->fd;
    if (c->fdcap && c->mode_req) {       /* hosts_ctl always uses fd -1 */
        int sv[2];
        /* Not close-on-exec: a twisted /bin/sh must be able to write into it. */
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
            reqfd = sv[0];
            capfd = sv[1];
        } else {
            out_str("error socketpair");
            out_nl();
        }
    }

    for (int t = 0; t < c->times; t++) {
        int verdict;
        if (!c->mode_req) {
            verdict = hosts_ctl(c->daemon ? c->daemon : "", c->cname ? c->cname : "",
                                c->caddr ? c->caddr : "", c->user ? c->user : "");
            out_str(verdict ? "verdict GRANT" : "verdict DENY");
            out_nl();
            out_str("state");
            out_globals();
            out_nl();
            if (c->expand) {
                /* hosts_ctl's request is gone; expand on an identical fresh one. */
                struct request_info r;
                request_init(&r, RQ_DAEMON, c->daemon ? c->daemon : "",
                             RQ_CLIENT_NAME, c->cname ? c->cname : "",
                             RQ_CLIENT_ADDR, c->caddr ? c->caddr : "",
                             RQ_USER, c->user ? c->user : "", 0);
                do_expand(c->expand, &r);
            }
        } else {
            struct request_info r;
            request_init(&r, RQ_FILE, reqfd, 0);
            if (c->daemon) request_set(&r, RQ_DAEMON, c->daemon, 0);
            if (c->cname) request_set(&r, RQ_CLIENT_NAME, c->cname, 0);
            if (c->caddr) request_set(&r, RQ_CLIENT_ADDR, c->caddr, 0);
            if (c->user) request_set(&r, RQ_USER, c->user, 0);
            if (c->sname) request_set(&r, RQ_SERVER_NAME, c->sname, 0);
            if (c->saddr) request_set(&r, RQ_SERVER_ADDR, c->saddr, 0);
            if (c->csin) request_set(&r, RQ_CLIENT_SIN, &c->css, 0);
            if (c->ssin) request_set(&r, RQ_SERVER_SIN, &c->sss, 0);
            if (c->methods)
                sock_methods(&r);
            verdict = hosts_access(&r);
            out_str(verdict ? "verdict GRANT" : "verdict DENY");
            out_nl();
            out_str("state");
            out_kv("cname", r.client->name);
            out_kv("caddr", r.client->addr);
            out_kv("user", r.user);
            out_kv("sname", r.server->name);
            out_kv("saddr", r.server->addr);
            out_kv("daemon", r.daemon);
            out_globals();
            out_nl();
            if (c->expand)
                do_expand(c->expand, &r);
        }
        if (capfd >= 0)
            report_fdcap(capfd);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Parent: read cases, fork children (up to `jobs` at a time), collect their output and  */
/* print the results strictly in input order.                                            */

struct job {
    char *id;                           /* decoded case id */
    char *out;                          /* collected output */
    size_t len;
    int done;
};

struct slot {
    pid_t pid;                          /* 0 = free */
    struct shm_region *shm;
    struct job *job;
    int timed_out;
    int has_deadline;
    struct timespec deadline;
};

static int devnull = -1;
static int sigfd = -1;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        fatal("oracle: strdup");
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        fatal("oracle: realloc");
    return q;
}

static void start_case(struct slot *s, struct kcase *c, struct job *j, const sigset_t *oldmask)
{
    s->job = j;
    s->timed_out = 0;
    s->shm->len = 0;
    s->shm->done = 0;
    pid_t pid = fork();
    if (pid < 0) {
        char b[128];
        snprintf(b, sizeof b, "error fork %s\n", strerror(errno));
        j->out = xstrdup(b);
        j->len = strlen(b);
        j->done = 1;
        s->job = NULL;
        return;
    }
    if (pid == 0) {
        in_case = 1;
        cur_shm = s->shm;
        olen = 0;                       /* the parent's pending output is not ours */
        setpgid(0, 0);                  /* so a timeout can kill grandchildren too */
        close(sigfd);
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        dup2(devnull, 0);               /* the parent's stdin is the case stream */
        dup2(devnull, 1);
        run_case_child(c);
        out_flush();
        __atomic_store_n(&cur_shm->done, 1, __ATOMIC_SEQ_CST);
        _exit(0);
    }
    setpgid(pid, pid);                  /* same as the child's own call; avoids a race */
    s->pid = pid;
    s->has_deadline = c->timeout > 0;
    if (s->has_deadline) {
        clock_gettime(CLOCK_MONOTONIC, &s->deadline);
        s->deadline.tv_sec += c->timeout;
    }
}

static void finish_slot(struct slot *s, int status)
{
    struct job *j = s->job;
    size_t len = s->shm->len, trunc = 0;
    if (len > shm_cap) {
        len = shm_cap;
        while (len > 0 && s->shm->data[len - 1] != '\n')
            len--;
        trunc = 1;
    }
    j->out = xrealloc(NULL, len + 128);
    memcpy(j->out, s->shm->data, len);
    j->len = len;
    if (trunc)
        j->len += (size_t) sprintf(j->out + j->len, "error output-truncated\n");
    if (s->timed_out)
        j->len += (size_t) sprintf(j->out + j->len, "timeout\n");
    if (WIFSIGNALED(status))
        j->len += (size_t) sprintf(j->out + j->len, "signal %d\n", WTERMSIG(status));
    else if (WIFEXITED(status) && !(s->shm->done && WEXITSTATUS(status) == 0))
        j->len += (size_t) sprintf(j->out + j->len, "exit %d\n", WEXITSTATUS(status));
    if (len > ((size_t) 1 << 20))
        madvise(s->shm, SHM_SIZE, MADV_REMOVE);   /* give big outputs' memory back */
    j->done = 1;
    s->pid = 0;
    s->job = NULL;
}

static int deadline_passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static long ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (t->tv_sec - now.tv_sec) * 1000L + (t->tv_nsec - now.tv_nsec) / 1000000L;
    return ms < 0 ? 0 : ms + 1;
}

int main(int argc, char **argv)
{
    int jobs = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "-j") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "-j", 2) && argv[i][2])
            v = argv[i] + 2;
        if (!v || parse_int(v, &jobs) != 0 || jobs < 1 || jobs > MAX_JOBS) {
            fprintf(stderr, "usage: oracle [-j N] < cases > results   (N = 1..%d; see "
                    "oracle/README.md)\n", MAX_JOBS);
            return 2;
        }
    }

    /* Private output descriptor; fd 1 becomes a copy of stderr so that stray writes
     * cannot corrupt the protocol stream. */
    outfd = fcntl(1, F_DUPFD_CLOEXEC, 10);
    if (outfd < 0)
        fatal("oracle: dup stdout");
    dup2(2, 1);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        fatal("oracle: /dev/null");

    struct slot *slots = calloc((size_t) jobs, sizeof *slots);
    if (!slots)
        fatal("oracle: calloc");
    shm_cap = SHM_SIZE - sizeof(struct shm_region);
    for (int i = 0; i < jobs; i++) {
        slots[i].shm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slots[i].shm == MAP_FAILED)
            fatal("oracle: mmap");
    }

    sigset_t chld, oldmask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &oldmask);
    sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        fatal("oracle: signalfd");

    struct job **queue = NULL;          /* jobs in input order, not yet printed */
    size_t qhead = 0, qtail = 0, qcap = 0;
    char *in = NULL;                    /* unparsed input */
    size_t inlen = 0, incap = 0, inpos = 0;     /* in[inpos .. inlen) not yet parsed */
    int in_eof = 0, active = 0;

    for (;;) {
        /* 1. Start cases while there are free slots and complete input lines. */
        for (;;) {
            int fs = -1;
            for (int i = 0; i < jobs; i++)
                if (!slots[i].pid) { fs = i; break; }
            if (fs < 0)
                break;
            char *line, *nl = inlen > inpos ? memchr(in + inpos, '\n', inlen - inpos) : NULL;
            if (nl) {
                *nl = 0;
                line = in + inpos;
                inpos = (size_t) (nl - in) + 1;
            } else if (in_eof && inpos < inlen) {       /* last line without newline */
                if (inlen == incap)
                    in = xrealloc(in, incap = incap + 1);
                in[inlen] = 0;
                line = in + inpos;
                inpos = inlen;
            } else {
                break;
            }
            size_t n = strlen(line);
            while (n > 0 && line[n - 1] == '\r')
                line[--n] = 0;
            if (n == 0)
                continue;               /* blank lines are ignored */
            struct kcase c;
            char *errarg;
            const char *err = parse_case(line, &c, &errarg);
            struct job *j = calloc(1, sizeof *j);
            if (!j)
                fatal("oracle: calloc");
            j->id = xstrdup(c.id ? c.id : "");
            if (qtail == qcap)
                queue = xrealloc(queue, (qcap = qcap ? qcap * 2 : 1024) * sizeof *queue);
            queue[qtail++] = j;
            if (err) {
                out_flush();            /* borrow the output buffer for encoding */
                out_str("error ");
                out_str(err);
                if (errarg) {
                    out_str(" ");
                    out_enc(errarg);
                }
                out_str("\n");
                j->out = xrealloc(NULL, olen);
                memcpy(j->out, ob, olen);
                j->len = olen;
                olen = 0;
                j->done = 1;
            } else {
                start_case(&slots[fs], &c, j, &oldmask);
                if (slots[fs].pid)
                    active++;
            }
        }

        /* 2. Emit finished jobs in input order. */
        while (qhead < qtail && queue[qhead]->done) {
            struct job *j = queue[qhead++];
            out_raw(j->out, j->len);
            out_str("end ");
            out_enc(j->id);
            out_str("\n");
            free(j->out);
            free(j->id);
            free(j);
            if (olen >= 65536)
                out_flush();
        }
        if (qhead == qtail)
            qhead = qtail = 0;

        if (in_eof && active == 0 && inpos == inlen)
            break;

        /* 3. Wait for a child exit, input (if a slot is free) or a deadline. */
        int want_input = !in_eof && active < jobs;
        struct pollfd pf[2];
        int np = 0;
        pf[np].fd = sigfd; pf[np].events = POLLIN; np++;
        if (want_input) { pf[np].fd = 0; pf[np].events = POLLIN; np++; }
        long tmo = -1;
        for (int i = 0; i < jobs; i++) {
            if (slots[i].pid && slots[i].has_deadline && !slots[i].timed_out) {
                long ms = ms_until(&slots[i].deadline);
                if (tmo < 0 || ms < tmo)
                    tmo = ms;
            }
        }
        out_flush();                    /* never sit on finished results while blocking */
        int pr = poll(pf, (nfds_t) np, tmo > INT32_MAX ? INT32_MAX : (int) tmo);
        if (pr < 0 && errno != EINTR)
            fatal("oracle: poll");
        if (want_input && pr > 0 && pf[1].revents) {
            /* Compact only here (not per case): after a fork every page the parent
             * touches costs a copy-on-write fault. */
            if (inpos > 0) {
                memmove(in, in + inpos, inlen - inpos);
                inlen -= inpos;
                inpos = 0;
            }
            if (incap - inlen < 65536)
                in = xrealloc(in, incap = (incap ? incap * 2 : 131072) + 65536);
            ssize_t n = read(0, in + inlen, incap - inlen);
            if (n > 0)
                inlen += (size_t) n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                in_eof = 1;
        }
        {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) > 0)
                ;
        }
        /* SIGCHLD coalesces, so look at every active slot. */
        for (int i = 0; i < jobs; i++) {
            struct slot *s = &slots[i];
            if (!s->pid)
                continue;
            int status;
            if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
                finish_slot(s, status);
                active--;
            } else if (s->has_deadline && !s->timed_out && deadline_passed(&s->deadline)) {
                s->timed_out = 1;
                kill(-s->pid, SIGKILL);
                kill(s->pid, SIGKILL);
            }
        }
    }
    out_flush();
    return 0;
}
