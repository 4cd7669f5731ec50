/* log.h -- levelled logging, one line per event with a timestamp and a level.
 *
 * One process-wide sink: stderr, or a file (logFile) that mag_log_reopen() opens again after a
 * rotation (the binary does it on SIGHUP). Text lines are "2026-12-08T10:00:00.000Z info text";
 * JSON lines (logFormat=json) are {"time":"...","level":"info","msg":"text"}. stdout is reserved
 * for the ready line. Safe from any thread (one write(2) per line; lines over 4 KiB are cut).
 */
#ifndef MAG_UTIL_LOG_H
#define MAG_UTIL_LOG_H

#include <stdbool.h>

typedef enum mag_log_level {
    MAG_LOG_DEBUG = 0,
    MAG_LOG_INFO,
    MAG_LOG_WARN,
    MAG_LOG_ERROR
} mag_log_level;

void mag_log_set_level(mag_log_level level);

/* Level, format and sink (path NULL or "" = stderr). Call before other threads log. Returns 0,
   or -errno when the file cannot be opened (the sink is then unchanged). */
int mag_log_configure(mag_log_level level, bool json, const char *path);

/* Open the log file again (same path), e.g. after logrotate moved it. 0, or -errno. */
int mag_log_reopen(void);

void mag_log(mag_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define mag_debug(...) mag_log(MAG_LOG_DEBUG, __VA_ARGS__)
#define mag_info(...) mag_log(MAG_LOG_INFO, __VA_ARGS__)
#define mag_warn(...) mag_log(MAG_LOG_WARN, __VA_ARGS__)
#define mag_error(...) mag_log(MAG_LOG_ERROR, __VA_ARGS__)

#endif /* MAG_UTIL_LOG_H */
