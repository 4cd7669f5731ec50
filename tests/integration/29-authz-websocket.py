# 29-authz-websocket.py - authorization of WebSocket upgrades (PulsarAuthorizationProvider,
# AbstractWebSocketHandler.checkAuth; Pulsar's ProxyAuthorizationTest).
#
# Tokens from tools/magnetar-token. With authorizationEnabled, a producer needs `produce`, a
# consumer `consume` (and, when the namespace lists roles for its subscription, one of them), a
# reader `consume`; a refusal is HTTP 403 "Not authorized" (after authentication: no token is
# still 401). Replays ProxyAuthorizationTest's truth table: nothing before a grant; namespace
# produce grant; topic consume grant to another role; unrelated role refused; all actions.
# Super users pass everything; grants on a partitioned topic cover its partitions; wildcard roles
# only with authorizationAllowWildcardsMatching; grants and revocations apply to the next upgrade.

import json
import os
import subprocess

from magnetar_harness import (MAGNETAR_BIN, TestFailure, connect, eq, http_get, main, mkdtemp,
                              path, publish, recv_json, restart, start_server, test, uniq,
                              upgrade_status)

TOKEN_BIN = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-token")
PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
NS = "/admin/v2/namespaces/public/default"
STATE = {}


def tool(*args):
    p = subprocess.run([TOKEN_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    if p.returncode != 0:
        raise TestFailure("magnetar-token %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode().strip()


def token(role):
    if "secret" not in STATE:
        STATE["secret"] = os.path.join(mkdtemp("mag-authz-keys-"), "secret.key")
        tool("create-secret-key", "--output", STATE["secret"])
    if role not in STATE:
        STATE[role] = tool("create", "--secret-key", "file://" + STATE["secret"], "--subject", role)
    return STATE[role]


def authz_server(*extra, data_dir=None):
    token("admin")
    return start_server(["-o", "authenticationEnabled=true", "-o",
                         "authenticationProviders=" + PROVIDER, "-o",
                         "tokenSecretKey=file://" + STATE["secret"], "-o",
                         "authorizationEnabled=true", "-o", "superUserRoles=admin"] + list(extra),
                        data_dir=data_dir)


def admin(srv, method, target, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    status, _, raw = http_get(srv, target, method=method, body=data,
                              headers={"Authorization": "Bearer " + token("admin"),
                                       "Content-Type": "application/json"})
    eq(status in (200, 204), True, "%s %s -> %s %r" % (method, target, status, raw[:200]))


def status_of(srv, role, kind, topic, sub=None, **kw):
    headers = {"Authorization": "Bearer " + token(role)} if role else {}
    status, _, body = upgrade_status(srv, path(kind, topic, sub, **kw), headers=headers)
    if status == 403:
        eq(body, b"Not authorized", "403 body")
    return status


def can(srv, role, topic, sub="s", **kw):
    """(producer, consumer, reader) upgrade statuses of role on topic."""
    return (status_of(srv, role, "producer", topic, **kw),
            status_of(srv, role, "consumer", topic, sub, **kw),
            status_of(srv, role, "reader", topic, **kw))


@test
def truth_table():
    """ProxyAuthorizationTest: before any grant lookup fails; namespace produce grant; topic
    consume grant to other-role on ds2; unrelated role denied; all actions."""
    srv = authz_server()
    ds1, ds2 = uniq("ds1"), uniq("ds2")
    eq(can(srv, "client-role", ds1), (403, 403, 403), "before any grant")
    admin(srv, "POST", NS + "/permissions/client-role", ["produce"])
    eq(can(srv, "client-role", ds1), (101, 403, 403), "namespace produce grant")
    admin(srv, "POST", "/admin/v2/persistent/public/default/%s/permissions/other-role" % ds2,
          ["consume"])
    eq(can(srv, "other-role", ds2), (403, 101, 101), "topic consume grant on ds2")
    eq(can(srv, "other-role", ds1), (403, 403, 403), "other-role on ds1")
    eq(can(srv, "no-access-role", ds2), (403, 403, 403), "unrelated role")
    admin(srv, "POST", NS + "/permissions/client-role", ["produce", "consume"])
    eq(can(srv, "client-role", ds1), (101, 101, 101), "all actions")
    # super users pass everything, authentication still comes first
    eq(can(srv, "admin", uniq("any")), (101, 101, 101), "super user")
    eq(can(srv, None, ds1), (401, 401, 401), "no token")
    # revocation applies to the next upgrade
    admin(srv, "DELETE", NS + "/permissions/client-role")
    eq(can(srv, "client-role", ds1), (403, 403, 403), "after revoke")


@test
def granted_session_works():
    srv = authz_server()
    topic = uniq("rt")
    admin(srv, "POST", NS + "/permissions/writer", ["produce"])
    admin(srv, "POST", NS + "/permissions/reader", ["consume"])
    hdr = lambda role: ["Authorization: Bearer " + token(role)]
    c = connect(srv, path("consumer", topic, "sub"), header=hdr("reader"))
    p = connect(srv, path("producer", topic), header=hdr("writer"))
    eq(publish(p, "hello")["result"], "ok", "publish")
    m = recv_json(c)
    eq(m["payload"], "aGVsbG8=", "delivered")
    c.close()
    p.close()


@test
def subscription_roles():
    srv = authz_server()
    topic = uniq("sr")
    admin(srv, "POST", NS + "/permissions/alice", ["consume"])
    admin(srv, "POST", NS + "/permissions/bob", ["consume"])
    admin(srv, "POST", NS + "/permissions/subscription/billing", ["alice"])
    eq(status_of(srv, "alice", "consumer", topic, "billing"), 101, "listed role")
    eq(status_of(srv, "bob", "consumer", topic, "billing"), 403, "role not in the list")
    eq(status_of(srv, "bob", "consumer", topic, "other-sub"), 101, "unlisted subscription")
    eq(status_of(srv, "bob", "reader", topic), 101, "readers have no subscription check")
    # the list alone grants nothing
    admin(srv, "POST", NS + "/permissions/subscription/billing", ["alice", "carol"])
    eq(status_of(srv, "carol", "consumer", topic, "billing"), 403, "listed but no consume grant")
    admin(srv, "DELETE", NS + "/permissions/billing/alice")
    eq(status_of(srv, "alice", "consumer", topic, "billing"), 403, "removed from the list")


@test
def partitions_and_non_persistent():
    srv = authz_server()
    topic = uniq("pt")
    admin(srv, "PUT", "/admin/v2/persistent/public/default/%s/partitions" % topic, 3)
    admin(srv, "POST", "/admin/v2/persistent/public/default/%s/permissions/pp" % topic,
          ["produce"])
    eq(status_of(srv, "pp", "producer", topic), 101, "partitioned topic")
    eq(status_of(srv, "pp", "producer", topic + "-partition-1"), 101, "one partition (parent grant)")
    eq(status_of(srv, "pp", "consumer", topic + "-partition-1", "s"), 403, "no consume")
    eq(status_of(srv, "pp", "producer", topic, domain="non-persistent"), 403,
       "grant is per domain")
    admin(srv, "POST", "/admin/v2/non-persistent/public/default/%s/permissions/pp" % topic,
          ["produce"])
    eq(status_of(srv, "pp", "producer", topic, domain="non-persistent"), 101, "non-persistent")


@test
def wildcards():
    srv = authz_server()
    topic = uniq("wc")
    admin(srv, "POST", NS + "/permissions/svc-%2A", ["produce"])
    eq(status_of(srv, "svc-a", "producer", topic), 403, "wildcards off")
    srv.stop()
    srv = authz_server("-o", "authorizationAllowWildcardsMatching=true", data_dir=srv.data_dir)
    eq(status_of(srv, "svc-a", "producer", topic), 101, "prefix wildcard")
    eq(status_of(srv, "xsvc-a", "producer", topic), 403, "not a prefix match")


@test
def authorization_without_authentication():
    """authorizationEnabled alone: WebSocket clients have no role, so nothing is authorized
    (as Pulsar with a null role); the admin API stays open (Pulsar checks it only with
    authentication on)."""
    srv = start_server(["-o", "authorizationEnabled=true"])
    topic = uniq("na")
    eq(upgrade_status(srv, path("producer", topic))[0], 403, "producer without a role")
    status, _, _ = http_get(srv, NS + "/permissions")
    eq(status, 200, "admin API without authentication")


@test
def durable_grants():
    srv = authz_server()
    topic = uniq("dur")
    admin(srv, "POST", NS + "/permissions/keeper", ["produce"])
    eq(srv.stop(), 0, "clean exit")
    srv = restart(srv)
    eq(status_of(srv, "keeper", "producer", topic), 101, "grant after restart")


if __name__ == "__main__":
    main()
