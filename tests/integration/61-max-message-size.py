# 61-max-message-size.py - maxMessageSize is enforced on publish as the Java client in the proxy does.
#
# With maxMessageSize=2 MiB and webSocketMaxTextFrameSize=8 MiB, a 3 MiB payload fits in a frame but
# not in a message: it gets send-error:8 with the InvalidMessageException text of
# ProducerImpl.sendAsync (compressed size when compressing, "Compressed" only then) or, batching,
# of BatchMessageContainerImpl.createOpSendMsg; the context is echoed and the session stays usable.
# A payload of exactly maxMessageSize is accepted, and a refused message is not stored.

import base64
import random

from magnetar_harness import (check, connect, eq, main, path, publish_fast, recv_json, shared_server,
                              test, uniq)

MAX = 2 * 1024 * 1024
RNG = random.Random(61)


def srv():
    return shared_server("-o", "maxMessageSize=%d" % MAX, "-o", "webSocketMaxTextFrameSize=8388608")


def producer(topic, **params):
    params.setdefault("producerName", "p61")
    return connect(srv(), path("producer", topic, params=params), timeout=20)


@test
def plain_payload_over_limit_gets_send_error_8():
    topic = uniq("mms")
    ws = producer(topic)
    r = publish_fast(ws, RNG.randbytes(3 * 1024 * 1024), context="big")
    eq((r["result"], r.get("context"), "messageId" in r), ("send-error:8", "big", False), "receipt")
    eq(r.get("errorMsg"), "The producer p61 of the topic persistent://public/default/%s sends a  message with "
                          "3145728 bytes that exceeds 2097152 bytes" % topic, "errorMsg")
    r = publish_fast(ws, RNG.randbytes(MAX + 1), context="one-more")
    eq(r["result"], "send-error:8", "maxMessageSize + 1")
    check("with 2097153 bytes that exceeds 2097152 bytes" in r["errorMsg"], r["errorMsg"])
    r = publish_fast(ws, RNG.randbytes(MAX), context="exact")
    eq((r["result"], r["context"]), ("ok", "exact"), "payload of exactly maxMessageSize")
    ws.close()


@test
def refused_message_is_not_stored():
    topic = uniq("mms-seq")
    ws = producer(topic)
    publish_fast(ws, RNG.randbytes(MAX + 10), context="big")
    eq(publish_fast(ws, b"small", context="s")["result"], "ok", "small after big")
    ws.close()
    c = connect(srv(), path("reader", topic, params={"messageId": "earliest"}))
    m = recv_json(c, 10)
    eq(m.get("context"), None, "reader message has no context")
    eq(base64.b64decode(m["payload"]), b"small", "only the small message was stored")
    c.close()


@test
def compressed_size_counts():
    topic = uniq("mms-lz4")
    ws = producer(topic, compressionType="LZ4")
    r = publish_fast(ws, b"0123456789abcdef" * (3 * 1024 * 1024 // 16), context="squeezable")
    eq(r["result"], "ok", "3 MiB that LZ4 compresses under the limit")
    r = publish_fast(ws, RNG.randbytes(3 * 1024 * 1024), context="random")
    eq(r["result"], "send-error:8", "random 3 MiB with LZ4")
    pre = "The producer p61 of the topic persistent://public/default/%s sends a Compressed message with " % topic
    check(r["errorMsg"].startswith(pre) and r["errorMsg"].endswith(" bytes that exceeds 2097152 bytes"),
          r["errorMsg"])
    n = int(r["errorMsg"][len(pre):].split(" ")[0])
    check(n > 3 * 1024 * 1024, "compressed size %d of random data" % n)
    ws.close()


@test
def batching_producer_gets_batch_container_text():
    topic = uniq("mms-batch")
    ws = producer(topic, batchingEnabled="true")
    r = publish_fast(ws, RNG.randbytes(3 * 1024 * 1024), context="b")
    eq((r["result"], r.get("errorMsg"), r.get("context")),
       ("send-error:8", "Message size is bigger than 2097152 bytes", "b"), "receipt")
    eq(publish_fast(ws, b"x", context="after")["result"], "ok", "next publish")
    ws.close()


if __name__ == "__main__":
    main()
