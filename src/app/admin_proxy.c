/* admin_proxy.c -- the WebSocket proxy statistics endpoints (WebSocketProxyStatsBase).
 *
 * Pulsar's proxy reports its open WebSocket sessions per topic:
 * ProxyTopicStat = {"producerStats":[{"remoteConnection","numberOfMsgPublished"}],
 * "consumerStats":[{"remoteConnection","subscriptionName","subscriptionType",
 * "subscriptionMode","numberOfMsgDelivered"}]} (readers: type Exclusive, no
 * mode). /stats maps every topic with a session to its ProxyTopicStat,
 * /{domain}/{t}/{ns}/{topic}/stats answers one (404 "Topic does not exist"
 * without sessions), /metrics a JSON array of {"metrics","dimensions"}
 * objects. v2 lives under /admin/v2/proxy-stats, v1 under /admin/proxy-stats.
 * The data comes from the session registry (sessions.c).
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "mag/util/alloc.h"

static const char *const type_names[] = { "Exclusive", "Shared", "Failover", "Key_Shared" };

static int cmp_desc(const void *a, const void *b)
{
    const struct mag_session_desc *x = *(const struct mag_session_desc *const *)a;
    const struct mag_session_desc *y = *(const struct mag_session_desc *const *)b;
    return strcmp(x->topic, y->topic);
}

/* Every session description sorted by topic; *n gets the count. Caller frees. */
static const struct mag_session_desc **sorted_sessions(const mag_app *app, size_t *n)
{
    size_t total = app->nsessions[0] + app->nsessions[1] + app->nsessions[2];
    const struct mag_session_desc **all = mag_xcalloc(total ? total : 1, sizeof *all);
    *n = 0;
    for (const mag_session_entry *e = mag_sessions_first(app); e && *n < total; e = mag_sessions_next(e))
        all[(*n)++] = mag_sessions_desc(e);
    qsort(all, *n, sizeof *all, cmp_desc);
    return all;
}

static void remote(mag_buf *out, const struct mag_session_desc *d)
{
    mag_buf addr = MAG_BUF_INIT;
    mag_buf_append_byte(&addr, '/');    /* InetSocketAddress.toString() */
    mag_buf_append_str(&addr, d->peer);
    mag_json_append_string(out, (const char *)addr.data, addr.len);
    mag_buf_free(&addr);
}

/* ProxyTopicStat of the sessions all[from..to). */
static void topic_stat(mag_buf *out, const struct mag_session_desc **all, size_t from, size_t to)
{
    mag_buf_append_str(out, "{\"producerStats\":[");
    size_t k = 0;
    for (size_t i = from; i < to; i++) {
        const struct mag_session_desc *d = all[i];
        if (d->kind != MAG_EP_PRODUCER)
            continue;
        mag_buf_append_str(out, k++ ? ",{\"remoteConnection\":" : "{\"remoteConnection\":");
        remote(out, d);
        mag_buf_appendf(out, ",\"numberOfMsgPublished\":%llu}",
                        (unsigned long long)(d->msg_counter ? *d->msg_counter : 0));
    }
    mag_buf_append_str(out, "],\"consumerStats\":[");
    k = 0;
    for (size_t i = from; i < to; i++) {
        const struct mag_session_desc *d = all[i];
        if (d->kind == MAG_EP_PRODUCER)
            continue;
        bool reader = d->kind == MAG_EP_READER;
        mag_buf_append_str(out, k++ ? ",{\"remoteConnection\":" : "{\"remoteConnection\":");
        remote(out, d);
        mag_buf_append_str(out, ",\"subscriptionName\":");
        const char *sub = d->subscription ? d->subscription : "";
        mag_json_append_string(out, sub, strlen(sub));
        mag_buf_appendf(out, ",\"subscriptionType\":\"%s\"",
                        reader ? "Exclusive" : type_names[d->sub_type & 3]);
        if (!reader)
            mag_buf_appendf(out, ",\"subscriptionMode\":\"%s\"", d->durable ? "Durable" : "NonDurable");
        mag_buf_appendf(out, ",\"numberOfMsgDelivered\":%llu}",
                        (unsigned long long)(d->msg_counter ? *d->msg_counter : 0));
    }
    mag_buf_append_str(out, "]}");
}

static void stats_all(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    size_t count;
    const struct mag_session_desc **all = sorted_sessions(app, &count);
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_byte(&out, '{');
    for (size_t i = 0; i < count;) {
        size_t j = i;
        while (j < count && strcmp(all[j]->topic, all[i]->topic) == 0)
            j++;
        if (i)
            mag_buf_append_byte(&out, ',');
        mag_json_append_string(&out, all[i]->topic, strlen(all[i]->topic));
        mag_buf_append_byte(&out, ':');
        topic_stat(&out, all, i, j);
        i = j;
    }
    mag_buf_append_byte(&out, '}');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
    free(all);
}

static void stats_one(mag_app *app, mag_http_exchange *ex, const char *topic)
{
    size_t count;
    const struct mag_session_desc **all = sorted_sessions(app, &count);
    size_t i = 0;
    while (i < count && strcmp(all[i]->topic, topic) != 0)
        i++;
    size_t j = i;
    while (j < count && strcmp(all[j]->topic, topic) == 0)
        j++;
    if (i == j) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Topic does not exist");
    } else {
        mag_buf out = MAG_BUF_INIT;
        topic_stat(&out, all, i, j);
        mag_admin_reply_json(ex, &out);
        mag_buf_free(&out);
    }
    free(all);
}

/* /admin/v2/proxy-stats/{domain}/{tenant}/{ns}/{topic}/stats */
static void stats_topic_v2(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    if (strcmp(seg[0], "persistent") != 0 && strcmp(seg[0], "non-persistent") != 0) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
        return;
    }
    mag_buf full = MAG_BUF_INIT;
    mag_buf_appendf(&full, "%s://%s/%s/%s", seg[0], seg[1], seg[2], seg[3]);
    stats_one(app, ex, mag_buf_cstr(&full));
    mag_buf_free(&full);
}

/* /admin/proxy-stats/{property}/{cluster}/{ns}/{topic}/stats (v1: persistent) */
static void stats_topic_v1(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf full = MAG_BUF_INIT;
    mag_buf_appendf(&full, "persistent://%s/%s/%s/%s", seg[0], seg[1], seg[2], seg[3]);
    stats_one(app, ex, mag_buf_cstr(&full));
    mag_buf_free(&full);
}

/* Namespace of a session's topic ("" if it does not parse). */
static void session_namespace(const struct mag_session_desc *d, mag_buf *out)
{
    mag_topic_name tn;
    mag_buf_reset(out);
    if (mag_topic_name_parse(d->topic, strlen(d->topic), &tn) != MAG_OK)
        return;
    if (tn.cluster[0])
        mag_buf_appendf(out, "%s/%s/%s", tn.tenant, tn.cluster, tn.ns);
    else
        mag_buf_appendf(out, "%s/%s", tn.tenant, tn.ns);
}

struct ns_totals {
    char *ns;
    unsigned long long producers, consumers, readers, published, delivered;
};

static void metrics_entry(mag_buf *out, const char *cluster, const struct ns_totals *t)
{
    mag_buf_appendf(out, "{\"metrics\":{\"ns_producers\":%llu,\"ns_consumers\":%llu,\"ns_readers\":%llu"
                         ",\"ns_msg_published_total\":%llu,\"ns_msg_delivered_total\":%llu}"
                         ",\"dimensions\":{\"cluster\":",
                    t->producers, t->consumers, t->readers, t->published, t->delivered);
    mag_json_append_string(out, cluster, strlen(cluster));
    if (t->ns) {
        mag_buf_append_str(out, ",\"namespace\":");
        mag_json_append_string(out, t->ns, strlen(t->ns));
    }
    mag_buf_append_str(out, "}}");
}

/* One entry for the whole proxy, then one per namespace with sessions. */
static void metrics(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    struct ns_totals total = { 0 };
    struct ns_totals *per = NULL;
    size_t nper = 0, cap = 0;
    mag_buf ns = MAG_BUF_INIT;
    for (const mag_session_entry *e = mag_sessions_first(app); e; e = mag_sessions_next(e)) {
        const struct mag_session_desc *d = mag_sessions_desc(e);
        session_namespace(d, &ns);
        size_t k = 0;
        while (k < nper && strcmp(per[k].ns, mag_buf_cstr(&ns)) != 0)
            k++;
        if (k == nper) {
            if (nper == cap) {
                cap = cap ? cap * 2 : 4;
                per = mag_xrealloc(per, cap * sizeof *per);
            }
            per[nper++] = (struct ns_totals){ .ns = mag_xstrdup(mag_buf_cstr(&ns)) };
        }
        struct ns_totals *tt[2] = { &total, &per[k] };
        unsigned long long msgs = d->msg_counter ? (unsigned long long)*d->msg_counter : 0;
        for (int i = 0; i < 2; i++) {
            if (d->kind == MAG_EP_PRODUCER) {
                tt[i]->producers++;
                tt[i]->published += msgs;
            } else {
                if (d->kind == MAG_EP_READER)
                    tt[i]->readers++;
                else
                    tt[i]->consumers++;
                tt[i]->delivered += msgs;
            }
        }
    }
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_byte(&out, '[');
    metrics_entry(&out, app->cluster_name, &total);
    for (size_t k = 0; k < nper; k++) {
        mag_buf_append_byte(&out, ',');
        metrics_entry(&out, app->cluster_name, &per[k]);
        free(per[k].ns);
    }
    mag_buf_append_byte(&out, ']');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
    mag_buf_free(&ns);
    free(per);
}

const struct mag_rest_route mag_admin_proxy_routes[] = {
    { "GET", "/admin/v2/proxy-stats/metrics", metrics },
    { "GET", "/admin/v2/proxy-stats/stats", stats_all },
    { "GET", "/admin/v2/proxy-stats/{}/{}/{}/{}/stats", stats_topic_v2 },
    { "GET", "/admin/proxy-stats/metrics", metrics },
    { "GET", "/admin/proxy-stats/stats", stats_all },
    { "GET", "/admin/proxy-stats/{}/{}/{}/{}/stats", stats_topic_v1 },
    { NULL, NULL, NULL },
};
