/* iso_time.c -- ISO_OFFSET_DATE_TIME formatting and parsing (see
 * include/mag/codec/iso_time.h).
 *
 * Formatting follows DateTimeFormatter.ISO_OFFSET_DATE_TIME's printer
 * (minimal fraction digits, "Z" for a zero offset). Parsing transcribes
 * java.time's parser for that formatter: strict numbers, optional
 * ":ss[.fraction]" section, required offset, then STRICT resolution. The
 * error index of each failure is the one java.time reports, because Pulsar
 * returns the exception text to the producer.
 */
#include "mag/codec/iso_time.h"
#include "mag/util/str.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ----------------------------------------------------------- formatting */

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void mag_iso_time_format_offset(mag_buf *out, int64_t epoch_ms, int32_t offset_seconds)
{
    int64_t secs = floor_div(epoch_ms, 1000);
    unsigned ms = (unsigned)(epoch_ms - secs * 1000);
    int64_t local = secs + offset_seconds;
    int64_t days = floor_div(local, 86400);
    unsigned sod = (unsigned)(local - days * 86400);
    int64_t year;
    unsigned mon, day;
    civil_from_days(days, &year, &mon, &day);

    /* Year: SignStyle.EXCEEDS_PAD with width 4. */
    if (year > 9999)
        mag_buf_append_byte(out, '+');
    else if (year < 0)
        mag_buf_append_byte(out, '-');
    uint64_t ay = year < 0 ? (uint64_t)0 - (uint64_t)year : (uint64_t)year;
    if (ay < 1000)
        mag_buf_append(out, "000", ay < 10 ? 3 : ay < 100 ? 2 : 1);
    mag_buf_append_u64(out, ay);

    char t[32];
    size_t n = 0;
    t[n++] = '-';
    put2(t + n, mon); n += 2;
    t[n++] = '-';
    put2(t + n, day); n += 2;
    t[n++] = 'T';
    put2(t + n, sod / 3600); n += 2;
    t[n++] = ':';
    put2(t + n, sod / 60 % 60); n += 2;
    t[n++] = ':';
    put2(t + n, sod % 60); n += 2;
    if (ms) {   /* minimal fraction digits */
        t[n++] = '.';
        t[n++] = (char)('0' + ms / 100);
        if (ms % 100) {
            t[n++] = (char)('0' + ms / 10 % 10);
            if (ms % 10)
                t[n++] = (char)('0' + ms % 10);
        }
    }
    if (offset_seconds == 0) {
        t[n++] = 'Z';
    } else {
        unsigned ao = (unsigned)(offset_seconds < 0 ? -(int64_t)offset_seconds : offset_seconds);
        t[n++] = offset_seconds < 0 ? '-' : '+';
        put2(t + n, ao / 3600); n += 2;
        t[n++] = ':';
        put2(t + n, ao / 60 % 60); n += 2;
        if (ao % 60) {
            t[n++] = ':';
            put2(t + n, ao % 60); n += 2;
        }
    }
    mag_buf_append(out, t, n);
}

void mag_iso_time_format(mag_buf *out, int64_t epoch_ms)
{
    time_t secs = (time_t)floor_div(epoch_ms, 1000);
    struct tm tm;
    int32_t off = 0;
    if (localtime_r(&secs, &tm))
        off = (int32_t)tm.tm_gmtoff;
    mag_iso_time_format_offset(out, epoch_ms, off);
}

/* -------------------------------------------------------------- parsing */

struct pctx {
    const char *s;
    size_t len;
    mag_buf *err;
};

/* "Text '<s>' could not be parsed" with Java's 64-character abbreviation
 * (UTF-16 units; a pair that would be cut is left out). */
static void err_prefix(const struct pctx *c)
{
    mag_buf_append_str(c->err, "Text '");
    size_t units = 0, i = 0, cut = c->len;
    while (i < c->len) {
        int32_t cp;
        size_t k = mag_utf8_decode((const uint8_t *)c->s + i, c->len - i, &cp);
        size_t u = cp >= 0x10000 ? 2 : 1;
        if (units + u > 64 && cut == c->len)
            cut = i;
        units += u;
        i += k;
    }
    if (units > 64) {
        mag_buf_append(c->err, c->s, cut);
        mag_buf_append_str(c->err, "...");
    } else {
        mag_buf_append(c->err, c->s, c->len);
    }
    mag_buf_append_str(c->err, "' could not be parsed");
}

static mag_rc fail_at(const struct pctx *c, size_t index)
{
    if (c->err) {
        err_prefix(c);
        mag_buf_appendf(c->err, " at index %zu", index);
    }
    return MAG_ERR_PAYLOAD;
}

/* "...could not be parsed: <msg>" (a resolution or DateTimeException). */
static mag_rc fail_msg(const struct pctx *c, const char *msg)
{
    if (c->err) {
        err_prefix(c);
        mag_buf_append_str(c->err, ": ");
        mag_buf_append_str(c->err, msg);
    }
    return MAG_ERR_PAYLOAD;
}

/* ChronoField.checkValidValue: "Invalid value for F (valid values R): v". */
static mag_rc fail_value(const struct pctx *c, const char *field_and_range, int64_t v)
{
    if (c->err) {
        err_prefix(c);
        mag_buf_appendf(c->err, ": Invalid value for %s: %lld", field_and_range, (long long)v);
    }
    return MAG_ERR_PAYLOAD;
}

static bool digit_at(const struct pctx *c, size_t i)
{
    return i < c->len && c->s[i] >= '0' && c->s[i] <= '9';
}

/* appendValue(field, 2): exactly two ASCII digits, no sign. */
static bool two_digits(const struct pctx *c, size_t *pos, int *v)
{
    if (!digit_at(c, *pos) || !digit_at(c, *pos + 1))
        return false;
    *v = (c->s[*pos] - '0') * 10 + (c->s[*pos + 1] - '0');
    *pos += 2;
    return true;
}

static bool literal(const struct pctx *c, size_t *pos, char lit)
{
    if (*pos >= c->len)
        return false;
    char ch = c->s[*pos];
    /* parseCaseInsensitive(): only the letters 'T' and 'Z' are affected */
    bool letter = (lit >= 'A' && lit <= 'Z');
    if (ch != lit && !(letter && ch == lit + ('a' - 'A')))
        return false;
    (*pos)++;
    return true;
}

/* OffsetIdPrinterParser "+HH:MM:ss" with no-offset text "Z". Returns false on
 * a syntax failure; *range_err is set for hours 24-59 (Java throws). */
static bool parse_offset(const struct pctx *c, size_t *pos, int32_t *secs, bool *range_err)
{
    size_t p = *pos;
    if (p >= c->len)
        return false;
    if (c->s[p] == 'Z' || c->s[p] == 'z') {
        *secs = 0;
        *pos = p + 1;
        return true;
    }
    if (c->s[p] != '+' && c->s[p] != '-')
        return false;
    int sign = c->s[p] == '-' ? -1 : 1;
    size_t q = p + 1;
    int hh, mm, ss = 0;
    if (!two_digits(c, &q, &hh) || hh > 59)
        return false;
    if (q >= c->len || c->s[q] != ':')
        return false;
    q++;
    if (!two_digits(c, &q, &mm) || mm > 59)
        return false;
    if (q < c->len && c->s[q] == ':') {
        size_t r = q + 1;
        int v;
        if (two_digits(c, &r, &v) && v <= 59) {
            ss = v;
            q = r;
        }
    }
    if (hh > 23) {
        *range_err = true;
        return false;
    }
    *secs = sign * (hh * 3600 + mm * 60 + ss);
    *pos = q;
    return true;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

mag_rc mag_iso_time_parse(const char *s, size_t len, int64_t *epoch_ms, mag_buf *err)
{
    static const char *const month_names[] = {
        "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY",
        "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"
    };
    struct pctx c = { s, len, err };
    size_t pos = 0;

    /* Year: appendValue(YEAR, 4, 10, EXCEEDS_PAD), strict. */
    if (pos == len)
        return fail_at(&c, pos);
    bool neg = false, plus = false;
    if (s[pos] == '+' || s[pos] == '-') {
        neg = s[pos] == '-';
        plus = !neg;
        pos++;
    }
    size_t ystart = pos;
    if (ystart + 4 > len)
        return fail_at(&c, ystart);
    int64_t year = 0;
    while (pos < len && pos - ystart < 10 && digit_at(&c, pos))
        year = year * 10 + (s[pos++] - '0');
    size_t ydigits = pos - ystart;
    if (ydigits < 4)
        return fail_at(&c, ystart);
    if (neg) {
        if (year == 0)
            return fail_at(&c, ystart - 1);   /* "-0000": minus zero */
        year = -year;
    } else if (plus && ydigits <= 4) {
        return fail_at(&c, ystart - 1);       /* '+' only when width exceeded */
    } else if (!plus && ydigits > 4) {
        return fail_at(&c, ystart);           /* '+' required above 4 digits */
    }

    int mon, day, hour, min, sec = 0;
    int64_t nano = 0;
    if (!literal(&c, &pos, '-'))
        return fail_at(&c, pos);
    if (!two_digits(&c, &pos, &mon))
        return fail_at(&c, pos);
    if (!literal(&c, &pos, '-'))
        return fail_at(&c, pos);
    if (!two_digits(&c, &pos, &day))
        return fail_at(&c, pos);
    if (!literal(&c, &pos, 'T'))
        return fail_at(&c, pos);
    if (!two_digits(&c, &pos, &hour))
        return fail_at(&c, pos);
    if (!literal(&c, &pos, ':'))
        return fail_at(&c, pos);
    if (!two_digits(&c, &pos, &min))
        return fail_at(&c, pos);

    /* optionalStart ':' ss optionalStart fraction(0..9 digits, '.') */
    {
        size_t p = pos;
        int v;
        if (literal(&c, &p, ':') && two_digits(&c, &p, &v)) {
            sec = v;
            pos = p;
            if (pos < len && s[pos] == '.') {
                pos++;
                size_t fstart = pos;
                int64_t f = 0;
                while (pos < len && pos - fstart < 9 && digit_at(&c, pos))
                    f = f * 10 + (s[pos++] - '0');
                for (size_t k = pos - fstart; k < 9; k++)
                    f *= 10;
                nano = f;
            }
        }
    }

    int32_t off = 0;
    bool range_err = false;
    if (!parse_offset(&c, &pos, &off, &range_err)) {
        if (range_err)
            return fail_msg(&c, "Value out of range: Hour[0-23], Minute[0-59], Second[0-59]");
        return fail_at(&c, pos);
    }
    if (pos < len) {
        if (err) {
            err_prefix(&c);
            mag_buf_appendf(err, ", unparsed text found at index %zu", pos);
        }
        return MAG_ERR_PAYLOAD;
    }

    /* STRICT resolution, in java.time's order: date, then time, then offset. */
    if (year < -999999999 || year > 999999999)
        return fail_value(&c, "Year (valid values -999999999 - 999999999)", year);
    if (mon < 1 || mon > 12)
        return fail_value(&c, "MonthOfYear (valid values 1 - 12)", mon);
    if (day < 1 || day > 31)
        return fail_value(&c, "DayOfMonth (valid values 1 - 28/31)", day);
    if (day > 28) {
        int dom = mon == 2 ? (is_leap(year) ? 29 : 28)
                  : (mon == 4 || mon == 6 || mon == 9 || mon == 11) ? 30 : 31;
        if (day > dom) {
            if (err) {
                err_prefix(&c);
                if (day == 29)
                    mag_buf_appendf(err, ": Invalid date 'February 29' as '%lld' is not a leap year",
                                    (long long)year);
                else
                    mag_buf_appendf(err, ": Invalid date '%s %d'", month_names[mon - 1], day);
            }
            return MAG_ERR_PAYLOAD;
        }
    }
    if (min > 59)
        return fail_value(&c, "MinuteOfHour (valid values 0 - 59)", min);
    if (hour > 23)
        return fail_value(&c, "HourOfDay (valid values 0 - 23)", hour);
    if (sec > 59)
        return fail_value(&c, "SecondOfMinute (valid values 0 - 59)", sec);
    if (off < -18 * 3600 || off > 18 * 3600)
        return fail_msg(&c, "Zone offset not in valid range: -18:00 to +18:00");

    int64_t secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
                   hour * 3600 + min * 60 + sec - off;
    int64_t ms;
    if (__builtin_mul_overflow(secs, (int64_t)1000, &ms) ||
        __builtin_add_overflow(ms, nano / 1000000, &ms)) {
        if (err)
            mag_buf_append_str(err, "long overflow");   /* Instant.toEpochMilli */
        return MAG_ERR_PAYLOAD;
    }
    *epoch_ms = ms;
    return MAG_OK;
}
