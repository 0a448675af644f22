/*
 * ident.c - RFC 1413 through the library on a real loopback connection:
 * eval_user, a user@host rule, the rfc931 option and %u. Expects a fake
 * ident server on 127.0.0.1:113 (tests/daemons/identd.py) that answers
 * "alice" for client port P, except that it never answers for a client port
 * ending in 7 (time-out).
 *
 * usage: ident WORKDIR
 */
#include "capture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <tcpd.h>

static int lst;
static struct sockaddr_in where;

static int connection(int *client, int avoid7)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int c, s;

    for (;;) {
        c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (void *) &where, sizeof where);
        s = accept(lst, 0, 0);
        getsockname(c, (void *) &a, &len);
        if (((ntohs(a.sin_port) % 10) == 7) == !avoid7)
            break;
        close(c);
        close(s);
    }
    *client = c;
    return s;
}

int main(int argc, char **argv)
{
    struct request_info r;
    int c, s, v;
    char buf[256];
    socklen_t len = sizeof where;
    FILE *f;

    if (argc != 2 || chdir(argv[1]) != 0)
        return 2;
    hosts_allow_table = "allow";
    hosts_deny_table = "deny";
    f = fopen("allow", "w");
    fputs("identd: alice@127.0.0.1\nopt: ALL: rfc931 1: setenv X %u\n", f);
    fclose(f);
    f = fopen("deny", "w");
    fputs("ALL: ALL\n", f);
    fclose(f);

    memset(&where, 0, sizeof where);
    where.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &where.sin_addr);
    lst = socket(AF_INET, SOCK_STREAM, 0);
    bind(lst, (void *) &where, sizeof where);
    listen(lst, 8);
    getsockname(lst, (void *) &where, &len);

    s = connection(&c, 1);
    request_init(&r, RQ_DAEMON, "identd", RQ_FILE, s, 0);
    fromhost(&r);
    printf("eval_user=%s\n", eval_user(&r));
    printf("client=%s\n", eval_client(&r));
    request_init(&r, RQ_DAEMON, "identd", RQ_FILE, s, 0);
    fromhost(&r);
    v = hosts_access(&r);
    printf("user rule -> %d user=%s\n", v, r.user);
    printf("percent_x=%s\n", percent_x(buf, sizeof buf, "%u@%h", &r));
    close(c);
    close(s);

    /* No answer: the rfc931 option sets a 1 s time-out. */
    s = connection(&c, 0);
    request_init(&r, RQ_DAEMON, "opt", RQ_FILE, s, 0);
    fromhost(&r);
    v = hosts_access(&r);
    printf("rfc931 option -> %d user=%s X=%s timeout=%d\n", v, r.user,
           getenv("X") ? getenv("X") : "(unset)", rfc931_timeout);
    close(c);
    close(s);
    printf("end\n");
    return 0;
}
