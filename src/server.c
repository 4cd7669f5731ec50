/* server.c -- build every module from the configuration and run the event loop.
 *
 * One thread, one libevent base. The broker asks for work through
 * request_work(), which activates a single event; because libevent runs
 * events activated during a loop pass after the I/O callbacks already queued
 * in that pass, every publish read in one pass lands in one group commit.
 * SIGTERM/SIGINT stop accepting, close sessions, flush the last batch and
 * exit 0.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "mag/server.h"

#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mag/app/app.h"
#include "mag/broker/broker.h"
#include "mag/net/http_server.h"
#include "mag/storage/store.h"
#include "mag/util/log.h"

struct server {
    struct event_base *base;
    struct event *work_ev;
    struct event *timer_ev;     /* one timer for every broker deadline */
    struct event *sig_term, *sig_int;
    mag_store *store;
    mag_broker *broker;
    mag_app *app;
    mag_http_server *http;
};

static void request_work(void *ctx)
{
    struct server *s = ctx;
    event_active(s->work_ev, EV_READ, 0);
}

static void on_work(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct server *s = ctx;
    mag_broker_run(s->broker);
}

static void arm_timer(struct server *s, int64_t at_ms)
{
    int64_t delay = at_ms - mag_broker_now_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)((delay % 1000) * 1000) };
    evtimer_add(s->timer_ev, &tv);
}

static void set_timer(void *ctx, int64_t at_ms)
{
    arm_timer(ctx, at_ms);
}

static void on_timer(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct server *s = ctx;
    int64_t next = mag_broker_tick(s->broker, mag_broker_now_ms());
    if (next >= 0)
        arm_timer(s, next);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *s = ctx;
    mag_info("signal %d: shutting down", (int)sig);
    mag_http_server_shutdown(s->http);
    mag_broker_run(s->broker);
    struct timeval flush = { 0, 200 * 1000 };   /* let Close frames reach the clients */
    event_base_loopexit(s->base, &flush);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static mag_log_level parse_level(const char *s)
{
    if (strcmp(s, "debug") == 0)
        return MAG_LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return MAG_LOG_WARN;
    if (strcmp(s, "error") == 0)
        return MAG_LOG_ERROR;
    return MAG_LOG_INFO;
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

int mag_server_run(const struct mag_config *cfg, bool ephemeral)
{
    struct server s;
    memset(&s, 0, sizeof s);
    int exit_code = 1;
    char tmpdir[] = "/tmp/magnetar-XXXXXX";
    const char *data_dir = cfg->data_dir;

    mag_log_set_level(parse_level(cfg->log_level));
    tzset();    /* publishTime is formatted in the local zone (spec §3.3) */
    signal(SIGPIPE, SIG_IGN);
    if (ephemeral) {
        if (!mkdtemp(tmpdir)) {
            mag_error("cannot create a temporary data dir: %s", strerror(errno));
            return 1;
        }
        data_dir = tmpdir;
    } else if (mkdir_p(data_dir) != 0) {
        mag_error("cannot create data dir %s: %s", data_dir, strerror(errno));
        return 1;
    }

    struct mag_store_opts so = {
        .dir = data_dir,
        .map_size = (size_t)cfg->storage_map_size_mb << 20,
        .sync = cfg->journal_sync_data && !ephemeral,
    };
    mag_rc rc = mag_store_open(&s.store, &so);
    if (rc != MAG_OK) {
        mag_error("cannot open storage in %s: %s", data_dir, mag_strerror(rc));
        goto out;
    }

    s.base = event_base_new();
    if (!s.base) {
        mag_error("cannot create the event loop");
        goto out;
    }
    s.work_ev = event_new(s.base, -1, 0, on_work, &s);
    s.timer_ev = evtimer_new(s.base, on_timer, &s);

    struct mag_broker_opts bo = {
        .store = s.store,
        .allow_auto_topic_creation = cfg->allow_auto_topic_creation,
        .group_commit_max_messages = (size_t)cfg->group_commit_max_messages,
        .key_shared_replica_points =
            (size_t)cfg->subscription_key_shared_consistent_hashing_replica_points,
        .request_work = request_work,
        .set_timer = set_timer,
        .hook_ctx = &s,
    };
    rc = mag_broker_new(&bo, &s.broker);
    if (rc != MAG_OK) {
        mag_error("cannot load the broker state: %s", mag_strerror(rc));
        goto out;
    }
    struct mag_app_opts ao = { .broker = s.broker, .cluster_name = cfg->cluster_name };
    s.app = mag_app_new(&ao);

    struct mag_http_server_opts ho;
    mag_http_server_opts_init(&ho);
    ho.bind_address = cfg->bind_address;
    ho.port = cfg->web_service_port;
    ho.max_header_bytes = (size_t)cfg->http_max_request_header_size;
    ho.max_body_bytes = (size_t)cfg->http_max_request_body_size;
    ho.handshake_timeout_ms = cfg->handshake_timeout_millis;
    ho.ws_max_message_bytes = (size_t)cfg->web_socket_max_text_frame_size;
    ho.ws_idle_timeout_ms = (int)cfg->web_socket_session_idle_timeout_millis;
    ho.ws_ping_interval_ms = cfg->web_socket_ping_duration_seconds > 0
                                 ? cfg->web_socket_ping_duration_seconds * 1000 : -1;
    ho.max_connections = cfg->max_connections;
    s.http = mag_http_server_new(s.base, &ho, mag_app_on_request, s.app, &rc);
    if (!s.http) {
        mag_error("cannot listen on %s:%d: %s", cfg->bind_address, cfg->web_service_port,
                  mag_strerror(rc));
        goto out;
    }

    s.sig_term = evsignal_new(s.base, SIGTERM, on_signal, &s);
    s.sig_int = evsignal_new(s.base, SIGINT, on_signal, &s);
    event_add(s.sig_term, NULL);
    event_add(s.sig_int, NULL);

    const char *host = cfg->bind_address;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || *host == '\0')
        host = "127.0.0.1";
    mag_info("data dir %s%s, fsync %s", data_dir, ephemeral ? " (ephemeral)" : "",
             so.sync ? "on" : "off");
    printf("magnetar ready ws://%s:%d\n", host, mag_http_server_port(s.http));
    fflush(stdout);

    event_base_dispatch(s.base);
    exit_code = 0;

out:
    if (s.http)
        mag_http_server_free(s.http);
    mag_app_free(s.app);
    if (s.broker)
        mag_broker_free(s.broker);
    if (s.sig_term)
        event_free(s.sig_term);
    if (s.sig_int)
        event_free(s.sig_int);
    if (s.work_ev)
        event_free(s.work_ev);
    if (s.timer_ev)
        event_free(s.timer_ev);
    if (s.base)
        event_base_free(s.base);
    if (s.store)
        mag_store_close(s.store);
    if (ephemeral)
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    mag_info("stopped");
    return exit_code;
}
