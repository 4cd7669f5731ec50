/* server.c -- build every module from the configuration and run the event loop.
 *
 * One loop thread, one libevent base. The broker asks for work through
 * request_work(), which activates a single event; because libevent runs
 * events activated during a loop pass after the I/O callbacks already queued
 * in that pass, every publish read in one pass lands in the same group commit
 * (together with those read while the previous commit was running).
 * The broker's storage writer thread signals a finished commit through an
 * eventfd (commit_ev), which runs the broker again to send the receipts.
 * SIGTERM/SIGINT commit what is staged, stop accepting, close sessions and
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
#include "mag/auth/token.h"
#include "mag/broker/broker.h"
#include "mag/net/http_server.h"
#include "mag/net/tls.h"
#include "mag/storage/store.h"
#include "mag/util/log.h"

struct server {
    struct event_base *base;
    struct event *work_ev;
    struct event *commit_ev;    /* the writer thread finished a commit */
    struct event *timer_ev;     /* one timer for every broker deadline */
    struct event *sig_term, *sig_int;
    mag_store *store;
    mag_broker *broker;
    mag_app *app;
    mag_http_server *http;
    mag_tls *tls;                   /* NULL unless tlsEnabled */
    mag_token_auth *token_auth;     /* NULL unless token authentication is configured */
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
    mag_broker_drain(s->broker);    /* receipts go out before the sessions close */
    mag_http_server_shutdown(s->http);
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
static mag_rc security_setup(struct server *s, const struct mag_config *cfg, int tls_port)
{
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = MAG_OK;
    if (tls_port >= 0) {
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
    if (!cfg->subscription_key_shared_use_consistent_hashing)
        mag_warn("subscriptionKeySharedUseConsistentHashing=false (Pulsar's hash-range splitting) is "
                 "not supported; Key_Shared uses the consistent-hash ring (Pulsar's default)");
    int tls_port_no = tls_port(cfg);
    if (security_setup(&s, cfg, tls_port_no) != MAG_OK) {
        mag_tls_free(s.tls);
        return 2;   /* a configuration error, like those main.c reports */
    }
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
        .auto_topic_partitions = strcmp(cfg->allow_auto_topic_creation_type, "partitioned") == 0
                                     ? (uint32_t)cfg->default_num_partitions : 0,
        .group_commit_max_messages = (size_t)cfg->group_commit_max_messages,
        .group_wait_us = cfg->journal_sync_data && !ephemeral
                             ? (int64_t)cfg->journal_max_group_wait_msec * 1000 : 0,   /* flushes only */
        .group_bytes = (size_t)cfg->journal_buffered_writes_threshold,
        .deduplication_enabled = cfg->broker_deduplication_enabled,
        .key_shared_replica_points =
            (size_t)cfg->subscription_key_shared_consistent_hashing_replica_points,
        .max_message_size = (size_t)cfg->max_message_size,
        .max_unacked_per_consumer = (uint32_t)cfg->max_unacked_messages_per_consumer,
        .max_unacked_per_subscription = (uint32_t)cfg->max_unacked_messages_per_subscription,
        .dispatcher_max_round_robin_batch_size = (uint32_t)cfg->dispatcher_max_round_robin_batch_size,
        .default_retention_minutes = cfg->default_retention_time_in_minutes,
        .default_retention_mb = cfg->default_retention_size_in_mb,
        .commit_thread = true,
        .request_work = request_work,
        .set_timer = set_timer,
        .hook_ctx = &s,
    };
    rc = mag_broker_new(&bo, &s.broker);
    if (rc != MAG_OK) {
        mag_error("cannot load the broker state: %s", mag_strerror(rc));
        goto out;
    }
    s.commit_ev = event_new(s.base, mag_broker_commit_fd(s.broker), EV_READ | EV_PERSIST, on_work, &s);
    event_add(s.commit_ev, NULL);
    struct mag_app_opts ao = { .broker = s.broker, .cluster_name = cfg->cluster_name };
    ao.authentication_enabled = cfg->authentication_enabled;
    ao.token_auth = s.token_auth;
    ao.anonymous_user_role = cfg->anonymous_user_role;
    ao.authorization_enabled = cfg->authorization_enabled;
    ao.super_user_roles = cfg->super_user_roles;
    ao.authorization_allow_wildcards = cfg->authorization_allow_wildcards_matching;
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
    ho.tls = s.tls;
    ho.tls_port = tls_port_no;
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
    if (s.tls)
        printf("magnetar ready ws://%s:%d wss://%s:%d\n", host, mag_http_server_port(s.http), host,
               mag_http_server_tls_port(s.http));
    else
        printf("magnetar ready ws://%s:%d\n", host, mag_http_server_port(s.http));
    fflush(stdout);

    event_base_dispatch(s.base);
    exit_code = 0;

out:
    if (s.http)
        mag_http_server_free(s.http);
    mag_tls_free(s.tls);
    mag_app_free(s.app);
    mag_token_auth_free(s.token_auth);
    if (s.commit_ev)
        event_free(s.commit_ev);
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
