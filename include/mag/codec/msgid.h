/* msgid.h -- Pulsar message ids: the MessageIdData protobuf and its base64.
 *
 * A WebSocket messageId is standard base64 (with padding) of a protobuf-2
 * MessageIdData serialized the way the 2.10 Java client does it (MessageIdImpl.toByteArray):
 * ledger, entry, [partition], [batch_index], batch_size whenever > -1, in
 * field-number order. Producer receipts and consumer deliveries of the same
 * message must carry byte-identical strings, so encoding is deterministic and
 * a decoded id re-encodes to the bytes it came from (for ids Pulsar writes).
 * Pure: no I/O, no allocation.
 */
#ifndef MAG_CODEC_MSGID_H
#define MAG_CODEC_MSGID_H

#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"

typedef struct mag_msgid {
    uint64_t ledger;      /* field 1 */
    uint64_t entry;       /* field 2 */
    int32_t partition;    /* field 3, -1 = absent */
    int32_t batch_index;  /* field 4, -1 = absent */
    int32_t batch_size;   /* field 6, written whenever > -1 (so 0 for non-batched ids) */
} mag_msgid;

/* Worst case: 1+10 (ledger) + 1+10 (entry) + 1+5 (partition >= 0)
 * + 1+10 (negative batch_index) + 1+5 (batch_size >= 0) = 45 bytes. */
#define MAG_MSGID_MAX_BYTES 48
/* base64 of 48 bytes is 64 characters; plus NUL. */
#define MAG_MSGID_B64_MAX 68

/* Initialise a plain (non-partitioned, non-batched) id:
 * partition -1, batch_index -1, batch_size 0. */
void mag_msgid_init(mag_msgid *id, uint64_t ledger, uint64_t entry);

/* Serialize like MessageIdImpl.toByteArray (2.10):
 *   08 ledger, 10 entry, 18 partition if partition >= 0,
 *   20 batch_index if batch_index != -1 (negative values as 10-byte varints),
 *   30 batch_size if batch_size > -1.
 * @return number of bytes written to out (<= MAG_MSGID_MAX_BYTES) */
size_t mag_msgid_encode(const mag_msgid *id, uint8_t out[MAG_MSGID_MAX_BYTES]);

/* Serialize and base64-encode (standard alphabet, '=' padding) into out,
 * NUL-terminated. @return the string length (without the NUL). */
size_t mag_msgid_to_base64(const mag_msgid *id, char out[MAG_MSGID_B64_MAX]);

/* Protobuf decode of MessageIdData.
 * - fields in any order; a repeated field: the last occurrence wins;
 * - a field is recognised only with its declared wire type (varint for 1-4
 *   and 6); anything else with a valid wire type (varint, 64-bit,
 *   length-delimited, 32-bit) is skipped, as LightProto does (so ack_set and
 *   first_chunk_message_id are ignored); groups / wire types 6-7 / field
 *   number 0 are errors;
 * - varints up to 10 bytes; int32 fields take the low 32 bits, so negative
 *   values written as 10-byte varints decode correctly;
 * - fields 1 (ledger) and 2 (entry) are required.
 * Defaults, chosen so that every id Pulsar writes re-encodes to the same
 * bytes:
 *   partition  -1 when absent or negative (negative values are never written);
 *   batch_index -1 when absent;
 *   batch_size = field 6 when present and >= 0, else 0 when batch_index is
 *                present (Java's BatchMessageIdImpl default), else -1 (so a
 *                pre-2.7 id such as "CAAQAw==" re-encodes without field 6).
 * @param out  written only on success
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (truncated, malformed, missing
 *         required fields) */
mag_rc mag_msgid_decode(const uint8_t *buf, size_t len, mag_msgid *out);

/* Java basic base64 decode (mag_base64_decode) followed by mag_msgid_decode.
 * @param s  len bytes, need not be NUL-terminated
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (bad base64 or bad protobuf) */
mag_rc mag_msgid_from_base64(const char *s, size_t len, mag_msgid *out);

/* Total order by (ledger, entry) compared as unsigned 64-bit, then
 * (partition, batch_index) compared as signed 32-bit (absent = -1 sorts
 * first). batch_size is ignored. @return <0, 0 or >0 */
int mag_msgid_compare(const mag_msgid *a, const mag_msgid *b);

#endif /* MAG_CODEC_MSGID_H */
