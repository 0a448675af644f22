/*
 * ctlbench - time Debian libwrap's hosts_ctl() (tcp-wrappers 7.6.q-32).
 *
 * usage: ctlbench ALLOW DENY DAEMON CNAME CADDR USER N
 *
 *   ALLOW, DENY  table files (stored in hosts_allow_table / hosts_deny_table)
 *   DAEMON, CNAME, CADDR, USER
 *                the four hosts_ctl() arguments ("" = unknown)
 *   N            number of timed calls; 0 = automatic (run until >= 2 s)
 *
 * Output (stdout, one line):
 *   ns_per_check=<float> checks=<N> verdict=GRANT|DENY
 *
 * With CTLBENCH_DEBUG set in the environment, a second line goes to stderr:
 *   syslog_calls=<K> elapsed_ns=<T> warmup=<W>
 * (K counts calls that reached the no-op syslog replacements below; used by
 * build.sh to prove the interposition works).
 *
 * libwrap has no cache: every hosts_ctl() call fopen()s and re-parses both
 * tables, so there is no cold/warm distinction for this implementation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tcpd.h>

/*
 * No-op syslog.  libwrap.so.0 imports __syslog_chk and __vsyslog_chk (it was
 * built with _FORTIFY_SOURCE) and calls them - like all its external calls -
 * through the PLT, so these definitions in the executable take precedence
 * over glibc's (the executable comes first in the global lookup scope; ld
 * exports them to .dynsym because libwrap references them).  syslog/vsyslog
 * are covered too in case a different libwrap build uses the plain names.
 * <syslog.h> is deliberately not included (fortify macros would rename our
 * definitions).
 */
static volatile unsigned long syslog_calls;

void syslog(int pri, const char *fmt, ...)
{ (void)pri; (void)fmt; syslog_calls++; }
void vsyslog(int pri, const char *fmt, va_list ap)
{ (void)pri; (void)fmt; (void)ap; syslog_calls++; }
void __syslog_chk(int pri, int flag, const char *fmt, ...)
{ (void)pri; (void)flag; (void)fmt; syslog_calls++; }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{ (void)pri; (void)flag; (void)fmt; (void)ap; syslog_calls++; }

#define WARMUP 5
#define AUTO_MIN_NS 2000000000ULL       /* N=0: run for at least 2 s */
#define AUTO_BATCH_MAX_NS 100000000ULL  /* grow batches while < 0.1 s */

static unsigned long long now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(2);
    }
    return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static char *daemon_, *cname, *caddr, *user;
static int first_verdict;
static unsigned long mismatches;

/* Runs n checks and returns the elapsed wall time in ns. */
static unsigned long long run(unsigned long long n)
{
    unsigned long long t0 = now_ns();
    for (unsigned long long i = 0; i < n; i++) {
        int v = hosts_ctl(daemon_, cname, caddr, user);
        if (v != first_verdict)
            mismatches++;
    }
    return now_ns() - t0;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s ALLOW DENY DAEMON CNAME CADDR USER N\n", argv[0]);
        return 2;
    }
    hosts_allow_table = argv[1];
    hosts_deny_table = argv[2];
    daemon_ = argv[3];
    cname = argv[4];
    caddr = argv[5];
    user = argv[6];
    char *end;
    unsigned long long n = strtoull(argv[7], &end, 10);
    if (*argv[7] == '\0' || *end != '\0' || *argv[7] == '-') {
        fprintf(stderr, "ctlbench: bad N: %s\n", argv[7]);
        return 2;
    }

    /* warm-up: page cache, stdio buffers, lazy state (resident -1 -> 1) */
    first_verdict = hosts_ctl(daemon_, cname, caddr, user);
    for (int i = 1; i < WARMUP; i++)
        if (hosts_ctl(daemon_, cname, caddr, user) != first_verdict)
            mismatches++;

    unsigned long long checks, elapsed;
    if (n > 0) {
        checks = n;
        elapsed = run(n);
    } else {
        unsigned long long batch = 1;
        checks = 0;
        elapsed = 0;
        while (elapsed < AUTO_MIN_NS) {
            unsigned long long t = run(batch);
            elapsed += t;
            checks += batch;
            if (t < AUTO_BATCH_MAX_NS)
                batch *= 2;
        }
    }

    if (mismatches) {
        fprintf(stderr, "ctlbench: verdict changed between calls (%lu times)\n", mismatches);
        return 1;
    }
    printf("ns_per_check=%.1f checks=%llu verdict=%s\n",
           (double)elapsed / (double)checks, checks, first_verdict ? "GRANT" : "DENY");
    if (getenv("CTLBENCH_DEBUG"))
        fprintf(stderr, "syslog_calls=%lu elapsed_ns=%llu warmup=%d\n",
                syslog_calls, elapsed, WARMUP);
    return 0;
}
