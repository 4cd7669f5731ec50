# 63-broker-defaults.py - broker-wide defaults of Pulsar's ServiceConfiguration that Magnetar applies.
#
# defaultRetentionTimeInMinutes / defaultRetentionSizeInMB are the retention of a namespace without
# a retention policy (BrokerService.getManagedLedgerConfig): -1/-1 keeps consumed entries, and a
# namespace policy still overrides them. subscriptionKeySharedUseConsistentHashing=false (hash-range
# splitting) is not supported: the server starts and says so.

from magnetar_harness import (connect, eq, main, path, publish_many, rest_json, start_server, test,
                              uniq)


def tpath(topic, suffix, ns="default"):
    return "/admin/v2/persistent/public/%s/%s/%s" % (ns, topic, suffix)


def produce(s, topic, n, ns="default", size=200):
    ws = connect(s, path("producer", topic, ns=ns))
    for start in range(0, n, 500):
        for r in publish_many(ws, [b"%06d" % i + b"." * size for i in range(start, min(n, start + 500))]):
            eq(r["result"], "ok", "receipt")
    ws.close()


def entries_after_consuming(s, topic, ns="default", size=200):
    eq(rest_json(s, "PUT", tpath(topic, "subscription/s", ns)), (204, None), "subscription")
    produce(s, topic, 2500, ns, size)
    eq(rest_json(s, "POST", tpath(topic, "subscription/s/skip_all", ns)), (204, None), "consume all")
    st, internal = rest_json(s, "GET", tpath(topic, "internalStats", ns))
    eq(st, 200, "internalStats")
    return internal["numberOfEntries"]


@test
def default_retention_keeps_consumed_entries():
    s = start_server(["-o", "defaultRetentionTimeInMinutes=-1", "-o", "defaultRetentionSizeInMB=-1",
                      "-o", "journalSyncData=false"])
    eq(entries_after_consuming(s, uniq()), 2500, "entries kept by the broker default")
    # A namespace policy wins over the default.
    ns = uniq("ns")
    eq(rest_json(s, "PUT", "/admin/v2/namespaces/public/" + ns), (204, None), "namespace")
    eq(rest_json(s, "POST", "/admin/v2/namespaces/public/%s/retention" % ns,
                 {"retentionTimeInMinutes": 0, "retentionSizeInMB": 0}), (204, None), "no retention")
    eq(entries_after_consuming(s, uniq(), ns), 500, "only the newest segment (ids 2000..) with the namespace policy")


@test
def default_size_retention_trims_to_the_size():
    s = start_server(["-o", "defaultRetentionTimeInMinutes=-1", "-o", "defaultRetentionSizeInMB=1",
                      "-o", "journalSyncData=false"])
    n = entries_after_consuming(s, uniq(), size=1024)    # 2.5 MB consumed
    eq(600 < n < 1000, True, "entries kept within 1 MB (more than the newest segment's 500): %d" % n)


@test
def key_shared_splitting_mode_warns():
    s = start_server(["-o", "subscriptionKeySharedUseConsistentHashing=false"])
    with open(s.stderr_path) as f:
        lines = [l for l in f if "subscriptionKeySharedUseConsistentHashing=false" in l]
    eq(len(lines), 1, "warning lines")
    eq(" warn " in lines[0], True, "a warning: " + lines[0])


if __name__ == "__main__":
    main()
