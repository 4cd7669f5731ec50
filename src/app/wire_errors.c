/* wire_errors.c -- map mag_rc to what a Pulsar client sees on the wire.
 *
 * The only place that knows HTTP statuses (AbstractWebSocketHandler.getErrorCode),
 * producer send-error codes (WebSocketError in ProducerHandler acks) and the close codes for
 * bad consumer commands (ConsumerHandler under Jetty). Handlers just return codes.
 */
#include "app_internal.h"

#include <stdio.h>
#include <string.h>

int mag_wire_http_status(mag_rc rc)
{
    switch (rc) {
    case MAG_OK: return 200;
    case MAG_ERR_BAD_REQUEST:
    case MAG_ERR_JSON:
    case MAG_ERR_PAYLOAD: return 400;
    case MAG_ERR_AUTH: return 401;
    case MAG_ERR_FORBIDDEN: return 403;
    case MAG_ERR_NOT_FOUND: return 404;
    case MAG_ERR_METHOD: return 405;
    case MAG_ERR_NOT_ACCEPTABLE: return 406;
    case MAG_ERR_CONFLICT: return 409;
    case MAG_ERR_PRECONDITION: return 412;
    case MAG_ERR_TOO_LARGE: return 413;
    case MAG_ERR_UNAVAILABLE: return 503;
    case MAG_ERR_TIMEOUT: return 504;
    default: return 500;
    }
}

int mag_wire_send_error(mag_rc rc)
{
    switch (rc) {
    case MAG_ERR_JSON: return 3;
    case MAG_ERR_PAYLOAD: return 7;
    default: return 8;
    }
}

void mag_wire_text_error(mag_http_exchange *ex, mag_rc rc, const char *message)
{
    mag_wire_reject_upgrade(ex, rc, message);
}

void mag_wire_reject_upgrade(mag_http_exchange *ex, mag_rc rc, const char *message)
{
    mag_http_respond(ex, mag_wire_http_status(rc), "text/plain; charset=utf-8", message,
                     strlen(message), NULL);
}

void mag_wire_rest_error(mag_http_exchange *ex, mag_rc rc, const char *message)
{
    mag_buf body = MAG_BUF_INIT;
    mag_buf_append_str(&body, "{\"reason\":");
    mag_json_append_string(&body, message, strlen(message));
    mag_buf_append_byte(&body, '}');
    mag_http_respond(ex, mag_wire_http_status(rc), "application/json", body.data, body.len, NULL);
    mag_buf_free(&body);
}

void mag_wire_close_for_command(mag_ws *ws, mag_rc rc, const char *java_exception)
{
    if (rc == MAG_ERR_JSON) {
        /* Pulsar calls close(3); Jetty refuses codes < 1000 and closes with
           1002 and this reason instead (Jetty 9.4 CloseInfo). */
        mag_ws_close(ws, 1002, "Out of range close status code: 3");
        return;
    }
    /* An unchecked exception escaped the handler: Jetty closes with 1011 and
       the exception's simple class name. */
    mag_ws_close(ws, 1011, java_exception);
}
