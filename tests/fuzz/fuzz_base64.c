/* fuzz_base64.c -- fuzz target for src/util/base64.c.
 *
 * Invariants: encode->decode is the identity for both alphabets; decoding
 * arbitrary text either succeeds within the size bound or fails with a
 * message and leaves the output buffer as it was.
 */
#include "mag/util/base64.h"

#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_buf enc = MAG_BUF_INIT, dec = MAG_BUF_INIT, err = MAG_BUF_INIT;

    mag_base64_encode(&enc, data, size);
    REQUIRE(enc.len == mag_base64_encoded_len(size));
    REQUIRE(mag_base64_decode(&dec, (const char *)enc.data, enc.len, &err) == MAG_OK);
    REQUIRE(dec.len == size && (size == 0 || memcmp(dec.data, data, size) == 0));
    REQUIRE(err.len == 0);

    mag_buf_reset(&enc);
    mag_buf_reset(&dec);
    mag_base64url_encode(&enc, data, size);
    REQUIRE(mag_base64url_decode(&dec, (const char *)enc.data, enc.len) == MAG_OK);
    REQUIRE(dec.len == size && (size == 0 || memcmp(dec.data, data, size) == 0));

    /* arbitrary text */
    mag_buf_reset(&dec);
    mag_buf_append(&dec, "pre", 3);
    mag_rc rc = mag_base64_decode(&dec, (const char *)data, size, &err);
    if (rc == MAG_OK) {
        REQUIRE(dec.len - 3 <= size / 4 * 3 + 2);
        REQUIRE(memcmp(dec.data, "pre", 3) == 0);
    } else {
        REQUIRE(rc == MAG_ERR_PAYLOAD && dec.len == 3 && err.len > 0);
    }
    mag_buf_reset(&dec);
    rc = mag_base64url_decode(&dec, (const char *)data, size);
    REQUIRE(rc == MAG_OK ? dec.len <= size / 4 * 3 + 2 : dec.len == 0);

    mag_buf_free(&enc);
    mag_buf_free(&dec);
    mag_buf_free(&err);
    return 0;
}
