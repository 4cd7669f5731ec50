/* iso_time.h -- Java DateTimeFormatter.ISO_OFFSET_DATE_TIME, both ways.
 *
 * Pulsar prints publishTime/eventTime with ISO_OFFSET_DATE_TIME in the server
 * JVM's default zone and parses the producer's eventTime with the same
 * formatter (DateFormatter; ProducerHandler). Parse errors are returned to producers
 * verbatim ("Text '...' could not be parsed at index N"), so the parser
 * follows java.time's parse positions and messages. Pure: no allocation
 * beyond the output buffers.
 */
#ifndef MAG_CODEC_ISO_TIME_H
#define MAG_CODEC_ISO_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Format epoch_ms in the process's local time zone (tzset + localtime_r,
 * tm_gmtoff of that instant), APPENDED to out. Fraction with the minimum
 * number of digits (".967", ".84", ".8", omitted when zero), seconds always
 * printed, offset "Z" when zero else "+HH:MM" (or "+HH:MM:SS").
 * Years outside 0000-9999 are printed as Java does ("+10000", "-0001").
 * E.g. 2021-10-29T16:01:38.967-07:00. Never allocates when out has room.
 * The zone is read by glibc on first use; call tzset() again after changing
 * TZ (tests do). Thread-safe (localtime_r). */
void mag_iso_time_format(mag_buf *out, int64_t epoch_ms);

/* Same with an explicit UTC offset in seconds (east positive). */
void mag_iso_time_format_offset(mag_buf *out, int64_t epoch_ms, int32_t offset_seconds);

/* Parse like Instant.from(ISO_OFFSET_DATE_TIME.parse(s)).toEpochMilli():
 *   yyyy-MM-ddTHH:mm[:ss[.f{0,9}]](Z|+HH:MM|-HH:MM|+HH:MM:SS)
 * 'T' and 'Z' case-insensitive; year 4-10 digits with Java's sign rules
 * ('+' required above 4 digits); the offset is REQUIRED; fraction digits
 * beyond milliseconds are truncated (Java's toEpochMilli floors).
 * @param s    len bytes of text (need not be NUL-terminated)
 * @param epoch_ms  written only on success
 * @param err  may be NULL; on error one of Java's messages is APPENDED:
 *   "Text '<s>' could not be parsed at index N"
 *   "Text '<s>' could not be parsed, unparsed text found at index N"
 *   "Text '<s>' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 13"
 *   (and the other java.time range/date messages); <s> is cut to 64
 *   characters plus "..." as Java does.
 * @return MAG_OK or MAG_ERR_PAYLOAD */
mag_rc mag_iso_time_parse(const char *s, size_t len, int64_t *epoch_ms, mag_buf *err);

#endif /* MAG_CODEC_ISO_TIME_H */
