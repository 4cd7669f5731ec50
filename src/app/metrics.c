/* metrics.c -- GET /metrics: Prometheus text exposition (format 0.0.4).
 *
 * Served on the web service port, like Pulsar's broker. The broker prints
 * its per-topic pulsar_* metrics and Magnetar's commit, retention and
 * storage metrics (src/broker/metrics.c); this file adds what only the
 * application layer knows: the open WebSocket sessions by kind, and the
 * process_* metrics of the Prometheus client (process_metrics.c).
 */
#include "app_internal.h"

#include "mag/broker/admin.h"

static void metrics(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf out = MAG_BUF_INIT;
    mag_rc rc = mag_admin_metrics_text(app->broker, app->cluster_name, &out);
    if (rc != MAG_OK) {
        mag_wire_rest_error(ex, rc, "Failed to read the storage statistics");
        mag_buf_free(&out);
        return;
    }
    static const char *const kinds[] = { "producer", "consumer", "reader" };
    mag_buf_append_str(&out, "# HELP magnetar_ws_sessions Open WebSocket sessions\n"
                             "# TYPE magnetar_ws_sessions gauge\n");
    for (size_t k = 0; k < 3; k++)
        mag_buf_appendf(&out, "magnetar_ws_sessions{kind=\"%s\"} %zu\n", kinds[k], app->nsessions[k]);
    mag_buf_appendf(&out, "# HELP magnetar_delivery_cache_total Deliveries whose JSON was reused from"
                          " another subscription's (hit) or formatted (miss)\n"
                          "# TYPE magnetar_delivery_cache_total counter\n"
                          "magnetar_delivery_cache_total{result=\"hit\"} %llu\n"
                          "magnetar_delivery_cache_total{result=\"miss\"} %llu\n",
                    (unsigned long long)app->deliveries.hits, (unsigned long long)app->deliveries.misses);
    mag_process_metrics(&out);
    mag_http_respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, NULL);
    mag_buf_free(&out);
}

const struct mag_rest_route mag_metrics_routes[] = {
    { "GET", "/metrics", metrics },
    { "GET", "/metrics/", metrics },
    { NULL, NULL, NULL },
};
