# 60-pulsar-conf-keys.py - lines copied from Pulsar's own configuration files do not stop the server.
#
# conf/pulsar-ignored-keys.conf holds every field of Pulsar's ServiceConfiguration and
# WebSocketProxyConfiguration (what PulsarConfigurationLoader accepts from standalone.conf,
# broker.conf and websocket.conf) that Magnetar does not use. Magnetar must start with it (ready
# line, the API works) and print exactly one warning per distinct key, and no error. A key that is
# neither Pulsar's nor Magnetar's still refuses to start.

import os
import re
import subprocess

from magnetar_harness import (MAGNETAR_BIN, check, connect, eq, main, mkdtemp, path, publish,
                              start_server, test, uniq)

CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conf", "pulsar-ignored-keys.conf")

# Keys a user reported as "unknown key" when copying Pulsar's standalone.conf (the report's
# ttlDurationDefaultInSeconds and statusFilePath are used by Magnetar now, so not in this file).
REPORTED = ["metadataStoreConfigPath", "brokerDeleteInactiveTopicsEnabled", "forceDeleteTenantAllowed",
            "maxProducersPerTopic", "forceDeleteNamespaceAllowed", "maxConsumersPerTopic",
            "managedLedgerCacheSizeMB", "brokerDeduplicationMaxNumberOfProducers",
            "subscriptionExpirationTimeMinutes", "backlogQuotaDefaultLimitBytes"]


def conf_keys():
    keys = []
    with open(CONF) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                keys.append(line.split("=", 1)[0].strip())
    return keys


@test
def standalone_style_file_starts_with_one_warning_per_key():
    keys = conf_keys()
    distinct = set(keys) - {"clusterName"}
    check(len(distinct) > 500, "the file lists %d keys" % len(distinct))
    for k in REPORTED:
        check(k in distinct, "%s missing from %s" % (k, CONF))
    srv = start_server(["-c", CONF])
    ws = connect(srv, path("producer", uniq()))
    eq(publish(ws, b"x", context="1")["result"], "ok", "publish after start with Pulsar keys")
    ws.close()
    with open(srv.stderr_path, errors="replace") as f:
        err = f.read()
    warned = re.findall(r"^\S+:\d+: ignoring Pulsar key '([A-Za-z0-9]+)' \(not used by Magnetar.*\)$", err, re.M)
    eq(sorted(warned), sorted(distinct), "keys warned about (each once)")
    errors = [l for l in err.splitlines() if re.match(r"^\S+ error ", l) or "unknown key" in l]
    eq(errors, [], "error lines on stderr")


@test
def unknown_key_still_refuses_to_start():
    d = mkdtemp("mag-60-")
    conf = os.path.join(d, "x.conf")
    with open(conf, "w") as f:
        f.write("maxProducersPerTopic=5\nnotAPulsarKeyAtAll=1\n")
    r = subprocess.run([MAGNETAR_BIN, "-c", conf, "-p", "0", "-d", os.path.join(d, "data")],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    check(r.returncode != 0, "exit code %d" % r.returncode)
    check(b"x.conf:2: unknown key 'notAPulsarKeyAtAll'" in r.stderr, "stderr: %r" % r.stderr)
    eq(r.stdout, b"", "stdout")


if __name__ == "__main__":
    main()
