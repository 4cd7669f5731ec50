/* topic_path.c -- topic names and WebSocket paths (see include/mag/codec/topic_path.h).
 *
 * Transcribes Pulsar 2.10's AbstractWebSocketHandler.extractTopicName,
 * ConsumerHandler.extractSubscription, TopicName and NamespaceName
 * validation. The order of checks decides the HTTP status the
 * client sees: everything in extractTopicName is an uncaught
 * IllegalArgumentException (500), the subscription checks are mapped to 400.
 */
#include "mag/codec/topic_path.h"
#include "mag/util/str.h"

#include <stdio.h>
#include <string.h>

/* NamedEntity.checkName: ^[-=:.\w]*$ with ASCII \w. */
static bool valid_entity(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '=' || c == ':' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static void copy_str(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *find_str(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(s + i, needle, nl) == 0)
            return s + i;
    return NULL;
}

/* TopicName.getPartitionIndex: the text after the LAST "-partition-" must be
 * what String.valueOf(Integer.parseInt(x)) gives back and be >= 0. */
static int32_t partition_index(const char *full, size_t len, size_t *suffix_at)
{
    static const char sfx[] = "-partition-";
    const size_t sl = sizeof sfx - 1;
    const char *last = NULL;
    for (const char *p = full; (p = find_str(p, len - (size_t)(p - full), sfx)) != NULL; p++)
        last = p;
    if (!last)
        return -1;
    const char *num = last + sl;
    size_t n = len - (size_t)(num - full);
    char tmp[16];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    copy_str(tmp, num, n);
    int32_t v;
    if (mag_parse_java_int(tmp, &v, NULL) != MAG_OK || v < 0)
        return -1;
    char canon[16];
    if ((size_t)snprintf(canon, sizeof canon, "%d", (int)v) != n)
        return -1;
    *suffix_at = (size_t)(last - full);
    return v;
}

enum tn_err { TN_OK, TN_INVALID, TN_TOO_LONG };

/* The body of TopicName's constructor on a complete name. */
static enum tn_err parse_topic(const char *s, size_t len, mag_topic_name *out, mag_buf *err)
{
    char shortbuf[MAG_TOPIC_NAME_MAX + 64];
    if (memchr(s, '\0', len)) {
        if (err)
            mag_buf_append_str(err, "Invalid topic name: contains a NUL byte");
        return TN_INVALID;
    }
    if (!find_str(s, len, "://")) {
        /* Short forms: StringUtils.split(name, '/') drops empty tokens. */
        size_t tokens = 0, tok_start = 0, tok_len = 0;
        for (size_t i = 0; i < len;) {
            while (i < len && s[i] == '/')
                i++;
            if (i == len)
                break;
            size_t j = i;
            while (j < len && s[j] != '/')
                j++;
            tokens++;
            tok_start = i;
            tok_len = j - i;
            i = j;
        }
        int n;
        if (tokens == 3 && len <= MAG_TOPIC_NAME_MAX)
            n = snprintf(shortbuf, sizeof shortbuf, "persistent://%.*s", (int)len, s);
        else if (tokens == 1 && tok_len <= MAG_TOPIC_NAME_MAX)
            n = snprintf(shortbuf, sizeof shortbuf, "persistent://public/default/%.*s",
                         (int)tok_len, s + tok_start);
        else if (tokens == 3 || tokens == 1)
            return TN_TOO_LONG;
        else {
            if (err)
                mag_buf_appendf(err, "Invalid short topic name '%.*s', it should be in the format "
                                "of <tenant>/<namespace>/<topic> or <topic>", (int)len, s);
            return TN_INVALID;
        }
        s = shortbuf;
        len = (size_t)n;
    }

    const char *sep = find_str(s, len, "://");
    size_t dlen = (size_t)(sep - s);
    bool persistent;
    if (mag_memieq(s, dlen, "persistent", 10))
        persistent = true;
    else if (mag_memieq(s, dlen, "non-persistent", 14))
        persistent = false;
    else {
        if (err)
            mag_buf_appendf(err, "Invalid topic domain: '%.*s'", (int)dlen, s);
        return TN_INVALID;
    }
    const char *rest = sep + 3;
    size_t rlen = len - dlen - 3;
    const char *dom = persistent ? "persistent" : "non-persistent";
    size_t full_len = strlen(dom) + 3 + rlen;
    if (full_len > MAG_TOPIC_NAME_MAX) {
        if (err)
            mag_buf_append_str(err, "Topic name too long");
        return TN_TOO_LONG;
    }

    /* Splitter.on('/').limit(4): 3 parts = v2, 4 parts = legacy v1. */
    const char *part[4];
    size_t plen[4], nparts = 0;
    size_t i = 0;
    while (nparts < 3) {
        const char *slash = memchr(rest + i, '/', rlen - i);
        if (!slash)
            break;
        part[nparts] = rest + i;
        plen[nparts] = (size_t)(slash - (rest + i));
        nparts++;
        i = (size_t)(slash - rest) + 1;
    }
    part[nparts] = rest + i;
    plen[nparts] = rlen - i;
    nparts++;
    if (nparts < 3) {
        if (err)
            mag_buf_appendf(err, "Invalid topic name: %.*s", (int)len, s);
        return TN_INVALID;
    }
    size_t li = nparts - 1;
    for (size_t k = 0; k < li; k++) {
        if (plen[k] == 0 || !valid_entity(part[k], plen[k])) {
            if (err) {
                mag_buf_append_str(err, "Invalid namespace format. namespace: ");
                for (size_t m = 0; m < li; m++)
                    mag_buf_appendf(err, "%s%.*s", m ? "/" : "", (int)plen[m], part[m]);
            }
            return TN_INVALID;
        }
    }
    if (plen[li] == 0) {
        if (err)
            mag_buf_appendf(err, "Invalid topic name: %.*s", (int)len, s);
        return TN_INVALID;
    }

    out->persistent = persistent;
    snprintf(out->full, sizeof out->full, "%s://%.*s", dom, (int)rlen, rest);
    copy_str(out->tenant, part[0], plen[0]);
    if (nparts == 4) {
        copy_str(out->cluster, part[1], plen[1]);
        copy_str(out->ns, part[2], plen[2]);
    } else {
        out->cluster[0] = '\0';
        copy_str(out->ns, part[1], plen[1]);
    }
    copy_str(out->local, part[li], plen[li]);
    size_t at = full_len;
    out->partition = partition_index(out->full, full_len, &at);
    out->base_len = at;
    return TN_OK;
}

mag_rc mag_topic_name_parse(const char *s, size_t len, mag_topic_name *out)
{
    return parse_topic(s, len, out, NULL) == TN_OK ? MAG_OK : MAG_ERR_BAD_REQUEST;
}

mag_rc mag_topic_partition_name(const mag_topic_name *t, int32_t i, char *out)
{
    out[0] = '\0';
    if (i < 0)
        return MAG_ERR_BAD_REQUEST;
    char tmp[MAG_TOPIC_NAME_MAX + 32];
    int n = snprintf(tmp, sizeof tmp, "%.*s-partition-%d", (int)t->base_len, t->full, (int)i);
    if (n < 0 || (size_t)n > MAG_TOPIC_NAME_MAX)
        return MAG_ERR_BAD_REQUEST;
    memcpy(out, tmp, (size_t)n + 1);
    return MAG_OK;
}

/* ----------------------------------------------------------- WS paths */

#define SEG_KEEP 9   /* segments 0..8 are addressed by index */

static bool seg_is(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static bool kind_of(const char *p, size_t n, mag_endpoint_kind *k)
{
    if (seg_is(p, n, "producer"))
        *k = MAG_EP_PRODUCER;
    else if (seg_is(p, n, "consumer"))
        *k = MAG_EP_CONSUMER;
    else if (seg_is(p, n, "reader"))
        *k = MAG_EP_READER;
    else if (seg_is(p, n, "pingpong"))
        *k = MAG_EP_PINGPONG;
    else
        return false;
    return true;
}

static mag_rc fail(mag_buf *err, mag_rc rc, const char *msg)
{
    if (err)
        mag_buf_append_str(err, msg);
    return rc;
}

mag_rc mag_ws_path_parse(const char *path, size_t len, mag_ws_path *out, mag_buf *err)
{
    const char *seg[SEG_KEEP];
    size_t slen[SEG_KEEP], nseg = 0;
    mag_rc rc = MAG_OK;
    mag_buf name = MAG_BUF_INIT, full = MAG_BUF_INIT, sub = MAG_BUF_INIT;

    memset(out, 0, sizeof *out);
    out->topic.partition = -1;

    /* Splitter.on('/') keeping empty segments; remember the first nine. */
    for (size_t i = 0;; ) {
        const char *slash = memchr(path + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - path) : len;
        if (nseg < SEG_KEEP) {
            seg[nseg] = path + i;
            slen[nseg] = end - i;
        }
        nseg++;
        if (!slash)
            break;
        i = end + 1;
    }

    /* Servlet mounts: /ws/<kind>[/...] and /ws/v2/<kind>[/...]. */
    if (nseg < 3 || slen[0] != 0 || !seg_is(seg[1], slen[1], "ws"))
        return fail(err, MAG_ERR_NOT_FOUND, "Not Found");
    if (kind_of(seg[2], slen[2], &out->kind))
        out->v2 = false;
    else if (seg_is(seg[2], slen[2], "v2") && nseg >= 4 && kind_of(seg[3], slen[3], &out->kind))
        out->v2 = true;
    else
        return fail(err, MAG_ERR_NOT_FOUND, "Not Found");
    if (out->kind == MAG_EP_PINGPONG)
        return MAG_OK;

    /* extractTopicName: uncaught IllegalArgumentException -> HTTP 500. */
    if (nseg < 8)
        return fail(err, MAG_ERR_INTERNAL, "Invalid topic name format");
    size_t di = out->v2 ? 4 : 3;
    bool persistent = seg_is(seg[di], slen[di], "persistent");
    if (!persistent && !seg_is(seg[di], slen[di], "non-persistent")) {
        if (err)
            mag_buf_appendf(err, "Invalid topic domain: %.*s", (int)slen[di], seg[di]);
        return MAG_ERR_INTERNAL;
    }
    size_t first_ns = out->v2 ? 5 : 4;
    for (size_t k = first_ns; k <= 6; k++) {
        if (slen[k] == 0 || !valid_entity(seg[k], slen[k])) {
            if (err) {
                mag_buf_append_str(err, "Invalid namespace format. namespace: ");
                for (size_t m = first_ns; m <= 6; m++)
                    mag_buf_appendf(err, "%s%.*s", m > first_ns ? "/" : "", (int)slen[m], seg[m]);
            }
            return MAG_ERR_INTERNAL;
        }
    }

    /* Local name: segment 7 always, then non-empty segments up to the last
     * (consumer: up to the second-to-last), joined with '/'. */
    bool is_consumer = seg_is(seg[2], slen[2], "consumer") || seg_is(seg[3], slen[3], "consumer");
    size_t end_seg = is_consumer ? nseg - 1 : nseg;
    mag_buf_append(&name, seg[7], slen[7]);
    {
        size_t idx = 7;
        const char *p = seg[7] + slen[7];
        while (++idx < end_seg) {
            const char *start = p + 1;   /* skip the '/' */
            const char *slash = memchr(start, '/', (size_t)(path + len - start));
            size_t n = slash ? (size_t)(slash - start) : (size_t)(path + len - start);
            if (n) {
                mag_buf_append_byte(&name, '/');
                mag_buf_append(&name, start, n);
            }
            p = start + n;
        }
    }
    mag_buf_append(&full, persistent ? "persistent://" : "non-persistent://",
                   persistent ? 13 : 17);
    for (size_t k = first_ns; k <= 6; k++) {
        mag_buf_append(&full, seg[k], slen[k]);
        mag_buf_append_byte(&full, '/');
    }
    if (mag_url_decode_msg(&full, (const char *)name.data, name.len, err) != MAG_OK) {
        rc = MAG_ERR_INTERNAL;
        goto out;
    }
    switch (parse_topic((const char *)full.data, full.len, &out->topic, err)) {
    case TN_OK:
        break;
    case TN_TOO_LONG:
        rc = MAG_ERR_BAD_REQUEST;
        goto out;
    case TN_INVALID:
        /* a decoded NUL is a Magnetar limit (C strings), not a Pulsar 500 */
        rc = memchr(full.data, '\0', full.len) ? MAG_ERR_BAD_REQUEST : MAG_ERR_INTERNAL;
        goto out;
    }

    if (out->kind != MAG_EP_CONSUMER)
        goto out;
    /* extractSubscription: inside the handler's try block -> HTTP 400. */
    if (nseg != 9) {
        rc = fail(err, MAG_ERR_BAD_REQUEST, "Invalid topic name format");
        goto out;
    }
    if (slen[8] == 0) {
        rc = fail(err, MAG_ERR_BAD_REQUEST, "Empty subscription name");
        goto out;
    }
    if (mag_url_decode_msg(&sub, seg[8], slen[8], err) != MAG_OK) {
        rc = MAG_ERR_BAD_REQUEST;
        goto out;
    }
    if (sub.len > MAG_SUBSCRIPTION_MAX) {
        rc = fail(err, MAG_ERR_BAD_REQUEST, "Subscription name too long");
        goto out;
    }
    if (sub.len && memchr(sub.data, '\0', sub.len)) {
        rc = fail(err, MAG_ERR_BAD_REQUEST, "Invalid subscription name: contains a NUL byte");
        goto out;
    }
    if (sub.len)
        copy_str(out->subscription, (const char *)sub.data, sub.len);
out:
    mag_buf_free(&name);
    mag_buf_free(&full);
    mag_buf_free(&sub);
    return rc;
}

/* ---------------------------------------------------------- dot segments */

/* 1 for ".", 2 for "..", 0 otherwise; *encoded is set when a dot is "%2e". */
static int dot_segment(const char *s, size_t n, bool *encoded)
{
    int dots = 0;
    *encoded = false;
    for (size_t i = 0; i < n; dots++) {
        if (s[i] == '.') {
            i++;
        } else if (i + 2 < n && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e') {
            *encoded = true;
            i += 3;
        } else {
            return 0;
        }
        if (dots == 2)
            return 0;
    }
    return dots <= 2 ? dots : 0;
}

mag_rc mag_path_remove_dot_segments(const char *path, size_t len, mag_buf *out, mag_buf *err)
{
    mag_buf_reset(out);
    if (len == 0 || path[0] != '/') {
        mag_buf_append(out, path, len);
        return MAG_OK;
    }
    /* out holds the segments kept so far, each with its leading '/'. */
    for (size_t i = 1;; ) {
        const char *slash = memchr(path + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - path) : len;
        bool encoded;
        int dots = dot_segment(path + i, end - i, &encoded);
        if (dots && encoded)
            return fail(err, MAG_ERR_BAD_REQUEST, "Ambiguous URI path segment");
        if (dots == 2) {
            if (out->len == 0)
                return fail(err, MAG_ERR_BAD_REQUEST, "Bad URI");
            while (out->len > 0 && out->data[out->len - 1] != '/')
                out->len--;
            out->len--;                 /* the parent's '/' */
        } else if (dots == 0) {
            mag_buf_append_byte(out, '/');
            mag_buf_append(out, path + i, end - i);
        }
        if (!slash) {
            if (dots)                   /* "/a/.." and "/a/." end with a '/' */
                mag_buf_append_byte(out, '/');
            break;
        }
        i = end + 1;
    }
    if (out->len == 0)
        mag_buf_append_byte(out, '/');
    return MAG_OK;
}
