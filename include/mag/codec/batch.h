/* batch.h -- pure codec for a batch payload: N messages of one producer.
 *
 * With producer batching (issue #7) one stored entry holds several messages,
 * as a Pulsar batch entry does. This is Magnetar's own layout for the
 * (uncompressed) entry payload; it is only ever read back by Magnetar.
 * Decoding is zero-copy so a consumer delivery can point straight into the
 * decompressed buffer or the LMDB map. No I/O, no allocation on decode.
 *
 * Layout: messages back to back, nothing before, between or after them.
 * Each message, all integers BIG-ENDIAN (as every other stored integer):
 *   u32 properties_json_len | properties_json bytes
 *   u8  has_key (0 or 1)
 *   u32 key_len | key bytes            (key_len must be 0 when has_key is 0)
 *   i64 event_time_ms                  (two's complement)
 *   i64 sequence_id                    (two's complement)
 *   u32 payload_len | payload bytes
 * So a message takes MAG_BATCH_MSG_OVERHEAD bytes plus its three strings;
 * an empty buffer is a valid batch of zero messages.
 */
#ifndef MAG_CODEC_BATCH_H
#define MAG_CODEC_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Fixed bytes per message: three u32 lengths, the has_key byte, two i64. */
#define MAG_BATCH_MSG_OVERHEAD 29
/* Largest length of any one string field (stored as a u32). */
#define MAG_BATCH_FIELD_MAX UINT32_MAX

/* One message of a batch. Every pointer is BORROWED: for mag_batch_append
 * it is read during the call only; from mag_batch_next it points into the
 * decoded buffer and lives as long as that buffer. Strings are not
 * NUL-terminated. A pointer may be NULL only when its length is 0. */
typedef struct mag_batch_msg {
    const char *properties_json;   /* JSON object text, "" allowed */
    size_t properties_json_len;
    bool has_key;
    const char *key;               /* ignored (written as empty) when !has_key */
    size_t key_len;
    int64_t event_time_ms;
    int64_t sequence_id;
    const uint8_t *payload;
    size_t payload_len;
} mag_batch_msg;

/* Append the encoding of *m to out (caller-owned, grown as needed).
 * Precondition: each length <= MAG_BATCH_FIELD_MAX; callers bound message
 * sizes far below that, so a larger one is a programming error and aborts. */
void mag_batch_append(mag_buf *out, const mag_batch_msg *m);

/* Decode the message that starts at *offset (start with *offset = 0).
 * @param buf,len the whole batch, borrowed; buf may be NULL when len is 0.
 * @param offset  in: where the next message starts; out: advanced past it
 *                on MAG_OK, unchanged otherwise.
 * @param m       filled on MAG_OK with pointers INTO buf (zero copy); when
 *                has_key is false, key points at buf's empty key field and
 *                key_len is 0.
 * @return MAG_OK for a message; MAG_AGAIN when *offset == len (the batch
 *         ended exactly at a message boundary); MAG_ERR_PAYLOAD when the
 *         message is truncated or malformed (has_key not 0/1, key bytes
 *         without has_key) or *offset > len. */
mag_rc mag_batch_next(const uint8_t *buf, size_t len, size_t *offset, mag_batch_msg *m);

/* Validate the whole buffer and count its messages.
 * @param count set only on MAG_OK (0 for an empty buffer).
 * @return MAG_OK, or MAG_ERR_PAYLOAD if any message is malformed or the
 *         buffer does not end at a message boundary. */
mag_rc mag_batch_count(const uint8_t *buf, size_t len, uint32_t *count);

#endif /* MAG_CODEC_BATCH_H */
