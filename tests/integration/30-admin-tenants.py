# 30-admin-tenants.py - admin REST: clusters, tenants, namespaces (TenantsBase, NamespacesBase) and
# the namespace check on WebSocket topics.
#
# Driven with Python's urllib (a real HTTP client) and python3-websocket against the real binary.
# Statuses follow Pulsar's TenantsBase/NamespacesBase: 204 for mutations, 409 exists, 404 absent,
# 412 invalid names / empty clusters, 405 forced deletes (not allowed by default), 400 malformed
# JSON bodies; errors carry {"reason": ...}. A WebSocket producer/consumer on a topic whose
# namespace does not exist fails with 404 (reader: 500, as every reader failure), v1 names with a
# cluster segment are accepted as Pulsar does, and everything survives a restart.

import json

from magnetar_harness import (check, connect, eq, main, path, publish, rest_call, restart,
                              shared_server, start_server, test, uniq, upgrade_status)


def srv():
    return shared_server()


def rest(method, target, body=None, s=None, content_type="application/json"):
    """One admin call with urllib; returns (status, headers, body bytes)."""
    return rest_call(s or srv(), method, target, body, content_type)


def jrest(method, target, body=None, s=None):
    st, h, b = rest(method, target, body, s)
    if b:
        eq(h.get("Content-Type"), "application/json", "content type of %s %s" % (method, target))
        return st, json.loads(b)
    return st, None


def expect(method, target, status, reason=None, body=None, s=None):
    st, j = jrest(method, target, body, s)
    eq(st, status, "%s %s status (%r)" % (method, target, j))
    if reason is not None:
        eq(j, {"reason": reason}, "%s %s error body" % (method, target))
    return j


CLUSTER_INFO = {"adminRoles": [], "allowedClusters": ["standalone"]}


@test
def bootstrap_cluster_tenant_namespace():
    eq(jrest("GET", "/admin/v2/clusters"), (200, ["standalone"]), "clusters")
    st, tenants = jrest("GET", "/admin/v2/tenants")
    eq(st, 200, "tenants status")
    check("public" in tenants, "public tenant bootstrapped: %r" % tenants)
    eq(jrest("GET", "/admin/v2/tenants/public"), (200, CLUSTER_INFO), "public tenant info")
    st, nss = jrest("GET", "/admin/v2/namespaces/public")
    eq(st, 200, "namespaces status")
    check("public/default" in nss, "public/default bootstrapped: %r" % nss)
    st, pol = jrest("GET", "/admin/v2/namespaces/public/default")
    eq(st, 200, "policies status")
    eq(pol["replication_clusters"], ["standalone"], "replication clusters")
    eq(pol["retention_policies"], None, "no retention by default")
    eq(pol["backlog_quota_map"], {}, "no backlog quota by default")


@test
def tenant_lifecycle_and_errors():
    t = uniq("ten")
    expect("GET", "/admin/v2/tenants/" + t, 404, "Tenant does not exist")
    expect("PUT", "/admin/v2/tenants/" + t, 412, "Clusters can not be empty")
    expect("PUT", "/admin/v2/tenants/" + t, 412, "Clusters can not be empty", {"allowedClusters": []})
    expect("PUT", "/admin/v2/tenants/" + t, 412, "Clusters do not exist", {"allowedClusters": ["mars"]})
    expect("PUT", "/admin/v2/tenants/" + t, 400, body="{not json")
    expect("PUT", "/admin/v2/tenants/bad%20name", 412, "Tenant name is not valid",
           {"allowedClusters": ["standalone"]})
    expect("POST", "/admin/v2/tenants/" + t, 404, "Tenant %s not found" % t, {"allowedClusters": ["standalone"]})
    info = {"adminRoles": ["ops"], "allowedClusters": ["standalone"]}
    eq(jrest("PUT", "/admin/v2/tenants/" + t, info), (204, None), "create tenant")
    expect("PUT", "/admin/v2/tenants/" + t, 409, "Tenant already exist", info)
    eq(jrest("GET", "/admin/v2/tenants/" + t), (200, info), "tenant info")
    info2 = {"adminRoles": ["ops", "dev"], "allowedClusters": ["standalone"]}
    eq(jrest("POST", "/admin/v2/tenants/" + t, info2), (204, None), "update tenant")
    eq(jrest("GET", "/admin/v2/tenants/" + t), (200, info2), "updated tenant info")
    st, tenants = jrest("GET", "/admin/v2/tenants")
    check(t in tenants and tenants == sorted(tenants), "tenant listed, sorted: %r" % tenants)
    eq(jrest("PUT", "/admin/v2/namespaces/%s/ns" % t), (204, None), "namespace in the new tenant")
    expect("DELETE", "/admin/v2/tenants/" + t, 409, "The tenant still has active namespaces")
    expect("DELETE", "/admin/v2/tenants/%s?force=true" % t, 405,
           "Broker doesn't allow forced deletion of tenants")
    eq(jrest("DELETE", "/admin/v2/namespaces/%s/ns" % t), (204, None), "delete namespace")
    eq(jrest("DELETE", "/admin/v2/tenants/" + t), (204, None), "delete tenant")
    expect("DELETE", "/admin/v2/tenants/" + t, 404, "Tenant doesn't exist")


@test
def namespace_lifecycle_and_errors():
    t = uniq("ten")
    expect("PUT", "/admin/v2/namespaces/%s/ns" % t, 404, "Tenant does not exist")
    expect("GET", "/admin/v2/namespaces/" + t, 404, "Tenant not found")
    eq(jrest("PUT", "/admin/v2/tenants/" + t, {"allowedClusters": ["standalone"]})[0], 204, "tenant")
    expect("PUT", "/admin/v2/namespaces/%s/n*s" % t, 412, "Namespace name is not valid")
    expect("PUT", "/admin/v2/namespaces/%s/ns" % t, 400, body="[oops")
    policies = {"retention_policies": {"retentionTimeInMinutes": 5, "retentionSizeInMB": 10}}
    eq(jrest("PUT", "/admin/v2/namespaces/%s/ns" % t, policies), (204, None), "create with policies")
    expect("PUT", "/admin/v2/namespaces/%s/ns" % t, 409, "Namespace already exists")
    eq(jrest("GET", "/admin/v2/namespaces/" + t), (200, ["%s/ns" % t]), "namespace list")
    st, pol = jrest("GET", "/admin/v2/namespaces/%s/ns" % t)
    eq(pol["retention_policies"], policies["retention_policies"], "policies from the create body")
    expect("GET", "/admin/v2/namespaces/%s/nope" % t, 404, "Namespace does not exist")
    expect("DELETE", "/admin/v2/namespaces/%s/nope" % t, 404, "Namespace %s/nope does not exist." % t)
    expect("DELETE", "/admin/v2/namespaces/%s/ns?force=true" % t, 405,
           "Broker doesn't allow forced deletion of namespaces")
    eq(jrest("GET", "/admin/v2/namespaces/%s/ns/topics" % t), (200, []), "no topics yet")
    # A topic makes the namespace non-empty.
    topic = uniq()
    ids = []
    prod = connect(srv(), path("producer", topic, tenant=t, ns="ns"))
    r = publish(prod, b"x", context="1")
    eq(r["result"], "ok", "publish in the new namespace")
    ids.append(r["messageId"])
    prod.close(timeout=1)
    eq(jrest("GET", "/admin/v2/namespaces/%s/ns/topics" % t),
       (200, ["persistent://%s/ns/%s" % (t, topic)]), "namespace topics")
    eq(jrest("GET", "/admin/v2/namespaces/%s/ns/topics?mode=NON_PERSISTENT" % t), (200, []),
       "no non-persistent topics")
    expect("DELETE", "/admin/v2/namespaces/%s/ns" % t, 409, "Cannot delete non empty namespace")
    eq(jrest("DELETE", "/admin/v2/persistent/%s/ns/%s" % (t, topic)), (204, None), "delete the topic")
    eq(jrest("DELETE", "/admin/v2/namespaces/%s/ns" % t), (204, None), "delete the empty namespace")
    eq(jrest("GET", "/admin/v2/namespaces/" + t), (200, []), "namespace gone")


@test
def websocket_needs_an_existing_namespace():
    s = srv()
    t = uniq("ten")
    topic = uniq()
    eq(upgrade_status(s, path("producer", topic, tenant=t, ns="ns"))[0], 404, "producer, no namespace")
    st, _, body = upgrade_status(s, path("consumer", topic, "sub", tenant=t, ns="ns"))
    eq(st, 404, "consumer, no namespace")
    check(b"Namespace not found" in body, "consumer refusal text %r" % body)
    eq(upgrade_status(s, path("reader", topic, tenant=t, ns="ns"))[0], 500, "reader, no namespace")
    eq(upgrade_status(s, path("producer", topic, ns="nope"))[0], 404, "public/nope does not exist")
    eq(jrest("PUT", "/admin/v2/tenants/" + t, {"allowedClusters": ["standalone"]})[0], 204, "tenant")
    eq(jrest("PUT", "/admin/v2/namespaces/%s/ns" % t)[0], 204, "namespace")
    eq(upgrade_status(s, path("producer", topic, tenant=t, ns="ns"))[0], 101, "producer once it exists")
    eq(upgrade_status(s, path("consumer", topic, "sub", tenant=t, ns="ns"))[0], 101, "consumer too")
    # v1 names (tenant/cluster/namespace) are not checked, as in Pulsar.
    v1 = "/ws/producer/persistent/%s/standalone/unknown-ns/%s" % (t, topic)
    eq(upgrade_status(s, v1)[0], 101, "v1 producer in an unregistered namespace")


@test
def unknown_paths_and_methods():
    expect("GET", "/admin/v2/nothing-here", 404, "Not Found")
    expect("PATCH", "/admin/v2/tenants", 405, "Method Not Allowed")
    expect("POST", "/admin/v2/clusters", 405, "Method Not Allowed")


@test
def tenants_and_namespaces_survive_restart():
    s = start_server()
    t = uniq("ten")
    eq(jrest("PUT", "/admin/v2/tenants/" + t, {"adminRoles": ["r"], "allowedClusters": ["standalone"]},
             s=s)[0], 204, "tenant")
    eq(jrest("PUT", "/admin/v2/namespaces/%s/ns" % t, s=s)[0], 204, "namespace")
    eq(s.stop(), 0, "clean stop")
    s2 = restart(s)
    eq(jrest("GET", "/admin/v2/tenants/" + t, s=s2), (200, {"adminRoles": ["r"], "allowedClusters": ["standalone"]}),
       "tenant after restart")
    eq(jrest("GET", "/admin/v2/namespaces/" + t, s=s2), (200, ["%s/ns" % t]), "namespace after restart")
    eq(upgrade_status(s2, path("producer", uniq(), tenant=t, ns="ns"))[0], 101, "usable after restart")


if __name__ == "__main__":
    main()
