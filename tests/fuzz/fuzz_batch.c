/* fuzz_batch.c -- fuzz target for src/codec/batch.c.
 *
 * The input is decoded as a batch. Invariants: mag_batch_next stays inside
 * the buffer and strictly advances; mag_batch_count agrees with iteration;
 * a valid batch re-encodes with mag_batch_append to exactly the input bytes
 * (the layout is canonical), and a re-encoded prefix of an invalid batch
 * equals the input up to where decoding stopped.
 */
#include "mag/codec/batch.h"

#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
    const uint8_t *q = p;
    return q >= buf && n <= len && q - buf <= (ptrdiff_t)(len - n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_buf re = MAG_BUF_INIT;
    size_t off = 0;
    uint32_t n = 0;
    mag_batch_msg m;
    mag_rc rc;
    while ((rc = mag_batch_next(data, size, &off, &m)) == MAG_OK) {
        REQUIRE(off <= size);
        REQUIRE(inside(m.properties_json, m.properties_json_len, data, size));
        REQUIRE(inside(m.key, m.key_len, data, size));
        REQUIRE(inside(m.payload, m.payload_len, data, size));
        REQUIRE(m.has_key || m.key_len == 0);
        size_t before = re.len;
        mag_batch_append(&re, &m);
        REQUIRE(re.len - before == MAG_BATCH_MSG_OVERHEAD + m.properties_json_len + m.key_len +
                                       m.payload_len);
        REQUIRE(re.len == off);
        n++;
    }
    REQUIRE(rc == MAG_AGAIN || rc == MAG_ERR_PAYLOAD);
    REQUIRE(re.len == off && (off == 0 || memcmp(re.data, data, off) == 0));

    uint32_t count = 12345;
    mag_rc crc = mag_batch_count(data, size, &count);
    if (rc == MAG_AGAIN) {
        REQUIRE(off == size && crc == MAG_OK && count == n);
    } else {
        REQUIRE(off < size && crc == MAG_ERR_PAYLOAD && count == 12345);
    }
    mag_buf_free(&re);
    return 0;
}
