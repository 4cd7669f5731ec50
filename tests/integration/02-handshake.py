# 02-handshake.py - strict RFC 6455 opening handshake and plain-HTTP behaviour (issue 2).
#
# The upgrade must be validated strictly: method GET, an Upgrade: websocket header, a Connection
# header whose token list contains "upgrade" (any case, any position), Sec-WebSocket-Version 13
# (anything else -> 426 with "Sec-WebSocket-Version: 13"), and a Sec-WebSocket-Key that is base64
# of 16 bytes (24 chars; anything else -> 400). Non-upgrade requests to unknown paths get 404, and
# a client that sends half a handshake and stalls is dropped after handshakeTimeoutMillis.

import socket
import time

from magnetar_harness import (_connect, accept_for, check, eq, http_get, main, path, shared_server,
                              test, uniq, upgrade_request, upgrade_status)


def srv():
    return shared_server("-o", "handshakeTimeoutMillis=500")


def read_until_eof(sock, timeout):
    """Reads until the peer closes; returns the bytes, or None on timeout."""
    data = b""
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        except socket.timeout:
            return None
        if not chunk:
            return data
        data += chunk


def ppath():
    return path("producer", uniq())


@test
def valid_upgrade_rfc_example_key():
    s = srv()
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    status, h, _ = upgrade_status(s, ppath(), key=key)
    eq(status, 101, "status")
    eq(h.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Accept")
    eq(h.get("upgrade", "").lower(), "websocket", "Upgrade header")
    check("upgrade" in h.get("connection", "").lower(), "Connection header %r" % h.get("connection"))


@test
def header_names_and_values_case_insensitive():
    s = srv()
    req, key = upgrade_request(s, ppath(), omit=("Upgrade", "Connection"),
                               headers={"uPgRaDe": "WebSocket", "CONNECTION": "UPGRADE"})
    from magnetar_harness import http_raw
    status, h, _ = http_raw(s.port, req)
    eq(status, 101, "status with odd header-name and value case")
    eq(h.get("sec-websocket-accept"), accept_for(key), "accept")


@test
def connection_token_list():
    s = srv()
    for conn in ("keep-alive, Upgrade", "Upgrade, keep-alive", "keep-alive,upgrade"):
        status, _, _ = upgrade_status(s, ppath(), headers={"Connection": conn})
        eq(status, 101, "status with Connection: %s" % conn)
    status, _, _ = upgrade_status(s, ppath(), headers={"Connection": "keep-alive"})
    check(status != 101, "Connection without the upgrade token must not upgrade (got 101)")
    status, _, _ = upgrade_status(s, ppath(), headers={"Connection": "upgraded"})
    check(status != 101, "'upgraded' is not the 'upgrade' token (got 101)")


@test
def missing_upgrade_header_refused():
    s = srv()
    status, _, _ = upgrade_status(s, ppath(), omit=("Upgrade",))
    check(status != 101 and status >= 400, "no Upgrade header must be refused, got %d" % status)
    status, _, _ = upgrade_status(s, ppath(), headers={"Upgrade": "h2c"})
    check(status != 101 and status >= 400, "Upgrade: h2c must be refused, got %d" % status)


@test
def wrong_version_426():
    s = srv()
    for v in ("12", "8", "14", "abc"):
        status, h, _ = upgrade_status(s, ppath(), headers={"Sec-WebSocket-Version": v})
        eq(status, 426, "status for Sec-WebSocket-Version %s" % v)
        eq(h.get("sec-websocket-version"), "13", "426 must carry Sec-WebSocket-Version: 13 (RFC 6455 4.4)")


@test
def missing_version_refused():
    s = srv()
    status, _, _ = upgrade_status(s, ppath(), omit=("Sec-WebSocket-Version",))
    check(status in (400, 426), "missing version: expected 400 or 426, got %d" % status)


@test
def bad_key_400():
    s = srv()
    status, _, _ = upgrade_status(s, ppath(), omit=("Sec-WebSocket-Key",))
    eq(status, 400, "status without Sec-WebSocket-Key")
    for key in ("dGhlIHNhbXBsZQ==",                # 16 chars (10 bytes)
                "dGhlIHNhbXBsZSBub25jZQ",          # 22 chars, padding stripped
                "dGhlIHNhbXBsZSBub25jZSBub25jZQ==",  # 32 chars
                "!!!!!!!!!!!!!!!!!!!!!!==",         # 24 chars, not base64
                ""):
        status, _, _ = upgrade_status(s, ppath(), headers={"Sec-WebSocket-Key": key})
        eq(status, 400, "status for Sec-WebSocket-Key %r" % key)


@test
def non_get_upgrade_refused():
    s = srv()
    status, _, _ = upgrade_status(s, ppath(), method="POST")
    check(status in (400, 405), "POST upgrade: expected 400 or 405, got %d" % status)


@test
def unknown_paths_404():
    s = srv()
    # "/" is the web console (93-web-console.py), 404 only with webConsoleEnabled=false
    for target in ("/nope", "/ws", "/ws/v2", "/ws/v2/foo/persistent/public/default/t",
                   "/ws/v3/consumer/sub?topics=a", "/admin/v2/nope"):
        status, _, _ = http_get(s, target)
        eq(status, 404, "plain GET %s" % target)
    for target in ("/nope", "/ws/v2/foo/persistent/public/default/t", "/wss/v2/producer/persistent/public/default/t"):
        status, _, _ = upgrade_status(s, target)
        eq(status, 404, "upgrade to %s" % target)


@test
def server_keeps_serving_after_garbage():
    s = srv()
    sock = _connect(s.port)
    sock.sendall(b"\x16\x03\x01\x00\xa5garbage that is not http\r\n\r\n")
    sock.settimeout(5)
    try:
        data = sock.recv(4096)
    except (ConnectionResetError, socket.timeout):
        data = b""
    sock.close()
    check(data == b"" or data.startswith(b"HTTP/1.1 4"), "garbage request answer %r" % data[:80])
    status, _, _ = upgrade_status(s, ppath())
    eq(status, 101, "upgrade after a garbage request")


@test
def oversized_header_refused():
    s = srv()
    status, _, _ = upgrade_status(s, ppath(), headers={"X-Big": "a" * 20000})
    check(status in (400, 413, 431), "20 KB header with default httpMaxRequestHeaderSize: got %d" % status)
    status, _, _ = upgrade_status(s, ppath())
    eq(status, 101, "server still serves after an oversized header")


@test
def half_handshake_dropped_after_timeout():
    s = srv()
    sock = _connect(s.port)
    sock.sendall(b"GET /ws/v2/producer/persistent/public/default/x HTTP/1.1\r\nHost: a\r\n")
    t0 = time.time()
    data = read_until_eof(sock, 5.0)
    if data is None:
        raise AssertionError("stalled half handshake still open after 5s (handshakeTimeoutMillis=500)")
    elapsed = time.time() - t0
    sock.close()
    check(elapsed >= 0.3, "connection dropped after %.2fs, before the 500 ms timeout" % elapsed)
    check(elapsed < 3.0, "dropped only after %.1fs (handshakeTimeoutMillis=500)" % elapsed)
    # The server may answer 408 before closing; it must not have upgraded.
    check(not data.startswith(b"HTTP/1.1 101"), "half handshake must not upgrade: %r" % data[:60])
    # And it still serves new clients.
    status, _, _ = upgrade_status(s, ppath())
    eq(status, 101, "upgrade after a stalled client was dropped")


@test
def idle_connection_without_bytes_dropped():
    s = srv()
    sock = _connect(s.port)
    t0 = time.time()
    if read_until_eof(sock, 5.0) is None:
        raise AssertionError("silent TCP connection still open after 5s (handshakeTimeoutMillis=500)")
    elapsed = time.time() - t0
    sock.close()
    check(elapsed < 3.0, "silent connection dropped only after %.1fs" % elapsed)


if __name__ == "__main__":
    main()
