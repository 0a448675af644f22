/*
 * measure: run one program and report how it ended, its wall time and its
 * peak resident size, for the hostile-input tests (hostile/mod.rs compiles
 * it with the system C compiler).
 *
 *   measure REPORT LIMIT EXE ARGV0 [ARGS...]
 *
 * Runs EXE with argv ARGV0 ARGS... (stdio inherited, its own process
 * group, no core files), kills the group after LIMIT seconds, and writes
 * one line to REPORT:
 *
 *   exit CODE SECONDS MAXRSS_KIB PID      (CODE: 128 + N for signal N)
 *   timeout CODE SECONDS MAXRSS_KIB PID
 *
 * Why a C program: ru_maxrss of a child counts the memory of the process it
 * was forked from up to its exec (Linux carries the old address space's
 * high-water mark over exec), so a measuring parent must be small. A
 * python3 or Rust parent adds 10 to 40 MiB to every figure; this one adds
 * about 1 MiB. The figure includes waited-for descendants of EXE (e.g. the
 * shells of `spawn`), as wait4() reports them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static volatile pid_t child;

static void on_alarm(int sig)
{
    (void) sig;
    timed_out = 1;
    if (child > 0)
        kill(-child, SIGKILL);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: measure REPORT LIMIT EXE ARGV0 [ARGS...]\n");
        return 125;
    }
    const char *report = argv[1];
    double limit = atof(argv[2]);
    const char *exe = argv[3];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 125;
    }
    if (pid == 0) {
        /* No core files from a program that crashes. */
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        setpgid(0, 0);
        execv(exe, argv + 4);
        fprintf(stderr, "measure: exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    child = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t) limit;
    it.it_value.tv_usec = (suseconds_t) ((limit - (double) (time_t) limit) * 1e6);
    if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("measure: wait4");
            return 125;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    /* Whatever EXE left in its group (spawned commands) ends with it. */
    kill(-pid, SIGKILL);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    FILE *f = fopen(report, "w");
    if (f == NULL) {
        perror("measure: report");
        return 125;
    }
    fprintf(f, "%s %d %.6f %ld %d\n", timed_out ? "timeout" : "exit", code, secs, ru.ru_maxrss,
            (int) pid);
    if (fclose(f) != 0) {
        perror("measure: report");
        return 125;
    }
    return code;
}
