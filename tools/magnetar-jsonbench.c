/* magnetar-jsonbench.c -- micro-benchmark of producer-frame JSON parsing.
 *
 * Parses one typical producer message N times with (1) the json_reader
 * tokenizer alone, (2) the full mag_pulsar_parse_producer_msg binder
 * (tokenize, decode, canonical properties, base64, eventTime), (3) cJSON
 * parse + delete, and (4) cJSON parse plus the same binding work the old
 * cJSON-based parser did, and prints messages per second for each. Timing
 * only; nothing is asserted. Usage: magnetar-jsonbench [iterations]
 */
#include "mag/codec/iso_time.h"
#include "mag/codec/json_reader.h"
#include "mag/codec/pulsar_json.h"
#include "mag/util/base64.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char frame[] =
    "{\"payload\":\"SGVsbG8sIE1hZ25ldGFyISBUaGlzIGlzIGEgdHlwaWNhbCBwYXlsb2FkLg==\","
    "\"properties\":{\"app\":\"demo\",\"trace-id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
    "\"region\":\"eu-west-1\"},\"context\":\"1234\",\"key\":\"user-42\","
    "\"eventTime\":\"2021-10-29T16:01:38.967-07:00\"}";

static volatile size_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t run_tokenize(void)
{
    mag_json_reader r;
    mag_json_token t;
    size_t n = 0;
    mag_json_reader_init(&r, frame, sizeof frame - 1);
    while (mag_json_next(&r, &t) == MAG_OK && t.type != MAG_JSON_END)
        n++;
    return n;
}

static mag_producer_msg msg;

static size_t run_binder(void)
{
    if (mag_pulsar_parse_producer_msg(frame, sizeof frame - 1, &msg) != MAG_OK)
        abort();
    return msg.payload.len + msg.properties_json.len;
}

static size_t run_cjson_tree(void)
{
    cJSON *root = cJSON_ParseWithLength(frame, sizeof frame - 1);
    if (!root)
        abort();
    size_t n = (size_t)cJSON_GetArraySize(root);
    cJSON_Delete(root);
    return n;
}

/* What the previous parser did per message: tree, field copies, canonical
 * properties, base64, eventTime, all into per-call buffers. */
static size_t run_cjson_bind(void)
{
    mag_buf payload = MAG_BUF_INIT, props = MAG_BUF_INIT, ctx = MAG_BUF_INIT, key = MAG_BUF_INIT;
    int64_t event_ms = 0;
    cJSON *root = cJSON_ParseWithLength(frame, sizeof frame - 1);
    if (!root)
        abort();
    const cJSON *it, *p;
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "payload") == 0) {
            mag_buf text = MAG_BUF_INIT;
            mag_buf_append_str(&text, it->valuestring);
            mag_base64_decode(&payload, (const char *)text.data, text.len, NULL);
            mag_buf_free(&text);
        } else if (strcmp(it->string, "context") == 0) {
            mag_buf_append_str(&ctx, it->valuestring);
        } else if (strcmp(it->string, "key") == 0) {
            mag_buf_append_str(&key, it->valuestring);
        } else if (strcmp(it->string, "eventTime") == 0) {
            mag_iso_time_parse(it->valuestring, strlen(it->valuestring), &event_ms, NULL);
        } else if (strcmp(it->string, "properties") == 0) {
            mag_buf_append_byte(&props, '{');
            cJSON_ArrayForEach(p, it) {
                if (props.len > 1)
                    mag_buf_append_byte(&props, ',');
                mag_json_append_string(&props, p->string, strlen(p->string));
                mag_buf_append_byte(&props, ':');
                mag_json_append_string(&props, p->valuestring, strlen(p->valuestring));
            }
            mag_buf_append_byte(&props, '}');
        }
    }
    size_t n = payload.len + props.len + ctx.len + key.len + (size_t)(event_ms & 1);
    cJSON_Delete(root);
    mag_buf_free(&payload);
    mag_buf_free(&props);
    mag_buf_free(&ctx);
    mag_buf_free(&key);
    return n;
}

static void bench(const char *name, size_t (*fn)(void), long iters)
{
    size_t acc = fn();              /* warm-up: buffers grown */
    double t0 = now_s();
    for (long i = 0; i < iters; i++)
        acc += fn();
    double dt = now_s() - t0;
    sink = acc;
    printf("%-34s %12.0f msg/s %8.1f ns/msg %8.1f MB/s\n", name, (double)iters / dt,
           dt * 1e9 / (double)iters, (double)iters * (double)(sizeof frame - 1) / dt / 1e6);
}

int main(int argc, char **argv)
{
    bool help = argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0);
    long iters = argc > 1 && !help ? strtol(argv[1], NULL, 10) : 1000000;
    if (help || iters <= 0 || argc > 2) {
        fprintf(help ? stdout : stderr, "usage: magnetar-jsonbench [iterations]\n"
                "  producer-frame JSON parsing speed (default 1000000 iterations)\n");
        return help ? 0 : 2;
    }
    mag_producer_msg_init(&msg);
    printf("frame: %zu bytes, %ld iterations\n", sizeof frame - 1, iters);
    bench("json_reader tokenize only", run_tokenize, iters);
    bench("mag_pulsar_parse_producer_msg", run_binder, iters);
    bench("cJSON parse + delete", run_cjson_tree, iters);
    bench("cJSON parse + bind (old parser)", run_cjson_bind, iters);
    mag_producer_msg_cleanup(&msg);
    return 0;
}
