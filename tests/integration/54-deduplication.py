# 54-deduplication.py - producerName, initialSequenceId and message deduplication (issue #7;
# ProducerHandler.getProducerBuilder).
#
# The WS producer cannot send its own sequence ids (the JSON sequenceId field is ignored): they are
# assigned per session as initialSequenceId+1, +2, ... (without initialSequenceId: the producer
# name's last stored sequence id + 1, as the Java client takes it from the broker) and kept in the
# entry metadata (X-Pulsar-sequence-id of the admin get-message endpoint). With deduplication on
# (POST /admin/v2/namespaces/{t}/{ns}/deduplication true, or brokerDeduplicationEnabled; the
# namespace policy wins), a republished (producerName, sequenceId) that is already stored is
# acknowledged with the ORIGINAL message id (Magnetar's choice; Pulsar answers -1:-1) and not
# stored again - across restarts and kill -9 too. Without it, duplicates are stored.

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (admin, b64, connect_retry, create_namespace,  # noqa: E402
                              decode_msgid, eq, main, msgid_b64, path, publish, read_n, restart,
                              set_deduplication, shared_server, start_server, test,
                              topic_admin_path, topic_stats, uniq)


def srv():
    return shared_server()


def dedup_ns(s, enabled=True):
    ns = uniq("ns")
    create_namespace(s, "public", ns)
    if enabled is not None:
        st, body = set_deduplication(s, "public", ns, enabled)
        eq(st, 204, "POST deduplication %s (%r)" % (enabled, body))
    return ns


def session(s, topic, ns, payloads, name="P", init=None):
    """One producer session: publishes payloads one by one, closes; returns the receipts."""
    params = "producerName=" + name
    if init is not None:
        params += "&initialSequenceId=%d" % init
    ws = connect_retry(s, path("producer", topic, params=params, ns=ns))
    try:
        rs = [publish(ws, p, context=str(i)) for i, p in enumerate(payloads)]
    finally:
        ws.close(timeout=1)
    for r in rs:
        eq(r.get("result"), "ok", "receipt %r" % r)
    return [r["messageId"] for r in rs]


def stored(s, topic, ns, n):
    """Exactly n stored messages (reader from earliest): their payloads."""
    return [m["payload"] for m in read_n(s, path("reader", topic, params="messageId=earliest", ns=ns), n)]


def seq_and_name(s, topic, ns, mid):
    d = decode_msgid(mid)
    st, h, _ = admin(s, "GET", topic_admin_path(topic, "ledger/%d/entry/%d" % (d["ledger"], d["entry"]), ns=ns))
    eq(st, 200, "get message %s" % mid)
    return h.get("x-pulsar-sequence-id"), h.get("x-pulsar-producer-name")


def next_ids(mid, n, first_offset=1):
    d = decode_msgid(mid)
    return [msgid_b64(d["ledger"], d["entry"] + first_offset + i) for i in range(n)]


@test
def namespace_deduplication_endpoint():
    s = srv()
    ns = dedup_ns(s, None)
    target = "/admin/v2/namespaces/public/%s/deduplication" % ns
    eq(set_deduplication(s, "public", ns, True)[0], 204, "enable")
    st, _, body = admin(s, "GET", target)
    eq((st, body.strip()), (200, b"true"), "GET after enabling")
    eq(set_deduplication(s, "public", ns, False)[0], 204, "disable")
    st, _, body = admin(s, "GET", target)
    eq((st, body.strip()), (200, b"false"), "GET after disabling")
    eq(admin(s, "POST", target, "notabool")[0], 400, "non-boolean body")
    eq(admin(s, "DELETE", target)[0], 204, "DELETE (back to the broker default)")
    eq(set_deduplication(s, "public", uniq("missing"), True)[0], 404, "unknown namespace")


@test
def republished_sequence_ids_get_the_original_ids():
    s = srv()
    ns = dedup_ns(s)
    t = uniq()
    orig = session(s, t, ns, [b"a0", b"a1", b"a2"], init=-1)
    eq(orig, next_ids(orig[0], 3, 0), "first session: consecutive ids")
    again = session(s, t, ns, [b"d0", b"d1", b"d2"], init=-1)
    eq(again, orig, "receipts of the republished sequence ids 0..2 carry the original ids")
    eq(stored(s, t, ns, 3), [b64(b"a0"), b64(b"a1"), b64(b"a2")], "nothing stored twice")
    more = session(s, t, ns, [b"n3", b"n4"], init=2)
    eq(more, next_ids(orig[2], 2), "initialSequenceId=2: sequence ids 3, 4 are new")
    eq(stored(s, t, ns, 5), [b64(x) for x in (b"a0", b"a1", b"a2", b"n3", b"n4")], "stored after new ids")
    eq([seq_and_name(s, t, ns, m) for m in orig + more],
       [(str(i), "P") for i in range(5)], "X-Pulsar-sequence-id / producer-name of the entries")


@test
def partially_overlapping_resend():
    s = srv()
    ns = dedup_ns(s)
    t = uniq()
    orig = session(s, t, ns, [b"o%d" % i for i in range(5)], init=-1)
    again = session(s, t, ns, [b"r2", b"r3", b"r4", b"r5"], init=1)   # sequence ids 2, 3, 4, 5
    eq(again[:3], orig[2:], "sequence ids 2..4: original ids")
    eq(again[3], next_ids(orig[4], 1)[0], "sequence id 5: stored as the next entry")
    eq(stored(s, t, ns, 6), [b64(b"o%d" % i) for i in range(5)] + [b64(b"r5")], "stored messages")


@test
def without_initial_sequence_id_the_producer_continues():
    s = srv()
    ns = dedup_ns(s)
    t = uniq()
    first = session(s, t, ns, [b"x0", b"x1", b"x2"])
    second = session(s, t, ns, [b"x3", b"x4"])
    eq(second, next_ids(first[2], 2), "a reconnecting producer without initialSequenceId is not deduplicated")
    eq(stored(s, t, ns, 5), [b64(b"x%d" % i) for i in range(5)], "all five stored")
    eq([seq_and_name(s, t, ns, m)[0] for m in first + second], ["0", "1", "2", "3", "4"],
       "sequence ids continue from the last stored one")


@test
def producer_names_are_independent():
    s = srv()
    ns = dedup_ns(s)
    t = uniq()
    a = session(s, t, ns, [b"p0", b"p1", b"p2"], name="P1", init=-1)
    b = session(s, t, ns, [b"q0", b"q1", b"q2"], name="P2", init=-1)
    eq(b, next_ids(a[2], 3), "same sequence ids under another producer name are new messages")
    eq(len(set(a + b)), 6, "six distinct ids")
    stored(s, t, ns, 6)


@test
def without_deduplication_duplicates_are_stored():
    s = srv()
    for enabled in (None, False):
        ns = dedup_ns(s, enabled)
        t = uniq()
        a = session(s, t, ns, [b"a0", b"a1", b"a2"], init=-1)
        b = session(s, t, ns, [b"a0", b"a1", b"a2"], init=-1)
        eq(b, next_ids(a[2], 3), "deduplication %s: republished messages stored as new entries" % enabled)
        eq(stored(s, t, ns, 6), [b64(x) for x in (b"a0", b"a1", b"a2")] * 2, "six stored")


@test
def deduplication_can_be_switched_off_again():
    s = srv()
    ns = dedup_ns(s)
    t = uniq()
    a = session(s, t, ns, [b"s0"], init=-1)
    eq(session(s, t, ns, [b"s0"], init=-1), a, "deduplicated while on")
    eq(set_deduplication(s, "public", ns, False)[0], 204, "disable")
    b = session(s, t, ns, [b"s0"], init=-1)
    eq(b, next_ids(a[0], 1), "stored again once deduplication is off")


@test
def deduplication_survives_restart_and_kill9():
    s = start_server()
    ns = dedup_ns(s)
    t = uniq()
    orig = session(s, t, ns, [b"a0", b"a1", b"a2"], init=-1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    eq(session(s, t, ns, [b"z0", b"z1", b"z2"], init=-1), orig, "original ids after a restart")
    more = session(s, t, ns, [b"a3", b"a4"], init=2)
    s.kill9()
    s = restart(s)
    eq(session(s, t, ns, [b"z3", b"z4"], init=2), more, "original ids after kill -9")
    eq(session(s, t, ns, [b"a5"]), next_ids(more[1], 1), "no initialSequenceId: continues after 4")
    eq(stored(s, t, ns, 6), [b64(b"a%d" % i) for i in range(6)], "stored exactly once each")


@test
def broker_level_setting_and_namespace_override():
    s = start_server(["-o", "brokerDeduplicationEnabled=true"])
    t = uniq()
    a = session(s, t, "default", [b"b0", b"b1"], init=-1)
    eq(session(s, t, "default", [b"c0", b"c1"], init=-1), a, "brokerDeduplicationEnabled=true deduplicates")
    eq(stored(s, t, "default", 2), [b64(b"b0"), b64(b"b1")], "stored once")
    ns = dedup_ns(s, False)
    a = session(s, t, ns, [b"b0"], init=-1)
    eq(session(s, t, ns, [b"b0"], init=-1), next_ids(a[0], 1), "namespace policy false overrides the broker")


@test
def stats_report_deduplication_status():
    s = srv()
    on = dedup_ns(s)
    off = dedup_ns(s, None)
    t = uniq()
    for ns, status in ((on, "Enabled"), (off, "Disabled")):
        session(s, t, ns, [b"x"], init=-1)
        eq(topic_stats(s, t, ns=ns).get("deduplicationStatus"), status, "deduplicationStatus in %s" % ns)


@test
def initial_sequence_id_sets_the_first_sequence_id():
    s = srv()
    ns = dedup_ns(s, None)
    t = uniq()
    ids = session(s, t, ns, [b"i0", b"i1", b"i2"], name="seq-producer", init=9)
    eq([seq_and_name(s, t, ns, m) for m in ids], [(str(i), "seq-producer") for i in (10, 11, 12)],
       "initialSequenceId=9: sequence ids 10, 11, 12")
    t2 = uniq()
    ws = connect_retry(s, path("producer", t2, ns=ns))
    rs = [publish(ws, b"u%d" % i, context=str(i), sequenceId=12345) for i in range(2)]
    ws.close(timeout=1)
    for r in rs:
        eq(r.get("result"), "ok", "unnamed producer receipt %r" % r)
    eq([seq_and_name(s, t2, ns, r["messageId"])[0] for r in rs], ["0", "1"],
       "unnamed producer: sequence ids 0, 1 (the JSON sequenceId field is ignored)")

if __name__ == "__main__":
    main()
