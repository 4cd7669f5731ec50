# 05-paths.py - URL routing, topic-name parsing and upgrade statuses
# (AbstractWebSocketHandler.extractTopicName and getErrorCode).
#
# v2 and legacy v1 paths for producer/consumer/reader, persistent and non-persistent, trailing
# slash on producer URLs, percent-decoding of the topic (URLDecoder: %20 and + are spaces), the
# subscription segment, and the HTTP status of bad paths: 500 for path-parse failures (fewer than
# 8 segments, bad domain, bad tenant/namespace characters), 400 for consumer-specific errors
# (empty subscription, slash in a consumer topic), 404 with allowAutoTopicCreation=false.

import json

from magnetar_harness import (b64, check, connect, decode_msgid, eq, main, path, produce, publish,
                              recv_json, shared_server, start_server, test, uniq, upgrade_status)


def srv():
    return shared_server()


def status(target, s=None):
    return upgrade_status(s or srv(), target)[0]


@test
def v2_all_endpoints_and_domains_upgrade():
    for domain in ("persistent", "non-persistent"):
        t = uniq()
        eq(status(path("producer", t, domain=domain)), 101, "v2 producer %s" % domain)
        eq(status(path("consumer", t, "sub", domain=domain)), 101, "v2 consumer %s" % domain)
        eq(status(path("reader", t, domain=domain)), 101, "v2 reader %s" % domain)


@test
def v2_roundtrip_each_domain():
    s = srv()
    for domain in ("persistent", "non-persistent"):
        t = uniq()
        cons = connect(s, path("consumer", t, "sub", domain=domain))
        ids = produce(s, t, [b"d-" + domain.encode()], domain=domain)
        d = recv_json(cons)
        eq(d["messageId"], ids[0], "id on %s" % domain)
        eq(d["payload"], b64(b"d-" + domain.encode()), "payload on %s" % domain)
        cons.close(timeout=1)


@test
def producer_trailing_slash():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    prod = connect(s, path("producer", t) + "/")
    r = publish(prod, b"slash", context="1")
    eq(r["result"], "ok", "receipt on a trailing-slash producer URL")
    eq(recv_json(cons)["messageId"], r["messageId"], "same topic with and without trailing slash")


@test
def legacy_v1_paths_roundtrip():
    s = srv()
    t = uniq()
    v1 = "/ws/%s/persistent/my-property/standalone/my-ns/%s"
    eq(status(v1 % ("producer", t)), 101, "v1 producer")
    eq(status(v1 % ("reader", t)), 101, "v1 reader")
    cons = connect(s, (v1 % ("consumer", t)) + "/my-sub")
    rd = connect(s, v1 % ("reader", t))
    prod = connect(s, v1 % ("producer", t))
    r = publish(prod, b"v1", context="v1")
    eq(r["result"], "ok", "v1 receipt")
    eq(recv_json(cons)["messageId"], r["messageId"], "v1 consumer id")
    eq(recv_json(rd)["messageId"], r["messageId"], "v1 reader id")
    # The v1 name lives in another namespace than the v2 public/default topic of the same local name.
    cons2 = connect(s, path("consumer", t, "my-sub"))
    prod.send(json.dumps({"payload": b64(b"v1b"), "context": "2"}))
    eq(recv_json(prod)["result"], "ok", "second v1 receipt")
    from magnetar_harness import expect_silence
    expect_silence(cons2, 0.5)


@test
def percent_decoding_topic_and_subscription():
    s = srv()
    base = uniq()
    # "a b" written three ways: %20, + (URLDecoder), and with other encoded punctuation.
    t_enc = base + "%20x%5B%5D%21"      # "<base> x[]!"
    t_plus = base + "+x%5B%5D!"         # same name: + -> space, ! literal
    cons = connect(s, path("consumer", t_plus, "my-subscription%5B%5D%3C%3E"))
    r = publish(connect(s, path("producer", t_enc)), b"enc", context="1")
    eq(r["result"], "ok", "receipt")
    d = recv_json(cons)
    eq(d["messageId"], r["messageId"], "percent-encoded and +-encoded names are the same topic")
    cons.send(json.dumps({"messageId": d["messageId"]}))
    cons.close(timeout=1)
    # The subscription name was decoded too: same decoded name via a different encoding is the
    # same durable subscription (it saw the message, so the backlog is there after reconnect).
    prod = connect(s, path("producer", t_enc))
    r2 = publish(prod, b"enc2", context="2")
    cons = connect(s, path("consumer", t_enc, "my-subscription%5b%5d%3c%3e"))
    eq(recv_json(cons)["messageId"], r2["messageId"],
       "subscription 'my-subscription[]<>' reached with two encodings")


@test
def utf8_topic_names():
    s = srv()
    t = uniq() + "-%E3%80%81%E3%80%8A%E3%80%8B"  # CJK punctuation
    cons = connect(s, path("consumer", t, "s"))
    r = publish(connect(s, path("producer", t)), b"cjk", context="1")
    eq(r["result"], "ok", "receipt on a UTF-8 topic name")
    eq(recv_json(cons)["messageId"], r["messageId"], "delivery on a UTF-8 topic name")


@test
def parse_failures_500():
    cases = [
        "/ws/v2/producer/persistent/public/default",          # 7 segments: no topic
        "/ws/v2/producer/persistent/public/default/",         # empty local name
        "/ws/v2/producer/Persistent/public/default/t",        # domain is case-sensitive
        "/ws/v2/producer/http/public/default/t",              # bad domain
        "/ws/v2/producer/persistent/pub%20lic/default/t",     # tenant not decoded, % invalid
        "/ws/v2/producer/persistent/public/def*ault/t",       # bad namespace char
        "/ws/v2/reader/persistent/public/default",
        "/ws/producer/persistent/prop/cluster/ns",            # v1 without topic
    ]
    got = [(c, status(c)) for c in cases]
    bad = [(c, st) for c, st in got if st != 500]
    eq(bad, [], "paths that must be refused with 500 (uncaught in the handler) -> (path, status)")


@test
def consumer_path_errors_400():
    t = uniq()
    eq(status(path("consumer", t, "")), 400, "empty subscription (trailing slash)")
    eq(status("/ws/v2/consumer/persistent/public/default/a/b/sub"), 400,
       "consumer topic containing a slash (10 segments)")


@test
def auto_topic_creation_disabled_404():
    s = start_server(["-o", "allowAutoTopicCreation=false"])
    t = uniq()
    eq(status(path("producer", t), s), 404, "producer on an absent topic")
    eq(status(path("consumer", t, "sub"), s), 404, "consumer on an absent topic")


@test
def auto_topic_creation_disabled_reader_500():
    # ReaderHandler (2.10): every reader creation failure (topic missing
    # included) is HTTP 500 "Failed to create reader: ...", unlike producer/consumer (404).
    s = start_server(["-o", "allowAutoTopicCreation=false"])
    eq(status(path("reader", uniq()), s), 500, "reader on an absent topic (Pulsar 2.10: always 500)")


@test
def message_ids_differ_per_topic():
    s = srv()
    a = produce(s, uniq(), [b"1", b"2"])
    b = produce(s, uniq(), [b"1"])
    da = [decode_msgid(x) for x in a]
    db = decode_msgid(b[0])
    eq(da[0]["ledger"], da[1]["ledger"], "same ledger within a topic")
    eq(da[1]["entry"], da[0]["entry"] + 1, "consecutive entry ids within a topic")
    check(db["ledger"] != da[0]["ledger"], "different topics must have different ledger ids")


if __name__ == "__main__":
    main()
