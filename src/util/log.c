/* log.c -- levelled logging to stderr (see include/mag/util/log.h). */
#include "mag/util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static mag_log_level g_level = MAG_LOG_INFO;

void mag_log_set_level(mag_log_level level)
{
    g_level = level;
}

void mag_log(mag_log_level level, const char *fmt, ...)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    if (level < g_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s ", stamp, ts.tv_nsec / 1000000L, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
