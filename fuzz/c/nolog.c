/*
 * syslog() for the inetd_conf target: tcpdchk's scan reports its warnings
 * through the C library's syslog(), which must not reach the machine's
 * /dev/log millions of times. This object, linked into that binary only,
 * replaces the C library's functions (the executable's definitions win)
 * and counts the calls, so that the target can check that it is in use.
 */
#include <stdarg.h>

static unsigned long calls;

void openlog(const char *ident, int option, int facility)
{
    (void)ident;
    (void)option;
    (void)facility;
}

void syslog(int priority, const char *format, ...)
{
    (void)priority;
    (void)format;
    calls++;
}

void vsyslog(int priority, const char *format, va_list ap)
{
    (void)priority;
    (void)format;
    (void)ap;
    calls++;
}

void closelog(void)
{
}

unsigned long fuzz_syslog_calls(void)
{
    return calls;
}
