/* sessions.c -- the registry of open WebSocket sessions.
 *
 * Pulsar's WebSocket proxy reports, per topic, every producer and consumer
 * session with its remote address and message count (ProxyTopicStat); /metrics
 * reports how many sessions are open. Endpoints register a session after its
 * upgrade and remove it when it closes; the entry copies the descriptive
 * strings and keeps a pointer to the session's own counter, so the hot path
 * (publish, deliver) costs nothing extra. A doubly linked list: O(1) add and
 * remove, iteration for the (rare) statistics requests.
 */
#include "app_internal.h"

#include <stdlib.h>

#include "mag/util/alloc.h"

struct mag_session_entry {
    struct mag_session_entry *prev, *next;
    struct mag_session_desc d;      /* strings owned by the entry */
};

static size_t kind_index(mag_endpoint_kind kind)
{
    return kind == MAG_EP_PRODUCER ? 0 : kind == MAG_EP_CONSUMER ? 1 : 2;
}

mag_session_entry *mag_sessions_add(mag_app *app, const struct mag_session_desc *d)
{
    mag_session_entry *e = mag_xcalloc(1, sizeof *e);
    e->d = *d;
    e->d.topic = mag_xstrdup(d->topic ? d->topic : "");
    e->d.subscription = d->subscription ? mag_xstrdup(d->subscription) : NULL;
    e->d.peer = mag_xstrdup(d->peer ? d->peer : "");
    e->next = app->sessions;
    if (app->sessions)
        app->sessions->prev = e;
    app->sessions = e;
    app->nsessions[kind_index(d->kind)]++;
    return e;
}

void mag_sessions_remove(mag_app *app, mag_session_entry *e)
{
    if (!e)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        app->sessions = e->next;
    if (e->next)
        e->next->prev = e->prev;
    app->nsessions[kind_index(e->d.kind)]--;
    free((char *)e->d.topic);
    free((char *)e->d.subscription);
    free((char *)e->d.peer);
    free(e);
}

const mag_session_entry *mag_sessions_first(const mag_app *app)
{
    return app->sessions;
}

const mag_session_entry *mag_sessions_next(const mag_session_entry *e)
{
    return e->next;
}

const struct mag_session_desc *mag_sessions_desc(const mag_session_entry *e)
{
    return &e->d;
}
