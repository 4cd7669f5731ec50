/* log.h -- levelled logging to stderr.
 *
 * One sink (stderr), one global level. stdout is reserved for the ready line.
 */
#ifndef MAG_UTIL_LOG_H
#define MAG_UTIL_LOG_H

typedef enum mag_log_level {
    MAG_LOG_DEBUG = 0,
    MAG_LOG_INFO,
    MAG_LOG_WARN,
    MAG_LOG_ERROR
} mag_log_level;

void mag_log_set_level(mag_log_level level);
void mag_log(mag_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define mag_debug(...) mag_log(MAG_LOG_DEBUG, __VA_ARGS__)
#define mag_info(...) mag_log(MAG_LOG_INFO, __VA_ARGS__)
#define mag_warn(...) mag_log(MAG_LOG_WARN, __VA_ARGS__)
#define mag_error(...) mag_log(MAG_LOG_ERROR, __VA_ARGS__)

#endif /* MAG_UTIL_LOG_H */
