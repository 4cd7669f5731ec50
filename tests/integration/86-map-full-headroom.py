# 86-map-full-headroom.py - a full store can always be emptied (deletes use a reserve of the map).
#
# LMDB is copy-on-write: deleting entries writes pages before it frees any, so a map that publishes
# filled to its last page could not delete anything ("storage full", HTTP 500) until a restart with
# a bigger map. Publishes now stop a reserve short of storageMapSizeMB (send-error:8, as a full map),
# and deleting a topic (force), unsubscribing and trimming may use that reserve. Many small messages
# fill many B-tree leaves, the worst case for a delete. After the delete, publishing works again;
# also after a restart on the full store.

from magnetar_harness import (admin, check, connect, eq, main, path, pub_msg, publish, recv_n,
                              restart, start_server, test, topic_admin_path, uniq)

MAP_MB = 4
PAYLOAD = b"x" * 700


def fill(ws, tag):
    """Publishes pipelined 700-byte messages until the server answers send-error:8; returns the
    number stored."""
    stored = 0
    for rnd in range(200):
        n = 100
        for i in range(n):
            ws.send(pub_msg(PAYLOAD, "%s-%d-%d" % (tag, rnd, i)))
        rs = recv_n(ws, n, 30)
        for r in rs:
            if r.get("result") == "ok":
                stored += 1
            else:
                eq(r.get("result"), "send-error:8", "result while filling (%r)" % r)
        if any(r.get("result") != "ok" for r in rs):
            break
    else:
        raise AssertionError("a %d MiB map never filled up" % MAP_MB)
    # A pipelined burst is refused a little early (staged bytes are counted twice, for LMDB's
    # overhead): go on one by one until a single message is refused too.
    for i in range(2000):
        r = publish(ws, PAYLOAD, context="%s-one-%d" % (tag, i))
        if r.get("result") != "ok":
            eq(r.get("result"), "send-error:8", "result while filling (%r)" % r)
            return stored
        stored += 1
    raise AssertionError("single publishes never filled the map")


def publish_ok(srv, n=20):
    ws = connect(srv, path("producer", uniq("after")))
    for i in range(n):
        r = publish(ws, PAYLOAD, context=str(i))
        eq(r.get("result"), "ok", "publish %d after freeing space (%r)" % (i, r))
    ws.close()


def delete_topic(srv, topic):
    st, _, body = admin(srv, "DELETE", topic_admin_path(topic) + "?force=true")
    eq(st, 204, "DELETE of the full topic (body %r)" % body[:200])


@test
def delete_unsubscribe_and_publish_on_a_full_store():
    srv = start_server(["-o", "storageMapSizeMB=%d" % MAP_MB])
    topic = uniq("full")
    st, _, body = admin(srv, "PUT", topic_admin_path(topic, "subscription/keep"))
    eq(st, 204, "create subscription (%r)" % body)
    ws = connect(srv, path("producer", topic))
    stored = fill(ws, "a")
    check(stored > 2000, "only %d messages fit in %d MiB" % (stored, MAP_MB))
    # Still full: a new producer session is refused per message, not at the handshake.
    r = publish(ws, PAYLOAD, context="again")
    eq(r.get("result"), "send-error:8", "publish on the full store")
    ws.close()
    st, _, body = admin(srv, "DELETE", topic_admin_path(topic, "subscription/keep"))
    eq(st, 204, "unsubscribe on the full store (body %r)" % body[:200])
    delete_topic(srv, topic)
    publish_ok(srv)

    # Full again, then a restart on the full store: deleting still works.
    topic2 = uniq("full2")
    ws = connect(srv, path("producer", topic2))
    fill(ws, "b")
    ws.close()
    srv.stop()
    srv = restart(srv)
    ws = connect(srv, path("producer", topic2))
    eq(publish(ws, PAYLOAD, context="x").get("result"), "send-error:8",
       "publish right after the restart on a full store")
    ws.close()
    delete_topic(srv, topic2)
    publish_ok(srv)
    check(srv.alive(), "server alive")


if __name__ == "__main__":
    main()
