# 90-client-cli.py - tools/magnetar-client (pulsar-client's produce / consume / read over the
# WebSocket API) against the real server.
#
# Covers: produce N messages with a key and properties (-m split on ",", -n repeats, -p lists,
# -f sends a file's bytes), then consume them with a subscription: pulsar-client's
# "----- got message -----" blocks ("key:[K], properties:[k=v, ...], content:C"), the
# "N messages successfully ..." lines, exit 0, and every message acked (backlog 0 afterwards);
# what a Python WebSocket consumer sees of the CLI's messages; read from earliest and from
# LEDGER:ENTRY; --hex; short and full topic names; consume -n 0 ended by SIGINT; -r and the
# progress line on stderr of a long run; errors as one line and a non-zero exit (connection refused, bad URL,
# 404 with allowAutoTopicCreation=false, 401 with a bad token, send-error receipts, a session
# closed by the server); token auth (--token, --auth-params token: and file://); TLS (trust
# store, untrusted server refused, --tls-allow-insecure, mutual TLS); --help per verb.
# magnetar-client is built next to magnetar, so its path is derived from MAGNETAR_BIN.

import json
import os
import re
import signal
import socket
import subprocess
import time

from magnetar_harness import (MAGNETAR_BIN, b64, check, connect, decode_msgid, eq, http_get, main,
                              mkdtemp, path, produce, recv_json, shared_server, start_server,
                              test, test_certs, uniq)

CLIENT = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-client")
TOKEN_BIN = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-token")
BOUNDARY = "----- got message -----"


def srv():
    return shared_server()


def run(*args, url=None, s=None, timeout=30, expect_rc=0, stdin=None):
    """Runs magnetar-client [--url URL] ARGS...; checks the exit status; returns (stdout, stderr)."""
    check(os.path.exists(CLIENT), "magnetar-client not found at %s" % CLIENT)
    argv = [CLIENT]
    if url is not False:
        argv += ["--url", url or (s or srv()).url]
    argv += list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    eq(p.returncode, expect_rc, "exit status of %s (stdout %r, stderr %r)"
       % (" ".join(args), out[-500:], err[-500:]))
    return out, err


def blocks(out):
    """The message lines printed after each boundary line."""
    lines = out.splitlines()
    return [lines[i + 1] for i, ln in enumerate(lines) if ln == BOUNDARY]


def one_line_error(err, fragment):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    check(lines, "no error message on stderr")
    check(lines[0].startswith("magnetar-client: ") and fragment in lines[0],
          "first stderr line %r should name %r" % (lines[0], fragment))


def sub_stats(s, topic, sub):
    st, _, body = http_get(s, "/admin/v2/persistent/public/default/%s/stats" % topic)
    eq(st, 200, "stats status (%r)" % body[:200])
    return json.loads(body)["subscriptions"][sub]


@test
def produce_with_key_and_properties_then_consume():
    t = uniq("cli")
    out, err = run("produce", t, "-m", "alpha,beta", "-n", "3", "-k", "key-1", "-p", "k1=v1,k2=v2",
                   "-p", "k3=a=b")
    eq(out, "6 messages successfully produced\n", "produce stdout")
    eq(err, "", "produce stderr")
    out, err = run("consume", "persistent://public/default/" + t, "-s", "sub", "-p", "Earliest",
                   "-n", "6")
    want = "key:[key-1], properties:[k1=v1, k2=v2, k3=a=b], content:%s"
    eq(blocks(out), [want % c for c in ["alpha", "beta"] * 3], "consumed messages")
    eq(out.splitlines()[-1], "6 messages successfully consumed", "summary line")
    eq(len(out.splitlines()), 13, "6 blocks of 2 lines and the summary")
    # Every message was acknowledged before the client closed.
    deadline = time.time() + 5
    while sub_stats(srv(), t, "sub")["msgBacklog"] != 0 and time.time() < deadline:
        time.sleep(0.1)
    eq(sub_stats(srv(), t, "sub")["msgBacklog"], 0, "backlog after consuming with acks")
    # A second consumer on the same subscription gets nothing more: -n 0 ended by SIGINT.
    p = subprocess.Popen([CLIENT, "--url", srv().url, "consume", t, "-s", "sub", "-n", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    eq(p.returncode, 0, "consume -n 0 ended by SIGINT (stderr %r)" % err[-300:])
    eq(out.decode(), "0 messages successfully consumed\n", "nothing left on the subscription")


@test
def what_a_websocket_consumer_sees():
    t = uniq("cli-ws")
    ws = connect(srv(), path("consumer", t, "py"))
    d = mkdtemp("mag-cli-")
    blob = bytes(range(256)) * 3
    with open(os.path.join(d, "blob.bin"), "wb") as f:
        f.write(blob)
    run("produce", t, "-f", os.path.join(d, "blob.bin"), "-m", "text", "-k", "k", "-p", "p=1")
    m1, m2 = recv_json(ws), recv_json(ws)
    # CmdProduce.generateMessageBodies: the -m strings first, then the files.
    eq(m1["payload"], b64("text"), "first payload")
    eq(m2["payload"], b64(blob), "file bytes sent as they are")
    for m in (m1, m2):
        eq(m.get("key"), "k", "key")
        eq(m.get("properties"), {"p": "1"}, "properties")
    ws.close()
    # No key and no properties: pulsar-client prints key:[null], properties:[].
    t2 = uniq("cli-plain")
    run("produce", t2, "-m", "x")
    out, _ = run("read", t2, "-m", "earliest")
    eq(blocks(out), ["key:[null], properties:[], content:x"], "message without key/properties")


@test
def read_from_earliest_and_from_an_id():
    t = uniq("cli-read")
    ids = produce(srv(), t, [b"m0", b"m1", b"m2"])
    out, _ = run("read", t, "-m", "earliest", "-n", "3")
    eq([b.rsplit(":", 1)[1] for b in blocks(out)], ["m0", "m1", "m2"], "read from earliest")
    eq(out.splitlines()[-1], "3 messages successfully read", "summary line")
    # LEDGER:ENTRY (CmdRead.parseMessageId) and the base64 id: the reader starts after it.
    first = decode_msgid(ids[0])
    out, _ = run("read", t, "-m", "%d:%d" % (first["ledger"], first["entry"]), "-n", "2")
    eq([b.rsplit(":", 1)[1] for b in blocks(out)], ["m1", "m2"], "read after LEDGER:ENTRY")
    out, _ = run("read", t, "-m", ids[1], "-n", "1")
    eq([b.rsplit(":", 1)[1] for b in blocks(out)], ["m2"], "read after a base64 id")
    # --hex: commons-io HexDump's layout, then println's newline (CmdConsume.interpretMessage).
    t2 = uniq("cli-hex")
    produce(srv(), t2, [b"Hello, binary\x00\x01\xff world!"])
    out, _ = run("read", t2, "-m", "earliest", "--hex")
    eq(out.splitlines(), [
        BOUNDARY,
        "key:[null], properties:[], content:00000000 48 65 6C 6C 6F 2C 20 62 69 6E 61 72 79 00 01 FF"
        " Hello, binary...",
        "00000010 20 77 6F 72 6C 64 21 " + "   " * 9 + " world!",   # a short line is padded
        "",
        "1 messages successfully read"], "hex dump")
    _, err = run("read", t, "-m", "bogus", expect_rc=2)
    one_line_error(err, "Message ID must be 'latest', 'earliest' or '<ledgerId>:<entryId>'")


@test
def progress_line_on_long_runs():
    t = uniq("cli-progress")
    t0 = time.time()
    out, err = run("produce", t, "-m", "p", "-n", "1500", "-r", "1000")
    check(time.time() - t0 >= 1.4, "-r 1000 sent 1500 messages in %.2fs" % (time.time() - t0))
    eq(out, "1500 messages successfully produced\n", "stdout")
    check(re.search(r"^magnetar-client: \d+/1500 messages produced \(\d+ msg/s\)$", err, re.M),
          "no progress line on stderr: %r" % err)
    out, err = run("consume", t, "-s", "s", "-p", "Earliest", "-n", "1500", "--hide-content")
    eq(out.splitlines(), ["Received 1000 messages", "1500 messages successfully consumed"],
       "--hide-content output")
    t0 = time.time()
    out, _ = run("read", t, "-m", "earliest", "-n", "20", "-r", "20", "--hide-content")
    check(time.time() - t0 >= 0.9, "read -r 20 took %.2fs for 20 messages" % (time.time() - t0))
    eq(out, "20 messages successfully read\n", "read -r output")


@test
def connection_and_url_errors():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()   # nothing listens there now
    out, err = run("produce", "t", "-m", "x", url="ws://127.0.0.1:%d" % port, expect_rc=1)
    one_line_error(err, "cannot connect to 127.0.0.1:%d: Connection refused" % port)
    _, err = run("produce", "t", "-m", "x", url="ftp://127.0.0.1", expect_rc=2)
    one_line_error(err, "Unable to parse URL ftp://127.0.0.1")
    _, err = run("consume", "t", expect_rc=2)
    one_line_error(err, "Subscription name is not provided.")
    _, err = run("produce", "t", expect_rc=2)
    one_line_error(err, "Please supply message content with either --messages or --files")
    _, err = run("consume", "t", "-s", "x", "-t", "Bogus", expect_rc=2)
    one_line_error(err, "Invalid subscription type Bogus")
    _, err = run("fly", "t", expect_rc=2)
    one_line_error(err, "unknown verb 'fly'")


@test
def not_found_without_auto_creation():
    s = start_server(["-o", "allowAutoTopicCreation=false"])
    # The server's status and reason as Pulsar gives them (the reader's is a 500 in 2.10).
    for verb, status in ((["produce", uniq("nf"), "-m", "x"], "404 Not Found: Failed to create producer"),
                         (["consume", uniq("nf"), "-s", "s"], "404 Not Found: Failed to create producer/consumer"),
                         (["read", uniq("nf")], "500 Internal Server Error: Failed to create reader")):
        out, err = run(*verb, s=s, expect_rc=1)
        one_line_error(err, status)
        check("does not exist" in err, "the reason names the missing topic: %r" % err)
        check("successfully" in out, "the summary line is still printed: %r" % out)


@test
def send_errors_and_server_closes():
    # A 4 MiB LMDB map fills up (publishes stop a reserve short of its end): the receipt
    # send-error:8 ends the run with exit 1.
    s = start_server(["-o", "storageMapSizeMB=4"])
    d = mkdtemp("mag-cli-")
    with open(os.path.join(d, "chunk"), "wb") as f:
        f.write(b"z" * (48 * 1024))
    out, err = run("produce", uniq("full"), "-f", os.path.join(d, "chunk"), "-n", "100", s=s,
                   expect_rc=1)
    one_line_error(err, "was not stored: send-error:8")
    n = int(out.split()[0])
    check(0 < n < 100, "some messages stored before the map was full: %r" % out)
    # A frame over webSocketMaxTextFrameSize: the server closes the session (1009).
    s2 = start_server(["-o", "webSocketMaxTextFrameSize=1024"])
    _, err = run("produce", uniq("big"), "-m", "y" * 2000, s=s2, expect_rc=1)
    one_line_error(err, "the server closed the session: 1009")


def token_tool(*args):
    p = subprocess.run([TOKEN_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20, check=True)
    return p.stdout.decode().strip()


@test
def token_authentication():
    d = mkdtemp("mag-cli-keys-")
    key = os.path.join(d, "secret.key")
    token_tool("create-secret-key", "--output", key)
    tok = token_tool("create", "--secret-key", "file://" + key, "--subject", "alice")
    s = start_server(["-o", "authenticationEnabled=true", "-o",
                      "authenticationProviders=org.apache.pulsar.broker.authentication."
                      "AuthenticationProviderToken", "-o", "tokenSecretKey=file://" + key])
    t = uniq("auth")
    _, err = run("produce", t, "-m", "x", s=s, expect_rc=1)
    one_line_error(err, "401 Unauthorized: Failed to authenticate")
    _, err = run("--token", "garbage", "produce", t, "-m", "x", s=s, expect_rc=1)
    one_line_error(err, "401 Unauthorized: Failed to authenticate")
    run("--token", tok, "produce", t, "-m", "one", s=s)
    run("--auth-plugin", "org.apache.pulsar.client.impl.auth.AuthenticationToken",
        "--auth-params", "token:" + tok, "produce", t, "-m", "two", s=s)
    with open(os.path.join(d, "token.txt"), "w") as f:
        f.write(tok + "\n")
    out, _ = run("--auth-params", "file://" + os.path.join(d, "token.txt"), "read", t, "-m",
                 "earliest", "-n", "2", s=s)
    eq([b.rsplit(":", 1)[1] for b in blocks(out)], ["one", "two"], "read with a token file")


@test
def tls():
    c = test_certs()
    s = start_server(["-o", "tlsTrustCertsFilePath=" + c["ca"],
                      "-o", "tlsRequireTrustedClientCertOnConnect=true"], tls=True)
    t = uniq("tls")
    for host in ("127.0.0.1", "localhost"):
        url = "wss://%s:%d" % (host, s.tls_port)
        run("--tls-trust-certs", c["ca"], "--tls-cert-file", c["client_cert"], "--tls-key-file",
            c["client_key"], "produce", t, "-m", "over-" + host, url=url)
    # AuthenticationTls's parameters give the client certificate too; https:// is wss://.
    out, _ = run("--tls-trust-certs", c["ca"], "--auth-params",
                 "tlsCertFile:%s,tlsKeyFile:%s" % (c["client_cert"], c["client_key"]),
                 "read", t, "-m", "earliest", "-n", "2", url="https://localhost:%d" % s.tls_port)
    eq([b.rsplit(":", 1)[1] for b in blocks(out)], ["over-127.0.0.1", "over-localhost"],
       "read over TLS")
    url = "wss://127.0.0.1:%d" % s.tls_port
    # The server's certificate is not trusted without the test CA.
    _, err = run("--tls-cert-file", c["client_cert"], "--tls-key-file", c["client_key"],
                 "produce", t, "-m", "x", url=url, expect_rc=1)
    one_line_error(err, "certificate verify failed")
    # ... unless verification is off.
    run("--tls-allow-insecure", "--tls-cert-file", c["client_cert"], "--tls-key-file",
        c["client_key"], "produce", t, "-m", "x", url=url)
    # The server requires a trusted client certificate (with TLS 1.3 its alert may come after
    # the handshake, or as a reset: the message names the server in either case).
    _, err = run("--tls-trust-certs", c["ca"], "produce", t, "-m", "x", url=url, expect_rc=1)
    one_line_error(err, "127.0.0.1:%d" % s.tls_port)
    _, err = run("--tls-trust-certs", c["ca"], "--tls-cert-file", c["untrusted_cert"],
                 "--tls-key-file", c["untrusted_key"], "produce", t, "-m", "x", url=url,
                 expect_rc=1)
    one_line_error(err, "127.0.0.1:%d" % s.tls_port)
    _, err = run("--tls-cert-file", c["client_cert"], "--tls-key-file", "/nonexistent", "produce",
                 t, "-m", "x", url=url, expect_rc=1)
    one_line_error(err, "cannot load the client certificate")


@test
def help_per_verb():
    for verb, word in ((None, "Verbs:"), ("produce", "--num-produce"),
                       ("consume", "--subscription-type"), ("read", "--start-message-id")):
        argv = ([verb] if verb else []) + ["--help"]
        out, err = run(*argv, url=False)
        check(out.startswith("Usage: magnetar-client") and word in out,
              "%s --help: %r" % (verb, out[:200]))
        eq(err, "", "stderr of --help")


if __name__ == "__main__":
    main()
