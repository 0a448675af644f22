/*
 * tables_race.c - 16 threads calling hosts_ctl() and hosts_access() while
 * another thread rewrites both tables: hosts.allow renamed over,
 * hosts.deny truncated and rewritten or overwritten in place. Each probe
 * comes with the values every state of the files allows ("0", "1" or "*",
 * computed by the test with the engine) and its value under the final
 * tables. Checks: no verdict outside those values, every thread sees the
 * final tables once the writer has stopped, the same open descriptors
 * before and after, and VmRSS growth.
 *
 * usage: tables_race DIR THREADS ITERATIONS DAEMON,ADDR,LEGAL,FINAL...
 * DIR holds allow.0 allow.1 deny.0 deny.1 (the versions, same size per
 * table); the tables are DIR/hosts.allow and DIR/hosts.deny.
 * Prints "errors N checks M rewrites R fds A->B rss X->Y" and exits 1 on
 * any error.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tcpd.h>

/* Records (warnings about half-written tables) stay off the real syslog. */
void syslog(int pri, const char *fmt, ...) { (void) pri; (void) fmt; }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { (void) pri; (void) flag; (void) fmt; }

#define MAXP 32
static struct probe { char daemon[64], addr[64]; char legal, final; } probes[MAXP];
static int nprobes, iterations;
static atomic_int errors, checks, stop, rewrites;
static char versions[4][4096];
static size_t lens[4];

static void fail(const char *what, const struct probe *p, int got)
{
    if (atomic_fetch_add(&errors, 1) < 10)
        fprintf(stderr, "error: %s: %s %s gave %d\n", what, p->daemon, p->addr, got);
}

static int decide(const struct probe *p, int how)
{
    if (how) {
        struct request_info r;
        request_init(&r, RQ_DAEMON, p->daemon, RQ_CLIENT_ADDR, p->addr, 0);
        return hosts_access(&r);
    }
    return hosts_ctl((char *) p->daemon, "", (char *) p->addr, "");
}

static void *writer(void *arg)
{
    int i = 0;
    (void) arg;
    while (!atomic_load(&stop)) {
        int v = (i + 1) % 2, fd;
        fd = open("allow.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, versions[v], lens[v]) != (ssize_t) lens[v] || close(fd) != 0
            || rename("allow.tmp", "hosts.allow") != 0) {
            perror("writer: hosts.allow");
            exit(3);
        }
        if (i % 3 == 2) {
            fd = open("hosts.deny", O_WRONLY);
            if (fd < 0 || pwrite(fd, versions[2 + v], lens[2 + v], 0) != (ssize_t) lens[2 + v]) {
                perror("writer: hosts.deny in place");
                exit(3);
            }
        } else {
            fd = open("hosts.deny", O_WRONLY | O_TRUNC);
            if (fd < 0 || write(fd, versions[2 + v], lens[2 + v]) != (ssize_t) lens[2 + v]) {
                perror("writer: hosts.deny");
                exit(3);
            }
        }
        close(fd);
        atomic_store(&rewrites, ++i);
        usleep(100);
    }
    return 0;
}

static void *worker(void *arg)
{
    long id = (long) arg;
    int i;
    for (i = 0; i < iterations; i++) {
        const struct probe *p = &probes[(i + id) % nprobes];
        int got = decide(p, i & 1);
        atomic_fetch_add(&checks, 1);
        if (got != 0 && got != 1)
            fail("not a verdict", p, got);
        else if (p->legal != '*' && got != p->legal - '0')
            fail("a verdict no state of the tables gives", p, got);
    }
    return 0;
}

static void *final_check(void *arg)
{
    int i;
    (void) arg;
    for (i = 0; i < nprobes; i++) {
        int got = decide(&probes[i], i & 1);
        if (got != probes[i].final - '0')
            fail("stale tables after the writer stopped", &probes[i], got);
    }
    return 0;
}

static int fd_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != 0)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static long rss_kib(void)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = atol(line + 6);
    fclose(f);
    return v;
}

static void load(int k, const char *name)
{
    FILE *f = fopen(name, "r");
    if (!f || (lens[k] = fread(versions[k], 1, sizeof versions[k], f)) == 0) {
        perror(name);
        exit(2);
    }
    fclose(f);
}

static void install(const char *from, const char *to)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp %s tmp.install && mv tmp.install %s", from, to);
    if (system(cmd) != 0)
        exit(2);
}

int main(int argc, char **argv)
{
    int n, i, fds0, fds1;
    long rss0, rss1;
    pthread_t w, t[64];

    if (argc < 5 || chdir(argv[1]) != 0)
        return 2;
    n = atoi(argv[2]);
    iterations = atoi(argv[3]);
    if (n < 1 || n > 64)
        return 2;
    for (i = 4; i < argc && nprobes < MAXP; i++) {
        struct probe *p = &probes[nprobes++];
        if (sscanf(argv[i], "%63[^,],%63[^,],%c,%c", p->daemon, p->addr, &p->legal, &p->final) != 4)
            return 2;
    }
    load(0, "allow.0");
    load(1, "allow.1");
    load(2, "deny.0");
    load(3, "deny.1");
    install("allow.0", "hosts.allow");
    install("deny.0", "hosts.deny");
    hosts_allow_table = "hosts.allow";
    hosts_deny_table = "hosts.deny";

    /* Warm up: caches and the table watcher exist before the baseline. */
    final_check(0);
    fds0 = fd_count();
    rss0 = rss_kib();

    pthread_create(&w, 0, writer, 0);
    for (i = 0; i < n; i++)
        pthread_create(&t[i], 0, worker, (void *) (long) i);
    for (i = 0; i < n; i++)
        pthread_join(t[i], 0);
    atomic_store(&stop, 1);
    pthread_join(w, 0);

    /* The final tables, installed by rename; every thread must see them. */
    install("allow.0", "hosts.allow");
    install("deny.0", "hosts.deny");
    for (i = 0; i < n; i++)
        pthread_create(&t[i], 0, final_check, 0);
    for (i = 0; i < n; i++)
        pthread_join(t[i], 0);

    fds1 = fd_count();
    rss1 = rss_kib();
    if (fds1 != fds0)
        atomic_fetch_add(&errors, 1);
    printf("errors %d checks %d rewrites %d fds %d->%d rss %ld->%ld\n", atomic_load(&errors),
           atomic_load(&checks), atomic_load(&rewrites), fds0, fds1, rss0, rss1);
    return atomic_load(&errors) ? 1 : 0;
}
