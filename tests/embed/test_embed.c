/* test_embed.c -- the embedding API (include/magnetar.h, libmagnetar.so) as a C test suite or an
 * edge application uses it: two servers in one process, each on its own port and data dir; a
 * message goes through the first (producer -> consumer) and is published on to the second; a
 * server keeps its data across stop/start; configuration errors and misuse come back as codes.
 * The clients are real WebSocket connections (tools/wsclient). Links libmagnetar.so only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magnetar.h"
#include "mag_test.h"
#include "ws_client.h"

static magnetar *start_ephemeral(void)
{
    magnetar *m = magnetar_new();
    CHECK(m != NULL);
    magnetar_set_ephemeral(m, 1);
    CHECK_EQ_INT(magnetar_set(m, "webServicePort", "0"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "logLevel", "warn"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_OK);
    return m;
}

static bool ws_open(struct mag_wsc *c, const magnetar *m, const char *target)
{
    mag_wsc_init(c);
    c->url = magnetar_ws_url(m);
    if (!mag_wsc_parse_url(c, c->url) || !mag_wsc_open(c, target)) {
        fprintf(stderr, "open %s%s: %s\n", c->url, target, c->err);
        return false;
    }
    return true;
}

static void ws_close(struct mag_wsc *c)
{
    mag_wsc_finish(c);
    mag_wsc_free(c);
}

/* The next message as a NUL-terminated string ("" on timeout or error). */
static const char *next_text(struct mag_wsc *c)
{
    if (mag_wsc_recv(c, 5000) != 1)
        return "";
    mag_buf_cstr(&c->msg);
    return (const char *)c->msg.data;
}

/* Publish one payload (base64 text) and check the receipt. */
static void publish(const magnetar *m, const char *topic, const char *payload_b64)
{
    struct mag_wsc p;
    char target[256], frame[256];
    snprintf(target, sizeof target, "/ws/v2/producer/persistent/public/default/%s", topic);
    CHECK(ws_open(&p, m, target));
    snprintf(frame, sizeof frame, "{\"payload\":\"%s\",\"context\":\"1\"}", payload_b64);
    CHECK(mag_wsc_send(&p, MAG_WS_OP_TEXT, frame, strlen(frame)));
    CHECK(strstr(next_text(&p), "\"result\":\"ok\"") != NULL);
    ws_close(&p);
}

MAG_TEST(two_servers_in_one_process)
{
    magnetar *a = start_ephemeral(), *b = start_ephemeral();
    CHECK(magnetar_port(a) > 0 && magnetar_port(b) > 0 && magnetar_port(a) != magnetar_port(b));
    CHECK(strncmp(magnetar_http_url(a), "http://127.0.0.1:", 17) == 0);
    CHECK(magnetar_wss_url(a) == NULL);

    struct mag_wsc ca, cb;
    CHECK(ws_open(&ca, a, "/ws/v2/consumer/persistent/public/default/in/sub"));
    CHECK(ws_open(&cb, b, "/ws/v2/consumer/persistent/public/default/out/sub"));
    publish(a, "in", "aGVsbG8=");   /* "hello" */
    const char *got = next_text(&ca);
    CHECK(strstr(got, "\"payload\":\"aGVsbG8=\"") != NULL);
    publish(b, "out", "aGVsbG8=");  /* passed on to the second server */
    got = next_text(&cb);
    CHECK(strstr(got, "\"payload\":\"aGVsbG8=\"") != NULL);
    ws_close(&ca);
    ws_close(&cb);

    CHECK_EQ_INT(magnetar_stop(a), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_stop(b), MAGNETAR_OK);
    magnetar_free(a);
    magnetar_free(b);
}

MAG_TEST(data_survives_stop_and_start)
{
    char dir[] = "/tmp/mag-embed-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    magnetar *m = magnetar_new();
    CHECK_EQ_INT(magnetar_set(m, "dataDir", dir), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set_line(m, "webServicePort=0"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "logLevel", "warn"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_OK);
    publish(m, "kept", "a2VwdA==");
    CHECK_EQ_INT(magnetar_stop(m), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_OK);   /* the same object starts again */
    struct mag_wsc r;
    CHECK(ws_open(&r, m, "/ws/v2/reader/persistent/public/default/kept?messageId=earliest"));
    CHECK(strstr(next_text(&r), "\"payload\":\"a2VwdA==\"") != NULL);
    ws_close(&r);
    magnetar_free(m);   /* stops a running server */
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

MAG_TEST(errors_are_codes_with_texts)
{
    magnetar *m = magnetar_new();
    CHECK_EQ_INT(magnetar_set(m, "noSuchKey", "1"), MAGNETAR_ERR_CONFIG);
    CHECK(strstr(magnetar_error(m), "noSuchKey") != NULL);
    CHECK(strncmp(magnetar_error(m), "-o: ", 4) != 0);
    CHECK_EQ_INT(magnetar_set(m, "webServicePort", "99999"), MAGNETAR_ERR_CONFIG);
    CHECK_EQ_INT(magnetar_set_line(m, "webServicePort"), MAGNETAR_ERR_CONFIG);
    CHECK_EQ_INT(magnetar_load_config(m, "/nonexistent.conf"), MAGNETAR_ERR_CONFIG);
    CHECK_EQ_INT(magnetar_stop(m), MAGNETAR_ERR_STATE);
    CHECK(magnetar_ws_url(m) == NULL && magnetar_port(m) == 0);
    /* A setting that cannot work fails the start with the configuration code. */
    magnetar_set_ephemeral(m, 1);
    CHECK_EQ_INT(magnetar_set(m, "webServicePort", "0"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "tlsEnabled", "true"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "webServicePortTls", "0"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "tlsCertificateFilePath", "/nonexistent.pem"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "logLevel", "error"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_ERR_CONFIG);
    CHECK(strstr(magnetar_error(m), "cannot start") != NULL);
    CHECK_EQ_INT(magnetar_set(m, "tlsEnabled", "false"), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "webServicePortTls", ""), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_OK);
    CHECK_EQ_INT(magnetar_set(m, "webServicePort", "1"), MAGNETAR_ERR_STATE);
    CHECK_EQ_INT(magnetar_start(m), MAGNETAR_ERR_STATE);
    char *dump = magnetar_dump_config(m);
    CHECK(strstr(dump, "webServicePort=0\n") != NULL);
    free(dump);
    CHECK_STR(magnetar_version(), MAG_VERSION);
    magnetar_free(m);
    magnetar_free(NULL);
}

int main(void)
{
    RUN(two_servers_in_one_process);
    RUN(data_survives_stop_and_start);
    RUN(errors_are_codes_with_texts);
    return mag_test_summary();
}
