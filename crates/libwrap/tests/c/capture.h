/*
 * capture.h - shared by the C test programs: records every syslog call of
 * the library (and sleep) on standard output instead of sending it.
 *
 * The program is linked with -rdynamic, so its definitions of syslog,
 * vsyslog, __syslog_chk, __vsyslog_chk and sleep are the ones the library
 * binds to (Debian's library imports the __*_chk forms, ours the plain
 * ones).
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#define _GNU_SOURCE 1
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
void syslog(int pri, const char *fmt, ...);
void vsyslog(int pri, const char *fmt, va_list ap);

static void show(const char *tag, const char *s)
{
    /* One line per record; make control characters visible. */
    printf("%s ", tag);
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('\n');
    fflush(stdout);
}

static void capture(int pri, const char *fmt, va_list ap)
{
    char buf[16384];
    char tag[32];

    vsnprintf(buf, sizeof buf, fmt, ap);
    snprintf(tag, sizeof tag, "log %d", pri);
    show(tag, buf);
}

void vsyslog(int pri, const char *fmt, va_list ap) { capture(pri, fmt, ap); }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void) flag;
    capture(pri, fmt, ap);
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

unsigned int sleep(unsigned int n)
{
    printf("sleep %u\n", n);
    fflush(stdout);
    return 0;
}

#endif
