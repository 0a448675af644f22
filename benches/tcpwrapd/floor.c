/* floor: the least a super-server can do per connection of a nowait
 * service, as a reference in benches/tcpwrapd/run.sh: accept, start the
 * service with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)) with the
 * connection as descriptors 0-2, close, reap. No access check, no log, no
 * limits. No super-server that execs the service per connection can use
 * less CPU per connection; the best other server's CPU per connection
 * divided by this one's bounds what any of them can gain over it.
 *
 * usage: floor ADDRESS PORT PROGRAM ARGV0 [ARG...]   (runs until killed) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: floor ADDRESS PORT PROGRAM ARGV0 [ARG...]\n");
        return 2;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "floor: bad address %s\n", argv[1]);
        return 2;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(ls, 128) != 0) {
        perror("floor: listen");
        return 1;
    }
    char **child_argv = argv + 4;
    for (;;) {
        struct pollfd p = {ls, POLLIN, 0};
        poll(&p, 1, 10);
        if (p.revents & POLLIN) {
            int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                posix_spawn_file_actions_t fa;
                posix_spawn_file_actions_init(&fa);
                for (int t = 0; t < 3; t++) posix_spawn_file_actions_adddup2(&fa, c, t);
                pid_t pid;
                int rc = posix_spawn(&pid, argv[3], &fa, NULL, child_argv, environ);
                if (rc != 0) fprintf(stderr, "floor: posix_spawn: %s\n", strerror(rc));
                posix_spawn_file_actions_destroy(&fa);
                close(c);
            }
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
    }
}
