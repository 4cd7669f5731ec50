/* test_iso_time.c -- unit tests for src/codec/iso_time.c.
 *
 * Formatting as Pulsar's DateFormatter (ISO_OFFSET_DATE_TIME) prints, one
 * example from Pulsar PR #3058, and Java's year/offset rules; parsing against
 * java.time's accepted forms, its error indices and its resolution messages
 * (Pulsar returns them to producers verbatim).
 */
#include "mag_test.h"
#include "mag/codec/iso_time.h"

#include <stdlib.h>
#include <time.h>

static const char *fmt(int64_t ms, int32_t off)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_buf_reset(&b);
    mag_iso_time_format_offset(&b, ms, off);
    return mag_buf_cstr(&b);
}

static mag_buf E;

static mag_rc parse(const char *s, int64_t *ms)
{
    mag_buf_reset(&E);
    return mag_iso_time_parse(s, strlen(s), ms, &E);
}

static const char *perr(const char *s)
{
    int64_t ms = 12345;
    if (parse(s, &ms) != MAG_ERR_PAYLOAD)
        return "NOT AN ERROR";
    if (ms != 12345)
        return "OUTPUT WRITTEN ON ERROR";
    return mag_buf_cstr(&E);
}

MAG_TEST(format_examples)
{
    CHECK_STR(fmt(1635548498967LL, -7 * 3600), "2021-10-29T16:01:38.967-07:00");
    CHECK_STR(fmt(1543238579840LL, 3600), "2018-11-26T14:22:59.84+01:00");
    CHECK_STR(fmt(1651399200000LL, 0), "2022-05-01T10:00:00Z");
    CHECK_STR(fmt(1651399200800LL, 0), "2022-05-01T10:00:00.8Z");
    CHECK_STR(fmt(1651399200008LL, 0), "2022-05-01T10:00:00.008Z");
    CHECK_STR(fmt(1651399200080LL, 0), "2022-05-01T10:00:00.08Z");
    CHECK_STR(fmt(1582957800000LL, 19800), "2020-02-29T12:00:00+05:30");
    CHECK_STR(fmt(-1, 0), "1969-12-31T23:59:59.999Z");
    CHECK_STR(fmt(0, 3661), "1970-01-01T01:01:01+01:01:01");
    CHECK_STR(fmt(0, -3661), "1969-12-31T22:58:59-01:01:01");
    CHECK_STR(fmt(253402300800000LL, 0), "+10000-01-01T00:00:00Z");
    CHECK_STR(fmt(253402300799999LL, 0), "9999-12-31T23:59:59.999Z");
    CHECK_STR(fmt(-62167219200000LL, 0), "0000-01-01T00:00:00Z");
    CHECK_STR(fmt(-62198755200000LL, 0), "-0001-01-01T00:00:00Z");
    CHECK_STR(fmt(-62135596800000LL, 0), "0001-01-01T00:00:00Z");
}

MAG_TEST(format_local_zone)
{
    mag_buf b = MAG_BUF_INIT;
    setenv("TZ", "PST8PDT,M3.2.0,M11.1.0", 1);
    tzset();
    mag_iso_time_format(&b, 1635548498967LL);
    CHECK_STR(mag_buf_cstr(&b), "2021-10-29T16:01:38.967-07:00");
    mag_buf_reset(&b);
    mag_iso_time_format(&b, 1640995200000LL);   /* 2022-01-01T00:00Z, winter time */
    CHECK_STR(mag_buf_cstr(&b), "2021-12-31T16:00:00-08:00");
    setenv("TZ", "UTC0", 1);
    tzset();
    mag_buf_reset(&b);
    mag_iso_time_format(&b, 1651399200000LL);
    CHECK_STR(mag_buf_cstr(&b), "2022-05-01T10:00:00Z");
    mag_buf_free(&b);
}

MAG_TEST(parse_valid)
{
    int64_t ms = 0;
    CHECK_EQ_INT(parse("2021-10-29T16:01:38.967-07:00", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 1635548498967LL);
    CHECK_EQ_INT(parse("2021-10-29T23:01:38.967Z", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 1635548498967LL);
    CHECK_EQ_INT(parse("2021-10-29t23:01:38.967z", &ms), MAG_OK);    /* case-insensitive */
    CHECK_EQ_INT(ms, 1635548498967LL);
    CHECK_EQ_INT(parse("2021-10-29T16:01-07:00", &ms), MAG_OK);      /* seconds optional */
    CHECK_EQ_INT(ms, 1635548460000LL);
    CHECK_EQ_INT(parse("2021-10-29T16:01:38-07:00", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 1635548498000LL);
    CHECK_EQ_INT(parse("2021-10-29T16:01:38.9679999-07:00", &ms), MAG_OK);   /* truncated */
    CHECK_EQ_INT(ms, 1635548498967LL);
    CHECK_EQ_INT(parse("2021-10-29T16:01:38.-07:00", &ms), MAG_OK);  /* '.' with 0 digits */
    CHECK_EQ_INT(ms, 1635548498000LL);
    CHECK_EQ_INT(parse("2018-11-26T14:22:59.84+01:00", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 1543238579840LL);
    CHECK_EQ_INT(parse("1970-01-01T01:01:01+01:01:01", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 0);
    CHECK_EQ_INT(parse("1969-12-31T23:59:59.999Z", &ms), MAG_OK);
    CHECK_EQ_INT(ms, -1);
    CHECK_EQ_INT(parse("1969-12-31T23:59:59.9995Z", &ms), MAG_OK);   /* floor, like toEpochMilli */
    CHECK_EQ_INT(ms, -1);
    CHECK_EQ_INT(parse("+10000-01-01T00:00Z", &ms), MAG_OK);
    CHECK_EQ_INT(ms, 253402300800000LL);
    CHECK_EQ_INT(parse("-0001-01-01T00:00Z", &ms), MAG_OK);
    CHECK_EQ_INT(ms, -62198755200000LL);
    CHECK_EQ_INT(parse("2020-02-29T00:00+18:00", &ms), MAG_OK);
    CHECK_EQ_INT(parse("2000-02-29T00:00-18:00", &ms), MAG_OK);
    CHECK_EQ_INT(mag_iso_time_parse("2022-05-01T10:00:00Zjunk", 20, &ms, NULL), MAG_OK);
    CHECK_EQ_INT(ms, 1651399200000LL);
}

MAG_TEST(parse_error_index)
{
    CHECK_STR(perr(""), "Text '' could not be parsed at index 0");
    CHECK_STR(perr("abc"), "Text 'abc' could not be parsed at index 0");
    CHECK_STR(perr("2021-10-29T16:01:38.967"),
              "Text '2021-10-29T16:01:38.967' could not be parsed at index 23");
    CHECK_STR(perr("2021-10-29 16:01:38Z"),
              "Text '2021-10-29 16:01:38Z' could not be parsed at index 10");
    CHECK_STR(perr("2021-10-29T16:01:3Z"),
              "Text '2021-10-29T16:01:3Z' could not be parsed at index 16");
    CHECK_STR(perr("21-10-29T16:01Z"), "Text '21-10-29T16:01Z' could not be parsed at index 0");
    CHECK_STR(perr("+2021-10-29T00:00Z"), "Text '+2021-10-29T00:00Z' could not be parsed at index 0");
    CHECK_STR(perr("20211-10-29T00:00Z"), "Text '20211-10-29T00:00Z' could not be parsed at index 0");
    CHECK_STR(perr("-0000-01-01T00:00Z"), "Text '-0000-01-01T00:00Z' could not be parsed at index 0");
    CHECK_STR(perr("+12345678901-01-01T00:00Z"),
              "Text '+12345678901-01-01T00:00Z' could not be parsed at index 11");
    CHECK_STR(perr("2021-1-29T00:00Z"), "Text '2021-1-29T00:00Z' could not be parsed at index 5");
    CHECK_STR(perr("2021-10-29T16:01:38.967+7:00"),
              "Text '2021-10-29T16:01:38.967+7:00' could not be parsed at index 23");
    CHECK_STR(perr("2021-10-29T16:01:38.967+07"),
              "Text '2021-10-29T16:01:38.967+07' could not be parsed at index 23");
    CHECK_STR(perr("2021-10-29T16:01:38.967+0700"),
              "Text '2021-10-29T16:01:38.967+0700' could not be parsed at index 23");
    CHECK_STR(perr("2021-10-29T16:01:38.1234567890Z"),
              "Text '2021-10-29T16:01:38.1234567890Z' could not be parsed at index 29");
    CHECK_STR(perr("2021-01-01T00:00+60:00"),
              "Text '2021-01-01T00:00+60:00' could not be parsed at index 16");
    CHECK_STR(perr("2021-10-29T16:01:38.967-07:00x"),
              "Text '2021-10-29T16:01:38.967-07:00x' could not be parsed, unparsed text found at index 29");
    CHECK_STR(perr("2021-10-29T16:01:38+07:00:5"),
              "Text '2021-10-29T16:01:38+07:00:5' could not be parsed, unparsed text found at index 25");
    /* Java abbreviates texts longer than 64 characters */
    CHECK_STR(perr("2021-10-29T16:01:38.967-07:00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
              "Text '2021-10-29T16:01:38.967-07:00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' could not "
              "be parsed, unparsed text found at index 29");
    CHECK_STR(perr("\xc3\xa9"), "Text '\xc3\xa9' could not be parsed at index 0");
}

MAG_TEST(parse_resolution_errors)
{
    CHECK_STR(perr("2021-13-01T00:00Z"),
              "Text '2021-13-01T00:00Z' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 13");
    CHECK_STR(perr("2021-00-01T00:00Z"),
              "Text '2021-00-01T00:00Z' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 0");
    CHECK_STR(perr("2021-01-32T00:00Z"),
              "Text '2021-01-32T00:00Z' could not be parsed: Invalid value for DayOfMonth (valid values 1 - 28/31): 32");
    CHECK_STR(perr("2021-02-29T00:00Z"),
              "Text '2021-02-29T00:00Z' could not be parsed: Invalid date 'February 29' as '2021' is not a leap year");
    CHECK_STR(perr("2100-02-29T00:00Z"),
              "Text '2100-02-29T00:00Z' could not be parsed: Invalid date 'February 29' as '2100' is not a leap year");
    CHECK_STR(perr("2021-02-30T00:00Z"),
              "Text '2021-02-30T00:00Z' could not be parsed: Invalid date 'FEBRUARY 30'");
    CHECK_STR(perr("2021-04-31T00:00Z"),
              "Text '2021-04-31T00:00Z' could not be parsed: Invalid date 'APRIL 31'");
    CHECK_STR(perr("2021-01-01T24:00Z"),
              "Text '2021-01-01T24:00Z' could not be parsed: Invalid value for HourOfDay (valid values 0 - 23): 24");
    CHECK_STR(perr("2021-01-01T23:60Z"),
              "Text '2021-01-01T23:60Z' could not be parsed: Invalid value for MinuteOfHour (valid values 0 - 59): 60");
    CHECK_STR(perr("2021-01-01T23:59:60Z"),
              "Text '2021-01-01T23:59:60Z' could not be parsed: Invalid value for SecondOfMinute (valid values 0 - 59): 60");
    CHECK_STR(perr("2021-01-01T00:00+19:00"),
              "Text '2021-01-01T00:00+19:00' could not be parsed: Zone offset not in valid range: -18:00 to +18:00");
    CHECK_STR(perr("2021-01-01T00:00+24:00"),
              "Text '2021-01-01T00:00+24:00' could not be parsed: Value out of range: Hour[0-23], Minute[0-59], Second[0-59]");
    CHECK_STR(perr("+1000000000-01-01T00:00Z"),
              "Text '+1000000000-01-01T00:00Z' could not be parsed: Invalid value for Year (valid values -999999999 - 999999999): 1000000000");
    CHECK_STR(perr("+999999999-01-01T00:00Z"), "long overflow");
    int64_t ms;
    CHECK_EQ_INT(mag_iso_time_parse("x", 1, &ms, NULL), MAG_ERR_PAYLOAD);
}

MAG_TEST(round_trip)
{
    static const int32_t offs[] = { 0, 3600, -25200, 19800, 3661, -64800, 64800 };
    for (int64_t ms = -3000000000000LL; ms < 4000000000000LL; ms += 123456789011LL) {
        for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
            int64_t back = 0;
            const char *s = fmt(ms, offs[i]);
            CHECK_EQ_INT(parse(s, &back), MAG_OK);
            CHECK_EQ_INT(back, ms);
        }
    }
}

int main(void)
{
    RUN(format_examples);
    RUN(format_local_zone);
    RUN(parse_valid);
    RUN(parse_error_index);
    RUN(parse_resolution_errors);
    RUN(round_trip);
    mag_buf_free(&E);
    return mag_test_summary();
}
