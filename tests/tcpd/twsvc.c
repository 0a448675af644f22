/*
 * twsvc: the test service that the harness puts behind tcpd.
 *
 * It must be a real executable (not a #! script): tcpd passes the daemon name in argv[0]
 * and the kernel replaces argv[0] of interpreted scripts, so a script could not report it.
 *
 * On start it writes a report describing how it was started:
 *     TWSVC BEGIN
 *     argc=N / argv[i]=...            argument vector exactly as received
 *     uid/gid/groups, umask, nice, cwd
 *     sigign/sigblk                   ignored / blocked signal masks (from /proc/self/status)
 *     fd0..fdN                        every open descriptor (socket family/type/addresses,
 *                                     SO_KEEPALIVE, SO_LINGER, "same as fdK" when fstat() says
 *                                     it is the same open object as a lower fd)
 *     env=NAME=VALUE                  the environment, sorted
 *     datagram=...                    (UDP) the datagram that was read, and its sender
 *     TWSVC END
 * Non-printable bytes and backslashes are written as \xHH / \\.
 *
 * The report goes to $TWSVC_REPORT_DIR/<pid> (default /run/tw/svc; the harness reads these
 * files, so a service run is recorded even when the client never sees the answer) and then
 * to the client: on a stream socket it is written to fd 0; on a datagram socket (an inetd
 * "wait" service) one datagram is read with recvfrom() and the report is sent back to its
 * sender.  The report directory is taken from a compiled-in default (not the environment),
 * because the environment is part of what is being tested.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define REPORT_DIR "/run/tw/svc"

static char *buf;
static size_t len, cap;

static void put(const char *s, size_t n)
{
    if (len + n + 1 > cap) {
        cap = (len + n + 1) * 2 + 4096;
        buf = realloc(buf, cap);
        if (!buf)
            _exit(99);
    }
    memcpy(buf + len, s, n);
    len += n;
    buf[len] = 0;
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof tmp - 1)
        n = sizeof tmp - 1;
    put(tmp, n);
}

static void put_escaped(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\\')
            put("\\\\", 2);
        else if (c >= 0x20 && c < 0x7f)
            put((const char *)&c, 1);
        else
            putf("\\x%02x", c);
    }
}

static void sockaddr_text(const struct sockaddr_storage *ss, socklen_t sl, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN];
    if (sl == 0) {
        snprintf(out, outsz, "none");
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(out, outsz, "%s:%u", host, ntohs(s4->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        if (s6->sin6_scope_id)
            snprintf(out, outsz, "[%s%%%u]:%u", host, s6->sin6_scope_id, ntohs(s6->sin6_port));
        else
            snprintf(out, outsz, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        snprintf(out, outsz, "unix");
    } else {
        snprintf(out, outsz, "family%d", ss->ss_family);
    }
}

static void describe_fd(int fd, struct stat *seen, int *seen_ok, int maxfd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    seen[fd] = st;
    seen_ok[fd] = 1;
    putf("fd%d=", fd);
    for (int k = 0; k < fd && k <= maxfd; k++) {
        if (seen_ok[k] && seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino) {
            putf("same-as-fd%d\n", k);
            return;
        }
    }
    int fl = fcntl(fd, F_GETFL);
    const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw";
    if (S_ISSOCK(st.st_mode)) {
        int dom = 0, typ = 0, ka = 0;
        socklen_t ol = sizeof dom;
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &ol);
        ol = sizeof typ;
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &typ, &ol);
        const char *ds = dom == AF_INET ? "inet" : dom == AF_INET6 ? "inet6" : dom == AF_UNIX ? "unix" : "other";
        const char *ts = typ == SOCK_STREAM ? "stream" : typ == SOCK_DGRAM ? "dgram" : "other";
        struct sockaddr_storage a;
        socklen_t al = sizeof a;
        char loc[128], peer[128];
        memset(&a, 0, sizeof a);
        if (getsockname(fd, (struct sockaddr *)&a, &al) < 0)
            al = 0;
        sockaddr_text(&a, al, loc, sizeof loc);
        al = sizeof a;
        memset(&a, 0, sizeof a);
        if (getpeername(fd, (struct sockaddr *)&a, &al) < 0)
            al = 0;
        sockaddr_text(&a, al, peer, sizeof peer);
        ol = sizeof ka;
        getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &ka, &ol);
        struct linger lg = {0, 0};
        ol = sizeof lg;
        getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ol);
        putf("socket %s/%s %s local=%s peer=%s keepalive=%d linger=%s", ds, ts, acc, loc, peer, ka ? 1 : 0,
             lg.l_onoff ? "on" : "off");
        if (lg.l_onoff)
            putf(",%d", lg.l_linger);
        if (dom == AF_INET) {
            unsigned char opts[64];
            ol = sizeof opts;
            if (getsockopt(fd, IPPROTO_IP, IP_OPTIONS, opts, &ol) == 0 && ol > 0) {
                put(" ipoptions=", 11);
                for (socklen_t i = 0; i < ol; i++)
                    putf("%02x", opts[i]);
            }
        }
        put("\n", 1);
    } else {
        char path[64], target[512];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0)
            n = 0;
        target[n] = 0;
        const char *kind = S_ISREG(st.st_mode) ? "file" : S_ISFIFO(st.st_mode) ? "pipe" : S_ISCHR(st.st_mode) ? "chr"
                         : S_ISDIR(st.st_mode) ? "dir" : "other";
        /* pipe:[12345] / socket:[..] inode numbers are not reproducible */
        if (strncmp(target, "pipe:", 5) == 0 || strncmp(target, "anon_inode:", 11) == 0)
            target[strcspn(target, "[")] = 0;
        putf("%s %s ", kind, acc);
        put_escaped((const unsigned char *)target, strlen(target));
        put("\n", 1);
    }
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void status_field(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t nl = strlen(name);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
            char *v = line + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = 0;
            for (const char *p = name; *p; p++)
                putf("%c", (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            putf("=%s\n", v);
        }
    }
    fclose(f);
}

extern char **environ;

int main(int argc, char **argv)
{
    putf("TWSVC BEGIN\n");
    putf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        putf("argv[%d]=", i);
        put_escaped((const unsigned char *)argv[i], strlen(argv[i]));
        put("\n", 1);
    }
    putf("pid=%d\n", (int)getpid());
    putf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
    gid_t groups[256];
    int ng = getgroups(256, groups);
    put("groups=", 7);
    for (int i = 0; i < ng; i++)
        putf("%s%d", i ? "," : "", (int)groups[i]);
    put("\n", 1);
    mode_t um = umask(0);
    umask(um);
    putf("umask=%04o\n", (unsigned)um);
    errno = 0;
    int pr = getpriority(PRIO_PROCESS, 0);
    putf("nice=%d\n", pr);
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd))
        putf("cwd=%s\n", cwd);
    else
        putf("cwd=?\n");
    status_field("SigIgn");
    status_field("SigBlk");

    /* descriptors */
    int maxfd = 1024;
    struct stat *seen = calloc(maxfd + 1, sizeof *seen);
    int *seen_ok = calloc(maxfd + 1, sizeof *seen_ok);
    int fds[1025], nfds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int dfd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) && nfds < 1024) {
            if (e->d_name[0] == '.')
                continue;
            int fd = atoi(e->d_name);
            if (fd == dfd || fd > maxfd)
                continue;
            fds[nfds++] = fd;
        }
        /* sort */
        for (int i = 1; i < nfds; i++)
            for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                int t = fds[j];
                fds[j] = fds[j - 1];
                fds[j - 1] = t;
            }
        closedir(d);
    }
    /* describe after closing the directory stream (its fd must not be listed) */
    for (int i = 0; i < nfds; i++)
        describe_fd(fds[i], seen, seen_ok, maxfd);
    for (int i = 0; i <= 2; i++) {
        if (fcntl(i, F_GETFD) < 0)
            putf("fd%d=closed\n", i);
    }

    /* environment, sorted */
    int ne = 0;
    for (char **e = environ; *e; e++)
        ne++;
    char **ev = malloc((ne + 1) * sizeof *ev);
    for (int i = 0; i < ne; i++)
        ev[i] = environ[i];
    qsort(ev, ne, sizeof *ev, cmpstr);
    for (int i = 0; i < ne; i++) {
        put("env=", 4);
        put_escaped((const unsigned char *)ev[i], strlen(ev[i]));
        put("\n", 1);
    }

    /* datagram service: read one datagram */
    int typ = 0;
    socklen_t ol = sizeof typ;
    struct sockaddr_storage from;
    socklen_t froml = 0;
    int is_dgram = getsockopt(0, SOL_SOCKET, SO_TYPE, &typ, &ol) == 0 && typ == SOCK_DGRAM;
    if (is_dgram) {
        unsigned char dbuf[8192];
        struct timeval tv = {3, 0};
        setsockopt(0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        froml = sizeof from;
        ssize_t n = recvfrom(0, dbuf, sizeof dbuf, 0, (struct sockaddr *)&from, &froml);
        if (n < 0) {
            putf("datagram=none (%s)\n", strerror(errno));
            froml = 0;
        } else {
            char ftxt[128];
            sockaddr_text(&from, froml, ftxt, sizeof ftxt);
            put("datagram=", 9);
            put_escaped(dbuf, n);
            putf(" from=%s\n", ftxt);
        }
    }
    putf("TWSVC END\n");

    /* report file first (the client may be gone) */
    char path[256];
    snprintf(path, sizeof path, "%s/%d", REPORT_DIR, (int)getpid());
    int rf = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rf >= 0) {
        if (write(rf, buf, len) < 0) {
        }
        close(rf);
    }
    signal(SIGPIPE, SIG_IGN);
    if (is_dgram) {
        if (froml > 0)
            sendto(0, buf, len, 0, (struct sockaddr *)&from, froml);
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t n = write(0, buf + off, len - off);
            if (n <= 0)
                break;
            off += n;
        }
    }
    return 0;
}
