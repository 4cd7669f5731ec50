/* fuzz_json_reader.c -- fuzz target for src/codec/json_reader.c.
 *
 * The input is the JSON text itself. Invariants:
 *  - tokens stay inside the input, come in a well-formed order, and the
 *    reader always makes progress; string decoders agree with each other and
 *    never grow the text; number helpers accept exactly the number tokens;
 *  - skipping the root value ends in the same verdict as reading every token;
 *  - cJSON is the oracle: a document the reader accepts cJSON accepts with
 *    the same values (strings compared up to cJSON's NUL cut; cJSON cannot
 *    hold numbers longer than 63 characters), and a document cJSON accepts
 *    that the reader refuses must break one of the strict rules cJSON does
 *    not enforce (raw control characters, number syntax, non-JSON
 *    whitespace, BOM, depth over MAG_JSON_MAX_DEPTH);
 *  - every proper prefix of a short accepted container fails at end-of-input.
 */
#include "mag/codec/json_reader.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static bool json_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Check one token against the input and the decoders; count numbers too long for cJSON. */
static void check_token(const uint8_t *data, size_t size, const mag_json_token *t, size_t *long_num)
{
    const char *base = (const char *)data;
    REQUIRE(t->text >= base && t->text + t->len <= base + size);
    REQUIRE(t->offset <= size);
    if (t->type == MAG_JSON_STRING || t->type == MAG_JSON_KEY) {
        REQUIRE(t->text == base + t->offset + 1);
        REQUIRE(t->offset + t->len + 2 <= size && data[t->offset + t->len + 1] == '"');
        REQUIRE(t->escaped == (memchr(t->text, '\\', t->len) != NULL));
        mag_buf b = MAG_BUF_INIT;
        mag_json_unescape(t, &b);
        REQUIRE(b.len <= t->len);
        char *arr = malloc(b.len + 1);
        REQUIRE(mag_json_unescape_to(t, arr, b.len) == b.len);
        REQUIRE(b.len == 0 || memcmp(arr, b.data, b.len) == 0);
        if (b.len)
            REQUIRE(mag_json_unescape_to(t, arr, b.len - 1) == SIZE_MAX);
        REQUIRE(mag_json_token_eq(t, (const char *)b.data, b.len));
        if (b.len) {
            REQUIRE(!mag_json_token_eq(t, (const char *)b.data, b.len - 1));
            memcpy(arr, b.data, b.len);
            arr[b.len - 1] ^= 1;
            REQUIRE(!mag_json_token_eq(t, arr, b.len));
        }
        free(arr);
        mag_buf_free(&b);
    } else if (t->type == MAG_JSON_NUMBER) {
        int64_t i;
        double d;
        REQUIRE(t->text == base + t->offset && t->len > 0);
        mag_rc rc = mag_json_number_i64(t->text, t->len, &i);
        REQUIRE(t->integer ? (rc == MAG_OK || rc == MAG_ERR_TOO_LARGE) : rc == MAG_ERR_JSON);
        REQUIRE(mag_json_number_double(t->text, t->len, &d) == MAG_OK);
        if (rc == MAG_OK && i > -(1LL << 53) && i < (1LL << 53))
            REQUIRE(d == (double)i);
        if (t->len > 63)
            (*long_num)++;
    }
}

/* Full walk; returns true when the document is accepted. */
static bool walk(const uint8_t *data, size_t size, mag_json_reader *r, size_t *long_num)
{
    mag_json_token t;
    uint32_t max_depth = 0;
    mag_json_reader_init(r, (const char *)data, size);
    for (size_t n = 0;; n++) {
        size_t pos = r->pos;
        uint32_t depth = r->depth;
        if (mag_json_next(r, &t) != MAG_OK) {
            REQUIRE(r->err != MAG_JSON_E_NONE && r->err_offset <= size);
            return false;
        }
        REQUIRE(r->pos > pos || t.type == MAG_JSON_END);
        REQUIRE(n <= size);
        REQUIRE(r->depth <= MAG_JSON_MAX_DEPTH);
        if (t.type == MAG_JSON_OBJECT || t.type == MAG_JSON_ARRAY)
            REQUIRE(r->depth == depth + 1);
        else if (t.type == MAG_JSON_OBJECT_END || t.type == MAG_JSON_ARRAY_END)
            REQUIRE(r->depth + 1 == depth);
        else
            REQUIRE(r->depth == depth);
        if (r->depth > max_depth)
            max_depth = r->depth;
        check_token(data, size, &t, long_num);
        if (t.type == MAG_JSON_END) {
            REQUIRE(r->depth == 0 && t.offset == size);
            return true;
        }
    }
}

/* A decoded string against cJSON's C string (cut at the first NUL). */
static void same_string(const mag_json_token *t, const char *s)
{
    mag_buf b = MAG_BUF_INIT;
    mag_json_unescape(t, &b);
    size_t cut = b.len;
    const void *nul = b.len ? memchr(b.data, 0, b.len) : NULL;
    if (nul)
        cut = (size_t)((const uint8_t *)nul - b.data);
    REQUIRE(s && strlen(s) == cut && (cut == 0 || memcmp(s, b.data, cut) == 0));
    mag_buf_free(&b);
}

/* Walk the reader and the cJSON tree in parallel. */
static void same_value(mag_json_reader *r, const mag_json_token *t, const cJSON *node)
{
    mag_json_token k, v;
    const cJSON *child;
    double d;
    switch (t->type) {
    case MAG_JSON_OBJECT:
    case MAG_JSON_ARRAY:
        REQUIRE(t->type == MAG_JSON_OBJECT ? cJSON_IsObject(node) : cJSON_IsArray(node));
        child = node->child;
        for (;;) {
            REQUIRE(mag_json_next(r, &k) == MAG_OK);
            if (k.type == MAG_JSON_OBJECT_END || k.type == MAG_JSON_ARRAY_END) {
                REQUIRE(child == NULL);
                return;
            }
            REQUIRE(child != NULL);
            if (t->type == MAG_JSON_OBJECT) {
                REQUIRE(k.type == MAG_JSON_KEY);
                same_string(&k, child->string);
                REQUIRE(mag_json_next(r, &v) == MAG_OK);
                same_value(r, &v, child);
            } else {
                same_value(r, &k, child);
            }
            child = child->next;
        }
    case MAG_JSON_STRING:
        REQUIRE(cJSON_IsString(node));
        same_string(t, node->valuestring);
        return;
    case MAG_JSON_NUMBER:
        REQUIRE(cJSON_IsNumber(node));
        REQUIRE(mag_json_number_double(t->text, t->len, &d) == MAG_OK);
        REQUIRE(d == node->valuedouble);
        return;
    case MAG_JSON_TRUE:
        REQUIRE(cJSON_IsTrue(node));
        return;
    case MAG_JSON_FALSE:
        REQUIRE(cJSON_IsFalse(node));
        return;
    case MAG_JSON_NULL:
        REQUIRE(cJSON_IsNull(node));
        return;
    default:
        abort();
    }
}

/* cJSON's verdict: one value, then only JSON whitespace. */
static cJSON *cjson_parse(const uint8_t *data, size_t size)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    if (!root)
        return NULL;
    for (const char *p = end; p < (const char *)data + size; p++) {
        if (!json_ws((uint8_t)*p)) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* The reader refused a document cJSON took: the reason must be a rule
 * cJSON does not enforce. */
static void check_lax(const uint8_t *data, size_t size, const mag_json_reader *r)
{
    size_t off = r->err_offset;
    uint8_t c = off < size ? data[off] : 0;
    switch (r->err) {
    case MAG_JSON_E_CTRL:       /* cJSON keeps raw control characters */
    case MAG_JSON_E_HEX:        /* cJSON reads a bad hex digit in \uXXXX as U+0000 */
    case MAG_JSON_E_NUMBER:     /* cJSON uses strtod: 01, 1., -01, 1.e5 */
    case MAG_JSON_E_DEPTH:      /* cJSON allows 1000 levels */
        return;
    case MAG_JSON_E_EOF:
        /* a top-level "1." ends the input for us; strtod takes it whole */
        REQUIRE(size > 0 && data[size - 1] == '.');
        return;
    case MAG_JSON_E_CHAR:
    case MAG_JSON_E_TRAILING:
        /* cJSON skips every byte <= 32 as whitespace and a leading BOM */
        if (c <= 32 && !json_ws(c))
            return;
        if (off == 0 && size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
            return;
        abort();
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_json_reader r, s;
    mag_json_token t;
    size_t long_num = 0;
    bool ok = walk(data, size, &r, &long_num);

    /* skip the root: same verdict, same error */
    mag_json_reader_init(&s, (const char *)data, size);
    if (mag_json_next(&s, &t) == MAG_OK && mag_json_skip(&s, &t) == MAG_OK)
        mag_json_next(&s, &t);
    REQUIRE(s.err == r.err && s.err_offset == r.err_offset);
    REQUIRE(ok == (r.err == MAG_JSON_E_NONE));

    /* cJSON as the oracle */
    cJSON *root = cjson_parse(data, size);
    if (ok && long_num == 0)
        REQUIRE(root != NULL);
    if (!ok && root)
        check_lax(data, size, &r);
    if (ok && root) {
        mag_json_reader_init(&s, (const char *)data, size);
        REQUIRE(mag_json_next(&s, &t) == MAG_OK);
        same_value(&s, &t, root);
        REQUIRE(mag_json_next(&s, &t) == MAG_OK && t.type == MAG_JSON_END);
    }
    cJSON_Delete(root);

    /* truncation of short containers */
    size_t start = 0, end = size;
    while (end && json_ws(data[end - 1]))
        end--;
    while (start < end && json_ws(data[start]))
        start++;
    if (ok && end <= 96 && (data[end - 1] == '}' || data[end - 1] == ']')) {
        for (size_t cut = start + 1; cut < end; cut++) {
            char *copy = malloc(cut);
            memcpy(copy, data, cut);
            mag_json_reader_init(&s, copy, cut);
            while (mag_json_next(&s, &t) == MAG_OK)
                REQUIRE(t.type != MAG_JSON_END);
            REQUIRE(s.err == MAG_JSON_E_EOF && s.err_offset == cut);
            free(copy);
        }
    }
    return 0;
}
