/*
 * tcpd.h - interface of libwrap.so.0 (TCP Wrappers access control), as
 * provided by tcpwrap.
 *
 * Binary compatible with the header of Debian's libwrap0-dev 7.6.q-32:
 * the same structures (same sizes and offsets on every platform), the same
 * functions, variables, keys and macros. Programs built against either
 * header run with either library.
 *
 * Summary (see hosts_access(3) for the full story):
 *
 *   struct request_info req;
 *   request_init(&req, RQ_DAEMON, "sshd", RQ_FILE, fd, 0);
 *   fromhost(&req);                 -- find both ends of the connection
 *   if (!hosts_access(&req))        -- consult hosts.allow, then hosts.deny
 *       refuse(&req);               -- log, wait 5 s and exit(0)
 *
 * or, without a socket:  hosts_ctl("sshd", name, addr, user).
 */

#ifndef _TCPWRAPPERS_TCPD_H
#define _TCPWRAPPERS_TCPD_H

/* struct sockaddr_in and FILE are used below. */
#include <netinet/in.h>
#include <stdio.h>

#ifndef __BEGIN_DECLS
#ifdef __cplusplus
#define __BEGIN_DECLS extern "C" {
#define __END_DECLS }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif
#endif

__BEGIN_DECLS

/* Size of every text field below, terminating NUL included. */
#define STRING_LENGTH 128

/*
 * One end of a connection. An empty string means "not looked up yet";
 * read the fields through eval_hostname() and eval_hostaddr().
 */
struct host_info {
    char name[STRING_LENGTH];           /* host name */
    char addr[STRING_LENGTH];           /* printable address */
#ifdef INET6
    struct sockaddr *sin;               /* socket address, or NULL */
#else
    struct sockaddr_in *sin;            /* socket address, or NULL (same slot) */
#endif
    struct t_unitdata *unit;            /* TLI address; always NULL on Linux */
    struct request_info *request;       /* the request this end belongs to */
};

/* Everything known about one connection request. */
struct request_info {
    int fd;                             /* the connection, or -1 */
    char user[STRING_LENGTH];           /* client user: eval_user() */
    char daemon[STRING_LENGTH];         /* daemon name: eval_daemon() */
    char pid[10];                       /* process id, decimal: eval_pid() */
    struct host_info client[1];         /* the remote end */
    struct host_info server[1];         /* the local end */
    void (*sink) (int);                 /* discards a datagram, or NULL */
    void (*hostname) (struct host_info *);  /* finds a host name */
    void (*hostaddr) (struct host_info *);  /* finds a printable address */
    void (*cleanup) (struct request_info *);/* unused */
    struct netconfig *config;           /* unused */
};

/* Bounded string helpers used by programs written for TCP Wrappers. */
#define STRN_CPY(d,s,l)  { strncpy((d),(s),(l)); (d)[(l)-1] = 0; }
#define STRN_EQ(x,y,l)   (strncasecmp((x),(y),(l)) == 0)
#define STRN_NE(x,y,l)   (strncasecmp((x),(y),(l)) != 0)
#define STR_EQ(x,y)      (strcasecmp((x),(y)) == 0)
#define STR_NE(x,y)      (strcasecmp((x),(y)) != 0)

/*
 * A value that could not be found is "unknown"; a host name that does not
 * survive the forward check is "paranoid".
 */
#define STRING_UNKNOWN  "unknown"
#define STRING_PARANOID "paranoid"

extern char unknown[];
extern char paranoid[];

#define HOSTNAME_KNOWN(s) (STR_NE((s),unknown) && STR_NE((s),paranoid))

/* True when s is not made only of digits, dots and slashes. */
#define NOT_INADDR(s) (s[strspn(s,"01234567890./")] != 0)

/* fromhost() finds the endpoints of request->fd (sockets only). */
#define fromhost sock_host

extern int hosts_access(struct request_info *request);
extern void shell_cmd(char *);
extern char *percent_x(char *, int, char *, struct request_info *);
#ifdef INET6
extern void rfc931(struct sockaddr *, struct sockaddr *, char *);
#else
extern void rfc931(struct sockaddr_in *, struct sockaddr_in *, char *);
#endif
extern void clean_exit(struct request_info *);
extern void refuse(struct request_info *);
extern char *xgets(char *, int, FILE *);
extern char *split_at(char *, int);
extern unsigned long dot_quad_addr(char *);

/*
 * Settings. The library provides allow_severity and deny_severity as weak
 * symbols (LOG_INFO and LOG_WARNING); a program may define its own.
 */
#ifdef HAVE_WEAKSYMS
extern int allow_severity __attribute__ ((weak));
extern int deny_severity __attribute__ ((weak));
#else
extern int allow_severity;
extern int deny_severity;
#endif
extern char *hosts_allow_table;         /* default "/etc/hosts.allow" */
extern char *hosts_deny_table;          /* default "/etc/hosts.deny" */
extern int hosts_access_verbose;        /* 1: log options, 2: also matches */
extern int rfc931_timeout;              /* ident time-out, seconds (10) */
extern int resident;                    /* > 0: long-running, no twist */

/*
 * Filling in a request: a list of key/value pairs ending with 0.
 * request_init() clears the request first; request_set() updates it.
 */
#ifdef __STDC__
extern struct request_info *request_init(struct request_info *, ...);
extern struct request_info *request_set(struct request_info *, ...);
extern int hosts_ctl(char *daemon, char *client_name, char *client_addr,
                     char *client_user);
#else
extern struct request_info *request_init();
extern struct request_info *request_set();
#endif

#define RQ_FILE         1               /* int: the connection */
#define RQ_DAEMON       2               /* char *: daemon name */
#define RQ_USER         3               /* char *: client user */
#define RQ_CLIENT_NAME  4               /* char *: client host name */
#define RQ_CLIENT_ADDR  5               /* char *: client address */
#define RQ_CLIENT_SIN   6               /* struct sockaddr *: client end */
#define RQ_SERVER_NAME  7               /* char *: server host name */
#define RQ_SERVER_ADDR  8               /* char *: server address */
#define RQ_SERVER_SIN   9               /* struct sockaddr *: server end */

/*
 * Reading a request: each value is looked up on first use and kept in the
 * request (or, for eval_client/eval_server/eval_port, returned in a
 * per-thread buffer that the next call of the same function reuses).
 */
extern char *eval_user(struct request_info *);
extern char *eval_hostname(struct host_info *);
extern char *eval_hostaddr(struct host_info *);
extern char *eval_hostinfo(struct host_info *);
extern char *eval_client(struct request_info *);
extern char *eval_server(struct request_info *);
#ifdef INET6
extern char *eval_port(struct sockaddr *);
#else
extern char *eval_port(struct sockaddr_in *);
#endif
#define eval_daemon(r)  ((r)->daemon)
#define eval_pid(r)     ((r)->pid)

/* Socket look-up methods (DNS with forward verification). */
extern void sock_host(struct request_info *);
extern void sock_hostname(struct host_info *);
extern void sock_hostaddr(struct host_info *);
#define sock_methods(r) \
    { (r)->hostname = sock_hostname; (r)->hostaddr = sock_hostaddr; }

/*
 * Reporting problems: syslog at LOG_ERR with "warning: " or "error: " and,
 * while a table is being read, "FILE, line N: ". tcpd_jump() then jumps to
 * tcpd_buf (a jmp_buf; declare it yourself with <setjmp.h> if you need it).
 */
#ifdef __STDC__
extern void tcpd_warn(char *, ...);
extern void tcpd_jump(char *, ...);
#else
extern void tcpd_warn();
extern void tcpd_jump();
#endif

struct tcpd_context {
    char *file;                         /* table being read, or NULL */
    int line;                           /* its current line */
};
extern struct tcpd_context tcpd_context;

/* Values passed to longjmp(tcpd_buf, ...) by the option language. */
#define AC_PERMIT  1
#define AC_DENY    (-1)
#define AC_ERROR   AC_DENY

/*
 * Running an option list (the third field of a rule). With dry_run set,
 * options only report what they would do; an option that would not return
 * (twist) clears dry_run.
 */
extern void process_options(char *, struct request_info *);
extern int dry_run;

/* Work-arounds for old systems, kept for source compatibility. */
#ifdef INET_ADDR_BUG
#define inet_addr fix_inet_addr
extern long fix_inet_addr();
#endif
#ifdef BROKEN_FGETS
#define fgets fix_fgets
extern char *fix_fgets();
#endif
#ifdef RECVFROM_BUG
#define recvfrom fix_recvfrom
extern int fix_recvfrom();
#endif
#ifdef GETPEERNAME_BUG
#define getpeername fix_getpeername
extern int fix_getpeername();
#endif
#ifdef SOLARIS_24_GETHOSTBYNAME_BUG
#define gethostbyname fix_gethostbyname
extern struct hostent *fix_gethostbyname();
#endif
#ifdef USE_STRSEP
#define strtok fix_strtok
extern char *fix_strtok();
#endif
#ifdef LIBC_CALLS_STRTOK
#define strtok my_strtok
extern char *my_strtok();
#endif

__END_DECLS

#endif /* _TCPWRAPPERS_TCPD_H */
