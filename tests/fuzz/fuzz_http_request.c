/* fuzz_http_request.c -- libFuzzer target for the HTTP request-head parser, the WebSocket
 * handshake check and the response-head builder (src/codec/http_request.c).
 *
 * Byte 0 selects the chunking pattern (bits 0-1) and the head limit (bits 2-3). The rest is
 * parsed once whole and once the way the server does it (the same buffer, growing by chunks,
 * re-parsed with the longer length); both must reach the same result with identical fields.
 * On success: head_len within the input, path/query consistent with the target, header
 * count within the limit, lookups consistent, accept key well-formed when the handshake passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_die(const mag_http_request *a, const mag_http_request *b)
{
    if (strcmp(a->method, b->method) || strcmp(a->target, b->target) ||
        strcmp(a->path, b->path) || strcmp(a->query, b->query) ||
        a->version_minor != b->version_minor || a->nheaders != b->nheaders ||
        a->content_length != b->content_length || a->chunked != b->chunked ||
        a->keep_alive != b->keep_alive || a->expect_continue != b->expect_continue ||
        a->head_len != b->head_len)
        abort();
    for (size_t i = 0; i < a->nheaders; i++)
        if (strcmp(a->headers[i].name, b->headers[i].name) ||
            strcmp(a->headers[i].value, b->headers[i].value))
            abort();
}

static void check_ok(const mag_http_request *r, size_t len)
{
    if (r->head_len == 0 || r->head_len > len || r->nheaders > MAG_HTTP_MAX_HEADERS)
        abort();
    if (r->path[0] != '/' || strlen(r->path) != r->path_len || strlen(r->query) != r->query_len)
        abort();
    size_t tlen = strlen(r->target);
    if (strncmp(r->target, r->path, r->path_len) != 0)
        abort();
    if (r->path_len < tlen &&
        (r->target[r->path_len] != '?' || strcmp(r->target + r->path_len + 1, r->query) != 0))
        abort();
    if (r->version_minor != 0 && r->version_minor != 1)
        abort();
    for (size_t i = 0; i < r->nheaders; i++) {
        const mag_http_field *f = &r->headers[i];
        if (f->name_len == 0 || strlen(f->name) != f->name_len || strlen(f->value) != f->value_len)
            abort();
        /* Lookup by name finds this field or an earlier one with the same name. */
        const char *v = mag_http_request_header(r, f->name);
        if (!v)
            abort();
    }
    const char *key = NULL;
    mag_ws_handshake hs = mag_ws_handshake_check(r, &key);
    int status = mag_ws_handshake_status(hs);
    if (hs == MAG_WS_HS_OK) {
        char acc[MAG_WS_ACCEPT_KEY_SIZE];
        mag_ws_accept_key(key, strlen(key), acc);
        if (strlen(acc) != 28 || status != 101)
            abort();
    } else if (status != 400 && status != 405 && status != 426) {
        abort();
    }
    mag_buf out = MAG_BUF_INIT;
    mag_http_response_head(&out, status, "text/plain", (int64_t)r->path_len, "close", NULL);
    if (out.len < 20 || memcmp(out.data, "HTTP/1.1 ", 9) != 0 ||
        memcmp(out.data + out.len - 4, "\r\n\r\n", 4) != 0)
        abort();
    mag_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *s = data + 1;
    size_t n = size - 1;
    static const size_t limits[4] = { 0, 64, 512, 16384 };
    size_t max = limits[(sel >> 2) & 3];

    mag_http_request whole, grown;
    mag_http_request_init(&whole);
    mag_http_request_init(&grown);
    mag_rc wrc = mag_http_request_parse(&whole, s, n, max);

    mag_rc grc = MAG_AGAIN;
    size_t len = 0;
    uint32_t rng = sel;
    while (grc == MAG_AGAIN && len < n) {
        size_t step;
        switch (sel & 3) {
        case 0:
            step = n;
            break;
        case 1:
            step = 1;
            break;
        case 2:
            step = 1 + (sel >> 4);
            break;
        default:
            rng = rng * 1103515245u + 12345u;
            step = 1 + (rng >> 16) % 37;
            break;
        }
        len = len + step < n ? len + step : n;
        grc = mag_http_request_parse(&grown, s, len, max);
    }
    if (n == 0)
        grc = mag_http_request_parse(&grown, s, 0, max);

    if (wrc != grc)
        abort();
    if (wrc == MAG_OK) {
        check_ok(&whole, n);
        check_ok(&grown, len);
        same_or_die(&whole, &grown);
    }
    mag_http_request_cleanup(&whole);
    mag_http_request_cleanup(&grown);
    return 0;
}
