# magnetar_harness.py - shared harness for Magnetar's end-to-end integration tests.
#
# Every tests/integration/NN-*.py file imports this module. It starts the REAL magnetar binary
# ($MAGNETAR_BIN) on a free port with a fresh temporary data directory, and gives the tests three
# kinds of clients: Debian's python3-websocket (the client the API page's examples use), a tiny raw
# RFC 6455 client for frame-level tests (unmasked frames, bad opcodes, fragmentation...), and raw
# HTTP over a socket for upgrade-status tests. Nothing is mocked. It also holds a minimal test
# runner that prints "N passed, N failed" and exits non-zero on any failure (ctest contract).
# Run the files with /usr/bin/python3: `import websocket` only works with Debian's python.

import atexit
import base64
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

import websocket  # Debian python3-websocket

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("MAG_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
MAGNETAR_BIN = os.environ.get("MAGNETAR_BIN") or os.path.join(SOURCE_DIR, "build", "magnetar")

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
READY_RE = re.compile(r"^magnetar ready ws://127\.0\.0\.1:(\d+)( wss://\S+)?$")

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class TestFailure(AssertionError):
    pass


# ----------------------------------------------------------------------------------------------
# Server processes
# ----------------------------------------------------------------------------------------------

_servers = []
_owned_dirs = []
_children = []


def _cleanup():
    for s in list(_servers):
        try:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(5)
        except Exception:
            pass
    for p in list(_children):
        try:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        except Exception:
            pass
    for d in _owned_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def mkdtemp(prefix="mag-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _owned_dirs.append(d)
    return d


def track_child(proc):
    """Registers a helper subprocess so it is killed at exit whatever happens."""
    _children.append(proc)
    return proc


class Server:
    """A running magnetar process. Attributes: port, url (ws://127.0.0.1:PORT), proc, data_dir,
    stderr_path, args."""

    def __init__(self, proc, port, data_dir, stderr_path, args, line_q):
        self.proc = proc
        self.port = port
        self.url = "ws://127.0.0.1:%d" % port if port else None
        self.data_dir = data_dir
        self.stderr_path = stderr_path
        self.args = args
        self._line_q = line_q
        self.tls_port = None   # set when the ready line has a wss:// URL (start_server(tls=True))
        self.wss_url = None

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit code (asserting nothing)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise TestFailure("magnetar did not exit within %ss of SIGTERM" % timeout)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stderr_tail(self, n=25):
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def ws_url(self, path):
        return self.url + path


def _reader_thread(stream, q):
    for line in iter(stream.readline, b""):
        q.put(line.decode("utf-8", "replace").rstrip("\r\n"))
    q.put(None)


def start_server(extra_args=(), data_dir=None, port=0, ready_timeout=10.0, expect_ready=True,
                 keep=False, env=None, tls=False, preexec_fn=None):
    """Starts magnetar with -p PORT (default 0 = free port) -d DATA_DIR (fresh temp dir unless
    given; data_dir=False omits -d, e.g. with --ephemeral) plus extra_args, and waits for the ready line. Returns a Server. keep=True: a server
    shared by several tests of one file (the runner does not kill it after the test). env: extra
    environment variables for the server process. tls=True: also listen with TLS on a free port
    using the test PKI of test_certs(); srv.tls_port / srv.wss_url are then set. preexec_fn:
    run in the child before exec (e.g. resource limits).
    ready_timeout is multiplied by $MAG_TIMEOUT_SCALE (e.g. 3 under AddressSanitizer)."""
    ready_timeout *= float(os.environ.get("MAG_TIMEOUT_SCALE") or 1)
    if tls:
        c = test_certs()
        extra_args = [
            "-o", "tlsEnabled=true", "-o", "webServicePortTls=0",
            "-o", "tlsCertificateFilePath=" + c["server_cert"],
            "-o", "tlsKeyFilePath=" + c["server_key"]] + list(extra_args)
    if not os.path.exists(MAGNETAR_BIN):
        raise TestFailure("magnetar binary not found at %s (set MAGNETAR_BIN)" % MAGNETAR_BIN)
    if data_dir is None:
        data_dir = mkdtemp("mag-data-")
    logdir = mkdtemp("mag-log-")
    stderr_path = os.path.join(logdir, "stderr.log")
    args = [MAGNETAR_BIN, "-p", str(port)] + (["-d", data_dir] if data_dir else []) + list(extra_args)
    errf = open(stderr_path, "wb")
    penv = dict(os.environ, **(env or {}))
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf,
                            cwd=logdir, env=penv, preexec_fn=preexec_fn)
    errf.close()
    q = queue.Queue()
    threading.Thread(target=_reader_thread, args=(proc.stdout, q), daemon=True).start()
    srv = Server(proc, None, data_dir, stderr_path, args, q)
    srv.extra_args = list(extra_args)
    srv.keep = keep
    _servers.append(srv)
    if not expect_ready:
        return srv
    deadline = time.time() + ready_timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            proc.kill()
            raise TestFailure("no ready line within %.0fs from %s; stderr:\n%s"
                              % (ready_timeout, " ".join(args), srv.stderr_tail()))
        try:
            line = q.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            proc.wait(5)
            raise TestFailure("magnetar exited (rc=%s) before ready: %s; stderr:\n%s"
                              % (proc.returncode, " ".join(args), srv.stderr_tail()))
        m = READY_RE.match(line)
        if m:
            srv.port = int(m.group(1))
            srv.url = "ws://127.0.0.1:%d" % srv.port
            if m.group(2):
                srv.tls_port = int(m.group(2).rsplit(":", 1)[1])
                srv.wss_url = "wss://127.0.0.1:%d" % srv.tls_port
            if port:
                check(srv.port == port, "ready line port %d != requested %d" % (srv.port, port))
            return srv
        raise TestFailure("unexpected stdout line before/instead of the ready line: %r" % line)


_SHARED_SERVERS = {}


def shared_server(*extra_args):
    """The server shared by the tests of one file, per set of extra arguments: started on first
    use (keep=True, so the runner leaves it running between tests) and again if it died."""
    s = _SHARED_SERVERS.get(extra_args)
    if s is None or not s.alive():
        s = _SHARED_SERVERS[extra_args] = start_server(list(extra_args), keep=True)
    return s


def restart(srv, extra_args=None, **kw):
    """Starts a new server on the same data dir (the old one must be stopped)."""
    return start_server(srv.extra_args if extra_args is None else extra_args, data_dir=srv.data_dir, **kw)


_certs = {}


def test_certs():
    """Test PKI made once per process with tools/gen-test-certs.sh: dict of paths ca, server_cert,
    server_key, client_cert, client_key, untrusted_cert, untrusted_key (PEM files)."""
    if not _certs:
        d = mkdtemp("mag-certs-")
        subprocess.run(["bash", os.path.join(SOURCE_DIR, "tools", "gen-test-certs.sh"), d],
                       check=True, stdout=subprocess.DEVNULL)
        _certs.update(ca=os.path.join(d, "ca.cert.pem"),
                      server_cert=os.path.join(d, "server.cert.pem"),
                      server_key=os.path.join(d, "server.key.pem"),
                      client_cert=os.path.join(d, "client.cert.pem"),
                      client_key=os.path.join(d, "client.key.pem"),
                      untrusted_cert=os.path.join(d, "untrusted-client.cert.pem"),
                      untrusted_key=os.path.join(d, "untrusted-client.key.pem"))
    return _certs


def tls_client_context(cert=None, key=None, verify=True):
    """ssl.SSLContext trusting the test CA (hostname checked), optionally with a client cert."""
    import ssl
    ctx = ssl.create_default_context(cafile=test_certs()["ca"])
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def connect_tls(srv, target, timeout=5.0, cert=None, key=None, header=None):
    """websocket.create_connection over wss:// to srv.tls_port, verifying the server against the
    test CA; cert/key: client certificate (mTLS). Raises TestFailure with the HTTP status if the
    upgrade is refused."""
    sslopt = {"ca_certs": test_certs()["ca"]}
    if cert:
        sslopt.update(certfile=cert, keyfile=key)
    kw = {"header": header} if header else {}
    try:
        return websocket.create_connection(srv.wss_url + target, timeout=timeout, sslopt=sslopt,
                                           **kw)
    except websocket.WebSocketBadStatusException as e:
        raise TestFailure("wss upgrade of %s refused with HTTP %s" % (target, e.status_code))


def https_raw(port, request_bytes, timeout=5.0, cert=None, key=None):
    """http_raw over TLS (test CA, hostname 127.0.0.1): returns (status, headers, body)."""
    ctx = tls_client_context(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        s.sendall(request_bytes)
        deadline = time.time() + timeout
        status, headers, body = _read_head(s, deadline)
        n = headers.get("content-length")
        while n is not None and len(body) < int(n) and time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body
    finally:
        s.close()


# ----------------------------------------------------------------------------------------------
# Assertions
# ----------------------------------------------------------------------------------------------

def check(cond, msg="check failed"):
    if not cond:
        raise TestFailure(msg)


def eq(got, expected, what="value"):
    if got != expected:
        raise TestFailure("%s: expected %r, got %r" % (what, expected, got))


# ----------------------------------------------------------------------------------------------
# Names, paths, payloads, message ids
# ----------------------------------------------------------------------------------------------

def uniq(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def path(kind, topic, sub=None, params=None, domain="persistent", tenant="public", ns="default"):
    """Builds /ws/v2/{kind}/{domain}/{tenant}/{ns}/{topic}[/{sub}][?params]."""
    p = "/ws/v2/%s/%s/%s/%s/%s" % (kind, domain, tenant, ns, topic)
    if sub is not None:
        p += "/" + sub
    if params:
        if isinstance(params, dict):
            params = "&".join("%s=%s" % kv for kv in params.items())
        p += "?" + params
    return p


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(s):
    return base64.b64decode(s, validate=True)


def _varint(buf, i):
    shift = 0
    val = 0
    while True:
        check(i < len(buf), "truncated varint in message id %r" % buf)
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return val, i


def decode_msgid(s):
    """Decodes a base64 MessageIdData; returns dict with raw bytes and every varint field seen
    (ledger=1, entry=2, partition=3, batch_index=4, batch_size=6) plus 'order' of field numbers."""
    raw = unb64(s)
    names = {1: "ledger", 2: "entry", 3: "partition", 4: "batch_index", 6: "batch_size"}
    out = {"raw": raw, "order": []}
    i = 0
    while i < len(raw):
        key, i = _varint(raw, i)
        field, wt = key >> 3, key & 7
        check(wt == 0, "message id %r: unexpected wire type %d" % (s, wt))
        val, i = _varint(raw, i)
        out["order"].append(field)
        out[names.get(field, "f%d" % field)] = val
    return out


def iso_offset_re():
    # Java ISO_OFFSET_DATE_TIME: seconds always printed, fraction minimal digits (no trailing 0,
    # omitted when zero), offset Z or +HH:MM.
    return re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?(Z|[+-]\d\d:\d\d)$")


def parse_iso(s):
    """Parses an ISO-8601 offset timestamp into epoch seconds (float)."""
    from datetime import datetime
    t = s.replace("Z", "+00:00")
    return datetime.fromisoformat(t).timestamp()


# ----------------------------------------------------------------------------------------------
# HTTP over a raw socket
# ----------------------------------------------------------------------------------------------

def _connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _read_head(sock, deadline):
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.time()
        if left <= 0:
            raise TestFailure("timeout waiting for HTTP response head (got %r)" % data[:200])
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            if not data:
                raise TestFailure("connection closed without an HTTP response")
            raise TestFailure("connection closed inside HTTP response head: %r" % data[:300])
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"^HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
    check(m is not None, "bad HTTP status line %r" % lines[0])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers.setdefault(k.strip().lower(), v.strip())
    return int(m.group(1)), headers, rest


def http_raw(port, request_bytes, timeout=5.0, read_body=True):
    """Sends raw bytes, returns (status, headers(lowercase keys), body bytes)."""
    s = _connect(port, timeout)
    try:
        s.sendall(request_bytes)
        deadline = time.time() + timeout
        status, headers, rest = _read_head(s, deadline)
        body = rest
        if read_body and status != 101:
            n = headers.get("content-length")
            if n is not None:
                n = int(n)
                while len(body) < n and time.time() < deadline:
                    s.settimeout(max(0.01, deadline - time.time()))
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
        return status, headers, body
    finally:
        s.close()


def http_get(srv, target, headers=None, method="GET", body=b""):
    h = {"Host": "127.0.0.1:%d" % srv.port, "Connection": "close"}
    h.update(headers or {})
    if body:
        h["Content-Length"] = str(len(body))
    req = "%s %s HTTP/1.1\r\n" % (method, target)
    req += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return http_raw(srv.port, req.encode() + body)


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def upgrade_request(srv, target, headers=None, omit=(), method="GET", key=None):
    """Builds an upgrade request. headers override/add; omit lists header names to leave out."""
    key = key or ws_key()
    h = {"Host": "127.0.0.1:%d" % srv.port, "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    for k, v in (headers or {}).items():
        h[k] = v
    for k in omit:
        h.pop(k, None)
    req = "%s %s HTTP/1.1\r\n" % (method, target)
    req += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return req.encode(), key


def upgrade_status(srv, target, headers=None, omit=(), method="GET", key=None):
    """Attempts an upgrade and returns (status, headers, body)."""
    req, _ = upgrade_request(srv, target, headers, omit, method, key)
    return http_raw(srv.port, req)


# ----------------------------------------------------------------------------------------------
# Raw RFC 6455 client (frame level)
# ----------------------------------------------------------------------------------------------

class Frame:
    def __init__(self, fin, rsv, opcode, payload, masked):
        self.fin, self.rsv, self.opcode, self.payload, self.masked = fin, rsv, opcode, payload, masked

    def close_code(self):
        if len(self.payload) >= 2:
            return struct.unpack("!H", self.payload[:2])[0]
        return None

    def __repr__(self):
        return "Frame(fin=%d op=%d len=%d %r)" % (self.fin, self.opcode, len(self.payload),
                                                  self.payload[:60])


class PeerClosed(Exception):
    pass


class RawWS:
    """Minimal client: the upgrade is checked strictly (101 + correct Sec-WebSocket-Accept); frames
    are sent exactly as asked (mask or not, any opcode/rsv/length form)."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.buf = leftover

    @classmethod
    def connect(cls, srv, target, headers=None, timeout=5.0):
        req, key = upgrade_request(srv, target, headers)
        s = _connect(srv.port, timeout)
        s.sendall(req)
        status, hdrs, rest = _read_head(s, time.time() + timeout)
        if status != 101:
            s.close()
            raise TestFailure("upgrade of %s: expected 101, got %d" % (target, status))
        eq(hdrs.get("sec-websocket-accept"), accept_for(key), "Sec-WebSocket-Accept")
        return cls(s, rest)

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- sending ---------------------------------------------------------------------------
    @staticmethod
    def encode(opcode, payload=b"", fin=True, mask=True, rsv=0, length_form=None):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
        mbit = 0x80 if mask else 0
        form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
        if form == 7:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif form == 16:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            mk = os.urandom(4)
            body = bytes(b ^ mk[i & 3] for i, b in enumerate(payload)) if n < 4096 else _xor(payload, mk)
            return hdr + mk + body
        return hdr + payload

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0, length_form=None):
        self.sock.sendall(self.encode(opcode, payload, fin, mask, rsv, length_form))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def send_close(self, code=1000, reason=b""):
        self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason)

    # -- receiving -------------------------------------------------------------------------
    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise PeerClosed("peer closed the TCP connection")
            self.buf += chunk

    def recv_frame(self, timeout=5.0):
        deadline = time.time() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        off = 2
        form = 7
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            off = 4
            form = 16
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            off = 10
            form = 64
        masked = bool(b1 & 0x80)
        if masked:
            off += 4
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        if masked:
            payload = _xor(payload, self.buf[off - 4:off])
        self.buf = self.buf[off + n:]
        check(not masked, "server sent a masked frame (RFC 6455 5.1 forbids it)")
        f = Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload, masked)
        f.length_form = form
        return f

    def recv_text(self, timeout=5.0, controls=None):
        """Next complete data message as str (reassembling fragments). Control frames are
        appended to `controls` (if given); a close frame raises TestFailure."""
        deadline = time.time() + timeout
        parts = []
        while True:
            f = self.recv_frame(max(0.01, deadline - time.time()))
            if f.opcode in (OP_PING, OP_PONG):
                if controls is not None:
                    controls.append(f)
                continue
            if f.opcode == OP_CLOSE:
                raise TestFailure("expected a message, got close code=%r reason=%r"
                                  % (f.close_code(), f.payload[2:]))
            parts.append(f.payload)
            if f.fin:
                return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout=5.0):
        return json.loads(self.recv_text(timeout))

    def expect_close(self, timeout=5.0):
        """Reads until a close frame; returns (code, reason bytes). Fails on EOF without one or
        on timeout. Data frames before it are ignored."""
        deadline = time.time() + timeout
        while True:
            try:
                f = self.recv_frame(max(0.01, deadline - time.time()))
            except PeerClosed:
                raise TestFailure("server closed TCP without sending a close frame")
            except socket.timeout:
                raise TestFailure("no close frame within %.1fs" % timeout)
            if f.opcode == OP_CLOSE:
                return f.close_code(), f.payload[2:]

    def expect_eof(self, timeout=5.0):
        """After a close handshake: the server must close TCP within timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.recv_frame(max(0.01, deadline - time.time()))
            except PeerClosed:
                return True
            except socket.timeout:
                break
        raise TestFailure("server did not close the TCP connection within %.1fs" % timeout)


def _xor(data, mk):
    n = len(data)
    k = (mk * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big") if n else b""


# ----------------------------------------------------------------------------------------------
# websocket-client (python3-websocket) helpers
# ----------------------------------------------------------------------------------------------

def connect(srv, target, timeout=5.0, **kw):
    """websocket.create_connection against the server; raises TestFailure with the HTTP status
    if the upgrade is refused."""
    try:
        return websocket.create_connection(srv.url + target, timeout=timeout, **kw)
    except websocket.WebSocketBadStatusException as e:
        raise TestFailure("upgrade of %s refused with HTTP %s" % (target, e.status_code))


def recv_text(ws, timeout=5.0):
    ws.settimeout(timeout)
    try:
        return ws.recv()
    except websocket.WebSocketTimeoutException:
        raise TestFailure("no message within %.1fs" % timeout)


def recv_json(ws, timeout=5.0):
    t = recv_text(ws, timeout)
    try:
        return json.loads(t)
    except ValueError:
        raise TestFailure("server sent non-JSON text %r" % t[:200])


def expect_silence(ws, seconds):
    """Asserts no message arrives within `seconds`."""
    ws.settimeout(seconds)
    try:
        t = ws.recv()
    except websocket.WebSocketTimeoutException:
        return
    raise TestFailure("expected no message for %.1fs, got %r" % (seconds, t[:200]))


def recv_n(ws, n, timeout=10.0):
    """Receives exactly n JSON messages (overall timeout)."""
    out = []
    deadline = time.time() + timeout
    while len(out) < n:
        left = deadline - time.time()
        if left <= 0:
            raise TestFailure("received only %d of %d messages within %.0fs" % (len(out), n, timeout))
        out.append(recv_json(ws, left))
    return out


def pub_msg(payload, context=None, **fields):
    m = {"payload": b64(payload)}
    if context is not None:
        m["context"] = context
    m.update(fields)
    return json.dumps(m)


def publish(ws, payload, context=None, timeout=5.0, **fields):
    """Sends one message and returns the receipt dict."""
    ws.send(pub_msg(payload, context, **fields))
    return recv_json(ws, timeout)


def publish_many(ws, payloads, timeout=15.0, **fields):
    """Pipelines every payload (context = index as string), then collects the receipts and
    returns them ordered by context. Asserts exactly one receipt per message."""
    for i, p in enumerate(payloads):
        ws.send(pub_msg(p, str(i), **fields))
    rs = recv_n(ws, len(payloads), timeout)
    byctx = {}
    for r in rs:
        c = r.get("context")
        check(c is not None and c not in byctx, "bad/duplicate receipt context in %r" % r)
        byctx[c] = r
    return [byctx[str(i)] for i in range(len(payloads))]


def produce(srv, topic, payloads, params=None, **kw):
    """Opens a producer, publishes all payloads, asserts every receipt is ok, returns ids."""
    ws = connect(srv, path("producer", topic, params=params, **kw))
    try:
        rs = publish_many(ws, payloads)
    finally:
        ws.close(timeout=1)
    for r in rs:
        eq(r.get("result"), "ok", "receipt result (%r)" % r)
    return [r["messageId"] for r in rs]


# ----------------------------------------------------------------------------------------------
# Runner
# ----------------------------------------------------------------------------------------------

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")
_reported = set()
_failed_tests = set()


def failed_before(fn):
    return fn.__name__ in _failed_tests


def _end_server(s):
    """Ends a server left running by a test: SIGKILL, or under sanitizers (MAG_TIMEOUT_SCALE
    set by tools/dev) SIGTERM first so that LeakSanitizer runs at exit."""
    try:
        if os.environ.get("MAG_TIMEOUT_SCALE"):
            s.proc.send_signal(signal.SIGTERM)
            try:
                s.proc.wait(10)
                return
            except subprocess.TimeoutExpired:
                pass
        s.proc.kill()
        s.proc.wait(5)
    except Exception:
        pass


def _sanitizer_reports(servers):
    """New AddressSanitizer/LeakSanitizer/UBSan reports in the servers' stderr (each reported
    once), as text; "" if none."""
    out = []
    for s in servers:
        try:
            with open(s.stderr_path, "r", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for i, ln in enumerate(lines):
            if any(m in ln for m in SANITIZER_MARKERS) and (s.stderr_path, i) not in _reported:
                _reported.add((s.stderr_path, i))
                out.append("\n".join(lines[i:i + 12]))
    return "\n".join(out)


def main():
    only = os.environ.get("MAG_TEST_FILTER")
    passed = failed = 0
    t_start = time.time()
    print("# magnetar: %s" % MAGNETAR_BIN, flush=True)
    for fn in _tests:
        if only and only not in fn.__name__:
            continue
        first_server = len(_servers)
        t0 = time.time()
        try:
            fn()
        except Exception as e:
            failed += 1
            _failed_tests.add(fn.__name__)
            print("FAIL %s (%.1fs): %s" % (fn.__name__, time.time() - t0, e), flush=True)
            if not isinstance(e, TestFailure):
                traceback.print_exc(file=sys.stdout)
            else:
                tb = traceback.extract_tb(e.__traceback__)
                for fr in tb[1:]:
                    if fr.filename != __file__:
                        print("    at %s:%d %s" % (os.path.basename(fr.filename), fr.lineno, fr.line))
            for s in [x for x in _servers[:first_server] if x.keep] + _servers[first_server:]:
                tail = s.stderr_tail(15)
                if tail.strip():
                    print("    --- server stderr tail (port %s) ---" % s.port)
                    print("    " + tail.rstrip().replace("\n", "\n    "))
        else:
            passed += 1
            print("PASS %s (%.1fs)" % (fn.__name__, time.time() - t0), flush=True)
        finally:
            for s in _servers[first_server:]:
                if not s.keep and s.proc.poll() is None:
                    _end_server(s)
            reports = _sanitizer_reports(_servers)
            if reports:
                if passed and not failed_before(fn):
                    passed -= 1
                    failed += 1
                print("FAIL %s: sanitizer report in server stderr:\n    %s"
                      % (fn.__name__, reports.replace("\n", "\n    ")), flush=True)
            _servers[first_server:] = [x for x in _servers[first_server:] if x.keep]
    print("# total %.1fs" % (time.time() - t_start))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    _cleanup()
    sys.exit(1 if failed or not passed else 0)


# ----------------------------------------------------------------------------------------------
# Helpers for the subscription-behaviour tests (issue #3: failover, Key_Shared, redelivery, DLQ,
# pull mode, delayed delivery, termination). Appended; nothing above depends on them.
# ----------------------------------------------------------------------------------------------

def send_ack(ws, message_id):
    """Consumer command: individual ack of message_id (no reply is expected)."""
    ws.send(json.dumps({"messageId": message_id}))


def send_nack(ws, message_id):
    """Consumer command: negativeAcknowledge of message_id (no reply is expected)."""
    ws.send(json.dumps({"type": "negativeAcknowledge", "messageId": message_id}))


def send_permit(ws, n):
    """Pull-mode consumer command: grant n more messages."""
    ws.send(json.dumps({"type": "permit", "permitMessages": n}))


def recv_timed(ws, timeout=5.0):
    """Next JSON message and the wall-clock time (time.time()) it was read."""
    m = recv_json(ws, timeout)
    return m, time.time()


def recv_any(conns, timeout=5.0, step=0.02):
    """Polls several websocket-client connections; returns (index, message dict) of the first
    message seen on any of them. Fails after `timeout` seconds of silence on all."""
    deadline = time.time() + timeout
    while True:
        for i, ws in enumerate(conns):
            ws.settimeout(step)
            try:
                t = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            try:
                return i, json.loads(t)
            except ValueError:
                raise TestFailure("connection %d sent non-JSON text %r" % (i, t[:200]))
        if time.time() >= deadline:
            raise TestFailure("no message on any of %d connections within %.1fs" % (len(conns), timeout))


def drain(ws, idle=1.0, limit=100000):
    """Every JSON message until `idle` seconds pass without one (or `limit` messages)."""
    out = []
    ws.settimeout(idle)
    while len(out) < limit:
        try:
            t = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        out.append(json.loads(t))
    return out


def expect_silence_all(conns, seconds):
    """Asserts that none of the connections receives anything within `seconds` (waits once, not
    once per connection)."""
    time.sleep(seconds)
    for i, ws in enumerate(conns):
        ws.settimeout(0.05)
        try:
            t = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        raise TestFailure("connection %d: expected no message for %.1fs, got %r" % (i, seconds, t[:200]))


def end_of_topic(ws, timeout=5.0):
    """Sends {"type":"isEndOfTopic"} and returns the raw text of the next frame (the reply)."""
    ws.send('{"type":"isEndOfTopic"}')
    return recv_text(ws, timeout)


def admin(srv, method, target, body=b""):
    """Admin REST call; returns (status, headers, body bytes). A str body is UTF-8 encoded and sent
    as application/json."""
    headers = {}
    if isinstance(body, str):
        body = body.encode()
    if body:
        headers["Content-Type"] = "application/json"
    return http_get(srv, target, headers=headers, method=method, body=body)


def rest_call(srv, method, target, body=None, content_type="application/json"):
    """Admin REST call through urllib (a plain HTTP client, as the page's users have). body: bytes
    as they are, a str UTF-8 encoded, anything else sent as JSON. Returns (status, headers, body
    bytes), error statuses included."""
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else (
            body if isinstance(body, str) else json.dumps(body)).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (srv.port, target), data=data,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def rest_json(srv, method, target, body=None):
    """rest_call with the response body parsed as JSON (None when empty): (status, value)."""
    status, _, b = rest_call(srv, method, target, body)
    return status, (json.loads(b) if b else None)


def topic_admin_path(topic, suffix="", domain="persistent", tenant="public", ns="default"):
    """/admin/v2/{domain}/{tenant}/{ns}/{topic}[/suffix]"""
    p = "/admin/v2/%s/%s/%s/%s" % (domain, tenant, ns, topic)
    return p + ("/" + suffix if suffix else "")


def full_topic(topic, domain="persistent", tenant="public", ns="default"):
    return "%s://%s/%s/%s" % (domain, tenant, ns, topic)


def wait_until(pred, timeout=5.0, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value (returned) or fails after timeout."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            raise TestFailure("%s not reached within %.1fs" % (what, timeout))
        time.sleep(interval)


# ----------------------------------------------------------------------------------------------
# Helpers for the producer-feature tests (issue #7: batching, compression, encryption
# pass-through, pending/timeouts, deduplication, non-persistent topics, payload sizes).
# Appended; nothing above depends on them.
# ----------------------------------------------------------------------------------------------

def time_scale():
    """$MAG_TIMEOUT_SCALE as a float (1 unless set, e.g. 3 under AddressSanitizer)."""
    return float(os.environ.get("MAG_TIMEOUT_SCALE") or 1)


def send_burst(ws, texts):
    """Sends every text as one masked text frame, all frames in ONE sendall on the websocket-client
    connection `ws`, so the server finds them in its input buffer together (pipelining for
    batching and queue-full tests). Also the fast way to send a ~1 MiB frame (websocket-client's
    own masking is a pure-Python loop)."""
    data = b"".join(RawWS.encode(OP_TEXT, t) for t in texts)
    ws.sock.sendall(data)


def burst_publish(ws, payloads, timeout=20.0, **fields):
    """send_burst of one message per payload (context = index as string), then exactly one
    receipt per message; returns the receipts ordered by context (errors included)."""
    send_burst(ws, [pub_msg(p, str(i), **fields) for i, p in enumerate(payloads)])
    rs = recv_n(ws, len(payloads), timeout)
    byctx = {}
    for r in rs:
        c = r.get("context")
        check(c is not None and c not in byctx, "bad/duplicate receipt context in %r" % r)
        byctx[c] = r
    return [byctx[str(i)] for i in range(len(payloads))]


def _put_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def msgid_b64(ledger, entry, partition=None, batch_index=None, batch_size=0):
    """The exact 2.10 MessageIdData (MessageIdImpl.toByteArray) as standard base64: fields 1, 2,
    [3], [4], 6 in ascending order; batch_size (6) is always written (0 for a non-batched id)."""
    raw = b"\x08" + _put_varint(ledger) + b"\x10" + _put_varint(entry)
    if partition is not None:
        raw += b"\x18" + _put_varint(partition)
    if batch_index is not None:
        raw += b"\x20" + _put_varint(batch_index)
    raw += b"\x30" + _put_varint(batch_size)
    return base64.b64encode(raw).decode()


def batch_groups(ids):
    """Groups message ids (in send order) by (ledger, entry). Returns a list of
    ((ledger, entry), [decoded ids]) in first-seen order; asserts each entry's messages are
    contiguous in send order."""
    groups = []
    seen = set()
    for mid in ids:
        d = decode_msgid(mid)
        d["b64"] = mid
        key = (d.get("ledger"), d.get("entry"))
        if groups and groups[-1][0] == key:
            groups[-1][1].append(d)
            continue
        check(key not in seen, "messages of entry %r are not contiguous in send order: %r" % (key, ids))
        seen.add(key)
        groups.append((key, [d]))
    return groups


def check_batch_group(key, members, partition=None):
    """Asserts that the ids of one stored entry are a complete batch: byte-exact 2.10 batch ids
    with batch_index 0..k-1 (in send order) and batch_size k."""
    k = len(members)
    for i, d in enumerate(members):
        eq(d["b64"], msgid_b64(key[0], key[1], partition, i, k),
           "id %d of the batch in entry %r (batch_index %d, batch_size %d)" % (i, key, i, k))


def dump_data_dir(data_dir):
    """Runs magnetar-dump (read-only, safe on a live server) next to $MAGNETAR_BIN and parses it:
    {"stats": {...}, "topics": {full name: {"id", "entries", "first", "last", "bytes",
    "cursors": {sub: mark_delete}}}}."""
    tool = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-dump")
    check(os.path.exists(tool), "magnetar-dump not found at %s" % tool)
    p = subprocess.run([tool, data_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check(p.returncode == 0, "magnetar-dump failed (%d): %s" % (p.returncode, p.stderr.decode()[-500:]))
    out = {"stats": {}, "topics": {}}
    cur = None
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("data dir "):
            out["stats"] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
        elif line.startswith("topic "):
            m = re.match(r'^topic "(.*)" (.*)$', line)
            check(m is not None, "unparsable magnetar-dump line %r" % line)
            fields = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
            cur = {k: int(v) for k, v in fields.items() if v.isdigit()}
            cur.setdefault("entries", 0)
            cur.setdefault("bytes", 0)
            cur["cursors"] = {}
            out["topics"][m.group(1)] = cur
        elif line.startswith("  cursor ") and cur is not None:
            m = re.match(r'^  cursor "(.*)" type=\d+ mark_delete=(-?\d+)', line)
            if m:
                cur["cursors"][m.group(1)] = int(m.group(2))
    return out


def admin_json(srv, method, target, body=b"", expect=200):
    """admin() asserting the status; returns the parsed JSON body (None for an empty body)."""
    st, _, b = admin(srv, method, target, body)
    eq(st, expect, "%s %s status (body %r)" % (method, target, b[:300]))
    return json.loads(b) if b.strip() else None


def topic_stats(srv, topic, domain="persistent", tenant="public", ns="default"):
    """GET /admin/v2/{domain}/{tenant}/{ns}/{topic}/stats as a dict (asserting 200)."""
    return admin_json(srv, "GET", topic_admin_path(topic, "stats", domain, tenant, ns))


def internal_stats(srv, topic, domain="persistent", tenant="public", ns="default"):
    """GET .../internalStats as a dict (asserting 200)."""
    return admin_json(srv, "GET", topic_admin_path(topic, "internalStats", domain, tenant, ns))


def create_namespace(srv, tenant, ns):
    """PUT /admin/v2/namespaces/{tenant}/{ns}, asserting 204."""
    st, _, b = admin(srv, "PUT", "/admin/v2/namespaces/%s/%s" % (tenant, ns))
    eq(st, 204, "create namespace %s/%s (body %r)" % (tenant, ns, b[:200]))


def set_deduplication(srv, tenant, ns, enabled):
    """POST /admin/v2/namespaces/{tenant}/{ns}/deduplication with body true/false; returns the
    (status, body) pair."""
    st, _, b = admin(srv, "POST", "/admin/v2/namespaces/%s/%s/deduplication" % (tenant, ns),
                     "true" if enabled else "false")
    return st, b


def read_all(srv, target, idle=1.0, limit=100000, **kw):
    """Connects to a reader/consumer URL path (e.g. path("reader", t, params="messageId=earliest")),
    acks every message (flow control) and returns every message until `idle` s of silence.
    kw: passed to connect() (e.g. skip_utf8_validation=True for big payloads)."""
    ws = connect(srv, target, **kw)
    out = []
    try:
        ws.settimeout(idle)
        while len(out) < limit:
            try:
                t = ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            m = json.loads(t)
            out.append(m)
            if "messageId" in m:
                send_ack(ws, m["messageId"])
    finally:
        ws.close(timeout=1)
    return out


class LmdbWriteLock:
    """Holds the write lock of a data directory's LMDB environment from this (test) process, with
    the system liblmdb through ctypes: while held, the server's group commit cannot start its
    write transaction, so publishes stay uncommitted (deterministic pending / send-timeout
    tests). Use as a context manager; nothing is ever written (the transaction is aborted)."""

    def __init__(self, data_dir):
        import ctypes
        self._c = ctypes
        self._lib = ctypes.CDLL("liblmdb.so.0")
        self._lib.mdb_strerror.restype = ctypes.c_char_p
        self._dir = data_dir
        self._env = ctypes.c_void_p()
        self._txn = ctypes.c_void_p()

    def _ok(self, rc, what):
        if rc != 0:
            raise TestFailure("%s: %s" % (what, self._lib.mdb_strerror(rc).decode()))

    def acquire(self):
        c = self._c
        self._ok(self._lib.mdb_env_create(c.byref(self._env)), "mdb_env_create")
        self._ok(self._lib.mdb_env_set_maxdbs(self._env, 64), "mdb_env_set_maxdbs")
        self._ok(self._lib.mdb_env_open(self._env, self._dir.encode(), 0, 0o600), "mdb_env_open")
        self._ok(self._lib.mdb_txn_begin(self._env, None, 0, c.byref(self._txn)), "mdb_txn_begin")
        return self

    def release(self):
        if self._txn:
            self._lib.mdb_txn_abort(self._txn)
            self._txn = self._c.c_void_p()
        if self._env:
            self._lib.mdb_env_close(self._env)
            self._env = self._c.c_void_p()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def connect_retry(srv, target, timeout=3.0, **kw):
    """connect(), retrying while the upgrade is refused with 409 (e.g. an Exclusive consumer
    reconnecting before the server noticed the previous session's close)."""
    deadline = time.time() + timeout * time_scale()
    while True:
        try:
            return connect(srv, target, **kw)
        except TestFailure as e:
            if "HTTP 409" not in str(e) or time.time() >= deadline:
                raise
            time.sleep(0.05)


def publish_fast(ws, payload, context=None, timeout=10.0, **fields):
    """publish() through send_burst (fast masking for big payloads); returns the receipt dict."""
    send_burst(ws, [pub_msg(payload, context, **fields)])
    return recv_json(ws, timeout)


def eq_bytes(got, expected, what="bytes"):
    """eq() for long byte strings: the failure names lengths and the first differing offset
    instead of printing megabytes."""
    if got == expected:
        return
    n = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    raise TestFailure("%s: expected %d bytes (sha1 %s), got %d bytes (sha1 %s); first difference at "
                      "offset %d: expected %r, got %r"
                      % (what, len(expected), hashlib.sha1(expected).hexdigest()[:12], len(got),
                         hashlib.sha1(got).hexdigest()[:12], n, expected[n:n + 16], got[n:n + 16]))


def eq_payloads(msgs, payloads, what="payloads"):
    """Asserts that the delivered messages' base64 payloads decode to exactly `payloads`."""
    eq(len(msgs), len(payloads), "%s: message count" % what)
    for i, (m, p) in enumerate(zip(msgs, payloads)):
        eq_bytes(unb64(m["payload"]), p, "%s[%d]" % (what, i))


def read_n(srv, target, n, timeout=10.0, quiet=0.2, **kw):
    """Connects to a reader/consumer URL path, receives exactly n messages (acking each), then
    asserts `quiet` seconds without another one; returns the n messages. kw: as read_all."""
    ws = connect(srv, target, **kw)
    try:
        out = recv_n(ws, n, timeout)
        for m in out:
            if "messageId" in m:
                send_ack(ws, m["messageId"])
        if quiet:
            expect_silence(ws, quiet)
    finally:
        ws.close(timeout=1)
    return out
