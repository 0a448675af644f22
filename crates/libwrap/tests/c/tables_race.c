/*
 * tables_race.c - threads calling hosts_ctl() and hosts_access() of
 * libwrap.so.0 while another thread changes both tables, in two phases:
 *   0 (rename):   both tables replaced whole by rename();
 *   1 (in place): hosts.allow renamed over, hosts.deny truncated and
 *                 rewritten or overwritten in place with pwrite().
 * Each probe comes with the values its verdict may take in each phase
 * ("0", "1" or "*": computed by the test with the engine over every state
 * the files pass through) and its verdict under each of the four final
 * pairs of tables. Checks: no verdict outside the phase's values; after
 * each phase, the final tables are installed and every thread sees them
 * at once; descriptors and threads the same after the run as after a
 * warm-up round; VmRSS is reported (the test bounds it).
 *
 * usage: tables_race DIR THREADS CHECKS MIN_REWRITES DAEMON,ADDR,RENAME,INPLACE,FFFF...
 * Each thread makes at least CHECKS checks per phase, and goes on until
 * the writer has made MIN_REWRITES rewrites in the phase.
 * DIR holds allow.0 allow.1 deny.0 deny.1 (the versions, same size per
 * table); the tables are DIR/hosts.allow and DIR/hosts.deny; the final
 * tables k are allow.(k%2) and deny.(k/2).
 * Prints "LABEL: checks N rewrites R torn T" per round (warm-up, phase
 * 0, phase 1), then
 * "errors N checks M fds A->B threads C->D rss X->Y", and exits 1 on any
 * error.
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
#define MAXT 64
static struct probe {
    char daemon[64], addr[64];
    char legal[2];  /* per phase: '0', '1' or '*' */
    char final[4];  /* per final pair of tables: '0' or '1' */
} probes[MAXP];
static int nprobes, nthreads, iterations, min_rewrites, phase, final_k;
static atomic_int errors, checks, torn, stop, rewrites;
static char versions[4][16384];
static size_t lens[4];

static void fail(const char *what, const struct probe *p, int got)
{
    if (atomic_fetch_add(&errors, 1) < 10)
        fprintf(stderr, "error: phase %d: %s: %s %s gave %d\n", phase, what, p->daemon, p->addr, got);
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

static void replace(int v, const char *path)
{
    int fd = open("tmp.new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, versions[v], lens[v]) != (ssize_t) lens[v] || close(fd) != 0
        || rename("tmp.new", path) != 0) {
        perror(path);
        exit(3);
    }
}

static void *writer(void *arg)
{
    int i = 0, fd;
    (void) arg;
    while (!atomic_load(&stop)) {
        int d = 2 + (i / 2 + 1) % 2;
        replace((i + 1) % 2, "hosts.allow");
        if (phase == 0) {
            replace(d, "hosts.deny");
        } else if (i % 3 == 2) {
            fd = open("hosts.deny", O_WRONLY);
            if (fd < 0 || pwrite(fd, versions[d], lens[d], 0) != (ssize_t) lens[d] || close(fd) != 0) {
                perror("hosts.deny in place");
                exit(3);
            }
        } else {
            fd = open("hosts.deny", O_WRONLY | O_TRUNC);
            if (fd < 0 || write(fd, versions[d], lens[d]) != (ssize_t) lens[d] || close(fd) != 0) {
                perror("hosts.deny");
                exit(3);
            }
        }
        atomic_store(&rewrites, ++i);
        usleep(100);
    }
    return 0;
}

static void *worker(void *arg)
{
    long id = (long) arg;
    int i;
    for (i = 0; i < iterations || atomic_load(&rewrites) < min_rewrites; i++) {
        const struct probe *p = &probes[(i + id) % nprobes];
        int got = decide(p, i & 1), want = p->legal[phase];
        atomic_fetch_add(&checks, 1);
        if (got != 0 && got != 1)
            fail("not a verdict", p, got);
        else if (want != '*' && got != want - '0')
            fail("a verdict no state of the tables gives", p, got);
        else if (p->legal[0] != '*' && got != p->legal[0] - '0')
            atomic_fetch_add(&torn, 1);
    }
    return 0;
}

static void *final_check(void *arg)
{
    int i;
    (void) arg;
    for (i = 0; i < nprobes; i++) {
        int got = decide(&probes[i], i & 1);
        if (got != probes[i].final[final_k] - '0')
            fail("stale tables after the writer stopped", &probes[i], got);
    }
    return 0;
}

static int count_entries(const char *path)
{
    int n = 0;
    DIR *d = opendir(path);
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
    if (!f || (lens[k] = fread(versions[k], 1, sizeof versions[k], f)) == 0 || !feof(f)) {
        fprintf(stderr, "%s: unreadable or too long\n", name);
        exit(2);
    }
    fclose(f);
}

/* One phase: the writer and the checking threads, then the final tables. */
static void run(int ph, const char *label)
{
    pthread_t w, t[MAXT];
    int i, checks0 = atomic_load(&checks), torn0 = atomic_load(&torn);

    phase = ph;
    atomic_store(&stop, 0);
    atomic_store(&rewrites, 0);
    pthread_create(&w, 0, writer, 0);
    for (i = 0; i < nthreads; i++)
        pthread_create(&t[i], 0, worker, (void *) (long) i);
    for (i = 0; i < nthreads; i++)
        pthread_join(t[i], 0);
    atomic_store(&stop, 1);
    pthread_join(w, 0);
    /* Both tables differ from the last versions written (rewrite j wrote
     * allow.((j+1)%2) and deny.((j/2+1)%2)), so the caches must notice. */
    i = atomic_load(&rewrites) - 1;
    final_k = (1 - (i + 1) % 2) + 2 * (1 - (i / 2 + 1) % 2);
    replace(final_k % 2, "hosts.allow");
    replace(2 + final_k / 2, "hosts.deny");
    for (i = 0; i < nthreads; i++)
        pthread_create(&t[i], 0, final_check, 0);
    for (i = 0; i < nthreads; i++)
        pthread_join(t[i], 0);
    printf("%s: checks %d rewrites %d torn %d\n", label, atomic_load(&checks) - checks0,
           atomic_load(&rewrites), atomic_load(&torn) - torn0);
}

int main(int argc, char **argv)
{
    int i, fds0, fds1, threads0, threads1, checks_main;
    long rss0, rss1;

    if (argc < 6 || chdir(argv[1]) != 0)
        return 2;
    nthreads = atoi(argv[2]);
    if (nthreads < 1 || nthreads > MAXT)
        return 2;
    for (i = 5; i < argc && nprobes < MAXP; i++) {
        struct probe *p = &probes[nprobes++];
        if (sscanf(argv[i], "%63[^,],%63[^,],%c,%c,%4c", p->daemon, p->addr, &p->legal[0],
                   &p->legal[1], p->final) != 5)
            return 2;
    }
    load(0, "allow.0");
    load(1, "allow.1");
    load(2, "deny.0");
    load(3, "deny.1");
    replace(0, "hosts.allow");
    replace(2, "hosts.deny");
    hosts_allow_table = "hosts.allow";
    hosts_deny_table = "hosts.deny";

    /* Warm-up round with the same threads (caches, allocator arenas). */
    iterations = 300;
    min_rewrites = 10;
    run(0, "warm-up");
    fds0 = count_entries("/proc/self/fd");
    threads0 = count_entries("/proc/self/task");
    rss0 = rss_kib();

    iterations = atoi(argv[3]);
    min_rewrites = atoi(argv[4]);
    checks_main = atomic_load(&checks);
    run(0, "phase 0 (rename)");
    run(1, "phase 1 (in place)");
    checks_main = atomic_load(&checks) - checks_main;

    /* Joined threads can still be listed for a moment. */
    for (i = 0; i < 500 && count_entries("/proc/self/task") > threads0; i++)
        usleep(10000);
    fds1 = count_entries("/proc/self/fd");
    threads1 = count_entries("/proc/self/task");
    rss1 = rss_kib();
    if (fds1 != fds0 || threads1 != threads0) {
        atomic_fetch_add(&errors, 1);
        fprintf(stderr, "error: descriptors %d -> %d, threads %d -> %d\n", fds0, fds1, threads0,
                threads1);
    }
    printf("errors %d checks %d fds %d->%d threads %d->%d rss %ld->%ld\n", atomic_load(&errors),
           checks_main, fds0, fds1, threads0, threads1, rss0, rss1);
    return atomic_load(&errors) ? 1 : 0;
}
