/* magnetar-dump.c -- read-only dump of a Magnetar data directory.
 *
 * Usage: magnetar-dump DATA_DIR
 * Prints the storage stats, every topic (id, partitions, terminated, entry
 * count, first/last entry id, stored bytes) with its subscription cursors
 * (type, mark-delete, individually acked ranges), and the meta keys. It opens
 * the environment MDB_RDONLY through the store API, so it is safe to run
 * against a live server's directory and never changes anything.
 * Exit status: 0 ok, 1 storage error, 2 usage.
 */
#include "mag/storage/store.h"

#include <stdbool.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct dump_ctx {
    mag_store_rtxn *r;
    mag_rc err;
};

static bool on_cursor(void *vctx, const char *sub, size_t sublen, const mag_cursor_rec *c)
{
    (void)vctx;
    printf("  cursor \"%.*s\" type=%u mark_delete=%" PRId64 " ranges=[", (int)sublen, sub,
           (unsigned)c->sub_type, c->mark_delete);
    for (size_t i = 0; i < c->nranges; i++)
        printf("%s%" PRIu64 "-%" PRIu64, i ? "," : "", c->ranges[2 * i], c->ranges[2 * i + 1]);
    printf("] extra=%zuB\n", c->extra_len);
    return true;
}

static bool on_topic(void *vctx, const char *name, size_t len, const mag_topic_rec *rec)
{
    struct dump_ctx *d = vctx;
    uint64_t count = 0, first = 0, last = 0, bytes = 0;
    mag_rc rc;

    printf("topic \"%.*s\" id=%" PRIu64 " partitions=%" PRIu32 " terminated=%s created_ms=%" PRId64,
           (int)len, name, rec->id, rec->partitions, rec->terminated ? "yes" : "no", rec->created_ms);
    if ((rc = mag_store_entry_count(d->r, rec->id, &count)) != MAG_OK ||
        (rc = mag_store_topic_storage_size(d->r, rec->id, &bytes)) != MAG_OK)
        goto fail;
    rc = mag_store_entry_bounds(d->r, rec->id, &first, &last);
    if (rc == MAG_OK)
        printf(" entries=%" PRIu64 " first=%" PRIu64 " last=%" PRIu64 " bytes=%" PRIu64 "\n",
               count, first, last, bytes);
    else if (rc == MAG_ERR_NOT_FOUND)
        printf(" entries=0\n");
    else
        goto fail;
    rc = mag_store_cursors_scan(d->r, rec->id, on_cursor, NULL);
    if (rc != MAG_OK)
        goto fail;
    return true;
fail:
    printf("\n");
    d->err = rc;
    return false;
}

static bool on_meta(void *vctx, const char *key, size_t klen, const void *val, size_t vlen)
{
    const uint8_t *v = val;
    bool text = true;

    (void)vctx;
    for (size_t i = 0; i < vlen; i++)
        text = text && v[i] >= 0x20 && v[i] < 0x7f;
    printf("meta \"%.*s\" (%zu bytes) ", (int)klen, key, vlen);
    if (text) {
        printf("\"%.*s\"\n", (int)vlen, (const char *)val);
    } else {
        for (size_t i = 0; i < vlen && i < 64; i++)
            printf("%02x", v[i]);
        printf("%s\n", vlen > 64 ? "..." : "");
    }
    return true;
}

int main(int argc, char **argv)
{
    struct mag_store_opts o = { .read_only = true };
    struct mag_store_stats st;
    struct dump_ctx d = { NULL, MAG_OK };
    mag_store *s = NULL;
    mag_rc rc;
    int status = 1;

    if (argc != 2 || argv[1][0] == '-') {
        bool help = argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
        fprintf(help ? stdout : stderr, "usage: magnetar-dump DATA_DIR\n"
                "  prints a data dir's topics, entries and cursors (read-only; safe while magnetar runs)\n");
        return help ? 0 : 2;
    }
    o.dir = argv[1];
    rc = mag_store_open(&s, &o);
    if (rc != MAG_OK)
        goto out;
    rc = mag_store_stats(s, &st);
    if (rc != MAG_OK)
        goto out;
    printf("data dir %s: map_size=%" PRIu64 " used=%" PRIu64 " entries=%" PRIu64 " file=%" PRIu64 "\n",
           o.dir, st.map_size, st.used_bytes, st.entries_bytes, st.file_bytes);
    rc = mag_store_rbegin(s, &d.r);
    if (rc != MAG_OK)
        goto out;
    rc = mag_store_topics_scan(d.r, on_topic, &d);
    if (rc == MAG_OK)
        rc = d.err;
    if (rc == MAG_OK)
        rc = mag_store_meta_scan(d.r, "", on_meta, NULL);
    mag_store_rend(d.r);
    if (rc == MAG_OK)
        status = 0;
out:
    if (rc != MAG_OK)
        fprintf(stderr, "magnetar-dump: %s: %s\n", o.dir ? o.dir : "", mag_strerror(rc));
    mag_store_close(s);
    return status;
}
