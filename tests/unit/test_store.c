/* test_store.c -- unit tests for the LMDB store (storage/store*.c).
 *
 * Each test works in its own mkdtemp directory under /tmp. Covered:
 * persistence across reopen (topics, entries, cursors, meta, next_topic_id,
 * format version), group-commit atomicity (committed / aborted / failed
 * batches), snapshot isolation, MAP_FULL handling and recovery by trimming,
 * crash safety (kill -9 of a committing child process), trims and topic
 * deletion, record validation, and stats. The format-version test writes the
 * meta record with LMDB directly, as an older/newer build would.
 */
#include "mag_test.h"

#include "mag/storage/store.h"

#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T1 "persistent://public/default/t1"
#define T2 "persistent://public/default/t2"

/* ---- helpers ------------------------------------------------------------------ */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/mag-store-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(2);
    }
    return strdup(d);
}

static void rmtree(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

static mag_store *open_store(const char *dir, size_t map_size, bool sync)
{
    struct mag_store_opts o = { .dir = dir, .map_size = map_size, .sync = sync };
    mag_store *s = NULL;
    mag_rc rc = mag_store_open(&s, &o);
    if (rc != MAG_OK) {
        fprintf(stderr, "open %s: %s\n", dir, mag_strerror(rc));
        exit(2);
    }
    return s;
}

/* A small entry whose payload is "p<topic>:<id>" so reads can be checked. */
struct test_entry {
    mag_entry e;
    char payload[64];
};

static void make_entry(struct test_entry *te, uint64_t topic, uint64_t id)
{
    memset(te, 0, sizeof *te);
    snprintf(te->payload, sizeof te->payload, "p%llu:%llu", (unsigned long long)topic,
             (unsigned long long)id);
    te->e.publish_time_ms = 1000 + (int64_t)id;
    te->e.sequence_id = (int64_t)id;
    te->e.producer_name = "prod";
    te->e.producer_name_len = 4;
    te->e.properties_json = "{}";
    te->e.properties_json_len = 2;
    te->e.payload = (const uint8_t *)te->payload;
    te->e.payload_len = strlen(te->payload);
}

static mag_rc put_entry(mag_store_wtxn *t, uint64_t topic, uint64_t id)
{
    struct test_entry te;
    make_entry(&te, topic, id);
    return mag_store_entry_put(t, topic, id, &te.e);
}

/* MAG_OK if entry (topic,id) is present with the expected payload. */
static mag_rc check_entry(mag_store_rtxn *r, uint64_t topic, uint64_t id)
{
    struct test_entry te;
    mag_entry e;
    mag_rc rc = mag_store_entry_get(r, topic, id, &e);

    if (rc != MAG_OK)
        return rc;
    make_entry(&te, topic, id);
    if (e.payload_len != te.e.payload_len || memcmp(e.payload, te.payload, e.payload_len) != 0 ||
        e.publish_time_ms != te.e.publish_time_ms || e.sequence_id != (int64_t)id)
        return MAG_ERR_INTERNAL;
    return MAG_OK;
}

static uint64_t count_entries(mag_store *s, uint64_t topic)
{
    mag_store_rtxn *r;
    uint64_t n = 0;
    if (mag_store_rbegin(s, &r) != MAG_OK)
        return UINT64_MAX;
    if (mag_store_entry_count(r, topic, &n) != MAG_OK)
        n = UINT64_MAX;
    mag_store_rend(r);
    return n;
}

/* ---- topics scan / cursors scan collectors ------------------------------------------ */

struct topics_seen {
    int n;
    char names[8][64];
    mag_topic_rec recs[8];
};

static bool on_topic(void *ctx, const char *name, size_t len, const mag_topic_rec *rec)
{
    struct topics_seen *ts = ctx;
    if (ts->n < 8 && len < 64) {
        memcpy(ts->names[ts->n], name, len);
        ts->names[ts->n][len] = '\0';
        ts->recs[ts->n] = *rec;
    }
    ts->n++;
    return true;
}

struct cursors_seen {
    int n;
    char sub[8][32];
    uint8_t type[8];
    int64_t mark[8];
    size_t nranges[8];
    uint64_t ranges[8][8];
    size_t extra_len[8];
    char extra[8][16];
};

static bool on_cursor(void *ctx, const char *sub, size_t sublen, const mag_cursor_rec *c)
{
    struct cursors_seen *cs = ctx;
    int i = cs->n++;
    if (i >= 8 || sublen >= 32 || c->nranges > 4 || c->extra_len >= 16)
        return true;
    memcpy(cs->sub[i], sub, sublen);
    cs->sub[i][sublen] = '\0';
    cs->type[i] = c->sub_type;
    cs->mark[i] = c->mark_delete;
    cs->nranges[i] = c->nranges;
    if (c->nranges)
        memcpy(cs->ranges[i], c->ranges, 2 * c->nranges * sizeof(uint64_t));
    cs->extra_len[i] = c->extra_len;
    if (c->extra_len)
        memcpy(cs->extra[i], c->extra, c->extra_len);
    return true;
}

/* ---- tests ------------------------------------------------------------------------ */

MAG_TEST(test_open_reopen_persists)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, true);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    mag_topic_rec a = { .partitions = 0, .created_ms = 111 }, b = { .partitions = 4, .created_ms = 222 };
    const uint64_t ranges[] = { 12, 14, 20, 20 };
    mag_cursor_rec c = { .sub_type = 2, .mark_delete = 10, .ranges = ranges, .nranges = 2,
                         .extra = (const uint8_t *)"xy", .extra_len = 2 };
    const void *val;
    size_t len;
    struct topics_seen ts = { 0 };
    struct cursors_seen cs = { 0 };

    /* Fresh env: reserved meta keys are initialised. */
    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_get(r, "format_version", &val, &len), MAG_OK);
    CHECK_EQ_INT(len, 4);
    CHECK_MEM(val, "\x00\x00\x00\x01", 4);
    CHECK_EQ_INT(mag_store_meta_get(r, "next_topic_id", &val, &len), MAG_OK);
    CHECK_EQ_INT(len, 8);
    CHECK_MEM(val, "\x00\x00\x00\x00\x00\x00\x00\x01", 8);
    CHECK_EQ_INT(mag_store_topic_get(r, T1, strlen(T1), &a), MAG_ERR_NOT_FOUND);
    mag_store_rend(r);

    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &a), MAG_OK);
    CHECK_EQ_INT(a.id, 1);
    CHECK_EQ_INT(mag_store_topic_create(t, T2, strlen(T2), &b), MAG_OK);
    CHECK_EQ_INT(b.id, 2);
    for (uint64_t i = 0; i < 5; i++)
        CHECK_EQ_INT(put_entry(t, a.id, i), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_put(t, a.id, "sub-a", 5, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "ns/public/default", "{\"x\":1}", 7), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    mag_store_close(s);

    s = open_store(dir, 16 << 20, true);
    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_topics_scan(r, on_topic, &ts), MAG_OK);
    CHECK_EQ_INT(ts.n, 2);
    CHECK_STR(ts.names[0], T1);
    CHECK_EQ_INT(ts.recs[0].id, 1);
    CHECK_EQ_INT(ts.recs[0].created_ms, 111);
    CHECK_STR(ts.names[1], T2);
    CHECK_EQ_INT(ts.recs[1].id, 2);
    CHECK_EQ_INT(ts.recs[1].partitions, 4);
    for (uint64_t i = 0; i < 5; i++)
        CHECK_EQ_INT(check_entry(r, 1, i), MAG_OK);
    CHECK_EQ_INT(check_entry(r, 1, 5), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_cursors_scan(r, 1, on_cursor, &cs), MAG_OK);
    CHECK_EQ_INT(cs.n, 1);
    CHECK_STR(cs.sub[0], "sub-a");
    CHECK_EQ_INT(cs.type[0], 2);
    CHECK_EQ_INT(cs.mark[0], 10);
    CHECK_EQ_INT(cs.nranges[0], 2);
    CHECK_EQ_INT(cs.ranges[0][0], 12);
    CHECK_EQ_INT(cs.ranges[0][1], 14);
    CHECK_EQ_INT(cs.ranges[0][2], 20);
    CHECK_EQ_INT(cs.ranges[0][3], 20);
    CHECK_EQ_INT(cs.extra_len[0], 2);
    CHECK_MEM(cs.extra[0], "xy", 2);
    CHECK_EQ_INT(mag_store_meta_get(r, "ns/public/default", &val, &len), MAG_OK);
    CHECK_EQ_INT(len, 7);
    CHECK_MEM(val, "{\"x\":1}", 7);
    mag_store_rend(r);

    /* next_topic_id survived: the next topic gets id 3. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    mag_topic_rec c3 = { 0 };
    CHECK_EQ_INT(mag_store_topic_create(t, "persistent://a/b/c3", 19, &c3), MAG_OK);
    CHECK_EQ_INT(c3.id, 3);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_format_version_mismatch)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 1 << 20, true);
    struct mag_store_opts o = { .dir = dir, .map_size = 1 << 20, .sync = true };
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = { 14, "format_version" }, v = { 4, "\x00\x00\x00\x02" };

    mag_store_close(s);
    CHECK_EQ_INT(mdb_env_create(&env), 0);
    CHECK_EQ_INT(mdb_env_set_maxdbs(env, 4), 0);
    CHECK_EQ_INT(mdb_env_open(env, dir, 0, 0600), 0);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    CHECK_EQ_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s = NULL;
    CHECK_EQ_INT(mag_store_open(&s, &o), MAG_ERR_STORAGE);
    CHECK(s == NULL);
    o.read_only = true;
    CHECK_EQ_INT(mag_store_open(&s, &o), MAG_ERR_STORAGE);
    rmtree(dir);
}

MAG_TEST(test_open_errors)
{
    struct mag_store_opts o = { .dir = "", .map_size = 1 << 20 };
    mag_store *s = (mag_store *)&o;
    char *dir = tmpdir();

    CHECK_EQ_INT(mag_store_open(&s, &o), MAG_ERR_CONFIG);
    CHECK(s == NULL);
    /* Read-only open of a directory that holds no environment. */
    o.dir = dir;
    o.read_only = true;
    CHECK(mag_store_open(&s, &o) != MAG_OK);
    CHECK(s == NULL);
    /* mkdir -p of nested missing directories. */
    char nested[256];
    snprintf(nested, sizeof nested, "%s/a/b", dir);
    o.dir = nested;
    o.read_only = false;
    CHECK_EQ_INT(mag_store_open(&s, &o), MAG_OK);
    mag_store_close(s);
    char p[300];
    snprintf(p, sizeof p, "%s/data.mdb", nested);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", nested);
    unlink(p);
    rmdir(nested);
    snprintf(p, sizeof p, "%s/a", dir);
    rmdir(p);
    rmtree(dir);
}

MAG_TEST(test_batches_commit_abort_fail)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t, *t2;
    mag_store_rtxn *r;

    /* One committed batch of many puts across three topics. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    for (uint64_t i = 0; i < 3000; i++)
        CHECK_EQ_INT(put_entry(t, 1 + i % 3, i / 3), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    /* An aborted batch. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_wbegin(s, &t2), MAG_ERR_INTERNAL);   /* only one writer */
    for (uint64_t i = 1000; i < 1100; i++)
        CHECK_EQ_INT(put_entry(t, 1, i), MAG_OK);
    mag_topic_rec rec = { 0 };
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &rec), MAG_OK);
    mag_store_wabort(t);

    /* An argument error (invalid entry) changes nothing and leaves the batch
     * usable; batches failed by LMDB errors are covered in test_map_full. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    struct test_entry te;
    make_entry(&te, 1, 5000);
    te.e.compression = 9;
    CHECK_EQ_INT(mag_store_entry_put(t, 1, 5000, &te.e), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(put_entry(t, 1, 5001), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    mag_store_close(s);

    s = open_store(dir, 16 << 20, false);
    CHECK_EQ_INT(count_entries(s, 1), 1001);
    CHECK_EQ_INT(count_entries(s, 2), 1000);
    CHECK_EQ_INT(count_entries(s, 3), 1000);
    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    for (uint64_t i = 0; i < 1000; i++) {
        if (check_entry(r, 1 + i % 3, i / 3) != MAG_OK) {
            CHECK(0);
            break;
        }
    }
    CHECK_EQ_INT(check_entry(r, 1, 1000), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(check_entry(r, 1, 5000), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(check_entry(r, 1, 5001), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_get(r, T1, strlen(T1), &rec), MAG_ERR_NOT_FOUND);
    mag_store_rend(r);

    /* The aborted topic_create gave its id back. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &rec), MAG_OK);
    CHECK_EQ_INT(rec.id, 1);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_snapshot_isolation)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r, *r2;
    uint64_t first, last;

    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(put_entry(t, 7, 1), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(put_entry(t, 7, 2), MAG_OK);
    /* Uncommitted writes are invisible to a snapshot begun meanwhile too. */
    CHECK_EQ_INT(mag_store_rbegin(s, &r2), MAG_OK);
    CHECK_EQ_INT(check_entry(r2, 7, 2), MAG_ERR_NOT_FOUND);
    mag_store_rend(r2);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(check_entry(r, 7, 2), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 7, &first, &last), MAG_OK);
    CHECK_EQ_INT(last, 1);
    mag_store_rend(r);

    CHECK_EQ_INT(mag_store_rbegin(s, &r2), MAG_OK);
    CHECK(r2 == r);                             /* handles are recycled */
    CHECK_EQ_INT(check_entry(r2, 7, 2), MAG_OK);
    CHECK_EQ_INT(mag_store_entry_bounds(r2, 7, &first, &last), MAG_OK);
    CHECK_EQ_INT(first, 1);
    CHECK_EQ_INT(last, 2);
    mag_store_rend(r2);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_map_full)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 1 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    static uint8_t big[4000];
    mag_entry e;
    uint64_t next = 0, committed = 0, first, last;
    mag_rc rc = MAG_OK;
    int batches = 0;

    memset(&e, 0, sizeof e);
    e.payload = big;
    e.payload_len = sizeof big;
    memset(big, 'z', sizeof big);
    /* Fill the map with 10-entry batches until LMDB refuses. */
    while (rc == MAG_OK && batches++ < 1000) {
        CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
        for (int i = 0; i < 10 && rc == MAG_OK; i++) {
            e.sequence_id = (int64_t)next;
            rc = mag_store_entry_put(t, 1, next, &e);
            if (rc == MAG_OK)
                next++;
        }
        if (rc == MAG_OK) {
            rc = mag_store_wcommit(t);
            if (rc == MAG_OK)
                committed = next;
            else
                CHECK_EQ_INT(rc, MAG_ERR_MAP_FULL);
        } else {
            CHECK_EQ_INT(rc, MAG_ERR_MAP_FULL);
            /* The txn is poisoned: further writes are no-ops with the same error. */
            CHECK_EQ_INT(mag_store_entry_put(t, 1, 999999, &e), MAG_ERR_MAP_FULL);
            CHECK_EQ_INT(mag_store_meta_put(t, "k", "v", 1), MAG_ERR_MAP_FULL);
            CHECK_EQ_INT(mag_store_entries_delete(t, 1, 0, 5), MAG_ERR_MAP_FULL);
            CHECK_EQ_INT(mag_store_wcommit(t), MAG_ERR_MAP_FULL);
        }
    }
    CHECK_EQ_INT(rc, MAG_ERR_MAP_FULL);
    CHECK(committed > 50);

    /* Everything committed before is intact; nothing of the failed batch is. */
    CHECK_EQ_INT(count_entries(s, 1), committed);
    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 1, &first, &last), MAG_OK);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(last, committed - 1);
    mag_entry got;
    CHECK_EQ_INT(mag_store_entry_get(r, 1, committed - 1, &got), MAG_OK);
    CHECK_EQ_INT(got.sequence_id, (int64_t)committed - 1);
    CHECK_EQ_INT(got.payload_len, sizeof big);
    CHECK_MEM(got.payload, big, sizeof big);
    CHECK_EQ_INT(mag_store_entry_get(r, 1, 999999, &got), MAG_ERR_NOT_FOUND);
    mag_store_rend(r);

    struct mag_store_stats st;
    CHECK_EQ_INT(mag_store_stats(s, &st), MAG_OK);
    CHECK_EQ_INT(st.map_size, 1 << 20);
    CHECK(st.used_bytes > (1 << 19));

    /* Trim the backlog; then writes succeed again. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_entries_delete(t, 1, 0, committed - 6), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    CHECK_EQ_INT(count_entries(s, 1), 5);
    for (int b = 0; b < 3; b++) {
        CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
        for (int i = 0; i < 10; i++) {
            e.sequence_id = (int64_t)next;
            CHECK_EQ_INT(mag_store_entry_put(t, 1, next++, &e), MAG_OK);
        }
        CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    }
    CHECK_EQ_INT(count_entries(s, 1), 35);
    mag_store_close(s);
    rmtree(dir);
}

/* Child side of the crash test: commit batches forever, reporting each. */
static void crash_child(const char *dir, int wfd)
{
    struct mag_store_opts o = { .dir = dir, .map_size = 64 << 20, .sync = true };
    mag_store *s;
    mag_store_wtxn *t;

    if (mag_store_open(&s, &o) != MAG_OK)
        _exit(3);
    for (uint32_t b = 0; b < 1000000; b++) {
        if (mag_store_wbegin(s, &t) != MAG_OK)
            _exit(4);
        for (uint64_t i = 0; i < 20; i++) {
            if (put_entry(t, 1, (uint64_t)b * 20 + i) != MAG_OK)
                _exit(5);
        }
        if (mag_store_wcommit(t) != MAG_OK)
            _exit(6);
        /* Reported only after the commit returned: the batch is durable. */
        if (write(wfd, &b, sizeof b) != (ssize_t)sizeof b)
            _exit(7);
    }
    _exit(0);
}

MAG_TEST(test_crash_safety)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int round = 0; round < 4; round++) {
        char *dir = tmpdir();
        int fds[2];
        pid_t pid;
        uint32_t b;
        long reported = -1;
        int want = 3 + rand() % 40, status;

        CHECK_EQ_INT(pipe(fds), 0);
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, fds[1]);
        }
        close(fds[1]);
        /* Wait for `want` reports, then kill at a random moment. */
        while (reported + 1 < want && read(fds[0], &b, sizeof b) == (ssize_t)sizeof b)
            reported = b;
        usleep((useconds_t)(rand() % 3000));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read(fds[0], &b, sizeof b) == (ssize_t)sizeof b)
            reported = b;
        close(fds[0]);
        CHECK(reported >= want - 1);

        /* Reopen: clean open, every reported batch whole, no partial batch. */
        mag_store *s = open_store(dir, 64 << 20, true);
        mag_store_rtxn *r;
        uint64_t n = count_entries(s, 1);
        CHECK(n >= (uint64_t)(reported + 1) * 20);
        CHECK_EQ_INT(n % 20, 0);
        CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
        for (uint64_t i = 0; i < n; i++) {
            if (check_entry(r, 1, i) != MAG_OK) {
                fprintf(stderr, "round %d: entry %llu missing\n", round, (unsigned long long)i);
                CHECK(0);
                break;
            }
        }
        mag_store_rend(r);
        /* And the env is writable after the crash (stale writer lock recovered). */
        mag_store_wtxn *t;
        CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
        CHECK_EQ_INT(put_entry(t, 1, n), MAG_OK);
        CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
        mag_store_close(s);
        rmtree(dir);
    }
}

struct scan_rec {
    int n;
    uint64_t ids[16];
    int stop_after;
    mag_store_rtxn *r;
    uint64_t nested_last;
};

static bool on_entry(void *ctx, uint64_t id, const mag_entry *e)
{
    struct scan_rec *sr = ctx;
    uint64_t first;
    char want[64];

    snprintf(want, sizeof want, "p9:%llu", (unsigned long long)id);
    if (e->payload_len != strlen(want) || memcmp(e->payload, want, e->payload_len) != 0)
        sr->ids[0] = UINT64_MAX;      /* flags a mismatch */
    if (sr->n < 16)
        sr->ids[sr->n] = id;
    sr->n++;
    /* Nested read on the same snapshot while the scan's cursor is busy. */
    if (sr->r && mag_store_entry_bounds(sr->r, 9, &first, &sr->nested_last) != MAG_OK)
        sr->nested_last = UINT64_MAX;
    return sr->n != sr->stop_after;
}

MAG_TEST(test_trim_scan_bounds_topic_delete)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    mag_topic_rec t9 = { 0 }, tx = { 0 };
    mag_cursor_rec c = { .sub_type = 1, .mark_delete = -1 };
    uint64_t first, last, bytes, n;
    struct scan_rec sr;

    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    /* Topic ids 1..8 are burnt so the topic under test is id 9, between
     * neighbours 8 and 10 that must not be touched. */
    for (int i = 0; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "persistent://x/y/burn%d", i);
        CHECK_EQ_INT(mag_store_topic_create(t, name, strlen(name), &tx), MAG_OK);
    }
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &t9), MAG_OK);
    CHECK_EQ_INT(t9.id, 9);
    CHECK_EQ_INT(mag_store_topic_create(t, T2, strlen(T2), &tx), MAG_OK);
    CHECK_EQ_INT(tx.id, 10);
    for (uint64_t i = 0; i < 10; i++) {
        CHECK_EQ_INT(put_entry(t, 8, i), MAG_OK);
        CHECK_EQ_INT(put_entry(t, 9, i), MAG_OK);
        CHECK_EQ_INT(put_entry(t, 10, i), MAG_OK);
    }
    CHECK_EQ_INT(mag_store_cursor_put(t, 8, "s", 1, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_put(t, 9, "s", 1, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_put(t, 9, "s2", 2, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_put(t, 10, "s", 1, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    /* Trim [0,3] and [6,6] of topic 9. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_entries_delete(t, 9, 0, 3), MAG_OK);
    CHECK_EQ_INT(mag_store_entries_delete(t, 9, 6, 6), MAG_OK);
    CHECK_EQ_INT(mag_store_entries_delete(t, 9, 5, 4), MAG_OK);      /* empty range */
    CHECK_EQ_INT(mag_store_entries_delete(t, 9, 100, 200), MAG_OK);  /* nothing there */
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 9, &first, &last), MAG_OK);
    CHECK_EQ_INT(first, 4);
    CHECK_EQ_INT(last, 9);
    memset(&sr, 0, sizeof sr);
    sr.r = r;
    CHECK_EQ_INT(mag_store_entries_scan(r, 9, 0, on_entry, &sr), MAG_OK);
    CHECK_EQ_INT(sr.n, 5);
    CHECK_EQ_INT(sr.ids[0], 4);
    CHECK_EQ_INT(sr.ids[1], 5);
    CHECK_EQ_INT(sr.ids[2], 7);
    CHECK_EQ_INT(sr.ids[3], 8);
    CHECK_EQ_INT(sr.ids[4], 9);
    CHECK_EQ_INT(sr.nested_last, 9);
    memset(&sr, 0, sizeof sr);
    sr.stop_after = 2;
    CHECK_EQ_INT(mag_store_entries_scan(r, 9, 6, on_entry, &sr), MAG_OK);
    CHECK_EQ_INT(sr.n, 2);
    CHECK_EQ_INT(sr.ids[0], 7);
    CHECK_EQ_INT(sr.ids[1], 8);
    CHECK_EQ_INT(mag_store_entry_count(r, 9, &n), MAG_OK);
    CHECK_EQ_INT(n, 5);
    /* Storage size: key (16) + encoded value per entry, exactly. */
    CHECK_EQ_INT(mag_store_topic_storage_size(r, 9, &bytes), MAG_OK);
    {
        uint64_t want = 0;
        const uint64_t ids[] = { 4, 5, 7, 8, 9 };
        for (int i = 0; i < 5; i++) {
            struct test_entry te;
            make_entry(&te, 9, ids[i]);
            want += 16 + mag_entry_encoded_size(&te.e);
        }
        CHECK_EQ_INT(bytes, want);
    }
    CHECK_EQ_INT(mag_store_entry_bounds(r, 11, &first, &last), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_entry_bounds(r, UINT64_MAX, &first, &last), MAG_ERR_NOT_FOUND);
    mag_store_rend(r);

    /* Delete topic 9: its entries and cursors go, neighbours stay. */
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_delete(t, T1, strlen(T1), 10), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_store_topic_delete(t, "nope", 4, 9), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_topic_delete(t, T1, strlen(T1), 9), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_get(r, T1, strlen(T1), &tx), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 9, &first, &last), MAG_ERR_NOT_FOUND);
    struct cursors_seen cs = { 0 };
    CHECK_EQ_INT(mag_store_cursors_scan(r, 9, on_cursor, &cs), MAG_OK);
    CHECK_EQ_INT(cs.n, 0);
    CHECK_EQ_INT(mag_store_cursors_scan(r, 8, on_cursor, &cs), MAG_OK);
    CHECK_EQ_INT(mag_store_cursors_scan(r, 10, on_cursor, &cs), MAG_OK);
    CHECK_EQ_INT(cs.n, 2);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 8, &first, &last), MAG_OK);
    CHECK_EQ_INT(last, 9);
    CHECK_EQ_INT(mag_store_entry_bounds(r, 10, &first, &last), MAG_OK);
    CHECK_EQ_INT(first, 0);
    CHECK_EQ_INT(last, 9);
    mag_store_rend(r);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_topic_errors)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    mag_topic_rec a = { .created_ms = 5 }, b = { 0 }, got;
    char longname[MAG_STORE_TOPIC_NAME_MAX + 1];

    memset(longname, 'n', sizeof longname);
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &a), MAG_OK);
    b.id = 77;
    CHECK_EQ_INT(mag_store_topic_create(t, T1, strlen(T1), &b), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(b.id, 77);
    CHECK_EQ_INT(mag_store_topic_create(t, longname, sizeof longname, &b), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_store_topic_create(t, longname, sizeof longname - 1, &b), MAG_OK);
    CHECK_EQ_INT(b.id, 2);                      /* the conflict did not burn an id */
    CHECK_EQ_INT(mag_store_topic_create(t, "", 0, &b), MAG_ERR_TOO_LARGE);
    a.terminated = true;
    a.partitions = 3;
    CHECK_EQ_INT(mag_store_topic_update(t, T1, strlen(T1), &a), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_update(t, T2, strlen(T2), &a), MAG_ERR_NOT_FOUND);
    got = a;
    got.id = 99;
    CHECK_EQ_INT(mag_store_topic_update(t, T1, strlen(T1), &got), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);       /* not poisoned by the above */

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_topic_get(r, T1, strlen(T1), &got), MAG_OK);
    CHECK_EQ_INT(got.id, 1);
    CHECK_EQ_INT(got.terminated, true);
    CHECK_EQ_INT(got.partitions, 3);
    CHECK_EQ_INT(got.created_ms, 5);
    CHECK_EQ_INT(mag_store_topic_get(r, longname, sizeof longname, &got), MAG_ERR_TOO_LARGE);
    mag_store_rend(r);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_cursor_validation)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    uint64_t bad1[] = { 5, 4 };                 /* start > end */
    uint64_t bad2[] = { 3, 4 };                 /* not above mark_delete 5 */
    uint64_t bad3[] = { 7, 9, 9, 10 };          /* overlapping */
    uint64_t good[] = { 7, 9, 11, 11 };
    mag_cursor_rec c = { .mark_delete = 5 };
    char longsub[MAG_STORE_SUB_NAME_MAX + 1];
    struct cursors_seen cs = { 0 };

    memset(longsub, 's', sizeof longsub);
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    c.ranges = bad1;
    c.nranges = 1;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "a", 1, &c), MAG_ERR_BAD_REQUEST);
    c.ranges = bad2;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "a", 1, &c), MAG_ERR_BAD_REQUEST);
    c.ranges = bad3;
    c.nranges = 2;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "a", 1, &c), MAG_ERR_BAD_REQUEST);
    c.ranges = NULL;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "a", 1, &c), MAG_ERR_BAD_REQUEST);
    c.ranges = good;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "", 0, &c), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, longsub, sizeof longsub, &c), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, longsub, sizeof longsub - 1, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "a", 1, &c), MAG_OK);
    c.nranges = 0;
    c.mark_delete = 8;
    CHECK_EQ_INT(mag_store_cursor_put(t, 1, "b", 1, &c), MAG_OK);
    CHECK_EQ_INT(mag_store_cursor_delete(t, 1, "zz", 2), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_cursor_delete(t, 1, longsub, sizeof longsub - 1), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_cursors_scan(r, 1, on_cursor, &cs), MAG_OK);
    CHECK_EQ_INT(cs.n, 2);
    CHECK_STR(cs.sub[0], "a");
    CHECK_EQ_INT(cs.mark[0], 5);
    CHECK_EQ_INT(cs.nranges[0], 2);
    CHECK_EQ_INT(cs.ranges[0][2], 11);
    CHECK_EQ_INT(cs.extra_len[0], 0);
    CHECK_STR(cs.sub[1], "b");
    CHECK_EQ_INT(cs.mark[1], 8);
    CHECK_EQ_INT(cs.nranges[1], 0);
    mag_store_rend(r);
    mag_store_close(s);
    rmtree(dir);
}

struct meta_seen {
    int n;
    char keys[8][32];
};

static bool on_meta(void *ctx, const char *key, size_t klen, const void *val, size_t vlen)
{
    struct meta_seen *ms = ctx;
    (void)val, (void)vlen;
    if (ms->n < 8 && klen < 32) {
        memcpy(ms->keys[ms->n], key, klen);
        ms->keys[ms->n][klen] = '\0';
    }
    ms->n++;
    return true;
}

MAG_TEST(test_meta)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 16 << 20, false);
    mag_store_wtxn *t;
    mag_store_rtxn *r;
    struct meta_seen ms = { 0 };
    const void *v;
    size_t len;

    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "format_version", "x", 1), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_store_meta_delete(t, "next_topic_id"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_store_meta_put(t, "", "x", 1), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_store_meta_put(t, "ns/a/1", "1", 1), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "ns/a/2", "", 0), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "ns/b", "b", 1), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "nt", "x", 1), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(t, "tenant/x", "x", 1), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_delete(t, "tenant/y"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_store_meta_delete(t, "tenant/x"), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);

    CHECK_EQ_INT(mag_store_rbegin(s, &r), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_scan(r, "ns/", on_meta, &ms), MAG_OK);
    CHECK_EQ_INT(ms.n, 3);
    CHECK_STR(ms.keys[0], "ns/a/1");
    CHECK_STR(ms.keys[1], "ns/a/2");
    CHECK_STR(ms.keys[2], "ns/b");
    memset(&ms, 0, sizeof ms);
    CHECK_EQ_INT(mag_store_meta_scan(r, "", on_meta, &ms), MAG_OK);
    CHECK_EQ_INT(ms.n, 6);                      /* + format_version, next_topic_id, nt */
    CHECK_STR(ms.keys[0], "format_version");
    CHECK_EQ_INT(mag_store_meta_get(r, "ns/a/2", &v, &len), MAG_OK);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(mag_store_meta_get(r, "tenant/x", &v, &len), MAG_ERR_NOT_FOUND);
    mag_store_rend(r);
    mag_store_close(s);
    rmtree(dir);
}

MAG_TEST(test_read_only_and_stats)
{
    char *dir = tmpdir();
    mag_store *s = open_store(dir, 8 << 20, true), *ro = NULL;
    struct mag_store_opts o = { .dir = dir, .read_only = true };
    struct mag_store_stats st, st2;
    mag_store_wtxn *t;
    mag_store_rtxn *r;

    CHECK_EQ_INT(mag_store_stats(s, &st), MAG_OK);
    CHECK_EQ_INT(mag_store_wbegin(s, &t), MAG_OK);
    for (uint64_t i = 0; i < 200; i++)
        CHECK_EQ_INT(put_entry(t, 1, i), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(t), MAG_OK);
    CHECK_EQ_INT(mag_store_stats(s, &st2), MAG_OK);
    CHECK_EQ_INT(st2.map_size, 8 << 20);
    CHECK(st2.used_bytes > st.used_bytes);
    CHECK_EQ_INT(st.entries_bytes, 0);
    CHECK(st2.entries_bytes >= 4096);
    CHECK(st2.file_bytes >= st2.used_bytes);

    /* Read-only open (as magnetar-dump does); LMDB forbids opening one env
     * twice in a process, so the writer is closed first. */
    mag_store_close(s);
    CHECK_EQ_INT(mag_store_open(&ro, &o), MAG_OK);
    CHECK_EQ_INT(mag_store_wbegin(ro, &t), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(mag_store_rbegin(ro, &r), MAG_OK);
    CHECK_EQ_INT(check_entry(r, 1, 199), MAG_OK);
    mag_store_rend(r);
    mag_store_close(ro);
    rmtree(dir);
}

int main(void)
{
    RUN(test_open_reopen_persists);
    RUN(test_format_version_mismatch);
    RUN(test_open_errors);
    RUN(test_batches_commit_abort_fail);
    RUN(test_snapshot_isolation);
    RUN(test_map_full);
    RUN(test_crash_safety);
    RUN(test_trim_scan_bounds_topic_delete);
    RUN(test_topic_errors);
    RUN(test_cursor_validation);
    RUN(test_meta);
    RUN(test_read_only_and_stats);
    return mag_test_summary();
}
