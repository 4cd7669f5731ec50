/* embed.c -- the public embedding API (include/magnetar.h) over mag_server.
 *
 * A magnetar object owns a configuration and, while started, one server and
 * the thread that runs its loop. The binary (src/main.c) starts its server
 * through this API too.
 */
#include "magnetar.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/config.h"
#include "mag/server.h"
#include "mag/util/alloc.h"
#include "mag/util/buf.h"

/* Used by one caller thread at a time; srv's loop runs on `thread` between start and stop. */
struct magnetar {
    struct mag_config cfg;
    bool ephemeral;
    mag_server *srv;       /* NULL unless started */
    pthread_t thread;
    mag_buf error;         /* the last error's text */
    mag_buf warnings;
    char http_url[320];
};

magnetar *magnetar_new(void)
{
    magnetar *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    mag_config_init(&m->cfg);
    mag_buf_init(&m->error);
    mag_buf_init(&m->warnings);
    return m;
}

static int fail(magnetar *m, int code, const char *text)
{
    mag_buf_reset(&m->error);
    mag_buf_append_str(&m->error, text);
    mag_buf_cstr(&m->error);   /* magnetar_error() hands out the data: keep it terminated */
    return code;
}

static int not_running(magnetar *m)
{
    return m->srv ? fail(m, MAGNETAR_ERR_STATE, "the server is running: stop it first") : MAGNETAR_OK;
}

/* mag_config's messages are made for the command line; the API gives them without "-o: ". */
static int config_result(magnetar *m, mag_rc rc, mag_buf *err, bool strip_option)
{
    const char *text = mag_buf_cstr(err);
    if (strip_option && strncmp(text, "-o: ", 4) == 0)
        text += 4;
    int code = rc == MAG_OK ? MAGNETAR_OK : fail(m, MAGNETAR_ERR_CONFIG, text);
    if (rc == MAG_OK)
        mag_buf_reset(&m->error);
    mag_buf_cstr(&m->warnings);
    mag_buf_free(err);
    return code;
}

int magnetar_load_config(magnetar *m, const char *path)
{
    if (not_running(m))
        return MAGNETAR_ERR_STATE;
    mag_buf err = MAG_BUF_INIT;
    return config_result(m, mag_config_load_file(&m->cfg, path, &err, &m->warnings), &err, false);
}

int magnetar_set_line(magnetar *m, const char *key_eq_value)
{
    if (not_running(m))
        return MAGNETAR_ERR_STATE;
    mag_buf err = MAG_BUF_INIT;
    return config_result(m, mag_config_set(&m->cfg, key_eq_value, &err, &m->warnings), &err, false);
}

int magnetar_set(magnetar *m, const char *key, const char *value)
{
    if (not_running(m))
        return MAGNETAR_ERR_STATE;
    mag_buf line = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_buf_appendf(&line, "%s=%s", key, value);
    mag_rc rc = mag_config_set(&m->cfg, mag_buf_cstr(&line), &err, &m->warnings);
    mag_buf_free(&line);
    return config_result(m, rc, &err, true);
}

void magnetar_set_ephemeral(magnetar *m, int ephemeral)
{
    m->ephemeral = ephemeral != 0;
}

const char *magnetar_warnings(const magnetar *m)
{
    return m->warnings.len ? (const char *)m->warnings.data : "";
}

char *magnetar_dump_config(const magnetar *m)
{
    mag_buf dump = MAG_BUF_INIT;
    mag_config_dump(&m->cfg, &dump);
    char *text = mag_xstrdup(mag_buf_cstr(&dump));
    mag_buf_free(&dump);
    return text;
}

static void *loop_thread(void *arg)
{
    mag_server_loop(arg);
    return NULL;
}

int magnetar_start(magnetar *m)
{
    if (not_running(m))
        return MAGNETAR_ERR_STATE;
    mag_server *srv;
    mag_rc rc = mag_server_open(&m->cfg, m->ephemeral, &srv);
    if (rc != MAG_OK) {
        mag_buf_reset(&m->error);
        mag_buf_appendf(&m->error, "cannot start: %s (the log on stderr has the details)",
                        mag_strerror(rc));
        mag_buf_cstr(&m->error);
        return rc == MAG_ERR_CONFIG ? MAGNETAR_ERR_CONFIG : MAGNETAR_ERR;
    }
    /* The loop thread takes no signals: the application's threads keep them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&m->thread, NULL, loop_thread, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        mag_server_free(srv);
        return fail(m, MAGNETAR_ERR, "cannot start the server's thread");
    }
    m->srv = srv;
    snprintf(m->http_url, sizeof m->http_url, "http://%s",
             mag_server_ws_url(srv) + strlen("ws://"));
    mag_buf_reset(&m->error);
    return MAGNETAR_OK;
}

int magnetar_port(const magnetar *m)
{
    return m->srv ? mag_server_port(m->srv) : 0;
}

const char *magnetar_ws_url(const magnetar *m)
{
    return m->srv ? mag_server_ws_url(m->srv) : NULL;
}

const char *magnetar_wss_url(const magnetar *m)
{
    return m->srv ? mag_server_wss_url(m->srv) : NULL;
}

const char *magnetar_http_url(const magnetar *m)
{
    return m->srv ? m->http_url : NULL;
}

int magnetar_stop(magnetar *m)
{
    if (!m->srv)
        return fail(m, MAGNETAR_ERR_STATE, "the server is not running");
    mag_server_request_stop(m->srv);
    pthread_join(m->thread, NULL);
    mag_server_free(m->srv);
    m->srv = NULL;
    return MAGNETAR_OK;
}

void magnetar_free(magnetar *m)
{
    if (!m)
        return;
    if (m->srv)
        magnetar_stop(m);
    mag_config_cleanup(&m->cfg);
    mag_buf_free(&m->error);
    mag_buf_free(&m->warnings);
    free(m);
}

const char *magnetar_error(const magnetar *m)
{
    return m->error.len ? (const char *)m->error.data : "";
}

const char *magnetar_version(void)
{
    return MAG_VERSION;
}
