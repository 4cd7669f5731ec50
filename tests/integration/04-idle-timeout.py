# 04-idle-timeout.py - webSocketSessionIdleTimeoutMillis closes idle sessions (Pulsar's
# ProxyIdleTimeoutTest).
#
# Pulsar's test: with a 3 s idle timeout an idle producer session is closed within 5 s. We use
# 1 s to keep the suite fast: an idle producer, consumer and reader session must each be closed
# by the server (close frame, then TCP close) within 3 s, and not before ~0.7 s; a session that
# keeps sending pings (or publishing) must stay open past the timeout, since any frame is
# activity.

import time

from magnetar_harness import (OP_CLOSE, OP_PING, OP_PONG, PeerClosed, RawWS, TestFailure, b64,
                              check, eq, main, path, shared_server, start_server, test, uniq)


def srv():
    return shared_server("-o", "webSocketSessionIdleTimeoutMillis=1000")


def wait_closed(ws, limit):
    """Returns (elapsed, close code or None when TCP closed without a close frame)."""
    t0 = time.time()
    while True:
        left = limit - (time.time() - t0)
        if left <= 0:
            raise TestFailure("idle session still open after %.1fs (timeout 1000 ms)" % limit)
        try:
            f = ws.recv_frame(left)
        except PeerClosed:
            return time.time() - t0, None
        except OSError:
            continue
        if f.opcode == OP_CLOSE:
            return time.time() - t0, f.close_code()


@test
def idle_sessions_closed():
    s = srv()
    topic = uniq()
    for target in (path("producer", topic), path("consumer", topic, "sub"), path("reader", topic)):
        ws = RawWS.connect(s, target)
        elapsed, code = wait_closed(ws, 3.0)
        check(elapsed >= 0.7, "%s closed after only %.2fs (timeout 1000 ms)" % (target, elapsed))
        check(code is not None, "%s: server dropped TCP without a close frame" % target)
        check(code in (1000, 1001), "%s: idle close code %r (expected 1001 like Jetty, or 1000)"
              % (target, code))
        ws.close_socket()


@test
def pings_keep_session_alive():
    s = srv()
    ws = RawWS.connect(s, path("producer", uniq()))
    t_end = time.time() + 2.5
    while time.time() < t_end:
        ws.send_frame(OP_PING, b"k")
        f = ws.recv_frame(2)
        eq(f.opcode, OP_PONG, "reply to keep-alive ping")
        time.sleep(0.3)
    ws.send_text('{"payload":"%s","context":"still"}' % b64("x"))
    r = ws.recv_json()
    eq(r.get("result"), "ok", "publish after 2.5 s of pings with a 1 s idle timeout")


@test
def publishing_keeps_session_alive():
    s = srv()
    ws = RawWS.connect(s, path("producer", uniq()))
    t_end = time.time() + 2.5
    i = 0
    while time.time() < t_end:
        ws.send_text('{"payload":"%s","context":"%d"}' % (b64("x"), i))
        eq(ws.recv_json().get("result"), "ok", "receipt %d" % i)
        i += 1
        time.sleep(0.3)


@test
def default_timeout_is_long():
    s = start_server()
    ws = RawWS.connect(s, path("producer", uniq()))
    time.sleep(2.0)
    ws.send_text('{"payload":"%s","context":"d"}' % b64("x"))
    eq(ws.recv_json().get("result"), "ok", "publish after 2 s idle with the default (300 s) timeout")


@test
def server_pings_keep_session_open():
    # Pulsar's ProxyPingTest: idle timeout + webSocketPingDurationSeconds -> the server pings ("PING" payload)
    # and the session outlives the idle timeout when the client answers with pongs.
    s = start_server(["-o", "webSocketSessionIdleTimeoutMillis=1500", "-o", "webSocketPingDurationSeconds=1"])
    ws = RawWS.connect(s, path("producer", uniq()))
    pings = 0
    t_end = time.time() + 3.5
    while time.time() < t_end:
        try:
            f = ws.recv_frame(max(0.05, t_end - time.time()))
        except OSError:
            break
        if f.opcode == OP_PING:
            eq(f.payload, b"PING", "server ping payload")
            pings += 1
            ws.send_frame(OP_PONG, f.payload)
        elif f.opcode == OP_CLOSE:
            raise TestFailure("session closed after %d pings (code %r)" % (pings, f.close_code()))
    check(pings >= 2, "expected >= 2 server pings in 3.5 s, got %d" % pings)
    ws.send_text('{"payload":"%s","context":"p"}' % b64("x"))
    eq(ws.recv_json().get("result"), "ok", "publish after 3.5 s kept alive by server pings")


if __name__ == "__main__":
    main()
