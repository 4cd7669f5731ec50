/* ws_reader.c -- the /ws/v2/reader endpoint (Pulsar's ReaderHandler).
 *
 * A reader is a non-durable Exclusive subscription named reader-<10 hex>
 * that starts at `messageId` (latest by default, `earliest`, or just AFTER a
 * base64 message id). Every error is HTTP 500 "Failed to create reader: ..."
 * as in Pulsar 2.10, whose reader does not use the status table.
 */
#include "ws_consumer.h"

#include <string.h>

#include "mag/util/log.h"

static mag_rc reader_open(mag_app *app, mag_http_exchange *ex, const mag_ws_path *path,
                          const mag_query *query, mag_buf *err)
{
    struct mag_consumer_opts o;
    memset(&o, 0, sizeof o);
    o.subscription = NULL;
    o.type = MAG_SUB_EXCLUSIVE;
    o.durable = false;
    o.start = MAG_START_LATEST;
    o.consumer_name = mag_query_get(query, "readerName");
    int32_t queue = 1000;
    mag_buf detail = MAG_BUF_INIT;
    mag_rc rc = mag_param_int(query, "receiverQueueSize", &queue, &detail);
    const char *mid = mag_query_get(query, "messageId");
    if (rc == MAG_OK && mid && *mid && strcmp(mid, "latest") != 0) {
        if (strcmp(mid, "earliest") == 0) {
            o.start = MAG_START_EARLIEST;
        } else if (mag_msgid_from_base64(mid, strlen(mid), &o.start_id) == MAG_OK) {
            o.start = MAG_START_AFTER_ID;
        } else {
            mag_buf_appendf(&detail, "Invalid message id %s", mid);
            rc = MAG_ERR_BAD_REQUEST;
        }
    }
    if (rc == MAG_OK) {
        struct mag_consumer_session *cs = mag_consumer_session_new(app, true, false, queue);
        rc = mag_consumer_session_start(cs, ex, &path->topic, &o, &detail);
    }
    if (rc != MAG_OK) {
        /* The 2.10 reader answers 500 for every failure, a missing topic
           included (ReaderHandler). */
        rc = MAG_ERR_INTERNAL;
        mag_buf_append_str(err, "Failed to create reader: ");
        mag_buf_append(err, detail.data, detail.len);
    }
    mag_buf_free(&detail);
    return rc;
}

const struct mag_ws_endpoint mag_ws_reader_endpoint = {
    .kind = MAG_EP_READER,
    .open = reader_open,
};
