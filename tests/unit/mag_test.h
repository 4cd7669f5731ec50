/* mag_test.h -- a tiny unit-test harness for Magnetar's C tests.
 *
 * Usage:
 *   MAG_TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_STR(s, "x"); }
 *   int main(void) { RUN(name); return mag_test_summary(); }
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef MAG_TEST_H
#define MAG_TEST_H

#include <stdio.h>
#include <string.h>

static int mag_test_passed, mag_test_failed, mag_test_cur_failed;

#define MAG_TEST(name) static void name(void)

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        mag_test_cur_failed = 1; \
    } } while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long va_ = (long long)(a), vb_ = (long long)(b); \
    if (va_ != vb_) { \
        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, va_, vb_); \
        mag_test_cur_failed = 1; \
    } } while (0)

#define CHECK_STR(a, b) do { \
    const char *sa_ = (a), *sb_ = (b); \
    if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) { \
        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
                sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
        mag_test_cur_failed = 1; \
    } } while (0)

#define CHECK_MEM(a, b, n) do { \
    if (memcmp((a), (b), (n)) != 0) { \
        fprintf(stderr, "%s:%d: memory %s == %s failed\n", __FILE__, __LINE__, #a, #b); \
        mag_test_cur_failed = 1; \
    } } while (0)

#define RUN(name) do { \
    mag_test_cur_failed = 0; \
    name(); \
    if (mag_test_cur_failed) { mag_test_failed++; fprintf(stderr, "FAIL %s\n", #name); } \
    else mag_test_passed++; \
    } while (0)

static inline int mag_test_summary(void)
{
    printf("%d passed, %d failed\n", mag_test_passed, mag_test_failed);
    return mag_test_failed ? 1 : 0;
}

#endif /* MAG_TEST_H */
