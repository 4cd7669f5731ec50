/* test_delivery_cache.c -- the delivery JSON cache shared across subscriptions.
 *
 * A hit needs the same message id (ledger, entry, partition, batch index and
 * size), redelivery count and reader flag; a slot keeps only its newest frame;
 * frames over the size bound are dropped after use.
 */
#include <string.h>

#include "mag/app/delivery_cache.h"
#include "mag_test.h"

static struct mag_delivery_key key(uint64_t ledger, uint64_t entry, int32_t batch_index)
{
    struct mag_delivery_key k;
    memset(&k, 0, sizeof k);
    mag_msgid_init(&k.id, ledger, entry);
    k.id.batch_index = batch_index;
    return k;
}

static void fill(mag_buf *b, const char *text)
{
    mag_buf_append(b, text, strlen(text));
}

MAG_TEST(test_hit_needs_the_whole_key)
{
    mag_delivery_cache c;
    mag_delivery_cache_init(&c);
    bool hit = true;
    struct mag_delivery_key k = key(7, 42, -1);
    mag_buf *b = mag_delivery_cache_slot(&c, &k, &hit);
    CHECK(!hit);
    CHECK_EQ_INT(b->len, 0);
    fill(b, "{\"frame\":42}");
    mag_delivery_cache_release(&c, b);

    b = mag_delivery_cache_slot(&c, &k, &hit);
    CHECK(hit);
    CHECK_EQ_INT(b->len, strlen("{\"frame\":42}"));
    CHECK_MEM(b->data, "{\"frame\":42}", b->len);

    struct mag_delivery_key other = k;
    other.redelivery_count = 1;
    CHECK(!(mag_delivery_cache_slot(&c, &other, &hit), hit));
    fill(mag_delivery_cache_slot(&c, &other, &hit), "x");   /* now other owns its slot */

    struct mag_delivery_key variants[5];
    for (int i = 0; i < 5; i++)
        variants[i] = k;
    variants[0].reader = true;
    variants[1].id.partition = 3;
    variants[2].id.batch_index = 0;
    variants[3].id.batch_size = 2;
    variants[4].id.ledger = 8;
    for (int i = 0; i < 5; i++) {
        hit = true;
        mag_buf *v = mag_delivery_cache_slot(&c, &variants[i], &hit);
        CHECK(!hit);
        CHECK_EQ_INT(v->len, 0);     /* never someone else's text */
    }
    CHECK(c.hits >= 1);
    mag_delivery_cache_free(&c);
}

MAG_TEST(test_newest_frame_wins_a_slot)
{
    mag_delivery_cache c;
    mag_delivery_cache_init(&c);
    bool hit;
    /* More keys than slots: each lookup right after its put hits, and an
       early key is eventually replaced (a miss, never a wrong text). */
    for (uint64_t e = 0; e < 4 * MAG_DELIVERY_CACHE_SLOTS; e++) {
        struct mag_delivery_key k = key(1, e, -1);
        mag_buf *b = mag_delivery_cache_slot(&c, &k, &hit);
        if (!hit) {
            char text[32];
            snprintf(text, sizeof text, "entry-%llu", (unsigned long long)e);
            fill(b, text);
        }
        b = mag_delivery_cache_slot(&c, &k, &hit);
        CHECK(hit);
    }
    int misses = 0;
    for (uint64_t e = 0; e < 4 * MAG_DELIVERY_CACHE_SLOTS; e++) {
        struct mag_delivery_key k = key(1, e, -1);
        mag_buf *b = mag_delivery_cache_slot(&c, &k, &hit);
        char text[32];
        int n = snprintf(text, sizeof text, "entry-%llu", (unsigned long long)e);
        if (hit) {
            CHECK_EQ_INT(b->len, (size_t)n);
            CHECK_MEM(b->data, text, (size_t)n);
        } else {
            misses++;
            fill(b, text);
        }
    }
    CHECK(misses > 0);
    mag_delivery_cache_free(&c);
}

MAG_TEST(test_large_frames_are_not_kept)
{
    mag_delivery_cache c;
    mag_delivery_cache_init(&c);
    bool hit;
    struct mag_delivery_key k = key(2, 1, -1);
    mag_buf *b = mag_delivery_cache_slot(&c, &k, &hit);
    static char big[MAG_DELIVERY_CACHE_MAX_BYTES + 1];
    memset(big, 'b', sizeof big);
    mag_buf_append(b, big, sizeof big);
    mag_delivery_cache_release(&c, b);
    CHECK(b->cap == 0);                      /* memory given back */
    b = mag_delivery_cache_slot(&c, &k, &hit);
    CHECK(!hit);
    mag_buf small = MAG_BUF_INIT;
    mag_buf_append(&small, "x", 1);
    mag_delivery_cache_release(&c, &small); /* not a slot: ignored */
    CHECK_EQ_INT(small.len, 1);
    mag_buf_free(&small);
    mag_delivery_cache_free(&c);
}

MAG_TEST(test_memory_stays_within_budget)
{
    mag_delivery_cache c;
    mag_delivery_cache_init(&c);
    static char frame[MAG_DELIVERY_CACHE_MAX_BYTES];
    memset(frame, 'f', sizeof frame);
    bool hit;
    for (uint64_t e = 0; e < MAG_DELIVERY_CACHE_SLOTS; e++) {
        struct mag_delivery_key k = key(3, e, -1);
        mag_buf *b = mag_delivery_cache_slot(&c, &k, &hit);
        mag_buf_append(b, frame, sizeof frame);
        mag_delivery_cache_release(&c, b);
        CHECK(c.bytes <= MAG_DELIVERY_CACHE_BUDGET);
    }
    size_t held = 0;
    for (size_t i = 0; i < MAG_DELIVERY_CACHE_SLOTS; i++)
        held += c.slots[i].json.cap;
    CHECK_EQ_INT(held, c.bytes);
    CHECK(held > 0);
    mag_delivery_cache_free(&c);
}

int main(void)
{
    RUN(test_hit_needs_the_whole_key);
    RUN(test_newest_frame_wins_a_slot);
    RUN(test_large_frames_are_not_kept);
    RUN(test_memory_stays_within_budget);
    return mag_test_summary();
}
