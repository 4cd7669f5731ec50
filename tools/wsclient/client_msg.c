/* client_msg.c -- the Pulsar WebSocket frames magnetar-client reads (see client_msg.h). */
#include "client_msg.h"

#include <stdio.h>

#include "mag/codec/json_reader.h"
#include "mag/util/base64.h"

void mag_client_msg_free(struct mag_client_msg *r)
{
    mag_buf_free(&r->result);
    mag_buf_free(&r->error_msg);
    mag_buf_free(&r->message_id);
    mag_buf_free(&r->payload);
    mag_buf_free(&r->key);
    mag_buf_free(&r->props);
}

/* Parse a server frame. properties become "k1=v1, k2=v2" in the server's order, as Java's
   Arrays.toString(getProperties().entrySet().toArray()) prints them (without the brackets). */
bool mag_client_msg_parse(const uint8_t *json, size_t len, struct mag_client_msg *r)
{
    mag_json_reader jr;
    mag_json_token t, v;
    mag_buf_reset(&r->result);
    mag_buf_reset(&r->error_msg);
    mag_buf_reset(&r->message_id);
    mag_buf_reset(&r->payload);
    mag_buf_reset(&r->key);
    mag_buf_reset(&r->props);
    r->has_key = false;
    r->nprops = 0;
    mag_json_reader_init(&jr, (const char *)json, len);
    if (mag_json_next(&jr, &t) != MAG_OK || t.type != MAG_JSON_OBJECT)
        return false;
    for (;;) {
        if (mag_json_next(&jr, &t) != MAG_OK)
            return false;
        if (t.type == MAG_JSON_OBJECT_END)
            return true;
        if (mag_json_next(&jr, &v) != MAG_OK)
            return false;
        mag_buf *dst = NULL;
        if (mag_json_token_eq(&t, "result", 6))
            dst = &r->result;
        else if (mag_json_token_eq(&t, "errorMsg", 8))
            dst = &r->error_msg;
        else if (mag_json_token_eq(&t, "messageId", 9))
            dst = &r->message_id;
        else if (mag_json_token_eq(&t, "key", 3) && v.type != MAG_JSON_NULL)
            dst = &r->key, r->has_key = true;
        if (dst && v.type != MAG_JSON_OBJECT && v.type != MAG_JSON_ARRAY) {
            mag_buf_reset(dst);
            mag_json_unescape(&v, dst);
        } else if (mag_json_token_eq(&t, "payload", 7) && v.type == MAG_JSON_STRING) {
            mag_buf raw = MAG_BUF_INIT;
            mag_json_unescape(&v, &raw);
            mag_buf_reset(&r->payload);
            /* Not base64: show the text, as CmdConsume's WebSocket path falls back to it. */
            if (mag_base64_decode(&r->payload, (const char *)raw.data, raw.len, NULL) != MAG_OK)
                mag_buf_append(&r->payload, raw.data, raw.len);
            mag_buf_free(&raw);
        } else if (mag_json_token_eq(&t, "properties", 10) && v.type == MAG_JSON_OBJECT) {
            for (;;) {
                mag_json_token k, pv;
                if (mag_json_next(&jr, &k) != MAG_OK)
                    return false;
                if (k.type == MAG_JSON_OBJECT_END)
                    break;
                if (mag_json_next(&jr, &pv) != MAG_OK || mag_json_skip(&jr, &pv) != MAG_OK)
                    return false;
                if (r->nprops++)
                    mag_buf_append_str(&r->props, ", ");
                mag_json_unescape(&k, &r->props);
                mag_buf_append_byte(&r->props, '=');
                mag_json_unescape(&pv, &r->props);
            }
        } else if (mag_json_skip(&jr, &v) != MAG_OK) {
            return false;
        }
    }
}

static void put(const mag_buf *b)
{
    if (b->len)   /* an empty buffer may have no storage (fwrite wants a pointer) */
        fwrite(b->data, 1, b->len, stdout);
}

/* --hex: commons-io HexDump.dump as CmdConsume uses it: per 16 bytes, the offset in 8 hex
   digits, the bytes in hex (blank-padded), then the printable ASCII ('.' for the others). */
static void put_hex(const mag_buf *b)
{
    for (size_t j = 0; j < b->len; j += 16) {
        size_t n = b->len - j < 16 ? b->len - j : 16;
        printf("%08X ", (unsigned)(j & 0xFFFFFFFFu));
        for (size_t k = 0; k < 16; k++)
            if (k < n)
                printf("%02X ", b->data[j + k]);
            else
                fputs("   ", stdout);
        for (size_t k = 0; k < n; k++)
            putchar(b->data[j + k] >= 32 && b->data[j + k] < 127 ? b->data[j + k] : '.');
        putchar('\n');
    }
}

/* CmdConsume.interpretMessage: "key:[K], properties:[k=v, ...], content:C". */
void mag_client_msg_print(const struct mag_client_msg *r, bool hex)
{
    fputs(MAG_CLIENT_MESSAGE_BOUNDARY "\nkey:[", stdout);
    if (r->has_key)
        put(&r->key);
    else
        fputs("null", stdout);
    fputs("], properties:[", stdout);
    put(&r->props);
    fputs("], content:", stdout);
    if (hex)
        put_hex(&r->payload);
    else
        put(&r->payload);
    fputc('\n', stdout);
    fflush(stdout);
}

