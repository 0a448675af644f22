/*
 * interpose.c - a program that defines shell_cmd, rfc931 and clean_exit,
 * and installs a host-name method of its own. The library's internal uses
 * (spawn -> shell_cmd, eval_user -> rfc931, twist/refuse -> clean_exit, and
 * the request's hostname method) must reach the program's versions, as
 * with Debian's library (tcpdmatch and tcpdchk rely on this).
 *
 * usage: interpose WORKDIR
 */
#include "capture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define INET6 1
#include <tcpd.h>

void shell_cmd(char *command)
{
    show("program shell_cmd", command);
}

void rfc931(struct sockaddr *rmt, struct sockaddr *our, char *dest)
{
    printf("program rfc931 families=%d,%d\n", rmt->sa_family, our->sa_family);
    strcpy(dest, "alice");
}

void clean_exit(struct request_info *r)
{
    printf("program clean_exit daemon=%s\n", r->daemon);
    fflush(stdout);
}

static void my_hostname(struct host_info *h)
{
    printf("program hostname method (request %s)\n",
           h->request && h->request->client == h ? "client" : "server");
    strcpy(h->name, "host.custom.example");
}

static void put(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    if (!f)
        exit(2);
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    struct request_info r;
    struct sockaddr_in c, s;

    if (argc != 2 || chdir(argv[1]) != 0)
        return 2;
    hosts_allow_table = "allow";
    hosts_deny_table = "deny";
    put("deny", "ALL: ALL\n");
    put("allow",
        "spawnd: ALL: spawn echo %d from %a\n"
        "identd: alice@ALL\n"
        "named: .custom.example\n"
        "twistd: ALL: twist echo %d\n");

    printf("spawn -> %d\n", hosts_ctl("spawnd", "", "10.0.0.1", ""));

    memset(&c, 0, sizeof c);
    c.sin_family = AF_INET;
    c.sin_port = htons(4000);
    inet_pton(AF_INET, "127.0.0.1", &c.sin_addr);
    s = c;
    s.sin_port = htons(22);
    request_init(&r, RQ_DAEMON, "identd", RQ_CLIENT_SIN, &c, RQ_SERVER_SIN, &s,
                 RQ_CLIENT_ADDR, "127.0.0.1", 0);
    printf("ident -> %d user=%s\n", hosts_access(&r), r.user);
    request_init(&r, RQ_DAEMON, "x", RQ_CLIENT_SIN, &c, RQ_SERVER_SIN, &s, 0);
    printf("eval_user=%s\n", eval_user(&r));

    request_init(&r, RQ_DAEMON, "named", RQ_CLIENT_ADDR, "192.0.2.1", 0);
    r.hostname = my_hostname;
    printf("method -> %d name=%s\n", hosts_access(&r), r.client->name);
    request_init(&r, RQ_DAEMON, "named", 0);
    r.hostname = my_hostname;
    printf("eval_hostname=%s\n", eval_hostname(r.server));

    resident = -1;
    request_init(&r, RQ_DAEMON, "twistd", RQ_CLIENT_ADDR, "10.0.0.1", 0);
    printf("twist -> %d\n", hosts_access(&r));

    request_init(&r, RQ_DAEMON, "refused", RQ_CLIENT_ADDR, "10.0.0.9", 0);
    refuse(&r);
    printf("done\n");
    return 0;
}
