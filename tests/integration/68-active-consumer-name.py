# 68-active-consumer-name.py - activeConsumerName in subscription stats (issue 11).
#
# PersistentSubscription.getStats sets activeConsumerName from the single-active-consumer
# dispatcher (Exclusive, Failover); Shared has none, and Pulsar's admin mapper leaves nulls out.

import time

from magnetar_harness import check, connect, eq, main, path, rest_json, shared_server, test, uniq


def srv():
    return shared_server()


def sub_stats(s, topic, sub):
    st, stats = rest_json(s, "GET", "/admin/v2/persistent/public/default/%s/stats" % topic)
    eq(st, 200, "stats")
    return stats["subscriptions"][sub]


@test
def active_consumer_name_in_subscription_stats():
    s = srv()
    t = uniq()
    ex = connect(s, path("consumer", t, "ex", params="consumerName=alice"))
    eq(sub_stats(s, t, "ex").get("activeConsumerName"), "alice", "Exclusive")
    f1 = connect(s, path("consumer", t, "fo", params="subscriptionType=Failover&consumerName=bob"))
    f2 = connect(s, path("consumer", t, "fo", params="subscriptionType=Failover&consumerName=carol"))
    eq(sub_stats(s, t, "fo").get("activeConsumerName"), "bob", "Failover: the first consumer")
    f1.close(timeout=1)
    deadline = time.time() + 5
    while sub_stats(s, t, "fo").get("activeConsumerName") != "carol" and time.time() < deadline:
        time.sleep(0.05)
    eq(sub_stats(s, t, "fo").get("activeConsumerName"), "carol", "Failover after the switch")
    sh = connect(s, path("consumer", t, "sh", params="subscriptionType=Shared&consumerName=dave"))
    check("activeConsumerName" not in sub_stats(s, t, "sh"), "Shared has none")
    for ws in (ex, f2, sh):
        ws.close(timeout=1)
    deadline = time.time() + 5
    while "activeConsumerName" in sub_stats(s, t, "ex") and time.time() < deadline:
        time.sleep(0.05)
    check("activeConsumerName" not in sub_stats(s, t, "ex"), "no consumer, no active name")


if __name__ == "__main__":
    main()
