/* fuzz_auth_policies.c -- fuzz target for the permission codec (src/broker/permissions.c).
 *
 * Input: an auth_policies JSON object, or (first byte 0x01) an actions array.
 * Invariants (abort on violation): results are MAG_OK or MAG_ERR_BAD_REQUEST
 * with a reason; the formatted policies parse back, and from the second
 * round on format to the same bytes; grants stay sorted and unique; the permission rule never grants a
 * role that appears nowhere in the policies (wildcards off); an actions
 * array parses to a subset of the six AuthAction bits.
 */
#include "mag/broker/admin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODE_ACTIONS 0x01

static void check(int cond)
{
    if (!cond)
        abort();
}

static void check_sorted(const mag_auth_policies *p)
{
    for (size_t i = 1; i < p->n; i++) {
        const struct mag_auth_grant *a = &p->g[i - 1], *b = &p->g[i];
        int c = a->kind != b->kind ? (a->kind < b->kind ? -1 : 1)
                                   : strcmp(a->scope ? a->scope : "", b->scope ? b->scope : "");
        check(c < 0 || (c == 0 && strcmp(a->role, b->role) < 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mag_buf err = MAG_BUF_INIT;
    if (size && data[0] == MODE_ACTIONS) {
        unsigned actions = 0;
        mag_rc rc = mag_auth_actions_parse(data + 1, size - 1, &actions, &err);
        check(rc == MAG_OK || (rc == MAG_ERR_BAD_REQUEST && err.len > 0));
        check((actions & ~0x3fu) == 0);
        mag_buf_free(&err);
        return 0;
    }
    mag_auth_policies p, q;
    mag_auth_policies_init(&p);
    mag_auth_policies_init(&q);
    mag_buf once = MAG_BUF_INIT, twice = MAG_BUF_INIT;
    mag_rc rc = mag_auth_policies_parse(data, size, &p, &err);
    check(rc == MAG_OK || (rc == MAG_ERR_BAD_REQUEST && err.len > 0));
    check_sorted(&p);
    if (rc == MAG_OK) {
        mag_auth_policies_format(&p, &once);
        check(mag_auth_policies_parse(once.data, once.len, &q, &err) == MAG_OK);
        check_sorted(&q);
        mag_auth_policies_format(&q, &twice);
        /* the first format may replace ill-formed UTF-8 (changing the sort order);
           from then on the text is a fixed point */
        mag_auth_policies_cleanup(&q);
        check(mag_auth_policies_parse(twice.data, twice.len, &q, &err) == MAG_OK);
        mag_buf_reset(&once);
        mag_auth_policies_format(&q, &once);
        check(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
        mag_topic_name tn;
        const char *t = "persistent://t/n/x-partition-1";
        check(mag_topic_name_parse(t, strlen(t), &tn) == MAG_OK);
        const char *stranger = "\x01stranger";
        bool named = false;
        for (size_t i = 0; i < p.n; i++)
            named |= strcmp(p.g[i].role, stranger) == 0;
        check(named || !mag_auth_policies_allow(&p, &tn, stranger, MAG_AUTH_PRODUCE, NULL, false));
        check(named || !mag_auth_policies_allow(&p, &tn, stranger, MAG_AUTH_CONSUME, "s", false));
        for (size_t i = 0; i < p.n; i++)        /* exercise the rule with every granted role */
            (void)mag_auth_policies_allow(&p, &tn, p.g[i].role, MAG_AUTH_CONSUME,
                                          p.g[i].scope, true);
    }
    mag_auth_policies_cleanup(&p);
    mag_auth_policies_cleanup(&q);
    mag_buf_free(&once);
    mag_buf_free(&twice);
    mag_buf_free(&err);
    return 0;
}
