/* broker_fixture.h -- what the unit tests of the broker on real storage
 * (test_broker, test_admin, test_authz, test_batching) share: a temporary LMDB
 * directory, a store in it without fsync, a broker on that store, parsed topic
 * names, and a fake producer session that records its results.
 *
 * Header-only (static inline), included once per test program after
 * mag_test.h. One directory at a time: fixture_dir_new() before opening,
 * fixture_dir_remove() after closing everything.
 */
#ifndef MAG_BROKER_FIXTURE_H
#define MAG_BROKER_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mag/broker/broker.h"
#include "mag/storage/store.h"
#include "mag/codec/topic_path.h"

static char fixture_dir[64];
static int fixture_work_requests;   /* calls of the broker's request_work hook */

static inline void fixture_dir_new(void)
{
    strcpy(fixture_dir, "/tmp/mag-test-XXXXXX");
    CHECK(mkdtemp(fixture_dir) != NULL);
}

static inline void fixture_dir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fixture_dir);
    CHECK(system(cmd) == 0);
}

static inline mag_store *fixture_store(size_t map_size)
{
    struct mag_store_opts so = { .dir = fixture_dir, .map_size = map_size, .sync = false };
    mag_store *s = NULL;
    CHECK_EQ_INT(mag_store_open(&s, &so), MAG_OK);
    return s;
}

static inline void fixture_request_work(void *ctx)
{
    (void)ctx;
    fixture_work_requests++;
}

/* A broker on s with the options in bo (store and request_work filled in). */
static inline mag_broker *fixture_broker(mag_store *s, struct mag_broker_opts bo)
{
    bo.store = s;
    bo.request_work = fixture_request_work;
    mag_broker *b = NULL;
    CHECK_EQ_INT(mag_broker_new(&bo, &b), MAG_OK);
    return b;
}

static inline mag_topic_name topic(const char *name)
{
    mag_topic_name t;
    CHECK_EQ_INT(mag_topic_name_parse(name, strlen(name), &t), MAG_OK);
    return t;
}

/* A producer session's side: every result (token, code, id) and its close. */
struct fake_producer {
    int results, closed;
    mag_rc last_rc;
    uint64_t tokens[64];
    mag_msgid ids[64];
};

static inline void fake_producer_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    struct fake_producer *fp = ctx;
    fp->last_rc = rc;
    if (fp->results < 64) {
        fp->tokens[fp->results] = token;
        if (id)
            fp->ids[fp->results] = *id;
    }
    fp->results++;
}

static inline void fake_producer_closed(void *ctx)
{
    ((struct fake_producer *)ctx)->closed++;
}

static const struct mag_producer_events pev = { .on_result = fake_producer_result,
                                                .on_closed = fake_producer_closed };

/* Publish text (no key, no properties) with the given result token. */
static inline mag_rc publish_rc(mag_producer *p, const char *text, uint64_t token)
{
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.sequence_id = -1;
    e.payload = (const uint8_t *)text;
    e.payload_len = strlen(text);
    e.properties_json = "{}";
    e.properties_json_len = 2;
    return mag_producer_publish(p, &e, token);
}

static inline void publish(mag_producer *p, const char *text, uint64_t token)
{
    CHECK_EQ_INT(publish_rc(p, text, token), MAG_OK);
}

#endif
