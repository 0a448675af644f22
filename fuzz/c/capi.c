/*
 * capi.c - C side of the capi fuzz target (linked into that target only).
 *
 *   - syslog() is captured: the library logs through the C library's
 *     syslog(), and a panic caught at the C boundary is logged as
 *     "error: libwrap internal error: ..."; that is a finding, so it
 *     aborts here (the target also aborts in its panic hook).
 *   - request_init/request_set are called with correctly typed variadic
 *     arguments (an int for RQ_FILE, a pointer otherwise), which Rust
 *     cannot choose at run time.
 *   - the layout of struct request_info (crates/libwrap/include/tcpd.h),
 *     and a check that every string field is NUL-terminated inside it.
 */
#define _GNU_SOURCE 1

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tcpd.h"

static unsigned long logged;

static void capture(int pri, const char *fmt, va_list ap)
{
    char msg[4096];

    (void) pri;
    vsnprintf(msg, sizeof msg, fmt, ap);
    logged++;
    if (strncmp(msg, "error: libwrap internal error: ", 31) == 0) {
        fprintf(stderr, "capi: the library caught a panic: %s\n", msg);
        abort();
    }
}

void syslog(int pri, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    capture(pri, fmt, ap);
    va_end(ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    (void) flag;
    va_start(ap, fmt);
    capture(pri, fmt, ap);
    va_end(ap);
}

unsigned long fz_capi_logged(void)
{
    return logged;
}

size_t fz_request_size(void)
{
    return sizeof(struct request_info);
}

struct host_info *fz_host(struct request_info *r, int client)
{
    return client ? r->client : r->server;
}

struct sockaddr *fz_host_sin(struct host_info *h)
{
    return (struct sockaddr *) h->sin;
}

static int terminated(const char *s, size_t n)
{
    return memchr(s, 0, n) != NULL;
}

/* 1 when every string field of the request is a C string inside its
 * buffer and the back pointers are intact. */
int fz_request_ok(struct request_info *r)
{
    return terminated(r->user, sizeof r->user)
        && terminated(r->daemon, sizeof r->daemon)
        && terminated(r->pid, sizeof r->pid)
        && terminated(r->client->name, sizeof r->client->name)
        && terminated(r->client->addr, sizeof r->client->addr)
        && terminated(r->server->name, sizeof r->server->name)
        && terminated(r->server->addr, sizeof r->server->addr)
        && r->client->request == r && r->server->request == r;
}

static void call_request_init(struct request_info *r, int n, const int *k, const intptr_t *v)
{
    int mask = 0;
    for (int i = 0; i < n; i++)
        if (k[i] == RQ_FILE)
            mask |= 1 << i;
    switch (n * 8 + mask) {
    case 0: request_init(r, 0); break;
    case 8: request_init(r, k[0], (void *) v[0], 0); break;
    case 9: request_init(r, k[0], (int) v[0], 0); break;
    case 16: request_init(r, k[0], (void *) v[0], k[1], (void *) v[1], 0); break;
    case 17: request_init(r, k[0], (int) v[0], k[1], (void *) v[1], 0); break;
    case 18: request_init(r, k[0], (void *) v[0], k[1], (int) v[1], 0); break;
    case 19: request_init(r, k[0], (int) v[0], k[1], (int) v[1], 0); break;
    case 24: request_init(r, k[0], (void *) v[0], k[1], (void *) v[1], k[2], (void *) v[2], 0); break;
    case 25: request_init(r, k[0], (int) v[0], k[1], (void *) v[1], k[2], (void *) v[2], 0); break;
    case 26: request_init(r, k[0], (void *) v[0], k[1], (int) v[1], k[2], (void *) v[2], 0); break;
    case 27: request_init(r, k[0], (int) v[0], k[1], (int) v[1], k[2], (void *) v[2], 0); break;
    case 28: request_init(r, k[0], (void *) v[0], k[1], (void *) v[1], k[2], (int) v[2], 0); break;
    case 29: request_init(r, k[0], (int) v[0], k[1], (void *) v[1], k[2], (int) v[2], 0); break;
    case 30: request_init(r, k[0], (void *) v[0], k[1], (int) v[1], k[2], (int) v[2], 0); break;
    case 31: request_init(r, k[0], (int) v[0], k[1], (int) v[1], k[2], (int) v[2], 0); break;
    default: abort();
    }
}

static void call_request_set(struct request_info *r, int n, const int *k, const intptr_t *v)
{
    int mask = 0;
    for (int i = 0; i < n; i++)
        if (k[i] == RQ_FILE)
            mask |= 1 << i;
    switch (n * 8 + mask) {
    case 0: request_set(r, 0); break;
    case 8: request_set(r, k[0], (void *) v[0], 0); break;
    case 9: request_set(r, k[0], (int) v[0], 0); break;
    case 16: request_set(r, k[0], (void *) v[0], k[1], (void *) v[1], 0); break;
    case 17: request_set(r, k[0], (int) v[0], k[1], (void *) v[1], 0); break;
    case 18: request_set(r, k[0], (void *) v[0], k[1], (int) v[1], 0); break;
    case 19: request_set(r, k[0], (int) v[0], k[1], (int) v[1], 0); break;
    case 24: request_set(r, k[0], (void *) v[0], k[1], (void *) v[1], k[2], (void *) v[2], 0); break;
    case 25: request_set(r, k[0], (int) v[0], k[1], (void *) v[1], k[2], (void *) v[2], 0); break;
    case 26: request_set(r, k[0], (void *) v[0], k[1], (int) v[1], k[2], (void *) v[2], 0); break;
    case 27: request_set(r, k[0], (int) v[0], k[1], (int) v[1], k[2], (void *) v[2], 0); break;
    case 28: request_set(r, k[0], (void *) v[0], k[1], (void *) v[1], k[2], (int) v[2], 0); break;
    case 29: request_set(r, k[0], (int) v[0], k[1], (void *) v[1], k[2], (int) v[2], 0); break;
    case 30: request_set(r, k[0], (void *) v[0], k[1], (int) v[1], k[2], (int) v[2], 0); break;
    case 31: request_set(r, k[0], (int) v[0], k[1], (int) v[1], k[2], (int) v[2], 0); break;
    default: abort();
    }
}

/* request_init (init != 0) or request_set with n (0..3) key/value pairs;
 * values are ints for RQ_FILE and pointers otherwise. */
void fz_request_list(struct request_info *r, int init, int n, const int *k, const intptr_t *v)
{
    if (init)
        call_request_init(r, n, k, v);
    else
        call_request_set(r, n, k, v);
}
