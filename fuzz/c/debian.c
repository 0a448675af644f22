/*
 * debian.c - C side of the differential fuzz target (linked into that
 * target only, with Debian's -lwrap): runs one check in Debian's libwrap
 * and captures what it logs.
 *
 * Debian's library calls these through its PLT; the program's definitions
 * below take them over (as oracle/oracle.c does):
 *
 *   __syslog_chk, __vsyslog_chk  captured into a buffer, nothing reaches
 *                                syslog;
 *
 * (each only on the thread inside Debian's library, see `armed`; other
 * callers get the C library's function)
 *   sleep, clean_exit            the library is about to end the process
 *                                (percent_x overflow, twist): in a forked
 *                                child (fz_debian_run_forked) that is
 *                                reported and the child exits; in the
 *                                fuzzing process itself it is a finding
 *                                (abort);
 *   execl                        never executes anything: a spawn or
 *                                aclexec grandchild exits 0 at once, and
 *                                an exec in the fuzzing process aborts;
 *   setuid, setgid, setgroups,   refused (EPERM): the fuzzing process
 *   initgroups                   keeps its identity whatever a table says;
 *   nice, umask, setenv          no effect on the process (setenv still
 *                                rejects what glibc rejects);
 *   getpid                       in a forked child, the fuzzing process's
 *                                id (the request's pid, %p).
 */
#define _GNU_SOURCE 1

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <time.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <tcpd.h>

/* The globals of Debian's library. */
extern int hosts_access_verbose;
extern int rfc931_timeout;
extern int resident;
extern int dry_run;
extern struct tcpd_context tcpd_context;

/* ------------------------------------------------------------ the log */

static char *logbuf;
static size_t loglen, logcap;
static pid_t main_pid;
static int child_fd = -1;
/* Set on the thread that is inside Debian's library (and inherited by a
 * child it forks). Other callers, such as libFuzzer's own threads, get the
 * C library's functions. */
static __thread int armed;

/* This process's id, whatever getpid() is made to answer. */
static pid_t own_pid(void)
{
    return (pid_t) syscall(SYS_getpid);
}

/* glibc's fortified syslog entry points (what Debian's library imports). */
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

/* The C library's definition of an interposed function. */
#define REAL(name) ((__typeof__(&name)) dlsym(RTLD_NEXT, #name))

static void append(const void *p, size_t n)
{
    if (loglen + n > logcap) {
        size_t cap = logcap ? logcap : 4096;
        while (cap < loglen + n)
            cap *= 2;
        char *b = realloc(logbuf, cap);
        if (b == NULL)
            abort();
        logbuf = b;
        logcap = cap;
    }
    memcpy(logbuf + loglen, p, n);
    loglen += n;
}

/* Records: int priority, uint32 length, message bytes. */
static void capture(int pri, const char *fmt, va_list ap)
{
    int saved = errno;

    if (!armed) {
        REAL(__vsyslog_chk)(pri, 1, fmt, ap);
        return;
    }
    char *msg = NULL;
    int n;

    errno = saved;
    n = vasprintf(&msg, fmt, ap);
    if (n < 0)
        abort();
    uint32_t len = (uint32_t) n;
    append(&pri, sizeof pri);
    append(&len, sizeof len);
    append(msg, len);
    free(msg);
    errno = saved;
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void) flag;
    capture(pri, fmt, ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    (void) flag;
    va_start(ap, fmt);
    capture(pri, fmt, ap);
    va_end(ap);
}

const char *fz_debian_log(size_t *len)
{
    *len = loglen;
    return logbuf;
}

/* ------------------------------------------------ process interposers */

struct fz_result {
    int verdict;                        /* 1 grant, 0 deny, -1 ended in the check */
    int exited;                         /* sleep/clean_exit reached */
    int pid;                            /* the process that ran the case */
    char state[6][STRING_LENGTH];       /* cname caddr user sname saddr daemon */
    int allow_sev, deny_sev, dry_run, rfc931_timeout;
    int has_expand;
    char expand[1024];
};

static struct fz_result *child_result;

static void write_all(const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(child_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        p += w;
        n -= (size_t) w;
    }
}

/* In a forked child: hand the result and the log to the parent, exit. */
static void send_and_exit(int exited)
{
    size_t len = loglen;

    child_result->exited = exited;
    child_result->pid = (int) own_pid();
    write_all(child_result, sizeof *child_result);
    write_all(&len, sizeof len);
    write_all(logbuf, len);
    _exit(0);
}

static void unexpected(const char *what)
{
    fprintf(stderr, "differential: Debian's libwrap called %s in the fuzzing process "
            "(it would end the process) where tcpwrap did not predict an exit\n", what);
    abort();
}

unsigned int sleep(unsigned int seconds)
{
    if (!armed)
        return REAL(sleep)(seconds);
    if (child_fd >= 0 && own_pid() != main_pid)
        send_and_exit(1);
    unexpected("sleep()");
    return 0;
}

void clean_exit(struct request_info *r)
{
    (void) r;
    if (child_fd >= 0 && own_pid() != main_pid)
        send_and_exit(1);
    unexpected("clean_exit()");
}

int execl(const char *path, const char *arg, ...)
{
    (void) path;
    (void) arg;
    if (!armed || own_pid() == main_pid)
        unexpected("execl()");
    _exit(0);
}

/* In a forked child, the library sees the fuzzing process's id (its
 * request's pid field, %p), as tcpwrap's side does. */
pid_t getpid(void)
{
    if (armed && child_fd >= 0)
        return main_pid;
    return own_pid();
}

int setuid(uid_t u)
{
    if (!armed)
        return REAL(setuid)(u);
    errno = EPERM;
    return -1;
}

int setgid(gid_t g)
{
    if (!armed)
        return REAL(setgid)(g);
    errno = EPERM;
    return -1;
}

int setgroups(size_t n, const gid_t *l)
{
    if (!armed)
        return REAL(setgroups)(n, l);
    errno = EPERM;
    return -1;
}

int initgroups(const char *u, gid_t g)
{
    if (!armed)
        return REAL(initgroups)(u, g);
    errno = EPERM;
    return -1;
}

int nice(int inc)
{
    if (!armed)
        return REAL(nice)(inc);
    return 0;
}

mode_t umask(mode_t m)
{
    if (!armed)
        return REAL(umask)(m);
    return 022;
}

int setenv(const char *name, const char *value, int overwrite)
{
    if (!armed)
        return REAL(setenv)(name, value, overwrite);
    if (name == NULL || *name == 0 || strchr(name, '=') != NULL) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- one case */

struct fz_case {
    const char *allow, *deny;           /* table paths */
    int req_mode;                       /* 0: hosts_ctl, 1: request_init */
    const char *field[6];               /* daemon cname caddr user sname saddr; NULL: absent */
    int verbose, dry;
    const char *expand;                 /* req mode: percent_x after the check, or NULL */
};

static const int keys[6] = {
    RQ_DAEMON, RQ_CLIENT_NAME, RQ_CLIENT_ADDR, RQ_USER, RQ_SERVER_NAME, RQ_SERVER_ADDR
};

static void run(const struct fz_case *c, struct fz_result *out)
{
    memset(out, 0, sizeof *out);
    out->pid = (int) own_pid();
    hosts_allow_table = (char *) c->allow;
    hosts_deny_table = (char *) c->deny;
    hosts_access_verbose = c->verbose;
    dry_run = c->dry;
    resident = -1;
    allow_severity = LOG_INFO;
    deny_severity = LOG_WARNING;
    rfc931_timeout = 10;
    memset(&tcpd_context, 0, sizeof tcpd_context);
    out->verdict = -1;                  /* until the check returns */

    if (!c->req_mode) {
        const char *f[4];
        for (int i = 0; i < 4; i++)
            f[i] = c->field[i] ? c->field[i] : "";
        out->verdict = hosts_ctl((char *) f[0], (char *) f[1], (char *) f[2], (char *) f[3]);
    } else {
        struct request_info r;
        request_init(&r, 0);
        for (int i = 0; i < 6; i++)
            if (c->field[i] != NULL)
                request_set(&r, keys[i], c->field[i], 0);
        out->verdict = hosts_access(&r);
        strcpy(out->state[0], r.client->name);
        strcpy(out->state[1], r.client->addr);
        strcpy(out->state[2], r.user);
        strcpy(out->state[3], r.server->name);
        strcpy(out->state[4], r.server->addr);
        strcpy(out->state[5], r.daemon);
        if (c->expand != NULL) {
            percent_x(out->expand, sizeof out->expand, (char *) c->expand, &r);
            out->has_expand = 1;
        }
    }
    out->allow_sev = allow_severity;
    out->deny_sev = deny_severity;
    out->dry_run = dry_run;
    out->rfc931_timeout = rfc931_timeout;
}

/* Run a case in this process. The log is cleared first. */
void fz_debian_run(const struct fz_case *c, struct fz_result *out)
{
    if (main_pid == 0)
        main_pid = own_pid();
    loglen = 0;
    armed = 1;
    run(c, out);
    armed = 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t) r;
    }
    return 1;
}

/* Run a case in a forked child, for cases where the library may end the
 * process. Returns 0 on success (out and the log filled in), -1 when the
 * child failed otherwise (a crash: its wait status in out->verdict). */
int fz_debian_run_forked(const struct fz_case *c, struct fz_result *out)
{
    int p[2];
    pid_t pid;
    int status;
    size_t len = 0;

    if (main_pid == 0)
        main_pid = own_pid();
    loglen = 0;
    if (pipe(p) != 0)
        abort();
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        static struct fz_result r;
        close(p[0]);
        child_fd = p[1];
        child_result = &r;
        armed = 1;
        run(c, &r);
        send_and_exit(0);
    }
    close(p[1]);
    {
        char *q = (char *) out;
        size_t left = sizeof *out;
        int ok = 1;
        /* libFuzzer's timer (SIGALRM) may interrupt a read. */
        while (left > 0) {
            ssize_t n = read(p[0], q, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                ok = 0;
                break;
            }
            q += n;
            left -= (size_t) n;
        }
        if (ok && read_all(p[0], &len, sizeof len)) {
            while (len > 0) {
                char buf[4096];
                ssize_t n = read(p[0], buf, len < sizeof buf ? len : sizeof buf);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                append(buf, (size_t) n);
                len -= (size_t) n;
            }
        } else {
            ok = 0;
        }
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            out->verdict = status;
            return -1;
        }
    }
    return 0;
}
