/* ws_pingpong.c -- the /ws/pingpong and /ws/v2/pingpong endpoints
 * (Pulsar's WebSocketPingPongServlet).
 *
 * Pulsar mounts an echo-pong servlet here: the session only answers client
 * pings (done by the WebSocket layer); text messages are ignored.
 */
#include "app_internal.h"

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len)
{
    (void)ctx;
    (void)ws;
    (void)data;
    (void)len;
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ctx;
    (void)ws;
}

static const struct mag_ws_handler pingpong_handler = {
    .on_text = on_text,
    .on_writable = NULL,
    .on_close = on_close,
};

static mag_rc pingpong_open(mag_app *app, mag_http_exchange *ex, const mag_ws_path *path,
                            const mag_query *query, mag_buf *err)
{
    (void)app;
    (void)path;
    (void)query;
    (void)err;
    mag_http_upgrade(ex, &pingpong_handler, NULL);
    return MAG_OK;
}

const struct mag_ws_endpoint mag_ws_pingpong_endpoint = {
    .kind = MAG_EP_PINGPONG,
    .open = pingpong_open,
};
