/* fuzz_msgid.c -- fuzz target for src/codec/msgid.c.
 *
 * The input is tried both as raw MessageIdData bytes and as base64 text.
 * Invariants: whatever decodes re-encodes within MAG_MSGID_MAX_BYTES, the
 * re-encoding decodes to the same id, and the base64 form round-trips.
 */
#include "mag/codec/msgid.h"

#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void check_round_trip(const mag_msgid *id)
{
    uint8_t raw[MAG_MSGID_MAX_BYTES];
    size_t n = mag_msgid_encode(id, raw);
    REQUIRE(n >= 4 && n <= MAG_MSGID_MAX_BYTES);
    mag_msgid back;
    REQUIRE(mag_msgid_decode(raw, n, &back) == MAG_OK);
    REQUIRE(mag_msgid_compare(id, &back) == 0);
    /* encode is a fixed point after one decode */
    uint8_t raw2[MAG_MSGID_MAX_BYTES];
    REQUIRE(mag_msgid_encode(&back, raw2) == n && memcmp(raw, raw2, n) == 0);

    char s[MAG_MSGID_B64_MAX];
    size_t sl = mag_msgid_to_base64(id, s);
    REQUIRE(sl < MAG_MSGID_B64_MAX && sl == strlen(s) && sl % 4 == 0);
    mag_msgid b64back;
    REQUIRE(mag_msgid_from_base64(s, sl, &b64back) == MAG_OK);
    REQUIRE(mag_msgid_compare(id, &b64back) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_msgid id;
    if (mag_msgid_decode(data, size, &id) == MAG_OK)
        check_round_trip(&id);
    if (mag_msgid_from_base64((const char *)data, size, &id) == MAG_OK)
        check_round_trip(&id);
    return 0;
}
