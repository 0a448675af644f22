/*
 * loadgen: the load generator and syslog sink of benches/tcpwrapd/run.sh.
 *
 *   loadgen cps DST PORT SECONDS CONC EXPECT SRC[,SRC...]
 *       CONC threads, each: socket, bind a source address (thread i takes
 *       SRC[i % n]), connect DST:PORT, read until the server closes, close;
 *       again until SECONDS have passed. A connection counts as served when
 *       exactly EXPECT ("ok" plus a newline is written as "ok\n") was read
 *       before the close. Prints one JSON line: connections, served,
 *       conns_per_s (served per second), latency percentiles (connect to
 *       close), outcomes that were not "served" by kind, client CPU.
 *
 *   loadgen mix DST PORT SECONDS FLOOD_CONC FLOOD_SRC INTERVAL_MS TIMEOUT_MS EXPECT SRC[,SRC...]
 *       FLOOD_CONC threads flood from FLOOD_SRC as fast as they can (each:
 *       connect, read until close or 1 s, close, again; 0 = no flood) while
 *       one thread per SRC connects every INTERVAL_MS (the threads' phases
 *       spread evenly over the interval), each connection given TIMEOUT_MS
 *       in all. Prints one JSON line with the other clients' attempts,
 *       served, share, latency percentiles and failures by kind, and the
 *       flood's connections by outcome.
 *
 *   loadgen sink PATH COUNTFILE
 *       Bind a Unix datagram socket at PATH (the namespace's /dev/log is
 *       bound over it), count and discard records until SIGTERM or SIGINT,
 *       then print "records=N". Prints "ready" once bound; the count so far
 *       is rewritten to COUNTFILE at least every 100 ms.
 *
 *   loadgen wait DST PORT EXPECT SRC
 *       Connect from SRC until one connection is served (at most 10 s);
 *       exit 0 if so.
 *
 * Outcomes of one connection: served; closed (EOF without data: refused by
 * the wrapper or a limit); wrong (other data); reset (ECONNRESET while
 * reading); refused (connect: ECONNREFUSED, no listener); timeout (connect
 * or read took longer than the time-out); error (anything else).
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { SERVED, CLOSED, WRONG, RESET, REFUSED, TIMEOUT, ERROR, NKINDS };
static const char *kind_name[NKINDS] = {"served", "closed", "wrong", "reset",
                                        "refused", "timeout", "error"};

static struct sockaddr_in dst;
static char expect[256];
static size_t expect_len;

static void die(const char *m) {
    perror(m);
    exit(2);
}

static int64_t now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void sleep_until(int64_t t) {
    for (;;) {
        int64_t d = t - now_us();
        if (d <= 0)
            return;
        struct timespec ts = {d / 1000000, (d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

static void set_timeout(int fd, int opt, int64_t us) {
    if (us < 1000)
        us = 1000;
    struct timeval tv = {us / 1000000, us % 1000000};
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* One connection from src; the outcome. timeout_us bounds connect and the
 * whole read (blocking calls with SO_SNDTIMEO/SO_RCVTIMEO). */
static int one(struct in_addr src, int64_t timeout_us) {
    int64_t t0 = now_us();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERROR;
    int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr = src};
    if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0) {
        close(fd);
        return ERROR;
    }
    set_timeout(fd, SO_SNDTIMEO, timeout_us);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        int e = errno;
        close(fd);
        if (e == ECONNREFUSED)
            return REFUSED;
        if (e == EINPROGRESS || e == EAGAIN || e == ETIMEDOUT)
            return TIMEOUT;
        return ERROR;
    }
    char buf[512];
    size_t got = 0;
    int r = ERROR;
    for (;;) {
        int64_t left = timeout_us - (now_us() - t0);
        if (left <= 0) {
            r = TIMEOUT;
            break;
        }
        set_timeout(fd, SO_RCVTIMEO, left);
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n > 0) {
            got += (size_t)n;
            if (got == sizeof buf) {
                r = WRONG;
                break;
            }
            continue;
        }
        if (n == 0) {
            if (got == 0)
                r = CLOSED;
            else if (got == expect_len && memcmp(buf, expect, got) == 0)
                r = SERVED;
            else
                r = WRONG;
            break;
        }
        if (errno == EINTR)
            continue;
        r = errno == ECONNRESET ? RESET : (errno == EAGAIN || errno == EWOULDBLOCK) ? TIMEOUT : ERROR;
        break;
    }
    close(fd);
    return r;
}

/* ------------------------------------------------------------ latencies */
struct lat {
    int64_t *v;
    size_t n, cap;
};

static void lat_add(struct lat *l, int64_t us) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            die("realloc");
    }
    l->v[l->n++] = us;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pct(struct lat *l, double p) {
    if (!l->n)
        return -1;
    size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
    return l->v[i];
}

/* -------------------------------------------------------------- threads */
struct worker {
    pthread_t t;
    struct in_addr src;
    int64_t start, deadline, interval, phase, timeout;
    long count[NKINDS];
    long attempts;
    struct lat lat; /* served connections only */
};

static void *cps_thread(void *p) {
    struct worker *w = p;
    sleep_until(w->start);
    while (now_us() < w->deadline) {
        int64_t t0 = now_us();
        int r = one(w->src, w->timeout);
        w->attempts++;
        w->count[r]++;
        if (r == SERVED)
            lat_add(&w->lat, now_us() - t0);
    }
    return NULL;
}

static void *flood_thread(void *p) {
    struct worker *w = p;
    while (now_us() < w->deadline) {
        int r = one(w->src, w->timeout);
        w->attempts++;
        w->count[r]++;
    }
    return NULL;
}

static void *legit_thread(void *p) {
    struct worker *w = p;
    for (int64_t k = 0;; k++) {
        int64_t at = w->start + w->phase + k * w->interval;
        if (at >= w->deadline)
            break;
        if (at < now_us()) /* the previous connection ran late: skip the slot */
            continue;
        sleep_until(at);
        int64_t t0 = now_us();
        int r = one(w->src, w->timeout);
        w->attempts++;
        w->count[r]++;
        lat_add(&w->lat, now_us() - t0); /* every attempt, for the legit clients */
    }
    return NULL;
}

static int parse_srcs(const char *list, struct in_addr *out, int max) {
    char *dup = strdup(list), *save = NULL;
    int n = 0;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max || inet_pton(AF_INET, t, &out[n]) != 1) {
            fprintf(stderr, "loadgen: bad source address %s\n", t);
            exit(2);
        }
        n++;
    }
    free(dup);
    if (!n) {
        fprintf(stderr, "loadgen: no source address\n");
        exit(2);
    }
    return n;
}

static void set_dst(const char *a, const char *port) {
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, a, &dst.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad destination %s\n", a);
        exit(2);
    }
}

static void set_expect(const char *e) {
    size_t j = 0;
    for (size_t i = 0; e[i] && j < sizeof expect - 1; i++) {
        if (e[i] == '\\' && e[i + 1] == 'n') {
            expect[j++] = '\n';
            i++;
        } else {
            expect[j++] = e[i];
        }
    }
    expect_len = j;
}

static double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void print_kinds(const long *c) {
    printf("{");
    for (int k = 0; k < NKINDS; k++)
        printf("%s\"%s\":%ld", k ? "," : "", kind_name[k], c[k]);
    printf("}");
}

static int cmd_cps(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: loadgen cps DST PORT SECONDS CONC EXPECT SRC[,SRC...]\n");
        return 2;
    }
    set_dst(argv[2], argv[3]);
    double seconds = atof(argv[4]);
    int conc = atoi(argv[5]);
    set_expect(argv[6]);
    struct in_addr srcs[256];
    int ns = parse_srcs(argv[7], srcs, 256);
    if (conc < 1 || conc > 1024 || seconds <= 0)
        return 2;
    struct worker *w = calloc((size_t)conc, sizeof *w);
    int64_t start = now_us() + 50000;
    for (int i = 0; i < conc; i++) {
        w[i].src = srcs[i % ns];
        w[i].start = start;
        w[i].deadline = start + (int64_t)(seconds * 1e6);
        w[i].timeout = 20000000;
        if (pthread_create(&w[i].t, NULL, cps_thread, &w[i]) != 0)
            die("pthread_create");
    }
    double c0 = cpu_us();
    sleep_until(start);
    int64_t t0 = start;
    long count[NKINDS] = {0}, attempts = 0;
    struct lat all = {0};
    for (int i = 0; i < conc; i++) {
        pthread_join(w[i].t, NULL);
        attempts += w[i].attempts;
        for (int k = 0; k < NKINDS; k++)
            count[k] += w[i].count[k];
        for (size_t j = 0; j < w[i].lat.n; j++)
            lat_add(&all, w[i].lat.v[j]);
    }
    double elapsed = (double)(now_us() - t0) / 1e6;
    double cpu = cpu_us() - c0;
    qsort(all.v, all.n, sizeof *all.v, cmp64);
    printf("{\"connections\":%ld,\"served\":%ld,\"seconds\":%.3f,\"conns_per_s\":%.1f,"
           "\"p50_us\":%lld,\"p90_us\":%lld,\"p99_us\":%lld,\"client_cpu_us_per_conn\":%.1f,\"outcomes\":",
           attempts, count[SERVED], elapsed, (double)count[SERVED] / elapsed, (long long)pct(&all, 0.5),
           (long long)pct(&all, 0.9), (long long)pct(&all, 0.99), attempts ? cpu / (double)attempts : 0.0);
    print_kinds(count);
    printf("}\n");
    return 0;
}

static int cmd_mix(int argc, char **argv) {
    if (argc != 11) {
        fprintf(stderr, "usage: loadgen mix DST PORT SECONDS FLOOD_CONC FLOOD_SRC INTERVAL_MS TIMEOUT_MS EXPECT SRC[,SRC...]\n");
        return 2;
    }
    set_dst(argv[2], argv[3]);
    double seconds = atof(argv[4]);
    int fconc = atoi(argv[5]);
    struct in_addr fsrc;
    parse_srcs(argv[6], &fsrc, 1);
    int64_t interval = (int64_t)atoi(argv[7]) * 1000, timeout = (int64_t)atoi(argv[8]) * 1000;
    set_expect(argv[9]);
    struct in_addr srcs[256];
    int ns = parse_srcs(argv[10], srcs, 256);
    if (fconc < 0 || fconc > 1024 || seconds <= 0 || interval <= 0 || timeout <= 0)
        return 2;
    int64_t start = now_us() + 200000, deadline = start + (int64_t)(seconds * 1e6);
    struct worker *f = calloc((size_t)fconc + 1, sizeof *f);
    struct worker *l = calloc((size_t)ns, sizeof *l);
    /* The flood starts first (it is under way when the first other client
     * connects) and stops when the last other client's slot has passed. */
    for (int i = 0; i < fconc; i++) {
        f[i].src = fsrc;
        f[i].deadline = deadline;
        f[i].timeout = 1000000;
        if (pthread_create(&f[i].t, NULL, flood_thread, &f[i]) != 0)
            die("pthread_create");
    }
    for (int i = 0; i < ns; i++) {
        l[i].src = srcs[i];
        l[i].start = start;
        l[i].deadline = deadline;
        l[i].interval = interval;
        l[i].phase = interval * i / ns;
        l[i].timeout = timeout;
        if (pthread_create(&l[i].t, NULL, legit_thread, &l[i]) != 0)
            die("pthread_create");
    }
    long lc[NKINDS] = {0}, la = 0, fc[NKINDS] = {0}, fa = 0;
    struct lat all = {0};
    for (int i = 0; i < ns; i++) {
        pthread_join(l[i].t, NULL);
        la += l[i].attempts;
        for (int k = 0; k < NKINDS; k++)
            lc[k] += l[i].count[k];
        for (size_t j = 0; j < l[i].lat.n; j++)
            lat_add(&all, l[i].lat.v[j]);
    }
    for (int i = 0; i < fconc; i++) {
        pthread_join(f[i].t, NULL);
        fa += f[i].attempts;
        for (int k = 0; k < NKINDS; k++)
            fc[k] += f[i].count[k];
    }
    double elapsed = (double)(now_us() - start) / 1e6;
    qsort(all.v, all.n, sizeof *all.v, cmp64);
    printf("{\"seconds\":%.3f,\"others\":{\"sources\":%d,\"attempts\":%ld,\"served\":%ld,\"share\":%.4f,"
           "\"p50_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld,\"outcomes\":",
           elapsed, ns, la, lc[SERVED], la ? (double)lc[SERVED] / (double)la : 0.0, (long long)pct(&all, 0.5),
           (long long)pct(&all, 0.99), (long long)pct(&all, 1.0));
    print_kinds(lc);
    printf("},\"flood\":{\"threads\":%d,\"attempts\":%ld,\"per_s\":%.1f,\"outcomes\":", fconc, fa,
           (double)fa / elapsed);
    print_kinds(fc);
    printf("}}\n");
    return 0;
}

static volatile sig_atomic_t stop;
static void on_stop(int s) {
    (void)s;
    stop = 1;
}

static int cmd_sink(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: loadgen sink PATH COUNTFILE\n");
        return 2;
    }
    FILE *cf = fopen(argv[3], "w");
    if (!cf)
        die("sink: COUNTFILE");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(argv[2]) >= sizeof a.sun_path)
        return 2;
    strcpy(a.sun_path, argv[2]);
    unlink(argv[2]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("sink: bind");
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    long n = 0, written = -1;
    char buf[8192];
    int64_t last = 0;
    while (!stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
            while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
                n++;
        if (n != written && now_us() - last >= 100000) {
            rewind(cf);
            fprintf(cf, "%-20ld\n", n);
            fflush(cf);
            written = n;
            last = now_us();
        }
    }
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        n++;
    printf("records=%ld\n", n);
    return 0;
}

static int cmd_wait(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: loadgen wait DST PORT EXPECT SRC\n");
        return 2;
    }
    set_dst(argv[2], argv[3]);
    set_expect(argv[4]);
    struct in_addr src;
    parse_srcs(argv[5], &src, 1);
    int64_t end = now_us() + 10000000;
    while (now_us() < end) {
        if (one(src, 2000000) == SERVED)
            return 0;
        usleep(20000);
    }
    return 1;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "cps") == 0)
        return cmd_cps(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "mix") == 0)
        return cmd_mix(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "sink") == 0)
        return cmd_sink(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "wait") == 0)
        return cmd_wait(argc, argv);
    fprintf(stderr, "usage: loadgen cps|mix|sink|wait ... (see the comment at the top of loadgen.c)\n");
    return 2;
}
