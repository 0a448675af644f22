/*
 * forkcheck - the cost of one access check in a freshly forked process, the
 * way xinetd (and any forking server that checks in the child) uses libwrap.
 *
 * usage: forkcheck ALLOW DENY DAEMON CADDR N MODE
 *   MODE  fork:  the child exits at once (the baseline: fork + exit + wait)
 *         cold:  the child calls hosts_ctl(DAEMON, "", CADDR, "") once and
 *                exits; the parent never called the library
 *         warm:  the same, but the parent called hosts_ctl once before
 *                forking (whatever the library initialised in the parent is
 *                inherited by the children)
 *
 * Output (one line):
 *   wall_us=<per fork> child_cpu_us=<per fork> parent_cpu_us=<per fork> verdict=GRANT|DENY|-
 * child_cpu_us is user + system time of the reaped children (RUSAGE_CHILDREN):
 * less sensitive to other load on the machine than the wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tcpd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(int who)
{
    struct rusage r;
    getrusage(who, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s ALLOW DENY DAEMON CADDR N fork|cold|warm\n", argv[0]);
        return 2;
    }
    hosts_allow_table = argv[1];
    hosts_deny_table = argv[2];
    char *daemon_ = argv[3], *caddr = argv[4], *mode = argv[6];
    long n = atol(argv[5]);
    int check = strcmp(mode, "fork") != 0;
    if (n <= 0 || (check && strcmp(mode, "cold") != 0 && strcmp(mode, "warm") != 0)) {
        fprintf(stderr, "forkcheck: bad N or MODE\n");
        return 2;
    }
    if (strcmp(mode, "warm") == 0)
        hosts_ctl(daemon_, "", caddr, "");
    double c0 = cpu_us(RUSAGE_CHILDREN), p0 = cpu_us(RUSAGE_SELF), t0 = now_us();
    int verdict = -1;
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            return 2;
        }
        if (p == 0)
            _exit(check ? (hosts_ctl(daemon_, "", caddr, "") ? 10 : 11) : 0);
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st)) {
            fprintf(stderr, "forkcheck: child failed\n");
            return 1;
        }
        int v = WEXITSTATUS(st) == 10 ? 1 : WEXITSTATUS(st) == 11 ? 0 : -1;
        if (i > 0 && v != verdict) {
            fprintf(stderr, "forkcheck: verdict changed\n");
            return 1;
        }
        verdict = v;
    }
    double t1 = now_us(), c1 = cpu_us(RUSAGE_CHILDREN), p1 = cpu_us(RUSAGE_SELF);
    printf("wall_us=%.1f child_cpu_us=%.1f parent_cpu_us=%.1f verdict=%s\n",
           (t1 - t0) / n, (c1 - c0) / n, (p1 - p0) / n,
           verdict == 1 ? "GRANT" : verdict == 0 ? "DENY" : "-");
    return 0;
}
