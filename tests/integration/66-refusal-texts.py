# 66-refusal-texts.py - upgrade refusal texts of Pulsar 2.10 (issue 11).
#
# Producer and consumer refusals read "Failed to create producer/consumer: <cause>", as
# AbstractWebSocketHandler.getErrorMessage builds them for both handlers in 2.10; readers keep
# ReaderHandler's "Failed to create reader: <cause>" (always 500).

from magnetar_harness import (check, connect, eq, main, path, shared_server, test, uniq,
                              upgrade_status)


def srv():
    return shared_server()


@test
def refusal_texts_are_pulsar_2_10s():
    s = srv()
    t = uniq()
    p1 = connect(s, path("producer", t, params="producerName=dup"))
    st, _, body = upgrade_status(s, path("producer", t, params="producerName=dup"))
    eq(st, 409, "duplicate producer name")
    check(body.startswith(b"Failed to create producer/consumer: "), "producer text %r" % body)
    p1.close(timeout=1)
    c1 = connect(s, path("consumer", t, "sub"))
    st, _, body = upgrade_status(s, path("consumer", t, "sub"))
    eq(st, 409, "second exclusive consumer")
    check(body.startswith(b"Failed to create producer/consumer: "), "consumer text %r" % body)
    c1.close(timeout=1)
    st, _, body = upgrade_status(s, path("consumer", t, "sub", ns="nope"))
    eq((st, body), (404, b"Failed to create producer/consumer: Namespace not found: public/nope"),
       "consumer, missing namespace")
    st, _, body = upgrade_status(s, path("producer", t, ns="nope"))
    eq((st, body), (404, b"Failed to create producer/consumer: Namespace not found: public/nope"),
       "producer, missing namespace")
    st, _, body = upgrade_status(s, path("reader", t, ns="nope"))
    eq((st, body), (500, b"Failed to create reader: Namespace not found: public/nope"),
       "reader keeps its own text")


if __name__ == "__main__":
    main()
