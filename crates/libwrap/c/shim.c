/*
 * shim.c - the parts of libwrap.so.0 that Rust cannot express on stable:
 *
 *   - the exported data symbols with Debian's defaults, the two severities
 *     weak (a program that defines them overrides them);
 *   - the C-variadic functions request_init, request_set, tcpd_warn and
 *     tcpd_jump, which only unpack their arguments and call Rust;
 *   - setjmp/longjmp: process_options and tcpd_jump jump to tcpd_buf as in
 *     Debian's library, and every call from Rust into code that may jump
 *     (methods and functions of the program) is guarded here, so that no
 *     longjmp ever crosses a Rust frame;
 *   - calls from the library to its own exported functions (shell_cmd,
 *     rfc931, clean_exit, hosts_access, request_init, sock_hostname,
 *     sock_hostaddr) made through the dynamic symbol, so that a program
 *     defining one of them overrides the library's internal use too.
 *
 * No decision logic lives here.
 */
#define _GNU_SOURCE 1
#define INET6 1

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>

#include "tcpd.h"

/* ---------------------------------------------------------------- data */

int allow_severity __attribute__ ((weak)) = LOG_INFO;
int deny_severity __attribute__ ((weak)) = LOG_WARNING;
char *hosts_allow_table = "/etc/hosts.allow";
char *hosts_deny_table = "/etc/hosts.deny";
int hosts_access_verbose = 0;
int rfc931_timeout = 10;
int resident = -1;
int dry_run = 0;
char unknown[] = "unknown";
char paranoid[] = "paranoid";
struct tcpd_context tcpd_context;
jmp_buf tcpd_buf;

/* ------------------------------------------------------ Rust functions */

void tcpwrap_rq_init(struct request_info *);
void tcpwrap_rq_fd(struct request_info *, int);
void tcpwrap_rq_sin(struct request_info *, int, struct sockaddr *);
void tcpwrap_rq_str(struct request_info *, int, const char *);
void tcpwrap_rq_bad_key(int);
void tcpwrap_diag(int, const char *);
char *tcpwrap_percent_m_dup(const char *);
int tcpwrap_process_options(char *, struct request_info *);

/* ------------------------------------------------- request_init / set */

static struct request_info *fill(struct request_info *r, va_list ap)
{
    int key;

    while ((key = va_arg(ap, int)) > 0) {
        switch (key) {
        case RQ_FILE:
            tcpwrap_rq_fd(r, va_arg(ap, int));
            break;
        case RQ_CLIENT_SIN:
        case RQ_SERVER_SIN:
            tcpwrap_rq_sin(r, key, va_arg(ap, struct sockaddr *));
            break;
        case RQ_DAEMON:
        case RQ_USER:
        case RQ_CLIENT_NAME:
        case RQ_CLIENT_ADDR:
        case RQ_SERVER_NAME:
        case RQ_SERVER_ADDR:
            tcpwrap_rq_str(r, key, va_arg(ap, const char *));
            break;
        default:
            /* The rest of the list cannot be interpreted. */
            tcpwrap_rq_bad_key(key);
            return r;
        }
    }
    return r;
}

struct request_info *request_init(struct request_info *r, ...)
{
    va_list ap;

    tcpwrap_rq_init(r);
    va_start(ap, r);
    fill(r, ap);
    va_end(ap);
    return r;
}

struct request_info *request_set(struct request_info *r, ...)
{
    va_list ap;

    va_start(ap, r);
    fill(r, ap);
    va_end(ap);
    return r;
}

/* --------------------------------------------------- tcpd_warn / jump */

/* Format a diagnostic (%m first, with the caller's errno) and hand it to
 * Rust, which adds the prefixes and logs it at LOG_ERR. */
static void vdiag(int is_error, const char *fmt, va_list ap)
{
    char *f = tcpwrap_percent_m_dup(fmt ? fmt : "");
    char *msg = NULL;

    if (f != NULL && vasprintf(&msg, f, ap) >= 0) {
        tcpwrap_diag(is_error, msg);
        free(msg);
    }
    free(f);
}

void tcpd_warn(char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(0, fmt, ap);
    va_end(ap);
}

void tcpd_jump(char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(1, fmt, ap);
    va_end(ap);
    longjmp(tcpd_buf, AC_DENY);
}

/* ------------------------------------------------------ process_options */

void process_options(char *options, struct request_info *r)
{
    int how = tcpwrap_process_options(options, r);

    /* allow: AC_PERMIT; deny and errors: AC_DENY (the caller's setjmp). */
    if (how != 0)
        longjmp(tcpd_buf, how);
}

/* ------------------------------------------------------------ hosts_ctl */

int hosts_ctl(char *daemon, char *name, char *addr, char *user)
{
    struct request_info request;

    request_init(&request, RQ_DAEMON, daemon, RQ_CLIENT_NAME, name,
                 RQ_CLIENT_ADDR, addr, RQ_USER, user, 0);
    return hosts_access(&request);
}

/* --------------------------------------------- guarded calls from Rust */

/*
 * Each runs one call that may end in tcpd_jump() (a longjmp to tcpd_buf),
 * with tcpd_buf pointing here meanwhile. Returns 1 if it jumped, else 0.
 * tcpd_buf is restored either way. Rust holds the library lock around
 * these, since tcpd_buf is shared.
 */
#define GUARDED(call)                                   \
    do {                                                \
        jmp_buf saved;                                  \
        int jumped = 0;                                 \
        memcpy(saved, tcpd_buf, sizeof(saved));         \
        if (setjmp(tcpd_buf) == 0)                      \
            call;                                       \
        else                                            \
            jumped = 1;                                 \
        memcpy(tcpd_buf, saved, sizeof(saved));         \
        return jumped;                                  \
    } while (0)

int tcpwrap_call_method(void (*method)(struct host_info *), struct host_info *h)
{
    GUARDED(method(h));
}

int tcpwrap_call_shell_cmd(char *command)
{
    GUARDED(shell_cmd(command));
}

int tcpwrap_call_rfc931(struct sockaddr *client, struct sockaddr *server, char *dest)
{
    GUARDED(rfc931(client, server, dest));
}

int tcpwrap_call_clean_exit(struct request_info *r)
{
    GUARDED(clean_exit(r));
}

int tcpwrap_call_sink(void (*sink)(int), int fd)
{
    GUARDED(sink(fd));
}

/* ------------------------------------ what the dynamic symbols resolve to */

/* Addresses as the dynamic linker bound them (the program's definition if
 * it has one), for Rust to tell whether a call would reach its own code. */
void *tcpwrap_bound_shell_cmd(void) { return (void *) shell_cmd; }
void *tcpwrap_bound_rfc931(void) { return (void *) rfc931; }
void *tcpwrap_bound_clean_exit(void) { return (void *) clean_exit; }

/* sock_methods() as the library itself does it, through the symbols. */
void tcpwrap_install_sock_methods(struct request_info *r)
{
    sock_methods(r);
}
