# 69-admin-topic-names.py - admin topic routes with a bad tenant or namespace name (issue 11).
#
# AdminResource.validateTopicName turns whatever NamespaceName.get / TopicName.get refuses into
# 412 "Topic name is not valid" on every /admin/v2/{persistent,non-persistent}/{t}/{ns}/{topic}
# route (NamedEntity.checkName allows only [-=:.\w] in tenant and namespace names); namespace
# routes keep "Namespace name is not valid".

from magnetar_harness import eq, main, rest_json, shared_server, test, uniq


def srv():
    return shared_server()


@test
def bad_names_on_topic_routes():
    s = srv()
    t = uniq()
    bad = {"reason": "Topic name is not valid"}
    for method, target in (
            ("GET", "/admin/v2/persistent/pub$lic/default/%s/stats" % t),
            ("PUT", "/admin/v2/persistent/public/de*fault/%s" % t),
            ("PUT", "/admin/v2/persistent/public/de%%20fault/%s/partitions" % t),
            ("DELETE", "/admin/v2/non-persistent/p%%7Cq/default/%s" % t),
            ("GET", "/admin/v2/persistent/public/default/%s/permissions/../../../../p!/default/x"
                    "/permissions" % t)):
        body = "2" if target.endswith("/partitions") else None
        eq(rest_json(s, method, target, body), (412, bad), "%s %s" % (method, target))
    eq(rest_json(s, "PUT", "/admin/v2/namespaces/public/n*s"),
       (412, {"reason": "Namespace name is not valid"}), "namespace route keeps its text")
    eq(rest_json(s, "GET", "/admin/v2/namespaces/public/default/topics")[0], 200, "sane names work")


if __name__ == "__main__":
    main()
