# 85-fd-connection-limit.py - the default maxConnections (0) is derived from the open-file limit.
#
# Without a limit, half-open connections (slowloris) would use every file descriptor: accept()
# then fails with EMFILE and a legitimate client waits in the kernel backlog until
# handshakeTimeoutMillis frees some (10 s by default). With maxConnections=0 the server caps
# connections at RLIMIT_NOFILE less a reserve (32 and an eighth: 192 for 256), so at the cap a
# newcomer evicts a connection that has waited more than 1 s for its request (as with an explicit
# maxConnections), and docs/SECURITY.md's "a slowloris client cannot lock out other clients" holds
# by default.

import os
import resource
import socket
import time

from magnetar_harness import (check, connect, eq, main, path, publish, start_server, test, uniq)

SCALE = float(os.environ.get("MAG_TIMEOUT_SCALE") or 1)
NOFILE = 256


def server_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def half_open(port, n):
    """n TCP connections that never send a byte (the kernel backlog takes what is not accepted)."""
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    return socks


@test
def slowloris_beyond_the_fd_limit_cannot_lock_out_clients():
    srv = start_server(preexec_fn=server_nofile)
    log = open(srv.stderr_path).read()
    check("maxConnections=0: at most 192 connections (open-file limit 256" in log,
          "derived limit logged: %r" % log[-400:])
    attack = half_open(srv.port, NOFILE + 100)
    eq(len(attack), NOFILE + 100, "half-open connections opened")
    try:
        time.sleep(1.2)   # older than the 1 s eviction threshold
        t0 = time.monotonic()
        for i in range(10):
            t = time.monotonic()
            ws = connect(srv, path("producer", uniq("legit")), timeout=3.0 * SCALE)
            eq(publish(ws, "hello %d" % i, timeout=3.0 * SCALE)["result"], "ok", "publish")
            ws.close()
            check(time.monotonic() - t < 1.5 * SCALE,
                  "client %d served in %.2f s among %d half-open connections"
                  % (i, time.monotonic() - t, len(attack)))
        check(time.monotonic() - t0 < 5.0 * SCALE, "10 clients in %.2f s" % (time.monotonic() - t0))
        check(srv.alive(), "server alive")
        check("out of file descriptors" not in open(srv.stderr_path).read(),
              "the cap keeps the server below EMFILE")
    finally:
        for s in attack:
            s.close()


@test
def explicit_max_connections_is_kept():
    srv = start_server(["-o", "maxConnections=5000"], preexec_fn=server_nofile)
    check("maxConnections=0" not in open(srv.stderr_path).read(), "no derived limit when set")
    ws = connect(srv, path("producer", uniq("explicit")))
    eq(publish(ws, "x")["result"], "ok", "publish")
    ws.close()


if __name__ == "__main__":
    main()
