/* server.c -- build every module from the configuration and run the event loop.
 *
 * One loop thread, one libevent base. The broker asks for work through
 * request_work(), which activates a single event; because libevent runs
 * events activated during a loop pass after the I/O callbacks already queued
 * in that pass, every publish read in one pass lands in the same group commit
 * (together with those read while the previous commit was running).
 * The broker's storage writer thread signals a finished commit through an
 * eventfd (commit_ev), which drains it and runs the broker again to send the receipts.
 * A stop request (mag_server_request_stop, from any thread or a signal
 * handler: an eventfd write) commits what is staged, stops accepting, closes
 * sessions and leaves the loop as soon as every connection is gone (at most
 * SHUTDOWN_LINGER_MS later). Signals and the process's lifetime belong to the
 * caller (src/main.c, src/embed.c), so several servers can run in one process.
 */
#define _GNU_SOURCE /* mkdtemp */
#include "mag/server.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mag/app/app.h"
#include "mag/auth/token.h"
#include "mag/broker/broker.h"
#include "mag/net/http_server.h"
#include "mag/net/tls.h"
#include "mag/storage/store.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

#define MAG_SERVER_SWEEP_MS 500   /* = the broker's admin sweep period */

/* Owned by its creator; every field lives on the loop thread except stop_fd, which any thread
   (or a signal handler) writes to. */
struct mag_server {
    struct event_base *base;
    struct event *work_ev;
    struct event *commit_ev;    /* the writer thread finished a commit */
    struct event *timer_ev;     /* one timer for every broker deadline */
    struct event *sweep_ev;     /* periodic broker run (admin sweeps on an idle broker) */
    int stop_fd;                /* eventfd: a stop was requested */
    struct event *stop_ev;
    struct event *linger_ev;    /* after shutdown: exit once no connection is left */
    int64_t linger_until_ms;
    bool ephemeral;
    char data_dir[4096];        /* the ephemeral dir's (former) name, or the configured one */
    char ws_url[300], wss_url[300];
    int tls_port;               /* the TLS listener's configured port, -1 for none */
    mag_store *store;
    mag_broker *broker;
    mag_app *app;
    mag_http_server *http;
    mag_tls *tls;                   /* NULL unless tlsEnabled */
    mag_token_auth *token_auth;     /* NULL unless token authentication is configured */
};

static void request_work(void *ctx)
{
    struct mag_server *s = ctx;
    event_active(s->work_ev, EV_READ, 0);
}

static void on_work(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct mag_server *s = ctx;
    mag_broker_run(s->broker);
}

/* maxConnections=0: the open-file limit (RLIMIT_NOFILE, soft) minus a
   reserve for what is not a client connection (stdio, LMDB's two files, the
   log, listeners, libevent's and the writer's descriptors, a connection
   accepted before one is evicted): 32 plus an eighth of the limit. Below it,
   a newcomer evicts a connection that is slow to send its request instead
   of the accept failing with EMFILE (docs/SECURITY.md). */
#define MAG_FD_RESERVE_FIXED 32

static int derived_max_connections(rlim_t *limit_out)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        rl.rlim_cur = 1000000 + MAG_FD_RESERVE_FIXED;
    *limit_out = rl.rlim_cur;
    rlim_t reserve = MAG_FD_RESERVE_FIXED + rl.rlim_cur / 8;
    rlim_t n = rl.rlim_cur > 2 * reserve ? rl.rlim_cur - reserve : rl.rlim_cur / 2;
    if (n > 1000000)
        n = 1000000;
    return n > 0 ? (int)n : 1;
}

static void on_commit(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct mag_server *s = ctx;
    mag_broker_commit_event(s->broker);
}

static void arm_timer(struct mag_server *s, int64_t at_ms)
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
    struct mag_server *s = ctx;
    int64_t next = mag_broker_tick(s->broker, mag_broker_now_ms());
    if (next >= 0)
        arm_timer(s, next);
}

/* How long a stopping server waits for its Close frames to be answered (or flushed). */
#define SHUTDOWN_LINGER_MS 200
#define SHUTDOWN_POLL_MS 2

/* Exits the loop once every connection is gone or the linger time is over: an idle server
   stops at once, a busy one gives its clients the Close handshake. */
static void on_linger(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct mag_server *s = ctx;
    if (mag_http_server_connection_count(s->http) == 0 ||
        mag_broker_now_ms() >= s->linger_until_ms) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    struct timeval poll = { 0, SHUTDOWN_POLL_MS * 1000 };
    evtimer_add(s->linger_ev, &poll);
}

static void shut_down(struct mag_server *s)
{
    if (evtimer_pending(s->linger_ev, NULL))
        return;
    mag_broker_drain(s->broker);    /* receipts go out before the sessions close */
    mag_http_server_shutdown(s->http);
    s->linger_until_ms = mag_broker_now_ms() + SHUTDOWN_LINGER_MS;
    on_linger(-1, 0, s);
}

static void on_stop(evutil_socket_t fd, short what, void *ctx)
{
    (void)what;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        mag_warn("stop request: read: %s", strerror(errno));
    shut_down(ctx);
}

void mag_server_request_stop(mag_server *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->stop_fd, &one, sizeof one);   /* async-signal-safe */
    (void)n;   /* EAGAIN: a stop is already pending */
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

/* True when the comma list names Pulsar's token provider (any package prefix). Other providers
 * are reported once: Magnetar has only this one. */
static bool wants_token_provider(const char *providers)
{
    bool found = false;
    mag_buf item = MAG_BUF_INIT;
    for (const char *p = providers; *p;) {
        size_t n = strcspn(p, ",");
        mag_buf_reset(&item);
        mag_buf_append(&item, p, n);
        char *name = (char *)mag_buf_cstr(&item);
        while (*name == ' ')
            name++;
        size_t len = strlen(name);
        while (len && name[len - 1] == ' ')
            name[--len] = '\0';
        const char *dot = strrchr(name, '.');
        const char *simple = dot ? dot + 1 : name;
        if (strcmp(simple, "AuthenticationProviderToken") == 0)
            found = true;
        else if (len)
            mag_warn("authenticationProviders: '%s' is not supported (only "
                     "AuthenticationProviderToken); ignored", name);
        p += n + (p[n] == ',');
    }
    mag_buf_free(&item);
    return found;
}

/* The TLS port, or -1 for none. As Pulsar's WebService and WebSocket ProxyServer, a set
 * webServicePortTls opens it; tlsEnabled is deprecated there (ignored): here it only
 * keeps older Magnetar configurations working (TLS on 8443) and draws a warning. */
static int tls_port(const struct mag_config *cfg)
{
    if (cfg->tls_enabled)
        mag_warn("tlsEnabled is deprecated (as in Pulsar): the TLS port opens when "
                 "webServicePortTls is set%s", cfg->web_service_port_tls < 0 ? "; using 8443" : "");
    if (cfg->web_service_port_tls >= 0)
        return cfg->web_service_port_tls;
    return cfg->tls_enabled ? 8443 : -1;
}

/* TLS context and token authenticator from the configuration (issue #5). Logs and returns
 * MAG_ERR_CONFIG when a setting is unusable. */
static mag_rc security_setup(struct mag_server *s, const struct mag_config *cfg)
{
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = MAG_OK;
    if (s->tls_port >= 0) {
        struct mag_tls_opts to = {
            .cert_file = cfg->tls_certificate_file_path,
            .key_file = cfg->tls_key_file_path,
            .trust_certs_file = cfg->tls_trust_certs_file_path,
            .allow_insecure = cfg->tls_allow_insecure_connection,
            .require_client_cert = cfg->tls_require_trusted_client_cert_on_connect,
            .protocols = cfg->tls_protocols,
            .ciphers = cfg->tls_ciphers,
        };
        rc = mag_tls_new(&to, &s->tls, &err);
        if (rc != MAG_OK)
            goto out;
    }
    if (cfg->authentication_enabled) {
        if (!wants_token_provider(cfg->authentication_providers)) {
            mag_buf_append_str(&err, "authenticationEnabled=true needs authenticationProviders="
                                     "org.apache.pulsar.broker.authentication."
                                     "AuthenticationProviderToken");
            rc = MAG_ERR_CONFIG;
            goto out;
        }
        struct mag_token_auth_opts ta = {
            .secret_key = cfg->token_secret_key,
            .public_key = cfg->token_public_key,
            .public_alg = cfg->token_public_alg,
            .auth_claim = cfg->token_auth_claim,
            .audience_claim = cfg->token_audience_claim,
            .audience = cfg->token_audience,
        };
        rc = mag_token_auth_new(&ta, &s->token_auth, &err);
        if (rc != MAG_OK)
            goto out;
    }
out:
    if (rc != MAG_OK)
        mag_error("%s", mag_buf_cstr(&err));
    mag_buf_free(&err);
    return rc;
}

/* The data directory: the configured one (created if missing), or a fresh temporary one. */
static mag_rc make_data_dir(mag_server *s, const struct mag_config *cfg)
{
    if (s->ephemeral) {
        snprintf(s->data_dir, sizeof s->data_dir, "/tmp/magnetar-XXXXXX");
        if (!mkdtemp(s->data_dir)) {
            mag_error("cannot create a temporary data dir: %s", strerror(errno));
            return MAG_ERR_INTERNAL;
        }
        return MAG_OK;
    }
    if (snprintf(s->data_dir, sizeof s->data_dir, "%s", cfg->data_dir) >= (int)sizeof s->data_dir ||
        mkdir_p(s->data_dir) != 0) {
        mag_error("cannot create data dir %s: %s", cfg->data_dir, strerror(errno));
        return MAG_ERR_INTERNAL;
    }
    return MAG_OK;
}

static mag_rc open_storage(mag_server *s, const struct mag_config *cfg)
{
    struct mag_store_opts so = {
        .dir = s->data_dir,
        .map_size = (size_t)cfg->storage_map_size_mb << 20,
        .sync = cfg->journal_sync_data && !s->ephemeral,
        .unlinked = s->ephemeral,
    };
    mag_rc rc = mag_store_open(&s->store, &so);
    if (rc != MAG_OK) {
        mag_error("cannot open storage in %s: %s", s->data_dir, mag_strerror(rc));
        if (s->ephemeral)
            rmdir(s->data_dir);
        return rc;
    }
    mag_info("data dir %s%s, fsync %s", s->data_dir, s->ephemeral ? " (ephemeral)" : "",
             so.sync ? "on" : "off");
    return MAG_OK;
}

static mag_rc start_broker(mag_server *s, const struct mag_config *cfg)
{
    struct mag_broker_opts bo = {
        .store = s->store,
        .allow_auto_topic_creation = cfg->allow_auto_topic_creation,
        .auto_topic_partitions = strcmp(cfg->allow_auto_topic_creation_type, "partitioned") == 0
                                     ? (uint32_t)cfg->default_num_partitions : 0,
        .group_commit_max_messages = (size_t)cfg->group_commit_max_messages,
        .group_wait_us = cfg->journal_sync_data && !s->ephemeral
                             ? (int64_t)cfg->journal_max_group_wait_msec * 1000 : 0,   /* flushes only */
        .group_bytes = (size_t)cfg->journal_buffered_writes_threshold,
        .deduplication_enabled = cfg->broker_deduplication_enabled,
        .stats_interval_ms = (int64_t)cfg->stats_update_frequency_in_secs * 1000,
        .key_shared_replica_points =
            (size_t)cfg->subscription_key_shared_consistent_hashing_replica_points,
        .message_expiry_interval_ms = (int64_t)cfg->message_expiry_check_interval_in_minutes * 60000,
        .default_message_ttl_s = cfg->ttl_duration_default_in_seconds,
        .max_message_size = (size_t)cfg->max_message_size,
        .max_unacked_per_consumer = (uint32_t)cfg->max_unacked_messages_per_consumer,
        .max_unacked_per_subscription = (uint32_t)cfg->max_unacked_messages_per_subscription,
        .dispatcher_max_round_robin_batch_size = (uint32_t)cfg->dispatcher_max_round_robin_batch_size,
        .default_retention_minutes = cfg->default_retention_time_in_minutes,
        .default_retention_mb = cfg->default_retention_size_in_mb,
        .commit_thread = true,
        .request_work = request_work,
        .set_timer = set_timer,
        .hook_ctx = s,
    };
    mag_rc rc = mag_broker_new(&bo, &s->broker);
    if (rc != MAG_OK) {
        mag_error("cannot load the broker state: %s", mag_strerror(rc));
        return rc;
    }
    s->commit_ev = event_new(s->base, mag_broker_commit_fd(s->broker), EV_READ | EV_PERSIST,
                             on_commit, s);
    event_add(s->commit_ev, NULL);
    return MAG_OK;
}

/* Any web page a user opens can reach a server that accepts every origin without
   authentication: say so when that is more than this machine. */
static void warn_open_to_web_pages(const struct mag_config *cfg)
{
    const char *a = cfg->web_service_allowed_origins, *bind = cfg->bind_address;
    bool any_origin = strcmp(a, "*") == 0 || (!*a && !cfg->authentication_enabled);
    bool loopback = strncmp(bind, "127.", 4) == 0 || strcmp(bind, "::1") == 0 ||
                    strcmp(bind, "localhost") == 0;
    if (any_origin && !cfg->authentication_enabled && !loopback)
        mag_warn("any web page can publish to and read from this server: it listens on %s "
                 "without authentication and accepts every origin (set authenticationEnabled, "
                 "webServiceAllowedOrigins or bindAddress=127.0.0.1)", bind);
}

static mag_rc start_http(mag_server *s, const struct mag_config *cfg)
{
    struct mag_app_opts ao = { .broker = s->broker, .cluster_name = cfg->cluster_name };
    ao.authentication_enabled = cfg->authentication_enabled;
    ao.token_auth = s->token_auth;
    ao.anonymous_user_role = cfg->anonymous_user_role;
    ao.authorization_enabled = cfg->authorization_enabled;
    ao.super_user_roles = cfg->super_user_roles;
    ao.authorization_allow_wildcards = cfg->authorization_allow_wildcards_matching;
    ao.allowed_origins = cfg->web_service_allowed_origins;
    ao.status_file_path = cfg->status_file_path;
    mag_buf runtime = MAG_BUF_INIT;
    mag_config_dump(cfg, &runtime);
    ao.runtime_config = mag_buf_cstr(&runtime);
    ao.web_console_enabled = cfg->web_console_enabled;
    s->app = mag_app_new(&ao);
    mag_buf_free(&runtime);
    warn_open_to_web_pages(cfg);

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
    if (ho.max_connections == 0) {
        rlim_t nofile;
        ho.max_connections = derived_max_connections(&nofile);
        mag_info("maxConnections=0: at most %d connections (open-file limit %llu less a reserve)",
                 ho.max_connections, (unsigned long long)nofile);
    }
    ho.tls = s->tls;
    ho.tls_port = s->tls_port;
    mag_rc rc = MAG_OK;
    s->http = mag_http_server_new(s->base, &ho, mag_app_on_request, s->app, &rc);
    if (!s->http) {
        mag_error("cannot listen on %s:%d: %s", cfg->bind_address, cfg->web_service_port,
                  mag_strerror(rc));
        return rc;
    }
    const char *host = cfg->bind_address;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || *host == '\0')
        host = "127.0.0.1";
    snprintf(s->ws_url, sizeof s->ws_url, "ws://%s:%d", host, mag_http_server_port(s->http));
    if (s->tls)
        snprintf(s->wss_url, sizeof s->wss_url, "wss://%s:%d", host,
                 mag_http_server_tls_port(s->http));
    mag_app_set_address(s->app, host, mag_http_server_port(s->http),
                        s->tls ? mag_http_server_tls_port(s->http) : 0);
    return MAG_OK;
}

mag_rc mag_server_open(const struct mag_config *cfg, bool ephemeral, mag_server **out)
{
    mag_server *s = mag_xcalloc(1, sizeof *s);
    s->ephemeral = ephemeral;
    s->stop_fd = -1;
    *out = NULL;

    int lerr = mag_log_configure(parse_level(cfg->log_level), strcmp(cfg->log_format, "json") == 0,
                                 cfg->log_file);
    if (lerr != 0) {
        mag_error("cannot open logFile %s: %s", cfg->log_file, strerror(-lerr));
        free(s);
        return MAG_ERR_CONFIG;
    }
    tzset();    /* publishTime is formatted in the local zone (ConsumerHandler's dates) */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);   /* a peer's reset must not kill the process */
    if (!cfg->subscription_key_shared_use_consistent_hashing)
        mag_warn("subscriptionKeySharedUseConsistentHashing=false (Pulsar's hash-range splitting) is "
                 "not supported; Key_Shared uses the consistent-hash ring (Pulsar's default)");
    s->tls_port = tls_port(cfg);
    mag_rc rc = security_setup(s, cfg);
    if (rc != MAG_OK)
        goto fail;
    if ((rc = make_data_dir(s, cfg)) != MAG_OK || (rc = open_storage(s, cfg)) != MAG_OK)
        goto fail;
    s->base = event_base_new();
    s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!s->base || s->stop_fd < 0) {
        mag_error("cannot create the event loop");
        rc = MAG_ERR_INTERNAL;
        goto fail;
    }
    s->work_ev = event_new(s->base, -1, 0, on_work, s);
    s->timer_ev = evtimer_new(s->base, on_timer, s);
    s->linger_ev = evtimer_new(s->base, on_linger, s);
    s->stop_ev = event_new(s->base, s->stop_fd, EV_READ | EV_PERSIST, on_stop, s);
    event_add(s->stop_ev, NULL);
    if ((rc = start_broker(s, cfg)) != MAG_OK || (rc = start_http(s, cfg)) != MAG_OK)
        goto fail;
    /* Periodic broker run: admin sweeps (retention, message TTL) also happen on an idle broker. */
    struct timeval sweep_tv = { 0, MAG_SERVER_SWEEP_MS * 1000 };
    s->sweep_ev = event_new(s->base, -1, EV_PERSIST, on_work, s);
    event_add(s->sweep_ev, &sweep_tv);
    *out = s;
    return MAG_OK;
fail:
    mag_server_free(s);
    return rc;
}

int mag_server_port(const mag_server *s)
{
    return mag_http_server_port(s->http);
}

const char *mag_server_ws_url(const mag_server *s)
{
    return s->ws_url;
}

const char *mag_server_wss_url(const mag_server *s)
{
    return s->wss_url[0] ? s->wss_url : NULL;
}

void mag_server_loop(mag_server *s)
{
    event_base_dispatch(s->base);
}

void mag_server_free(mag_server *s)
{
    if (!s)
        return;
    if (s->http)
        mag_http_server_free(s->http);
    mag_tls_free(s->tls);
    mag_app_free(s->app);
    mag_token_auth_free(s->token_auth);
    if (s->commit_ev)
        event_free(s->commit_ev);
    if (s->broker)
        mag_broker_free(s->broker);
    if (s->stop_ev)
        event_free(s->stop_ev);
    if (s->linger_ev)
        event_free(s->linger_ev);
    if (s->work_ev)
        event_free(s->work_ev);
    if (s->sweep_ev)
        event_free(s->sweep_ev);
    if (s->timer_ev)
        event_free(s->timer_ev);
    if (s->base)
        event_base_free(s->base);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->store) {
        mag_store_close(s->store);
        mag_info("stopped");
    }
    free(s);
}
