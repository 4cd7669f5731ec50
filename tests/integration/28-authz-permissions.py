# 28-authz-permissions.py - permission admin endpoints (Pulsar's NamespacesBase /
# PersistentTopicsBase permission resources; issue #5).
#
# Namespace grants (GET/POST/DELETE /admin/v2/namespaces/{t}/{ns}/permissions[/{role}]),
# subscription role lists (.../permissions/subscription/{sub}, .../permissions/{sub}/{role}) and
# topic grants (/admin/v2/{persistent|non-persistent}/{t}/{ns}/{topic}/permissions[/{role}]) with
# Pulsar's statuses (204 mutations, 400 unknown action, 404 absent namespace, 412 topic revoke
# without a topic grant); grants are durable across a restart and survive other policy writes.
# With authentication + authorization on, the admin API needs a super user or a tenant admin:
# 401 with Pulsar's reason otherwise.

import json
import os
import subprocess

from magnetar_harness import (MAGNETAR_BIN, TestFailure, eq, http_get, main, mkdtemp, restart,
                              start_server, test)

TOKEN_BIN = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-token")
PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
NS = "/admin/v2/namespaces/public/default"
TOPIC = "/admin/v2/persistent/public/default/orders"


def call(srv, method, target, body=None, token=None):
    """(status, parsed JSON or None, raw body)."""
    headers = {}
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    status, _, raw = http_get(srv, target, headers=headers, method=method, body=data)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, raw


def expect(srv, method, target, status, body=None, want=None, token=None):
    got, parsed, raw = call(srv, method, target, body, token)
    eq(got, status, "%s %s (body %r)" % (method, target, raw[:200]))
    if want is not None:
        eq(parsed, want, "%s %s answer" % (method, target))
    return parsed


@test
def namespace_permissions():
    srv = start_server()
    expect(srv, "GET", NS + "/permissions", 200, want={})
    expect(srv, "POST", NS + "/permissions/app", 204, ["produce", "consume"])
    expect(srv, "POST", NS + "/permissions/ro", 204, ["consume"])
    expect(srv, "GET", NS + "/permissions", 200,
           want={"app": ["produce", "consume"], "ro": ["consume"]})
    # unknown action: 400 and nothing stored
    r = expect(srv, "POST", NS + "/permissions/x", 400, ["produce", "write"])
    eq("write" in r["reason"], True, "reason names the bad action: %r" % r)
    expect(srv, "POST", NS + "/permissions/x", 400, "produce")
    expect(srv, "GET", NS + "/permissions", 200,
           want={"app": ["produce", "consume"], "ro": ["consume"]})
    # absent namespace
    r = expect(srv, "POST", "/admin/v2/namespaces/public/nope/permissions/x", 404, ["produce"])
    eq(r, {"reason": "Namespace does not exist"}, "404 reason")
    expect(srv, "GET", "/admin/v2/namespaces/public/nope/permissions", 404)
    # a new grant replaces the old set; revoke is idempotent
    expect(srv, "POST", NS + "/permissions/app", 204, ["consume"])
    expect(srv, "DELETE", NS + "/permissions/ro", 204)
    expect(srv, "DELETE", NS + "/permissions/ro", 204)
    expect(srv, "GET", NS + "/permissions", 200, want={"app": ["consume"]})
    # URL-encoded role names
    expect(srv, "POST", NS + "/permissions/svc%2A", 204, ["produce"])
    expect(srv, "GET", NS + "/permissions", 200, want={"app": ["consume"], "svc*": ["produce"]})
    expect(srv, "DELETE", NS + "/permissions/svc%2A", 204)


@test
def subscription_permissions():
    srv = start_server()
    expect(srv, "GET", NS + "/permissions/subscription", 200, want={})
    expect(srv, "POST", NS + "/permissions/subscription/billing", 204, ["bob", "alice"])
    expect(srv, "GET", NS + "/permissions/subscription", 200, want={"billing": ["alice", "bob"]})
    expect(srv, "POST", NS + "/permissions/subscription/billing", 400, [1])
    expect(srv, "DELETE", NS + "/permissions/billing/bob", 204)
    expect(srv, "GET", NS + "/permissions/subscription", 200, want={"billing": ["alice"]})
    expect(srv, "DELETE", NS + "/permissions/nosuchsub/bob", 404)
    ns = expect(srv, "GET", NS, 200)
    eq(ns["auth_policies"]["subscription_auth_roles"], {"billing": ["alice"]},
       "namespace policies show the subscription roles")


@test
def topic_permissions():
    srv = start_server()
    expect(srv, "POST", NS + "/permissions/app", 204, ["consume"])
    expect(srv, "GET", TOPIC + "/permissions", 200, want={"app": ["consume"]})
    expect(srv, "POST", TOPIC + "/permissions/app", 204, ["produce"])
    expect(srv, "POST", TOPIC + "/permissions/tp", 204, ["consume"])
    # the namespace's grants united with the topic's
    expect(srv, "GET", TOPIC + "/permissions", 200,
           want={"app": ["produce", "consume"], "tp": ["consume"]})
    np = "/admin/v2/non-persistent/public/default/orders"
    expect(srv, "GET", np + "/permissions", 200, want={"app": ["consume"]})
    expect(srv, "POST", np + "/permissions/npr", 204, ["produce"])
    expect(srv, "GET", np + "/permissions", 200, want={"app": ["consume"], "npr": ["produce"]})
    expect(srv, "POST", TOPIC + "/permissions/x", 400, ["nope"])
    r = expect(srv, "POST", "/admin/v2/persistent/public/nope/t/permissions/x", 404, ["produce"])
    eq(r, {"reason": "Topic's namespace does not exist"}, "404 reason")
    # revoke: only topic-level grants; 412 otherwise
    r = expect(srv, "DELETE", np + "/permissions/app", 412)
    eq(r, {"reason": "Permissions are not set at the topic level"}, "412 reason")
    expect(srv, "DELETE", TOPIC + "/permissions/tp", 204)
    expect(srv, "GET", TOPIC + "/permissions", 200, want={"app": ["produce", "consume"]})
    ns = expect(srv, "GET", NS, 200)
    eq(ns["auth_policies"]["destination_auth"],
       {"persistent://public/default/orders": {"app": ["produce"]},
        "non-persistent://public/default/orders": {"npr": ["produce"]}},
       "namespace policies show the topic grants")


@test
def durable_across_restart():
    srv = start_server()
    expect(srv, "POST", NS + "/permissions/app", 204, ["produce", "consume"])
    expect(srv, "POST", NS + "/permissions/subscription/billing", 204, ["alice"])
    expect(srv, "POST", TOPIC + "/permissions/tp", 204, ["consume"])
    # another policy write must keep the grants
    expect(srv, "POST", NS + "/retention", 204,
           {"retentionTimeInMinutes": 10, "retentionSizeInMB": 10})
    expect(srv, "PUT", "/admin/v2/namespaces/public/fresh", 204,
           {"auth_policies": {"namespace_auth": {"r": ["consume"]}}})
    eq(srv.stop(), 0, "clean exit")
    srv = restart(srv)
    expect(srv, "GET", NS + "/permissions", 200, want={"app": ["produce", "consume"]})
    expect(srv, "GET", NS + "/permissions/subscription", 200, want={"billing": ["alice"]})
    expect(srv, "GET", TOPIC + "/permissions", 200,
           want={"app": ["produce", "consume"], "tp": ["consume"]})
    expect(srv, "GET", NS + "/retention", 200,
           want={"retentionTimeInMinutes": 10, "retentionSizeInMB": 10})
    expect(srv, "GET", "/admin/v2/namespaces/public/fresh/permissions", 200,
           want={"r": ["consume"]})


def tool(*args):
    p = subprocess.run([TOKEN_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=20)
    if p.returncode != 0:
        raise TestFailure("magnetar-token %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode().strip()


@test
def admin_requires_super_user_or_tenant_admin():
    d = mkdtemp("mag-authz-keys-")
    secret = os.path.join(d, "secret.key")
    tool("create-secret-key", "--output", secret)
    tok = {r: tool("create", "--secret-key", "file://" + secret, "--subject", r)
           for r in ("root", "boss", "app")}
    srv = start_server(["-o", "authenticationEnabled=true", "-o",
                        "authenticationProviders=" + PROVIDER, "-o",
                        "tokenSecretKey=file://" + secret, "-o", "authorizationEnabled=true",
                        "-o", "superUserRoles=root"])
    unauth_tenant = {"reason": "Don't have permission to administrate resources on this tenant"}
    super_only = {"reason": "This operation requires super-user access"}
    # no token: authentication first (401)
    expect(srv, "GET", NS + "/permissions", 401)
    # super user does everything
    expect(srv, "PUT", "/admin/v2/tenants/acme", 204,
           {"adminRoles": ["boss"], "allowedClusters": ["standalone"]}, token=tok["root"])
    expect(srv, "PUT", "/admin/v2/namespaces/acme/ns", 204, token=tok["root"])
    expect(srv, "POST", NS + "/permissions/app", 204, ["produce"], token=tok["root"])
    expect(srv, "GET", "/admin/v2/tenants", 200, token=tok["root"])
    expect(srv, "GET", "/admin/v2/proxy-stats/stats", 200, token=tok["root"])
    # tenant admin: its own tenant only
    expect(srv, "POST", "/admin/v2/namespaces/acme/ns/permissions/app", 204, ["consume"],
           token=tok["boss"])
    expect(srv, "GET", "/admin/v2/namespaces/acme/ns/permissions", 200, want={"app": ["consume"]},
           token=tok["boss"])
    expect(srv, "POST", "/admin/v2/persistent/acme/ns/t/permissions/app", 204, ["produce"],
           token=tok["boss"])
    expect(srv, "GET", "/admin/v2/tenants/acme", 200, token=tok["boss"])
    expect(srv, "GET", NS + "/permissions", 401, want=unauth_tenant, token=tok["boss"])
    expect(srv, "PUT", "/admin/v2/tenants/other", 401,
           {"adminRoles": [], "allowedClusters": ["standalone"]}, want=super_only,
           token=tok["boss"])
    expect(srv, "GET", "/admin/v2/tenants", 401, want=super_only, token=tok["boss"])
    expect(srv, "GET", "/admin/v2/proxy-stats/stats", 401, want=super_only, token=tok["boss"])
    # a role with produce/consume grants is no admin
    expect(srv, "POST", NS + "/permissions/app", 401, ["consume"], want=unauth_tenant,
           token=tok["app"])
    expect(srv, "GET", "/admin/v2/persistent/public/default/orders/stats", 401, token=tok["app"])
    expect(srv, "GET", "/admin/v2/namespaces/ghost/ns", 404,
           want={"reason": "Tenant does not exist"}, token=tok["app"])
    # nothing an unauthorized caller sent was applied
    expect(srv, "GET", NS + "/permissions", 200, want={"app": ["produce"]}, token=tok["root"])
    # /metrics and the cluster list need only authentication
    eq(http_get(srv, "/metrics", headers={"Authorization": "Bearer " + tok["app"]})[0], 200,
       "/metrics for any authenticated role")
    expect(srv, "GET", "/admin/v2/clusters", 200, want=["standalone"], token=tok["app"])


if __name__ == "__main__":
    main()
