/* fuzz_compress.c -- fuzz target for src/codec/compress.c.
 *
 * Input: byte 0 mod 8 picks the codec (5-7 probe unknown codec values),
 * bytes 1-2 are the claimed uncompressed size (u16 little-endian), the rest
 * is the compressed data. Invariants: decoding never writes past the
 * claimed size nor accepts a size over the small limit; success yields
 * exactly that many bytes, which recompress and decode back to the same
 * bytes; failure leaves the output length alone; the raw rest also
 * round-trips through compress + decompress.
 */
#include "mag/codec/compress.h"

#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_MAX_SIZE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(mag_compression c, const uint8_t *src, size_t len)
{
    mag_buf z = MAG_BUF_INIT, back = MAG_BUF_INIT;
    REQUIRE(mag_compress(c, src, len, &z) == MAG_OK);
    REQUIRE(mag_decompress(c, z.data, z.len, len, len, &back) == MAG_OK);
    REQUIRE(back.len == len && (len == 0 || memcmp(back.data, src, len) == 0));
    mag_buf_free(&z);
    mag_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    mag_compression c = (mag_compression)(data[0] % 8);
    size_t claimed = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *src = data + 3;
    size_t len = size - 3;

    mag_buf out = MAG_BUF_INIT;
    mag_buf_append(&out, "P", 1);
    mag_rc rc = mag_decompress(c, src, len, claimed, FUZZ_MAX_SIZE, &out);
    if ((unsigned)c > MAG_COMP_SNAPPY) {
        REQUIRE(rc == MAG_ERR_BAD_REQUEST && out.len == 1);
        mag_buf_free(&out);
        return 0;
    }
    if (claimed > FUZZ_MAX_SIZE) {
        /* refused before reserving: capacity is still the first 64 bytes */
        REQUIRE(rc == MAG_ERR_TOO_LARGE && out.len == 1 && out.cap == 64);
    } else if (rc == MAG_OK) {
        REQUIRE(out.len == 1 + claimed);
        check_round_trip(c, out.data + 1, claimed);
    } else {
        REQUIRE(rc == MAG_ERR_PAYLOAD && out.len == 1);
    }
    mag_buf_free(&out);
    check_round_trip(c, src, len);
    return 0;
}
