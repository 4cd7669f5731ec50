# 20-tls.py - TLS listener (issue #5): wss:// with python websocket-client verifying the server
# against a test CA made by tools/gen-test-certs.sh.
#
# Covers: the ready line with both URLs; produce/consume over wss:// (and mixed ws/wss on one
# topic); a client that does not trust the CA is refused; admin REST and /metrics answer the same
# over TLS as over plain HTTP; mTLS (tlsTrustCertsFilePath + tlsRequireTrustedClientCertOnConnect:
# no cert / untrusted cert refused, trusted cert accepted; tlsAllowInsecureConnection); tlsProtocols;
# stalled and garbage handshakes neither block other clients nor outlive handshakeTimeoutMillis;
# configuration errors stop the server with a message naming the setting; SIGTERM sends Close
# 1001 over TLS and exits 0.

import socket
import ssl
import subprocess
import time

import websocket

from magnetar_harness import (MAGNETAR_BIN, READY_RE, TestFailure, b64, check, connect,
                              connect_tls, eq, http_get, https_raw, main, mkdtemp, path, publish,
                              recv_json, start_server, test, test_certs, tls_client_context, uniq)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@test
def ready_line_has_both_urls():
    port = free_port()
    srv = start_server(["-o", "webServicePortTls=%d" % port], tls=True)
    eq(srv.tls_port, port, "TLS port from the ready line")
    check(srv.tls_port != srv.port, "plain and TLS ports differ")
    line = "magnetar ready ws://127.0.0.1:%d wss://127.0.0.1:%d" % (srv.port, srv.tls_port)
    check(READY_RE.match(line) is not None, "ready line format")
    eq(srv.stop(), 0, "exit code")
    # Without tlsEnabled there is no wss URL.
    plain = start_server()
    eq(plain.tls_port, None, "no TLS port when TLS is off")


@test
def produce_consume_over_wss():
    srv = start_server(tls=True)
    topic = uniq("tls")
    cons = connect_tls(srv, path("consumer", topic, "sub"))
    prod = connect_tls(srv, path("producer", topic))
    r = publish(prod, "secret payload", context="c1")
    eq(r["result"], "ok", "receipt over wss")
    m = recv_json(cons)
    eq(m["payload"], b64("secret payload"), "payload over wss")
    eq(m["messageId"], r["messageId"], "same message id")
    # Plain ws:// on the same server and topic still works, both ways.
    prod2 = connect(srv, path("producer", topic))
    r2 = publish(prod2, "plain", context="c2")
    eq(r2["result"], "ok", "plain receipt")
    eq(recv_json(cons)["payload"], b64("plain"), "plain message reaches the wss consumer")
    for ws in (cons, prod, prod2):
        ws.close()


@test
def untrusted_server_certificate_refused():
    srv = start_server(tls=True)
    try:
        websocket.create_connection(srv.wss_url + path("producer", uniq()), timeout=5)
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise TestFailure("a client without the test CA must not accept the server certificate")
    # Hostname verification: the certificate is for localhost/127.0.0.1 only.
    ctx = tls_client_context()
    raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    try:
        ctx.wrap_socket(raw, server_hostname="example.com")
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise TestFailure("hostname example.com must not verify")
    finally:
        raw.close()


@test
def admin_rest_and_metrics_over_tls():
    srv = start_server(tls=True)
    for target in ("/admin/v2/tenants", "/metrics", "/no/such/path"):
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % target).encode()
        ts, th, tb = https_raw(srv.tls_port, req)
        ps, ph, pb = http_get(srv, target)
        eq(ts, ps, "status of %s over TLS vs plain" % target)
        eq(th.get("content-type"), ph.get("content-type"), "content type of %s" % target)
        if target != "/metrics":   # metrics values may move between the two calls
            eq(tb, pb, "body of %s over TLS vs plain" % target)


def start_mtls(*extra):
    c = test_certs()
    return start_server(["-o", "tlsTrustCertsFilePath=" + c["ca"]] + list(extra), tls=True)


def refused(srv, **kw):
    try:
        ws = connect_tls(srv, path("producer", uniq()), **kw)
    except (ssl.SSLError, OSError, websocket.WebSocketException):
        return True
    # TLS 1.3: the server's verdict on the client certificate arrives after the handshake.
    try:
        ws.send("{}")
        ws.recv()
    except (ssl.SSLError, OSError, websocket.WebSocketException):
        return True
    ws.close()
    return False


@test
def mutual_tls():
    c = test_certs()
    srv = start_mtls("-o", "tlsRequireTrustedClientCertOnConnect=true")
    check(refused(srv), "no client certificate must be refused")
    check(refused(srv, cert=c["untrusted_cert"], key=c["untrusted_key"]),
          "a certificate from another CA must be refused")
    ws = connect_tls(srv, path("producer", uniq()), cert=c["client_cert"], key=c["client_key"])
    eq(publish(ws, "mtls")["result"], "ok", "publish with a trusted client certificate")
    ws.close()
    srv.stop()
    # Trust store set but certificates not required: anonymous TLS ok, untrusted cert refused.
    srv = start_mtls()
    check(not refused(srv), "no certificate is fine when not required")
    check(refused(srv, cert=c["untrusted_cert"], key=c["untrusted_key"]),
          "an untrusted certificate is still refused")
    srv.stop()
    # tlsAllowInsecureConnection accepts the untrusted certificate.
    srv = start_mtls("-o", "tlsRequireTrustedClientCertOnConnect=true",
                     "-o", "tlsAllowInsecureConnection=true")
    check(not refused(srv, cert=c["untrusted_cert"], key=c["untrusted_key"]),
          "tlsAllowInsecureConnection accepts an untrusted client certificate")
    check(refused(srv), "but a certificate is still required")


@test
def protocol_setting():
    srv = start_server(["-o", "tlsProtocols=TLSv1.3"], tls=True)
    ctx = tls_client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    try:
        ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except ssl.SSLError:
        pass
    else:
        raise TestFailure("a TLS 1.2-only client must be refused with tlsProtocols=TLSv1.3")
    finally:
        raw.close()
    s = tls_client_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port)),
                                         server_hostname="127.0.0.1")
    eq(s.version(), "TLSv1.3", "negotiated version")
    s.close()


@test
def stalled_handshakes_do_not_block():
    srv = start_server(["-o", "handshakeTimeoutMillis=1500"], tls=True)
    silent = [socket.create_connection(("127.0.0.1", srv.tls_port)) for _ in range(30)]
    garbage = []
    for i in range(10):
        s = socket.create_connection(("127.0.0.1", srv.tls_port))
        s.sendall(b"\x16\x03\x01\x02\x00" if i % 2 else b"GET / HTTP/1.1\r\n\r\n")
        garbage.append(s)
    t0 = time.time()
    ws = connect_tls(srv, path("producer", uniq()))
    eq(publish(ws, "still served")["result"], "ok", "publish while 40 handshakes stall")
    check(time.time() - t0 < 2.0, "a normal client must not wait for stalled handshakes")
    ws.close()
    # Every stalled connection is dropped by the handshake timer.
    deadline = time.time() + 6
    for s in silent + garbage:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            data = s.recv(100)
            while data:
                data = s.recv(100)
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise TestFailure("a stalled TLS connection was still open after the timeout")
        s.close()
    check(srv.alive(), "server alive")


def expect_config_error(args, fragment):
    p = subprocess.run([MAGNETAR_BIN, "-p", "0", "--ephemeral"] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
                       cwd=mkdtemp("mag-cwd-"))
    eq(p.returncode, 2, "exit code for %s" % args)
    eq(p.stdout, b"", "no ready line")
    check(fragment in p.stderr.decode(errors="replace"),
          "stderr should mention %r, got %r" % (fragment, p.stderr[-400:]))


@test
def configuration_errors():
    c = test_certs()
    expect_config_error(["-o", "tlsEnabled=true"], "tlsCertificateFilePath and tlsKeyFilePath")
    base = ["-o", "tlsEnabled=true", "-o", "tlsCertificateFilePath=" + c["server_cert"]]
    expect_config_error(base + ["-o", "tlsKeyFilePath=" + c["client_key"]],
                        "does not match the certificate")
    expect_config_error(base + ["-o", "tlsKeyFilePath=/nonexistent.pem"],
                        "tlsKeyFilePath '/nonexistent.pem'")
    good = base + ["-o", "tlsKeyFilePath=" + c["server_key"]]
    expect_config_error(good + ["-o", "tlsProtocols=SSLv3"], "unknown protocol 'SSLv3'")
    expect_config_error(good + ["-o", "tlsCiphers=NOPE"], "unknown cipher 'NOPE'")
    expect_config_error(good + ["-o", "tlsRequireTrustedClientCertOnConnect=true"],
                        "needs tlsTrustCertsFilePath")


@test
def sigterm_closes_wss_sessions():
    srv = start_server(tls=True)
    ws = connect_tls(srv, path("consumer", uniq(), "s"))
    srv.proc.send_signal(15)
    ws.settimeout(5)
    try:
        op, frame = ws.recv_data_frame(True)
    except websocket.WebSocketConnectionClosedException:
        raise TestFailure("connection closed without a Close frame")
    eq(op, websocket.ABNF.OPCODE_CLOSE, "opcode")
    eq(int.from_bytes(frame.data[:2], "big"), 1001, "close code at shutdown")
    eq(srv.proc.wait(10), 0, "exit code")


if __name__ == "__main__":
    main()
