# 73-health-brokers.py - health checks, broker and cluster information, who may call them (issue 11).
#
# /status.html as Pulsar's VipStatus (200 "OK"; with statusFilePath only while the file exists,
# 404 otherwise; no token needed with authentication on), /admin/v2/brokers/health|ready|version,
# the active broker list, the leader, ownedNamespaces, the configuration reads, and
# /admin/v2/clusters/{c} (ClusterData of the local cluster, 404 "Cluster does not exist").
# Driven with urllib against the real binary.

import os
import subprocess
import threading
import time

from magnetar_harness import (MAGNETAR_BIN, LmdbWriteLock, TestFailure, check, eq, http_get,
                              main, mkdtemp, rest_call, rest_json, shared_server,
                              start_server, test)

PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"


def srv():
    return shared_server()


def text(s, method, target):
    st, h, b = rest_call(s, method, target)
    return st, h.get("Content-Type"), b.decode()


@test
def status_html_ok():
    eq(text(srv(), "GET", "/status.html"), (200, "text/plain", "OK"), "status.html")


@test
def status_html_follows_status_file():
    d = mkdtemp()
    f = os.path.join(d, "status")
    s = start_server(["-o", "statusFilePath=" + f])
    eq(rest_call(s, "GET", "/status.html")[0], 404, "status file absent")
    eq(rest_call(s, "HEAD", "/status.html")[0], 404, "HEAD, status file absent")
    open(f, "w").close()
    eq(text(s, "GET", "/status.html"), (200, "text/plain", "OK"), "status file present")
    eq(text(s, "HEAD", "/status.html"), (200, "text/plain", ""), "HEAD (load balancers' checks)")
    os.remove(f)
    eq(rest_call(s, "GET", "/status.html")[0], 404, "status file removed (taken out of rotation)")
    os.mkdir(f)
    eq(rest_call(s, "GET", "/status.html")[0], 404, "a directory is not a status file")


def token_tool(*args):
    p = subprocess.run([os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-token")] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    if p.returncode != 0:
        raise TestFailure("magnetar-token %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode().strip()


@test
def authorization():
    # status.html needs no token; brokers/* and clusters/{c} need a super user
    # (BrokersBase/ClustersBase.validateSuperUserAccess) except ready and version.
    d = mkdtemp("mag-keys-")
    secret = os.path.join(d, "secret.key")
    token_tool("create-secret-key", "--output", secret)
    tok = {r: token_tool("create", "--secret-key", "file://" + secret, "--subject", r)
           for r in ("root", "app", "prod")}
    s = start_server(["-o", "authenticationEnabled=true", "-o", "authenticationProviders=" + PROVIDER,
                      "-o", "tokenSecretKey=file://" + secret, "-o", "authorizationEnabled=true",
                      "-o", "superUserRoles=root"])

    def call(target, role=None):
        headers = {"Authorization": "Bearer " + tok[role]} if role else {}
        st, _, body = http_get(s, target, headers=headers)
        return st, body

    eq(call("/status.html"), (200, b"OK"), "status.html without a token")
    eq(call("/admin/v2/brokers/health")[0], 401, "no token")
    super_only = b'{"reason":"This operation requires super-user access"}'
    for p in ("/admin/v2/brokers/health", "/admin/v2/brokers/standalone",
              "/admin/v2/brokers/leaderBroker", "/admin/v2/brokers/configuration/runtime",
              "/admin/v2/clusters/standalone"):
        eq(call(p, "app"), (401, super_only), "%s as a plain role" % p)
        eq(call(p, "root")[0], 200, "%s as super user" % p)
    eq(call("/admin/v2/brokers/ready", "app"), (200, b"ok"), "ready: any authenticated role")
    eq(call("/admin/v2/brokers/version", "app")[0], 200, "version: any authenticated role")
    # Lookups: TopicLookupBase validateTopicOperation(LOOKUP) = produce or consume permission.
    st, _, _ = http_get(s, "/admin/v2/namespaces/public/default/permissions/prod",
                        headers={"Authorization": "Bearer " + tok["root"],
                                 "Content-Type": "application/json"},
                        method="POST", body=b'["produce"]')
    eq(st, 204, "grant produce to prod")
    lk = "/lookup/v2/topic/persistent/public/default/orders"
    eq(call(lk, "prod")[0], 200, "lookup with a produce grant")
    eq(call(lk, "root")[0], 200, "lookup as super user")
    eq(call(lk, "app"), (401, b'{"reason":"Unauthorized to validateTopicOperation for operation '
                              b'[LOOKUP] on topic [persistent://public/default/orders]"}'),
       "lookup without a grant")


@test
def brokers_health_ready_version():
    s = srv()
    eq(text(s, "GET", "/admin/v2/brokers/health")[::2], (200, "ok"), "health")
    eq(text(s, "GET", "/admin/v2/brokers/health?topicVersion=V2")[::2], (200, "ok"), "health V2")
    eq(rest_call(s, "GET", "/admin/v2/brokers/health?topicVersion=V9")[0], 404,
       "unknown topicVersion (JAX-RS enum)")
    eq(text(s, "GET", "/admin/v2/brokers/ready")[::2], (200, "ok"), "ready")
    st, _, v = text(s, "GET", "/admin/v2/brokers/version")
    eq(st, 200, "version status")
    check(v and v[0].isdigit() and "." in v, "version is a plain version string: %r" % v)
    eq(rest_call(s, "POST", "/admin/v2/brokers/health")[0], 405, "POST health")


@test
def health_check_writes_the_store():
    # The health check commits a write to the store (as Pulsar's produces to a heartbeat topic):
    # while another process holds the LMDB write lock it cannot answer; once released it does.
    s = start_server()
    eq(text(s, "GET", "/admin/v2/brokers/health")[::2], (200, "ok"), "healthy at first")
    done = []
    with LmdbWriteLock(s.data_dir):
        t = threading.Thread(target=lambda: done.append(text(s, "GET", "/admin/v2/brokers/health")))
        t.start()
        time.sleep(0.5)
        check(not done, "health answered without writing to the store: %r" % done)
    t.join(10)
    eq([d[::2] for d in done], [(200, "ok")], "health once the store is writable again")


@test
def brokers_lists():
    s = srv()
    me = "127.0.0.1:%d" % s.port
    eq(rest_json(s, "GET", "/admin/v2/brokers/standalone"), (200, [me]), "active brokers")
    eq(rest_json(s, "GET", "/admin/v2/brokers/other"),
       (404, {"reason": "Cluster does not exist: cluster=other"}), "other cluster")
    eq(rest_json(s, "GET", "/admin/v2/brokers/leaderBroker"),
       (200, {"serviceUrl": "http://" + me}), "leader")
    st, owned = rest_json(s, "GET", "/admin/v2/brokers/standalone/%s/ownedNamespaces" % me)
    eq(st, 200, "ownedNamespaces")
    eq(owned.get("public/default/0x00000000_0xffffffff"),
       {"broker_assignment": "shared", "is_controlled": False, "is_active": True}, "public/default")
    eq(rest_call(s, "GET", "/admin/v2/brokers/standalone/10.0.0.1:1/ownedNamespaces")[0], 412,
       "another broker")
    eq(rest_json(s, "GET", "/admin/v2/brokers/configuration"), (200, []), "dynamic config names")
    eq(rest_json(s, "GET", "/admin/v2/brokers/configuration/values"), (200, {}), "dynamic values")
    eq(rest_json(s, "GET", "/admin/v2/brokers/internal-configuration"), (200, {}), "internal")
    st, rt = rest_json(s, "GET", "/admin/v2/brokers/configuration/runtime")
    eq(st, 200, "runtime")
    eq(rt.get("clusterName"), "standalone", "runtime clusterName")
    eq(rt.get("messageExpiryCheckIntervalInMinutes"), "5", "runtime values are strings")


@test
def clusters():
    s = srv()
    eq(rest_json(s, "GET", "/admin/v2/clusters"), (200, ["standalone"]), "list")
    eq(rest_json(s, "GET", "/admin/v2/clusters/standalone"),
       (200, {"serviceUrl": "http://127.0.0.1:%d" % s.port, "brokerClientTlsEnabled": False,
              "tlsAllowInsecureConnection": False, "brokerClientTlsEnabledWithKeyStore": False,
              "brokerClientTlsTrustStoreType": "JKS"}), "get")
    eq(rest_json(s, "GET", "/admin/v2/clusters/nope"),
       (404, {"reason": "Cluster does not exist"}), "unknown cluster")
    o = start_server(["-o", "clusterName=east"])
    eq(rest_json(o, "GET", "/admin/v2/clusters"), (200, ["east"]), "configured name")
    eq(rest_json(o, "GET", "/admin/v2/clusters/east")[0], 200, "configured cluster")
    eq(rest_json(o, "GET", "/admin/v2/clusters/standalone")[0], 404, "standalone is not it")


if __name__ == "__main__":
    main()
