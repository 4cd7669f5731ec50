# 03-frames.py - RFC 6455 framing against the real server, with a raw frame-level client.
#
# Covers issue 2's frame rules: 7/16/64-bit payload lengths both ways, client masking required
# (unmasked -> close 1002), fragmentation with continuation frames and control frames interleaved,
# ping answered by a pong with the same payload (on producer, consumer and reader endpoints), the
# close handshake, invalid UTF-8 -> 1007, messages over webSocketMaxTextFrameSize -> 1009 (single
# frame and fragmented), other protocol violations -> 1002, binary frames ignored. After every
# violation the server must still serve new sessions.

import json
import struct
import time

from magnetar_harness import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS,
                              TestFailure, b64, check, decode_msgid, eq, main, path, shared_server,
                              start_server, test, uniq)


def srv():
    return shared_server("-o", "webSocketMaxTextFrameSize=2048")


def producer(s=None, topic=None):
    return RawWS.connect(s or srv(), path("producer", topic or uniq()))


def assert_still_serving(s=None):
    ws = producer(s)
    ws.send_text('{"payload":"%s","context":"alive"}' % b64("x"))
    r = ws.recv_json()
    eq(r.get("result"), "ok", "receipt on a new session after the violation")
    ws.send_close(1000)
    ws.expect_close()
    ws.close_socket()


def expect_close_code(ws, code, what):
    got, reason = ws.expect_close()
    eq(got, code, "close code for %s (reason %r)" % (what, reason))
    ws.expect_eof(3)


@test
def lengths_7_16_64_bit_roundtrip():
    # Default frame limit (1 MiB) so a 64-bit length frame fits.
    s = start_server()
    topic = uniq()
    cons = RawWS.connect(s, path("consumer", topic, "sub"))
    prod = producer(s, topic)
    sizes = {7: 10, 16: 3000, 64: 70000}
    for form, n in sorted(sizes.items()):
        payload = bytes((i * 7 + form) & 0xFF for i in range(n))
        msg = json.dumps({"payload": b64(payload), "context": str(form)})
        # Frame the whole JSON text; pick the length form by its size, then force the form.
        prod.send_frame(OP_TEXT, msg, length_form=(7 if len(msg) < 126 else 16 if len(msg) < 65536 else 64))
        r = prod.recv_json()
        eq(r.get("result"), "ok", "receipt for %d-byte payload" % n)
        eq(r.get("context"), str(form), "context")
        # The server's frames to the consumer: parse with our strict reader (unmasked, exact length).
        f = cons.recv_frame()
        eq(f.opcode, OP_TEXT, "opcode of the delivery")
        check(f.fin, "server delivery should be one unfragmented frame or reassemble fine")
        want = 7 if len(f.payload) < 126 else 16 if len(f.payload) < 65536 else 64
        eq(f.length_form, want, "server length form for a %d-byte frame" % len(f.payload))
        d = json.loads(f.payload.decode())
        eq(d["messageId"], r["messageId"], "delivered id")
        eq(d["payload"], b64(payload), "delivered payload for %d bytes" % n)
        cons.send_text(json.dumps({"messageId": d["messageId"]}))


@test
def unmasked_client_frame_1002():
    ws = producer()
    ws.send_frame(OP_TEXT, '{"payload":"eA=="}', mask=False)
    expect_close_code(ws, 1002, "unmasked client frame")
    assert_still_serving()


@test
def ping_pong_same_payload_all_endpoints():
    s = srv()
    topic = uniq()
    for target in (path("producer", topic), path("consumer", topic, "s1"), path("reader", topic)):
        ws = RawWS.connect(s, target)
        for payload in (b"", b"test", bytes(range(125))):
            ws.send_frame(OP_PING, payload)
            f = ws.recv_frame()
            eq(f.opcode, OP_PONG, "opcode answering a ping on %s" % target)
            eq(f.payload, payload, "pong payload on %s" % target)
        ws.send_close(1000)
        ws.expect_close()
        ws.close_socket()


@test
def close_handshake_echoes_code():
    ws = producer()
    ws.send_close(1000, b"bye")
    code, _ = ws.expect_close()
    eq(code, 1000, "close code echoed by the server")
    ws.expect_eof(3)
    ws = producer()
    ws.send_frame(OP_CLOSE, b"")
    f = ws.recv_frame()
    eq(f.opcode, OP_CLOSE, "reply to an empty close")
    check(len(f.payload) in (0, 2), "reply to empty close has payload %r" % f.payload)
    if len(f.payload) == 2:
        eq(f.close_code(), 1000, "reply code to an empty close (no status -> 1000 or empty)")
    ws.expect_eof(3)


@test
def fragmented_message_with_interleaved_ping():
    ws = producer()
    text = json.dumps({"payload": b64(b"fragmented hello"), "context": "frag"})
    a, b, c = text[:5], text[5:20], text[20:]
    ws.send_frame(OP_TEXT, a, fin=False)
    ws.send_frame(OP_PING, b"mid")
    ws.send_frame(OP_CONT, b, fin=False)
    ws.send_frame(OP_PING, b"mid2")
    ws.send_frame(OP_CONT, c, fin=True)
    controls = []
    r = json.loads(ws.recv_text(controls=controls))
    eq(r.get("result"), "ok", "receipt for a 3-fragment message")
    eq(r.get("context"), "frag", "context of the fragmented message")
    pongs = [f.payload for f in controls if f.opcode == OP_PONG]
    # The pongs may come before the receipt or after it; collect any stragglers.
    deadline = time.time() + 2
    while len(pongs) < 2 and time.time() < deadline:
        f = ws.recv_frame(2)
        if f.opcode == OP_PONG:
            pongs.append(f.payload)
    eq(pongs, [b"mid", b"mid2"], "pongs for pings interleaved in a fragmented message")


@test
def fragmented_with_empty_fragments_and_utf8_split():
    ws = producer()
    # "é" (C3 A9) in a property value split across two fragments is valid UTF-8 overall.
    text = json.dumps({"payload": b64(b"x"), "properties": {"k": "caf\u00e9"}, "context": "u"},
                      ensure_ascii=False).encode()
    cut = text.index(b"\xc3") + 1
    ws.send_frame(OP_TEXT, text[:cut], fin=False)
    ws.send_frame(OP_CONT, b"", fin=False)
    ws.send_frame(OP_CONT, text[cut:], fin=True)
    r = ws.recv_json()
    eq(r.get("result"), "ok", "receipt when a UTF-8 sequence is split across fragments")


@test
def invalid_utf8_1007():
    cases = {
        "lone continuation": b'{"payload":"eA==","context":"\x80"}',
        "overlong": b'{"payload":"eA==","context":"\xc0\xaf"}',
        "surrogate": b'{"payload":"eA==","context":"\xed\xa0\x80"}',
        "above U+10FFFF": b'{"payload":"eA==","context":"\xf4\x90\x80\x80"}',
        "truncated at end": b'{"payload":"eA==","context":"\xe2\x82',
    }
    for what, data in cases.items():
        ws = producer()
        ws.send_frame(OP_TEXT, data)
        expect_close_code(ws, 1007, "invalid UTF-8 (%s)" % what)
    # Invalid UTF-8 split over fragments.
    ws = producer()
    ws.send_frame(OP_TEXT, b'{"payload":"eA==","context":"\xe2', fin=False)
    ws.send_frame(OP_CONT, b'\x28\xa1"}', fin=True)
    expect_close_code(ws, 1007, "invalid UTF-8 across fragments")
    assert_still_serving()


@test
def oversize_single_frame_1009():
    ws = producer()
    body = b'{"payload":"' + b"A" * 2100 + b'"}'
    ws.send_frame(OP_TEXT, body)
    expect_close_code(ws, 1009, "2114-byte frame with limit 2048")
    assert_still_serving()


@test
def oversize_fragmented_message_1009():
    ws = producer()
    part = b"A" * 1000
    ws.send_frame(OP_TEXT, b'{"payload":"' + part, fin=False)
    ws.send_frame(OP_CONT, part, fin=False)
    ws.send_frame(OP_CONT, part + b'"}', fin=True)
    expect_close_code(ws, 1009, "3-fragment message totalling 3014 bytes with limit 2048")
    assert_still_serving()


@test
def frame_limit_boundary():
    ws = producer()
    base = '{"payload":"%s","context":"edge"}' % b64(b"q" * 100)
    exact = base + " " * (2048 - len(base))
    eq(len(exact), 2048, "test setup")
    ws.send_frame(OP_TEXT, exact)
    r = ws.recv_json()
    eq(r.get("result"), "ok", "a 2048-byte message (exactly the limit) must be accepted")
    ws.send_frame(OP_TEXT, exact + " ")
    expect_close_code(ws, 1009, "2049-byte message")


@test
def default_limit_is_1mib():
    s = start_server()
    ws = producer(s)
    base = '{"payload":"%s","context":"big"}' % b64(b"z" * 780000)
    exact = base + " " * (1048576 - len(base))
    ws.send_frame(OP_TEXT, exact)
    r = ws.recv_json(10)
    eq(r.get("result"), "ok", "1048576-byte message with the default limit")
    ws.send_frame(OP_TEXT, exact + " ")
    expect_close_code(ws, 1009, "1048577-byte message with the default limit")


@test
def protocol_violations_1002():
    cases = [
        ("RSV1 set", lambda ws: ws.send_frame(OP_TEXT, '{"payload":"eA=="}', rsv=4)),
        ("RSV3 set", lambda ws: ws.send_frame(OP_TEXT, '{"payload":"eA=="}', rsv=1)),
        ("reserved opcode 3", lambda ws: ws.send_frame(3, b"x")),
        ("reserved control opcode 0xB", lambda ws: ws.send_frame(0xB, b"x")),
        ("continuation without start", lambda ws: ws.send_frame(OP_CONT, b"x")),
        ("text while a fragmented message is open",
         lambda ws: (ws.send_frame(OP_TEXT, b'{"pay', fin=False), ws.send_frame(OP_TEXT, b"x"))),
        ("fragmented ping", lambda ws: ws.send_frame(OP_PING, b"x", fin=False)),
        ("ping payload > 125", lambda ws: ws.send_frame(OP_PING, b"p" * 126, length_form=16)),
        ("close with 1-byte payload", lambda ws: ws.send_frame(OP_CLOSE, b"\x03")),
        ("close with code 999", lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 999))),
        ("close with reserved code 1005", lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 1005))),
        ("close with invalid UTF-8 reason", lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 1000) + b"\xff")),
    ]
    fails = []
    for what, act in cases:
        ws = producer()
        act(ws)
        try:
            code, reason = ws.expect_close()
        except TestFailure as e:
            fails.append("%s: %s" % (what, e))
            continue
        # A close reason that is not UTF-8 may be answered with 1007 or 1002 (RFC 6455 8.1/7.4).
        want = (1002, 1007) if "UTF-8" in what else (1002,)
        if code not in want:
            fails.append("%s: expected close %s, got %r (%r)" % (what, want, code, reason))
        ws.close_socket()
    if fails:
        raise TestFailure("; ".join(fails))
    assert_still_serving()


@test
def binary_frames_ignored():
    ws = producer()
    ws.send_frame(OP_BIN, b"\x00\x01binary")
    ws.send_text('{"payload":"%s","context":"after-binary"}' % b64("y"))
    r = ws.recv_json()
    eq(r.get("context"), "after-binary", "first reply after a binary frame must be the text's receipt")
    eq(r.get("result"), "ok", "receipt after a binary frame")


@test
def server_frames_are_unmasked_and_minimal():
    s = srv()
    topic = uniq()
    cons = RawWS.connect(s, path("consumer", topic, "s"))
    prod = producer(s, topic)
    prod.send_text('{"payload":"%s","context":"m"}' % b64(b"p" * 200))
    r = prod.recv_json()
    eq(r.get("result"), "ok", "receipt")
    # Peek the raw header of the delivery: recv_frame already rejects masked frames.
    f = cons.recv_frame()
    eq(f.opcode, OP_TEXT, "delivery opcode")
    eq(f.rsv, 0, "server frames have RSV bits clear")
    eq(f.length_form, 16, "length form of a %d-byte server frame (RFC 6455 5.2: minimal)" % len(f.payload))
    decode_msgid(json.loads(f.payload)["messageId"])


@test
def abrupt_disconnects_mid_frame():
    s = srv()
    topic = uniq()
    bystander = RawWS.connect(s, path("consumer", topic, "by"))
    # Half a frame header, half a payload, a fragmented message never finished, then TCP close.
    for chunk in (b"\x81", RawWS.encode(OP_TEXT, b"x" * 1000)[:300],
                  RawWS.encode(OP_TEXT, b'{"payload":', fin=False)):
        ws = producer(s, topic)
        ws.sock.sendall(chunk)
        ws.close_socket()
    # A reset (SO_LINGER 0) while the server has data queued for the client.
    ws = RawWS.connect(s, path("reader", topic, params="messageId=earliest"))
    ws.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_LINGER,
                       struct.pack("ii", 1, 0))
    ws.close_socket()
    time.sleep(0.2)
    p = producer(s, topic)
    p.send_text('{"payload":"%s","context":"after"}' % b64("after"))
    r = p.recv_json()
    eq(r.get("result"), "ok", "publish after abrupt disconnects")
    d = json.loads(bystander.recv_text())
    eq(d["messageId"], r["messageId"], "bystander consumer still served")


@test
def random_garbage_never_crashes():
    import random
    rnd = random.Random(20240601)
    s = srv()
    topic = uniq()
    conns = []
    for i in range(60):
        kind = ("producer", "consumer", "reader")[i % 3]
        target = path(kind, topic, "g%d" % i if kind == "consumer" else None)
        ws = RawWS.connect(s, target)
        blob = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400)))
        if i % 2:
            # Valid masked frame header with a random opcode/flags around random payload.
            blob = RawWS.encode(rnd.randint(0, 15), blob, fin=bool(rnd.getrandbits(1)),
                                rsv=rnd.choice((0, 0, 0, rnd.randint(1, 7))))
        try:
            ws.sock.sendall(blob)
        except OSError:
            pass   # any outcome but a crash is acceptable for random input
        conns.append(ws)
    time.sleep(1.0)
    for ws in conns:
        ws.close_socket()
    check(s.alive(), "server died on random input")
    assert_still_serving(s)


if __name__ == "__main__":
    main()
