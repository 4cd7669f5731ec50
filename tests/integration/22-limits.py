# 22-limits.py - resource limits and abusive clients (issue #5).
#
# maxConnections: a connection over the limit gets "503 Too many connections" and the server keeps
# serving the others; at the limit, connections that are slow to send their request (slowloris)
# are evicted in favour of newcomers, WebSocket sessions never are. Without a limit, hundreds of
# half-open or byte-trickling connections do not slow a normal client down and are all dropped
# after handshakeTimeoutMillis (measured from accept, not from the last byte). Running out of
# file descriptors (RLIMIT_NOFILE, with maxConnections set above it) pauses accepting instead of
# spinning, and service resumes. Also
# the size limits: httpMaxRequestHeaderSize -> 431, webSocketMaxTextFrameSize -> close 1009,
# topic names over 480 bytes -> 400, and a full LMDB map -> send-error:8 without a crash.

import os
import resource
import socket
import threading
import time

from magnetar_harness import (RawWS, check, connect, eq, http_raw, main, path, pub_msg, publish,
                              recv_json, start_server, test, uniq, upgrade_request, upgrade_status)

SCALE = float(os.environ.get("MAG_TIMEOUT_SCALE") or 1)


def tcp(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_within(s, seconds):
    """True when the server closes s (EOF/reset) within seconds; data before EOF is ignored."""
    deadline = time.time() + seconds
    while True:
        left = deadline - time.time()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            if not s.recv(4096):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def producer_ok(srv):
    ws = connect(srv, path("producer", uniq("lim")))
    eq(publish(ws, "ok")["result"], "ok", "publish")
    ws.close()


@test
def max_connections_refuses_with_503():
    srv = start_server(["-o", "maxConnections=4"])
    sessions = [connect(srv, path("producer", uniq("mc"))) for _ in range(4)]
    status, headers, body = http_raw(srv.port, b"GET /admin/v2/tenants HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(status, 503, "status over the limit")
    eq(body, b"Too many connections\n", "body over the limit")
    for ws in sessions:   # established sessions are untouched
        eq(publish(ws, "still here")["result"], "ok", "publish on an existing session")
    sessions.pop().close()
    time.sleep(0.3)
    producer_ok(srv)
    for ws in sessions:
        ws.close()
    check("maxConnections" in open(srv.stderr_path).read(), "limit reached is logged")


@test
def slowloris_at_the_limit_is_evicted():
    srv = start_server(["-o", "maxConnections=30", "-o", "handshakeTimeoutMillis=60000"])
    sessions = [connect(srv, path("producer", uniq("ev"))) for _ in range(5)]
    slow = []
    for _ in range(25):
        s = tcp(srv.port)
        s.sendall(b"GET /ws/v2/producer/persistent/public/default/x HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    time.sleep(1.3)   # older than the 1 s eviction threshold
    # Ten newcomers, all kept open, get through although the limit is full of slow clients.
    newcomers = [connect(srv, path("producer", uniq("new"))) for _ in range(10)]
    for ws in newcomers:
        eq(publish(ws, "in")["result"], "ok", "newcomer publishes")
    evicted = sum(1 for s in slow if closed_within(s, 0.1))
    eq(evicted, 10, "slow connections evicted (one per newcomer)")
    # Only slow clients are evicted: with 30 WebSocket sessions open the next one is refused.
    more = [connect(srv, path("producer", uniq("more"))) for _ in range(30 - 15)]
    status, _, _ = http_raw(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(status, 503, "status when the limit is full of WebSocket sessions")
    for ws in sessions + newcomers + more:   # no WebSocket session was evicted
        eq(publish(ws, "alive")["result"], "ok", "established session still works")
        ws.close()
    for s in slow:
        s.close()


@test
def half_open_and_trickling_clients_without_limit():
    srv = start_server(["-o", "handshakeTimeoutMillis=%d" % int(2000 * SCALE)])
    silent = [tcp(srv.port) for _ in range(150)]
    trickle = [tcp(srv.port) for _ in range(50)]
    stop = threading.Event()
    head = b"GET /ws/v2/producer/persistent/public/default/t HTTP/1.1\r\nHost: x\r\nX-Pad: "

    def dribble():
        i = 0
        while not stop.is_set():
            for s in trickle:
                try:
                    s.send(head[i:i + 1] if i < len(head) else b"a")
                except OSError:
                    pass
            i += 1
            time.sleep(0.2)

    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    try:
        t0 = time.time()
        producer_ok(srv)
        check(time.time() - t0 < 1.0 * SCALE, "normal client served promptly among 200 slow ones")
        # The handshake timeout counts from accept: trickling does not extend it.
        gone = [closed_within(s, 4.0 * SCALE) for s in trickle + silent]
        eq(sum(gone), len(gone), "slow connections dropped after handshakeTimeoutMillis")
    finally:
        stop.set()
        t.join(2)
        for s in silent + trickle:
            s.close()
    producer_ok(srv)


def low_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@test
def out_of_file_descriptors_pauses_accept():
    # An explicit maxConnections above the descriptors (the default, 0, caps connections below
    # RLIMIT_NOFILE: 85-fd-connection-limit.py) lets the flood reach EMFILE.
    srv = start_server(data_dir=False, extra_args=["--ephemeral", "-o", "maxConnections=1000"],
                       preexec_fn=low_fd_limit)
    flood = []
    for _ in range(90):   # the kernel backlog accepts what the server cannot
        try:
            flood.append(tcp(srv.port))
        except OSError:
            break
    time.sleep(0.5)
    c0 = cpu_seconds(srv.proc.pid)
    time.sleep(1.0)
    spent = cpu_seconds(srv.proc.pid) - c0
    check(spent < 0.5, "server must not spin on EMFILE (%.2f s CPU in 1 s)" % spent)
    check(srv.alive(), "server alive with descriptors exhausted")
    for s in flood:
        s.close()
    time.sleep(0.8 * SCALE)
    producer_ok(srv)
    check("out of file descriptors" in open(srv.stderr_path).read(), "EMFILE is logged")


def rss_kib(pid):
    for ln in open("/proc/%d/status" % pid):
        if ln.startswith("VmRSS:"):
            return int(ln.split()[1])
    return 0


@test
def client_that_never_reads_cannot_grow_server_memory():
    srv = start_server()
    ws = RawWS.connect(srv, path("producer", uniq("nr")))
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    before = rss_kib(srv.proc.pid)
    frame = ws.encode(0x9, b"p" * 125)   # PING: each one makes the server queue a 127-byte PONG
    ws.sock.settimeout(3.0)
    sent = 0
    try:
        while sent < 400 * 1024 * 1024:   # 400 MiB of pings would mean 400 MiB of pongs
            ws.sock.sendall(frame * 512)
            sent += len(frame) * 512
    except (socket.timeout, OSError):
        pass   # the server stopped reading: our send buffer filled up
    grown = rss_kib(srv.proc.pid) - before
    check(sent < 64 * 1024 * 1024, "server kept reading from a client that never reads (%d MiB)"
          % (sent >> 20))
    check(grown < 32 * 1024, "server memory grew by %d KiB for a client that never reads" % grown)
    producer_ok(srv)   # everyone else is still served
    ws.close_socket()
    check(srv.alive(), "server alive")


@test
def header_frame_and_name_limits():
    srv = start_server(["-o", "httpMaxRequestHeaderSize=1024",
                        "-o", "webSocketMaxTextFrameSize=2048"])
    req, _ = upgrade_request(srv, path("producer", uniq()), headers={"X-Big": "a" * 2000})
    status, _, _ = http_raw(srv.port, req)
    eq(status, 431, "header over httpMaxRequestHeaderSize")
    ws = RawWS.connect(srv, path("producer", uniq()))
    ws.send_frame(1, pub_msg(b"x" * 3000).encode())
    code, _ = ws.expect_close()
    eq(code, 1009, "text frame over webSocketMaxTextFrameSize")
    ws.close_socket()
    status, _, _ = upgrade_status(srv, path("producer", "t" * 500))
    eq(status, 400, "topic name over 480 bytes")
    producer_ok(srv)


@test
def map_full_is_send_error_8():
    srv = start_server(["-o", "storageMapSizeMB=1"])
    ws = connect(srv, path("producer", uniq("full")))
    codes = set()
    for i in range(40):
        ws.send(pub_msg(bytes([65 + i % 26]) * (48 * 1024), "m%d" % i))
        r = recv_json(ws, 10 * SCALE)
        codes.add(r["result"])
        if r["result"] != "ok":
            eq(r["result"], "send-error:8", "result when the map is full")
            eq(r.get("context"), "m%d" % i, "context echoed")
    check("send-error:8" in codes, "the 1 MiB map must fill up")
    eq(publish(ws, "small")["result"] in ("ok", "send-error:8"), True, "session still usable")
    ws.close()
    check(srv.alive(), "server alive")


if __name__ == "__main__":
    main()
