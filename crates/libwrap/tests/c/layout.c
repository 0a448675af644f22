/*
 * layout.c - sizes and offsets of the header's structures, the values of
 * its keys and macros. Compiled against both headers, with and without
 * INET6 and HAVE_WEAKSYMS: the outputs must be identical.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <tcpd.h>

#define OFF(t, f) printf(#t "." #f " %zu %zu\n", offsetof(struct t, f), sizeof(((struct t *) 0)->f))

int main(void)
{
    char s[] = "10.0.0.1", n[] = "host.example", d[64];

    printf("host_info %zu %zu\n", sizeof(struct host_info), _Alignof(struct host_info));
    OFF(host_info, name);
    OFF(host_info, addr);
    OFF(host_info, sin);
    OFF(host_info, unit);
    OFF(host_info, request);
    printf("request_info %zu %zu\n", sizeof(struct request_info), _Alignof(struct request_info));
    OFF(request_info, fd);
    OFF(request_info, user);
    OFF(request_info, daemon);
    OFF(request_info, pid);
    OFF(request_info, client);
    OFF(request_info, server);
    OFF(request_info, sink);
    OFF(request_info, hostname);
    OFF(request_info, hostaddr);
    OFF(request_info, cleanup);
    OFF(request_info, config);
    printf("tcpd_context %zu\n", sizeof(struct tcpd_context));
    OFF(tcpd_context, file);
    OFF(tcpd_context, line);
    printf("keys %d %d %d %d %d %d %d %d %d\n", RQ_FILE, RQ_DAEMON, RQ_USER, RQ_CLIENT_NAME,
           RQ_CLIENT_ADDR, RQ_CLIENT_SIN, RQ_SERVER_NAME, RQ_SERVER_ADDR, RQ_SERVER_SIN);
    printf("ac %d %d %d string %d %s %s\n", AC_PERMIT, AC_DENY, AC_ERROR, STRING_LENGTH,
           STRING_UNKNOWN, STRING_PARANOID);
    printf("not_inaddr %d %d known %d %d\n", NOT_INADDR(s) != 0, NOT_INADDR(n) != 0,
           HOSTNAME_KNOWN("unknown") != 0, HOSTNAME_KNOWN("h") != 0);
    STRN_CPY(d, "0123456789", 5);
    printf("strn_cpy %s eq %d %d %d %d\n", d, STR_EQ("a", "A"), STR_NE("a", "b"),
           STRN_EQ("abc", "ABd", 2), STRN_NE("abc", "ABd", 3));
    printf("fromhost %d\n", fromhost == sock_host);
    return 0;
}
