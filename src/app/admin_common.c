/* admin_common.c -- small helpers shared by the admin REST handlers (admin_*.c).
 *
 * Pulsar's admin API answers JSON bodies with 200, successful mutations with
 * 204 No Content, and errors as {"reason": "..."} with the status of the
 * failure (mapped in wire_errors.c). Topics in admin paths are
 * /admin/v2/{persistent|non-persistent}/{tenant}/{namespace}/{topic}, the
 * local name URL-decoded by the router.
 */
#include "app_internal.h"

#include <stdio.h>
#include <string.h>

#include "mag/broker/admin.h"

void mag_admin_reply_json(mag_http_exchange *ex, const mag_buf *body)
{
    mag_http_respond(ex, 200, "application/json", body->data, body->len, NULL);
}

void mag_admin_reply_no_content(mag_http_exchange *ex)
{
    mag_http_respond(ex, 204, NULL, NULL, 0, NULL);
}

void mag_admin_reply_error(mag_http_exchange *ex, mag_rc rc, mag_buf *err)
{
    mag_wire_rest_error(ex, rc, err->len ? mag_buf_cstr(err) : mag_strerror(rc));
}

void mag_admin_finish(mag_http_exchange *ex, mag_rc rc, mag_buf *out, mag_buf *err)
{
    if (rc != MAG_OK)
        mag_admin_reply_error(ex, rc, err);
    else if (out && out->len)
        mag_admin_reply_json(ex, out);
    else
        mag_admin_reply_no_content(ex);
    if (out)
        mag_buf_free(out);
    mag_buf_free(err);
}

void mag_admin_query_get(mag_http_exchange *ex, const char *name, mag_buf *out)
{
    mag_buf_reset(out);
    const char *qs = mag_http_query(ex);
    mag_query q;
    if (mag_query_parse(&q, qs, strlen(qs)) != MAG_OK)
        return;
    const char *v = mag_query_get(&q, name);
    if (v)
        mag_buf_append_str(out, v);
    mag_query_free(&q);
}

bool mag_admin_query_bool(mag_http_exchange *ex, const char *name)
{
    mag_buf v = MAG_BUF_INIT;
    mag_admin_query_get(ex, name, &v);
    bool on = mag_parse_java_bool(mag_buf_cstr(&v));
    mag_buf_free(&v);
    return on;
}

mag_rc mag_admin_topic_from_path(mag_http_exchange *ex, char **seg, mag_topic_name *tn, mag_buf *err)
{
    const char *path = mag_http_path(ex);
    const char *domain = strncmp(path, "/admin/v2/non-persistent/", 25) == 0 ? "non-persistent"
                                                                               : "persistent";
    /* AdminResource.validateTopicName: whatever NamespaceName.get or TopicName.get
       refuses is 412 "Topic name is not valid". */
    mag_rc rc = MAG_ERR_PRECONDITION;
    if (mag_admin_name_valid(seg[0]) && mag_admin_name_valid(seg[1])) {
        mag_buf full = MAG_BUF_INIT;
        mag_buf_appendf(&full, "%s://%s/%s/%s", domain, seg[0], seg[1], seg[2]);
        if (mag_topic_name_parse((const char *)full.data, full.len, tn) == MAG_OK)
            rc = MAG_OK;
        mag_buf_free(&full);
    }
    if (rc != MAG_OK)
        mag_buf_append_str(err, "Topic name is not valid");
    return rc;
}

bool mag_admin_topic_or_fail(mag_http_exchange *ex, char **seg, mag_topic_name *tn)
{
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = mag_admin_topic_from_path(ex, seg, tn, &err);
    if (rc != MAG_OK)
        mag_admin_finish(ex, rc, NULL, &err);
    else
        mag_buf_free(&err);
    return rc == MAG_OK;
}
