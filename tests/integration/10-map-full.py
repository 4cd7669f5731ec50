# 10-map-full.py - LMDB map full (storageMapSizeMB=1) is a send error, not a crash (issue 2).
#
# With a 1 MiB map, publishing well over 1 MiB must make the affected publishes fail with
# send-error:8 (context echoed, no messageId) while the producer session stays open and the
# server keeps running; an earliest reader then reads exactly the messages that got "ok"
# receipts, with the same ids and payloads.

import json

from magnetar_harness import (OP_PING, OP_PONG, RawWS, b64, check, connect, eq, main, path, pub_msg,
                              recv_json, start_server, test, uniq, upgrade_status)


@test
def map_full_send_error_8_and_reader_reads_stored():
    srv = start_server(["-o", "storageMapSizeMB=1"])
    topic = uniq("full")
    ws = connect(srv, path("producer", topic))
    oks = []
    errs = []
    chunk = 48 * 1024
    for i in range(48):   # ~2.3 MiB of payload, sent one at a time
        payload = bytes([65 + i % 26]) * chunk
        ws.send(pub_msg(payload, "m%d" % i))
        r = recv_json(ws, 10)
        eq(r.get("context"), "m%d" % i, "receipt context %d" % i)
        if r.get("result") == "ok":
            oks.append((i, r["messageId"]))
        else:
            eq(r.get("result"), "send-error:8", "error result for publish %d (%r)" % (i, r))
            check("messageId" not in r, "error receipt carries a messageId: %r" % r)
            errs.append(i)
    check(oks, "no publish succeeded with a 1 MiB map (48 KiB messages)")
    check(errs, "no send-error:8 after publishing ~2.3 MiB into a 1 MiB map")
    eq(oks[0][0], 0, "the first publish must succeed")
    # The session is still open: a ping is answered and one more publish gets a receipt.
    ws.ping(b"alive?")
    ws.send(pub_msg(b"tiny", "tiny"))
    r = recv_json(ws, 5)
    eq(r.get("context"), "tiny", "receipt for a publish after map-full errors")
    check(r.get("result") in ("ok", "send-error:8"), "result after map full: %r" % r)
    if r.get("result") == "ok":
        oks.append(("tiny", r["messageId"]))
    check(srv.alive(), "server died after map full")
    # Other clients still work: a new session upgrades.
    eq(upgrade_status(srv, path("producer", topic))[0], 101, "new producer session after map full")
    # A reader reads exactly what was acknowledged.
    rd = connect(srv, path("reader", topic, params="messageId=earliest"))
    got = []
    for _ in oks:
        m = recv_json(rd, 10)
        got.append(m)
        rd.send(json.dumps({"messageId": m["messageId"]}))
    eq([m["messageId"] for m in got], [mid for _, mid in oks], "reader ids vs ok receipts")
    want = [b64(bytes([65 + i % 26]) * chunk) if i != "tiny" else b64(b"tiny") for i, _ in oks]
    eq([m["payload"] for m in got], want, "reader payloads vs ok publishes")
    rd.settimeout(1.0)
    try:
        extra = rd.recv()
    except Exception:
        extra = None
    eq(extra, None, "reader got a message that was never acknowledged")


@test
def map_full_raw_session_stays_open():
    srv = start_server(["-o", "storageMapSizeMB=1"])
    ws = RawWS.connect(srv, path("producer", uniq("rawfull")))
    results = []
    for i in range(40):
        ws.send_text(pub_msg(b"x" * 60000, str(i)))
        results.append(ws.recv_json(10).get("result"))
    check("send-error:8" in results, "no send-error:8 in %r" % results)
    ws.send_frame(OP_PING, b"p")
    while True:
        f = ws.recv_frame(3)
        if f.opcode == OP_PONG:
            eq(f.payload, b"p", "pong payload")
            break
        check(f.opcode != 8, "session closed after map full")



@test
def map_full_reported_and_recovered_after_delete():
    # /metrics reports the full map; deleting the data makes room and publishing works again.
    import urllib.request
    srv = start_server(["-o", "storageMapSizeMB=1"])
    topic = uniq("fill")
    ws = connect(srv, path("producer", topic))
    full = False
    for i in range(60):
        ws.send(pub_msg(b"Z" * (48 * 1024), "f%d" % i))
        if recv_json(ws, 10).get("result") == "send-error:8":
            full = True
            break
    check(full, "the 1 MiB map never filled up")

    def metric():
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.port, timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("magnetar_storage_full "):
                    return line.split()[1]
        return None

    eq(metric(), "1", "magnetar_storage_full while the map is full")
    ws.close()
    req = urllib.request.Request("http://127.0.0.1:%d/admin/v2/persistent/public/default/%s?force=true"
                                 % (srv.port, topic), method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as r:
        eq(r.status, 204, "deleting the full topic")
    p2 = connect(srv, path("producer", uniq("after")))
    r = None
    for i in range(10):
        p2.send(pub_msg(b"Y" * (48 * 1024), "a%d" % i))
        r = recv_json(p2, 10)
        eq(r.get("result"), "ok", "publish %d after space returned (%r)" % (i, r))
    eq(metric(), "0", "magnetar_storage_full once writes succeed again")

if __name__ == "__main__":
    main()
