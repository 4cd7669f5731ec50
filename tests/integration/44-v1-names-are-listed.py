# 44-v1-names-are-listed.py - a v1 topic name (tenant/cluster/namespace/topic, also reached by a v2
# URL with an extra segment) is accepted whatever its namespace, as Pulsar 2.10 does; its data must
# not sit where no tenant lists it: creating the topic registers its tenant and v1 namespace, as a
# restart always did, so the admin API lists them (and the topic) at once and after a restart.

from magnetar_harness import (check, connect, eq, main, produce, publish, rest_json, restart,
                              start_server, test)


def listed(srv, tenant, ns, topic):
    st, tenants = rest_json(srv, "GET", "/admin/v2/tenants")
    eq(st, 200, "tenants status")
    check(tenant in tenants, "tenant %s not listed: %r" % (tenant, tenants))
    st, spaces = rest_json(srv, "GET", "/admin/v2/namespaces/" + tenant)
    eq(st, 200, "namespaces of %s" % tenant)
    check(ns in spaces, "namespace %s not listed: %r" % (ns, spaces))


@test
def extra_segment_v2_url_lists_its_tenant_and_namespace():
    srv = start_server()
    produce(srv, "t", [b"x"], tenant="nosuch", ns="c1/ns")   # /ws/v2/producer/persistent/nosuch/c1/ns/t
    listed(srv, "nosuch", "nosuch/c1/ns", "t")
    srv.stop()
    srv = restart(srv)
    listed(srv, "nosuch", "nosuch/c1/ns", "t")


@test
def v1_path_lists_its_tenant_and_namespace():
    srv = start_server()
    ws = connect(srv, "/ws/producer/persistent/prop/standalone/ns1/t")
    eq(publish(ws, b"x").get("result"), "ok", "receipt")
    ws.close()
    listed(srv, "prop", "prop/standalone/ns1", "t")


if __name__ == "__main__":
    main()
