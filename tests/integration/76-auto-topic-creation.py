# 76-auto-topic-creation.py - the namespace autoTopicCreation policy (issue 11).
#
# GET/POST/DELETE /admin/v2/namespaces/{t}/{ns}/autoTopicCreation with Pulsar's
# AutoTopicCreationOverride JSON and validation (412 "Invalid configuration for
# autoTopicCreationOverride. the detail is ..."), autoTopicCreationOverride in the namespace
# policies, and its enforcement: it overrides the broker's allowAutoTopicCreation* for WebSocket
# producers and consumers on missing topics (404 when refused; a partitioned override creates a
# partitioned topic with defaultNumPartitions) and for topic lookups.

from magnetar_harness import (connect, eq, main, path, produce, rest_call, rest_json, restart,
                              start_server, test, upgrade_status, uniq)

INVALID = "Invalid configuration for autoTopicCreationOverride. the detail is "


def ns_path(ns, suffix=""):
    return "/admin/v2/namespaces/public/%s%s" % (ns, "/" + suffix if suffix else "")


def new_ns(s):
    ns = uniq("ns")
    eq(rest_call(s, "PUT", ns_path(ns))[0], 204, "namespace")
    return ns


def set_override(s, ns, body):
    return rest_json(s, "POST", ns_path(ns, "autoTopicCreation"), body)


@test
def endpoints_and_validation():
    s = start_server()
    ns = new_ns(s)
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")), (204, None), "unset")
    eq(rest_json(s, "GET", ns_path(ns))[1]["autoTopicCreationOverride"], None, "policies: null")
    part = {"allowAutoTopicCreation": True, "topicType": "partitioned", "defaultNumPartitions": 3}
    eq(set_override(s, ns, part), (204, None), "set partitioned")
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")), (200, part), "get")
    eq(rest_json(s, "GET", ns_path(ns))[1]["autoTopicCreationOverride"], part, "in the policies")
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "partitioned"}),
       (412, {"reason": INVALID + "[defaultNumPartitions] cannot be null when the type is partitioned."}),
       "partitioned without a count")
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "partitioned",
                            "defaultNumPartitions": 0}),
       (412, {"reason": INVALID + "[defaultNumPartitions] cannot be less than 1 for partition type."}),
       "zero partitions")
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "non-partitioned",
                            "defaultNumPartitions": 2}),
       (412, {"reason": INVALID + "[defaultNumPartitions] is not allowed to be set when the type is "
                                  "non-partition."}), "count on non-partitioned")
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "sharded"}),
       (412, {"reason": INVALID + "Unknown topic type [sharded]"}), "unknown type")
    eq(rest_call(s, "POST", ns_path(ns, "autoTopicCreation"), "[1]")[0], 400, "not an object")
    eq(rest_call(s, "POST", ns_path(ns, "autoTopicCreation"), "{\"allowAutoTopicCreation\":3}")[0],
       400, "wrong type")
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")), (200, part), "refused calls change nothing")
    eq(set_override(s, ns, {"allowAutoTopicCreation": False}), (204, None), "disallow (no type needed)")
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")),
       (200, {"allowAutoTopicCreation": False}), "get disallow")
    eq(set_override(s, "nope", part), (404, {"reason": "Namespace does not exist"}), "missing ns")
    s.stop()
    s = restart(s)
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")),
       (200, {"allowAutoTopicCreation": False}), "durable")
    eq(rest_call(s, "DELETE", ns_path(ns, "autoTopicCreation"))[0], 204, "remove")
    eq(rest_json(s, "GET", ns_path(ns, "autoTopicCreation")), (204, None), "removed")


@test
def override_refuses_creation():
    s = start_server()      # the broker allows auto-creation
    ns = new_ns(s)
    eq(set_override(s, ns, {"allowAutoTopicCreation": False}), (204, None), "namespace forbids")
    t = uniq()
    eq(upgrade_status(s, path("producer", t, ns=ns))[0], 404, "producer on a missing topic")
    eq(upgrade_status(s, path("consumer", t, "sub", ns=ns))[0], 404, "consumer on a missing topic")
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/%s/%s" % (ns, t)),
       (404, {"reason": "Topic not found"}), "lookup")
    eq(rest_call(s, "PUT", "/admin/v2/persistent/public/%s/%s" % (ns, t))[0], 204,
       "an explicit create still works")
    produce(s, t, [b"ok"], ns=ns)
    produce(s, uniq(), [b"other namespaces are not affected"])
    eq(rest_call(s, "DELETE", ns_path(ns, "autoTopicCreation"))[0], 204, "remove the override")
    produce(s, uniq(), [b"broker default again"], ns=ns)


@test
def override_allows_creation():
    s = start_server(["-o", "allowAutoTopicCreation=false"])
    ns = new_ns(s)
    t = uniq()
    eq(upgrade_status(s, path("producer", t, ns=ns))[0], 404, "broker forbids")
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "non-partitioned"}),
       (204, None), "namespace allows")
    produce(s, t, [b"created"], ns=ns)
    eq(rest_json(s, "GET", "/admin/v2/persistent/public/%s/%s/partitions" % (ns, t)),
       (200, {"partitions": 0}), "non-partitioned")
    eq(upgrade_status(s, path("producer", uniq()))[0], 404, "public/default still forbids")


@test
def override_partitioned():
    s = start_server()
    ns = new_ns(s)
    eq(set_override(s, ns, {"allowAutoTopicCreation": True, "topicType": "partitioned",
                            "defaultNumPartitions": 3}), (204, None), "partitioned override")
    t = uniq()
    c = connect(s, path("consumer", t, "sub", ns=ns))
    c.close()
    eq(rest_json(s, "GET", "/admin/v2/persistent/public/%s/%s/partitions" % (ns, t)),
       (200, {"partitions": 3}), "auto-created with defaultNumPartitions partitions")
    d = uniq()
    produce(s, d, [b"x"])
    eq(rest_json(s, "GET", "/admin/v2/persistent/public/default/%s/partitions" % d),
       (200, {"partitions": 0}), "the broker default elsewhere")


if __name__ == "__main__":
    main()
