/* topic_path.h -- Pulsar topic names and WebSocket request paths.
 *
 * Reproduces AbstractWebSocketHandler.extractTopicName,
 * ConsumerHandler.extractSubscription and TopicName parsing of Pulsar 2.10:
 * the raw (still percent-encoded) path is split on '/', tenant/cluster/
 * namespace are validated but NOT decoded, the local name is joined from the
 * remaining segments (empty ones skipped) and URL-decoded, and the full name
 * is split with a limit of 4 (so a v2 URL whose topic contains '/' yields a
 * legacy v1 name). Pure: no I/O; heap use is limited to temporaries and
 * the err message.
 */
#ifndef MAG_CODEC_TOPIC_PATH_H
#define MAG_CODEC_TOPIC_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

#define MAG_TOPIC_NAME_MAX 480   /* full name bytes; longer -> MAG_ERR_BAD_REQUEST */
#define MAG_SUBSCRIPTION_MAX 255

typedef enum mag_endpoint_kind {
    MAG_EP_PRODUCER,
    MAG_EP_CONSUMER,
    MAG_EP_READER,
    MAG_EP_PINGPONG
} mag_endpoint_kind;

typedef struct mag_topic_name {
    bool persistent;                        /* domain */
    char full[MAG_TOPIC_NAME_MAX + 1];      /* "persistent://tenant/ns/local" or v1 "persistent://tenant/cluster/ns/local" */
    char tenant[MAG_TOPIC_NAME_MAX + 1];
    char cluster[MAG_TOPIC_NAME_MAX + 1];   /* "" for v2 names */
    char ns[MAG_TOPIC_NAME_MAX + 1];        /* namespace local part */
    char local[MAG_TOPIC_NAME_MAX + 1];     /* decoded local name (may contain '/') */
    int32_t partition;                      /* N if local ends with canonical "-partition-N", else -1 */
    size_t base_len;                        /* length of `full` without the "-partition-N" suffix */
} mag_topic_name;

/* Parse a topic name like Pulsar's TopicName:
 *   "persistent://t/ns/x", "non-persistent://t/ns/x" (domain matched
 *   ignoring ASCII case, printed lower-case in `full`),
 *   v1 "persistent://t/c/ns/x" (split after "://" with limit 4, so the local
 *   name of a v1 name may contain '/'),
 *   short "t/ns/x" (-> persistent; '/'-runs collapse as StringUtils.split does)
 *   and short "x" (-> persistent://public/default/x).
 * Tenant/cluster/namespace must be non-empty and match ^[-=:.\w]*$ (ASCII);
 * local must be non-empty and contain no NUL byte; partition is N when the
 * text after the LAST "-partition-" is a canonical non-negative int
 * ("-partition-01" and "-partition--1" are not partitions).
 * @param s    len bytes, need not be NUL-terminated
 * @param out  fully overwritten on success; unspecified on error
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (also when `full` would exceed
 *         MAG_TOPIC_NAME_MAX bytes) */
mag_rc mag_topic_name_parse(const char *s, size_t len, mag_topic_name *out);

typedef struct mag_ws_path {
    mag_endpoint_kind kind;
    bool v2;
    mag_topic_name topic;
    char subscription[MAG_SUBSCRIPTION_MAX + 1];   /* consumer only, URL-decoded */
} mag_ws_path;

/* Parse a raw request path (percent-encoded, no query string) exactly as
 * AbstractWebSocketHandler.extractTopicName does. Mounts:
 * /ws/{producer,consumer,reader,pingpong} and /ws/v2/{...}, the mount itself or anything below it.
 * @param path  len bytes, need not be NUL-terminated
 * @param out   filled as far as parsing got; on MAG_OK fully valid (topic and
 *              subscription empty for pingpong, subscription empty for
 *              producer/reader); on a consumer-subscription
 *              MAG_ERR_BAD_REQUEST out->kind, out->v2 and out->topic are valid
 * @param err   may be NULL; a human message (Java's text where Pulsar has one:
 *              "Invalid topic name format", "Empty subscription name",
 *              "Invalid topic domain: x", ...) is APPENDED on error
 * @return
 *   MAG_OK
 *   MAG_ERR_NOT_FOUND   - not under one of the mounts (Jetty 404)
 *   MAG_ERR_INTERNAL    - mounted but bad shape (< 8 segments, bad domain, bad
 *                         tenant/cluster/ns characters, empty local name, bad
 *                         %-escape in the topic) -- Pulsar answers 500 (uncaught)
 *   MAG_ERR_BAD_REQUEST - consumer subscription problems: not exactly 9
 *                         segments ("Invalid topic name format"), empty
 *                         subscription ("Empty subscription name"), bad escape,
 *                         NUL byte, longer than MAG_SUBSCRIPTION_MAX; also a
 *                         topic whose full name exceeds MAG_TOPIC_NAME_MAX or
 *                         whose local name decodes to a NUL byte (Magnetar
 *                         limits, 400 rather than Pulsar's behaviour) */
mag_rc mag_ws_path_parse(const char *path, size_t len, mag_ws_path *out, mag_buf *err);

/* Build "<full[0..base_len)>-partition-<i>" into out (NUL-terminated,
 * MAG_TOPIC_NAME_MAX+1 bytes).
 * @return MAG_OK, or MAG_ERR_BAD_REQUEST if i < 0 or the name is too long
 *         (out is then "") */
mag_rc mag_topic_partition_name(const mag_topic_name *t, int32_t i, char *out);

/* Remove the dot segments of a raw request path (percent-encoded, no query
 * string) as Jetty does before it picks a servlet (URIUtil.canonicalPath):
 * "/a/./b" -> "/a/b", "/a/x/../b" -> "/a/b", "/a/.." -> "/a/".
 * out (initialised) receives the path, unchanged when it has no dot segment.
 * @return MAG_OK; MAG_ERR_BAD_REQUEST with a text in err (if non-NULL) when
 *         a segment is a percent-encoded dot segment such as "%2e%2e" (Jetty's
 *         ambiguous path segment) or ".." climbs above the root ("Bad URI") */
mag_rc mag_path_remove_dot_segments(const char *path, size_t len, mag_buf *out, mag_buf *err);

#endif /* MAG_CODEC_TOPIC_PATH_H */
