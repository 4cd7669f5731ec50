/* log.c -- levelled logging, one line per event (see include/mag/util/log.h).
 *
 * Each line is formatted in a stack buffer and written with one write(2) to the sink's
 * descriptor (stderr, or logFile opened O_APPEND), so lines from the loop and the storage writer
 * thread never interleave. Reopening (SIGHUP, after a log rotation) dup2()s the new file onto the
 * same descriptor number, which is atomic for concurrent writers.
 */
#include "mag/util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

/* Process-wide: written by whoever configures the server (before its threads start), read by
   every thread. */
static mag_log_level g_level = MAG_LOG_INFO;
static bool g_json;
static int g_fd = 2;
static char *g_path;   /* logFile, NULL for stderr */

void mag_log_set_level(mag_log_level level)
{
    g_level = level;
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int mag_log_configure(mag_log_level level, bool json, const char *path)
{
    g_level = level;
    g_json = json;
    if (!path || !*path) {
        if (g_fd != 2)
            close(g_fd);
        g_fd = 2;
        free(g_path);
        g_path = NULL;
        return 0;
    }
    int fd = open_log(path);
    if (fd < 0)
        return -errno;
    if (g_fd != 2)
        close(g_fd);
    g_fd = fd;
    free(g_path);
    g_path = strdup(path);
    return 0;
}

int mag_log_reopen(void)
{
    if (!g_path)
        return 0;
    int fd = open_log(g_path);
    if (fd < 0)
        return -errno;
    int rc = dup2(fd, g_fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Appends text to line[*n] as the inside of a JSON string. */
static void append_json_escaped(char *line, size_t *n, size_t cap, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p && *n + 7 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            line[(*n)++] = '\\';
            line[(*n)++] = (char)*p;
        } else if (*p < 0x20) {
            *n += (size_t)snprintf(line + *n, cap - *n, "\\u%04x", *p);
        } else {
            line[(*n)++] = (char)*p;
        }
    }
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
    char stamp[32], msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 64];
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000L);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_json) {
        n = (size_t)snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
                             stamp, names[level]);
        append_json_escaped(line, &n, sizeof line - 3, msg);
        memcpy(line + n, "\"}\n", 3);
        n += 3;
    } else {
        n = (size_t)snprintf(line, sizeof line, "%s %s %s\n", stamp, names[level], msg);
        if (n >= sizeof line) {
            n = sizeof line - 1;
            line[n - 1] = '\n';
        }
    }
    ssize_t w = write(g_fd, line, n);
    (void)w;   /* nowhere left to report a failed log write */
}
