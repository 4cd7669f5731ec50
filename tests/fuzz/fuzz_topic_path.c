/* fuzz_topic_path.c -- fuzz target for src/codec/topic_path.c.
 *
 * The input is parsed as a request path and as a topic name. Invariants:
 * only the documented return codes occur; a parsed topic's full name fits,
 * re-parses to itself, and its partition suffix agrees with base_len; the
 * partition-name builder never overflows; dot-segment removal either refuses
 * or gives a path that starts with '/' (for an absolute input), has no "."
 * or ".." segment left and is no longer than its input plus one '/'.
 */
#include "mag/codec/topic_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void check_topic(const mag_topic_name *t)
{
    size_t n = strlen(t->full);
    REQUIRE(n > 0 && n <= MAG_TOPIC_NAME_MAX);
    REQUIRE(t->local[0] != '\0' && t->tenant[0] != '\0' && t->ns[0] != '\0');
    REQUIRE(strncmp(t->full, t->persistent ? "persistent://" : "non-persistent://",
                    t->persistent ? 13 : 17) == 0);
    mag_topic_name again;
    REQUIRE(mag_topic_name_parse(t->full, n, &again) == MAG_OK);
    REQUIRE(strcmp(again.full, t->full) == 0 && strcmp(again.local, t->local) == 0);
    REQUIRE(again.partition == t->partition && again.base_len == t->base_len);
    if (t->partition >= 0) {
        char sfx[32];
        snprintf(sfx, sizeof sfx, "-partition-%d", (int)t->partition);
        REQUIRE(t->base_len + strlen(sfx) == n && strcmp(t->full + t->base_len, sfx) == 0);
    } else {
        REQUIRE(t->base_len == n);
    }
    char out[MAG_TOPIC_NAME_MAX + 1];
    if (mag_topic_partition_name(t, 7, out) == MAG_OK) {
        mag_topic_name p;
        REQUIRE(strlen(out) <= MAG_TOPIC_NAME_MAX);
        REQUIRE(mag_topic_name_parse(out, strlen(out), &p) == MAG_OK && p.partition == 7);
    } else {
        REQUIRE(out[0] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_ws_path p;
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = mag_ws_path_parse((const char *)data, size, &p, &err);
    REQUIRE(rc == MAG_OK || rc == MAG_ERR_NOT_FOUND || rc == MAG_ERR_INTERNAL ||
            rc == MAG_ERR_BAD_REQUEST);
    REQUIRE(rc == MAG_OK || err.len > 0);
    if (rc == MAG_OK && p.kind != MAG_EP_PINGPONG) {
        check_topic(&p.topic);
        REQUIRE((p.kind == MAG_EP_CONSUMER) == (p.subscription[0] != '\0'));
        REQUIRE(strlen(p.subscription) <= MAG_SUBSCRIPTION_MAX);
    }
    mag_buf_free(&err);

    mag_buf canon = MAG_BUF_INIT;
    err = (mag_buf)MAG_BUF_INIT;
    rc = mag_path_remove_dot_segments((const char *)data, size, &canon, &err);
    REQUIRE(rc == MAG_OK || (rc == MAG_ERR_BAD_REQUEST && err.len > 0));
    if (rc == MAG_OK && size > 0 && data[0] == '/') {
        const char *c = mag_buf_cstr(&canon);
        REQUIRE(canon.len >= 1 && canon.len <= size + 1 && c[0] == '/');
        for (size_t i = 0; i < canon.len; i++) {
            if (c[i] != '/')
                continue;
            size_t j = i + 1;
            while (j < canon.len && c[j] == '.')
                j++;
            REQUIRE(!(j - i - 1 >= 1 && j - i - 1 <= 2 && (j == canon.len || c[j] == '/')));
        }
    }
    mag_buf_free(&canon);
    mag_buf_free(&err);

    mag_topic_name t;
    rc = mag_topic_name_parse((const char *)data, size, &t);
    REQUIRE(rc == MAG_OK || rc == MAG_ERR_BAD_REQUEST);
    if (rc == MAG_OK)
        check_topic(&t);
    return 0;
}
