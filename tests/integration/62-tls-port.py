# 62-tls-port.py - the TLS port opens as in Pulsar: whenever webServicePortTls is set.
#
# Pulsar's WebService and WebSocket ProxyServer open HTTPS when webServicePortTls is present and
# ignore the deprecated tlsEnabled. So: webServicePortTls + certificate paths alone give a wss://
# listener (ready line, publish over wss://) and no warning; tlsEnabled=true still works but warns
# that it is deprecated; certificate paths without webServicePortTls open no TLS port (its default
# is unset, as Pulsar's); webServicePortTls with a missing certificate stops the server.

import os
import subprocess

from magnetar_harness import (MAGNETAR_BIN, check, connect_tls, eq, main, mkdtemp, path, publish,
                              start_server, test, test_certs, uniq)


def cert_args():
    c = test_certs()
    return ["-o", "tlsCertificateFilePath=" + c["server_cert"], "-o", "tlsKeyFilePath=" + c["server_key"]]


def stderr_of(srv):
    with open(srv.stderr_path, errors="replace") as f:
        return f.read()


@test
def web_service_port_tls_alone_opens_tls():
    srv = start_server(["-o", "webServicePortTls=0"] + cert_args())
    check(srv.tls_port is not None and srv.tls_port > 0, "ready line has a wss:// URL")
    ws = connect_tls(srv, path("producer", uniq()))
    eq(publish(ws, b"over-tls", context="1")["result"], "ok", "publish over wss://")
    ws.close()
    check("tlsEnabled" not in stderr_of(srv), "no tlsEnabled warning:\n" + stderr_of(srv))


@test
def tls_enabled_still_works_but_warns():
    srv = start_server(["-o", "tlsEnabled=true", "-o", "webServicePortTls=0"] + cert_args())
    check(srv.tls_port is not None and srv.tls_port > 0, "ready line has a wss:// URL")
    lines = [l for l in stderr_of(srv).splitlines() if "tlsEnabled is deprecated" in l]
    eq(len(lines), 1, "deprecation warnings")
    check(" warn " in lines[0], "a warning: " + lines[0])


@test
def certificates_without_port_open_no_tls():
    srv = start_server(cert_args())
    eq(srv.tls_port, None, "no wss:// URL in the ready line")


@test
def port_with_missing_certificate_refuses_to_start():
    d = mkdtemp("mag-62-")
    r = subprocess.run([MAGNETAR_BIN, "-p", "0", "-d", os.path.join(d, "data"), "-o", "webServicePortTls=0",
                        "-o", "tlsCertificateFilePath=" + os.path.join(d, "nope.pem"),
                        "-o", "tlsKeyFilePath=" + test_certs()["server_key"]],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    eq(r.returncode, 2, "exit code (configuration error)")
    eq(r.stdout, b"", "no ready line")
    check(b"tlsCertificateFilePath" in r.stderr, "stderr names the setting: %r" % r.stderr)


if __name__ == "__main__":
    main()
