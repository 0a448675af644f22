/*
 * threads.c - many threads calling hosts_ctl, hosts_access, percent_x and
 * the eval_* functions while another thread keeps replacing the tables.
 * Requests whose verdict is the same under every version of the tables
 * must always get it; per-thread values (eval_client, eval_server,
 * eval_port, percent_x) must never show another thread's data.
 *
 * usage: threads WORKDIR [THREADS [ITERATIONS]]
 * Prints "errors N checks M" and exits 1 on any error.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <tcpd.h>

/* Records are not interesting here: keep them off the real syslog. */
void syslog(int pri, const char *fmt, ...) { (void) pri; (void) fmt; }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { (void) pri; (void) flag; (void) fmt; }

static atomic_int errors, checks, stop;
static int iterations = 2000;

static const char *versions[] = {
    "sshd: 10.0.0.1\n"
    "sshd: 10.0.0.2: severity auth.info\n"
    "# version A\n"
    "sshd: 10.0.0.4: spawn true\n"
    "ALL: 10.1.0.0/16: allow\n",
    "sshd: 10.0.0.1: setenv TW_T %a\n"
    "sshd: 10.0.0.2: deny\n"
    "sshd: 10.0.0.4: spawn true\n"
    "# version B, a little longer than A\n"
    "ALL: 10.1.\n",
};

static void fail(const char *what, const char *got)
{
    atomic_fetch_add(&errors, 1);
    fprintf(stderr, "error: %s (got %s)\n", what, got);
}

static void *writer(void *arg)
{
    int i = 0;
    (void) arg;
    while (!atomic_load(&stop)) {
        FILE *f = fopen("allow.tmp", "w");
        if (f) {
            fputs(versions[i++ % 2], f);
            fclose(f);
            rename("allow.tmp", "allow");
        }
        usleep(200);
    }
    return 0;
}

static void *worker(void *arg)
{
    long id = (long) arg;
    char addr[32], user[32], want[96], buf[256];
    struct request_info r;
    struct sockaddr_in sin;
    int i;

    for (i = 0; i < iterations; i++) {
        atomic_fetch_add(&checks, 1);
        if (hosts_ctl("sshd", "", "10.0.0.1", "") != 1)
            fail("10.0.0.1 must be granted", "deny");
        if (hosts_ctl("sshd", "", "10.0.0.3", "") != 0)
            fail("10.0.0.3 must be denied", "grant");
        hosts_ctl("sshd", "", "10.0.0.2", "");
        if (i % 200 == 0 && hosts_ctl("sshd", "", "10.0.0.4", "") != 1)
            fail("10.0.0.4 (spawn) must be granted", "deny");
        if (i % 500 == 250) {
            /* A child forked while other threads are inside the library
             * must be able to use it (no lock left held by a thread that
             * does not exist in the child). */
            pid_t pid = fork();
            if (pid == 0) {
                alarm(20);
                _exit(hosts_ctl("sshd", "", "10.0.0.1", "") == 1
                      && hosts_ctl("sshd", "", "10.0.0.3", "") == 0 ? 0 : 1);
            }
            int st = 0;
            if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail("forked child", WIFSIGNALED(st) ? "killed (deadlock?)" : "wrong verdict");
        }

        snprintf(addr, sizeof addr, "10.1.%ld.%d", id, i % 250);
        snprintf(user, sizeof user, "user%ld-%d", id, i);
        request_init(&r, RQ_DAEMON, "d", RQ_CLIENT_ADDR, addr, RQ_USER, user, 0);
        if (hosts_access(&r) != 1)
            fail("10.1.x.y must be granted", "deny");
        snprintf(want, sizeof want, "%s@%s", user, addr);
        if (strcmp(eval_client(&r), want) != 0)
            fail("eval_client", eval_client(&r));
        percent_x(buf, sizeof buf, "%u@%a", &r);
        if (strcmp(buf, want) != 0)
            fail("percent_x", buf);
        request_set(&r, RQ_SERVER_NAME, user, 0);
        snprintf(want, sizeof want, "d@%s", user);
        if (strcmp(eval_server(&r), want) != 0)
            fail("eval_server", eval_server(&r));
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short) (1000 + id * 100 + i % 100));
        snprintf(want, sizeof want, "%ld", 1000 + id * 100 + i % 100);
        if (strcmp(eval_port((void *) &sin), want) != 0)
            fail("eval_port", eval_port((void *) &sin));
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n = 8, i;
    pthread_t w, t[64];
    FILE *f;

    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    if (argc > 2)
        n = atoi(argv[2]);
    if (argc > 3)
        iterations = atoi(argv[3]);
    if (n < 1 || n > 64)
        return 2;
    hosts_allow_table = "allow";
    hosts_deny_table = "deny";
    f = fopen("deny", "w");
    fputs("ALL: 10.0.0.3\nsshd: 10.0.0.2, 10.0.0.3\n", f);
    fclose(f);
    f = fopen("allow", "w");
    fputs(versions[0], f);
    fclose(f);
    pthread_create(&w, 0, writer, 0);
    for (i = 0; i < n; i++)
        pthread_create(&t[i], 0, worker, (void *) (long) i);
    for (i = 0; i < n; i++)
        pthread_join(t[i], 0);
    atomic_store(&stop, 1);
    pthread_join(w, 0);
    printf("errors %d checks %d\n", atomic_load(&errors), atomic_load(&checks));
    return atomic_load(&errors) ? 1 : 0;
}
