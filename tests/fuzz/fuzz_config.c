/* fuzz_config.c -- fuzz target for the configuration parser (src/config.c).
 *
 * Input: config file text, parsed with mag_config_load_text(); or, when the
 * first byte is 0x01, the rest is one -o "KEY=VALUE" for mag_config_set().
 * Invariants (abort on violation): the result is MAG_OK or MAG_ERR_CONFIG;
 * an error leaves exactly one printable line in err and a success none;
 * warnings are printable '\n'-terminated lines; a failed -o leaves the config
 * unchanged; and mag_config_dump() output parses back to the same dump.
 */
#include "mag/config.h"
#include "mag/util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODE_SET 0x01

static void check(int cond)
{
    if (!cond)
        abort();
}

static int printable(const mag_buf *b, int allow_newline)
{
    for (size_t i = 0; i < b->len; i++) {
        uint8_t ch = b->data[i];
        if (ch == '\n' ? !allow_newline : (ch < 0x20 || ch >= 0x7f))
            return 0;
    }
    return 1;
}

static int same(const mag_buf *a, const mag_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mag_config c, c2;
    mag_buf err = MAG_BUF_INIT, warn = MAG_BUF_INIT, before = MAG_BUF_INIT;
    mag_buf dump = MAG_BUF_INIT, dump2 = MAG_BUF_INIT;
    mag_rc rc;

    mag_config_init(&c);
    mag_config_dump(&c, &before);
    if (size > 0 && data[0] == MODE_SET) {
        char *kv = mag_xstrndup((const char *)data + 1, size - 1);
        rc = mag_config_set(&c, kv, &err, &warn);
        free(kv);
    } else {
        rc = mag_config_load_text(&c, (const char *)data, size, "fuzz.conf", &err, &warn);
    }
    check(rc == MAG_OK || rc == MAG_ERR_CONFIG);
    check((rc == MAG_OK) == (err.len == 0));
    check(printable(&err, 0));
    check(printable(&warn, 1));
    check(warn.len == 0 || warn.data[warn.len - 1] == '\n');

    mag_config_dump(&c, &dump);
    if (rc != MAG_OK && size > 0 && data[0] == MODE_SET)
        check(same(&dump, &before));

    /* Whatever was accepted must dump to text the parser accepts again. */
    mag_config_init(&c2);
    mag_buf_reset(&warn);
    check(mag_config_load_text(&c2, (const char *)dump.data, dump.len, "dump", NULL, &warn) == MAG_OK);
    check(warn.len == 0);
    mag_config_dump(&c2, &dump2);
    check(same(&dump, &dump2));

    mag_config_cleanup(&c);
    mag_config_cleanup(&c2);
    mag_buf_free(&err);
    mag_buf_free(&warn);
    mag_buf_free(&before);
    mag_buf_free(&dump);
    mag_buf_free(&dump2);
    return 0;
}
