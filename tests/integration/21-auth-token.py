# 21-auth-token.py - token authentication (AuthenticationProviderToken, issue #5) end to end.
#
# Keys and tokens come from tools/magnetar-token (the Pulsar `tokens` replacement) AND from
# independent signers (Python's hmac; the openssl command line for RS256/PS256/ES256), so the
# server's verifier is checked against implementations other than its own. Covers: token in the
# Authorization header and in ?token= (with and without "Bearer "); every kind of bad token (none,
# garbage, expired, not yet valid, wrong key, alg none, HS384 with a 256-bit key, HS256 keyed with
# the RSA public key) gets the same 401 "Failed to authenticate" with identical bytes; REST needs
# the token too (401 JSON); anonymousUserRole; X-Pulsar-Auth-Method-Name; tokenAudience;
# tokenAuthClaim; configuration errors; and the TLS + token quick start from docs/SECURITY.md.

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

from magnetar_harness import (MAGNETAR_BIN, TestFailure, check, connect_tls, eq, http_get, main,
                              mkdtemp, path, publish, start_server, test, uniq, upgrade_status)

TOKEN_BIN = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-token")
PROVIDER = "org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
KEYS = {}


def tool(*args, input_=None):
    p = subprocess.run([TOKEN_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       input=input_, timeout=20)
    if p.returncode != 0:
        raise TestFailure("magnetar-token %s failed: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode().strip()


def keys():
    """Secret key and RSA/EC key pairs made with the token tool, once per run."""
    if not KEYS:
        d = mkdtemp("mag-keys-")
        KEYS["dir"] = d
        KEYS["secret"] = os.path.join(d, "secret.key")
        tool("create-secret-key", "--output", KEYS["secret"])
        for kind, alg in (("rsa", "RS256"), ("ec", "ES256")):
            KEYS[kind + "_priv"] = os.path.join(d, kind + "-private.key")
            KEYS[kind + "_pub"] = os.path.join(d, kind + "-public.key")
            tool("create-key-pair", "--algorithm", alg, "--output-private-key", KEYS[kind + "_priv"],
                 "--output-public-key", KEYS[kind + "_pub"])
    return KEYS


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unsigned(header, claims):
    return b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())


def hs_token(claims, key=None, alg="HS256"):
    """Independent HMAC signer (Python's hmac)."""
    key = key if key is not None else open(keys()["secret"], "rb").read()
    si = unsigned({"alg": alg}, claims)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return si + "." + b64u(hmac.new(key, si.encode(), digest).digest())


def der_ecdsa_to_jose(der, n=32):
    """DER ECDSA-Sig-Value -> R||S."""
    def read_int(b, i):
        eq(b[i], 2, "DER INTEGER tag")
        ln = b[i + 1]
        return int.from_bytes(b[i + 2:i + 2 + ln], "big"), i + 2 + ln
    eq(der[0], 0x30, "DER SEQUENCE tag")
    i = 2 if der[1] < 0x80 else 3
    r, i = read_int(der, i)
    s, _ = read_int(der, i)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def openssl_token(claims, alg, priv):
    """Independent RS256/PS256/ES256 signer: the openssl command line."""
    si = unsigned({"alg": alg}, claims)
    args = ["openssl", "dgst", "-sha256", "-keyform", "DER", "-sign", priv]
    if alg == "PS256":
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
    sig = subprocess.run(args, input=si.encode(), stdout=subprocess.PIPE, check=True).stdout
    if alg == "ES256":
        sig = der_ecdsa_to_jose(sig)
    return si + "." + b64u(sig)


def auth_server(*extra, tls=False, key=None):
    key = key or "tokenSecretKey=file://" + keys()["secret"]
    args = ["-o", "authenticationEnabled=true", "-o", "authenticationProviders=" + PROVIDER,
            "-o", key] + list(extra)
    return start_server(args, tls=tls)


def upgrade(srv, token=None, query_token=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    target = path("producer", uniq("auth"))
    if query_token is not None:
        target += "?token=" + query_token
    return upgrade_status(srv, target, headers=h)


def expect_ok(srv, **kw):
    status, _, body = upgrade(srv, **kw)
    eq(status, 101, "upgrade with %r (body %r)" % (kw, body[:120]))


REFUSAL = {}


def expect_401(srv, what, **kw):
    status, headers, body = upgrade(srv, **kw)
    eq(status, 401, "status for %s" % what)
    eq(body, b"Failed to authenticate", "body for %s" % what)
    # Every refusal is byte-identical (no oracle on which check failed).
    shape = (headers.get("content-type"), headers.get("content-length"), body)
    REFUSAL.setdefault(srv.port, shape)
    eq(shape, REFUSAL[srv.port], "401 response for %s same as the others" % what)


@test
def secret_key_tokens():
    srv = auth_server()
    tok = tool("create", "--secret-key", "file://" + keys()["secret"], "--subject", "alice")
    expect_ok(srv, token=tok)
    expect_ok(srv, query_token=tok)
    expect_ok(srv, query_token="Bearer%20" + tok)
    expect_ok(srv, query_token="Bearer+" + tok)
    expect_ok(srv, token=hs_token({"sub": "bob", "exp": int(time.time()) + 60}))
    # The header wins over the query parameter, as in Pulsar's request wrapper.
    expect_ok(srv, token=tok, query_token="garbage")
    expect_401(srv, "header over query", token="garbage", query_token=tok)


@test
def bad_tokens_all_look_the_same():
    srv = auth_server()
    now = int(time.time())
    other = os.urandom(32)
    secret = open(keys()["secret"], "rb").read()
    cases = {
        "no token": {},
        "garbage": {"token": "garbage"},
        "empty bearer": {"headers": {"Authorization": "Bearer "}},
        "basic auth": {"headers": {"Authorization": "Basic YWxpY2U6cHc="}},
        "lower-case bearer": {"headers": {"Authorization": "bearer " + hs_token({"sub": "a"})}},
        "expired": {"token": hs_token({"sub": "a", "exp": now - 5})},
        "not yet valid": {"token": hs_token({"sub": "a", "nbf": now + 300})},
        "other key": {"token": hs_token({"sub": "a"}, key=other)},
        "alg none": {"token": unsigned({"alg": "none"}, {"sub": "a"}) + "."},
        "HS384 with a 256-bit key": {"token": hs_token({"sub": "a"}, key=secret, alg="HS384")},
        "no role": {"token": hs_token({"name": "a"})},
        "numeric role": {"token": hs_token({"sub": 7})},
        "tampered claims": {"token": hs_token({"sub": "a"}).replace(
            b64u(b'{"sub":"a"}'), b64u(b'{"sub":"b"}'))},
        "empty query token": {"query_token": ""},
    }
    for what, kw in cases.items():
        expect_401(srv, what, **kw)
    check(srv.alive(), "server alive")


@test
def public_key_tokens_from_openssl():
    k = keys()
    srv = auth_server(key="tokenPublicKey=file://" + k["rsa_pub"])
    claims = {"sub": "rsa-user", "exp": int(time.time()) + 60}
    expect_ok(srv, token=openssl_token(claims, "RS256", k["rsa_priv"]))
    expect_ok(srv, token=openssl_token(claims, "PS256", k["rsa_priv"]))
    expect_ok(srv, token=tool("create", "--private-key", "file://" + k["rsa_priv"], "--subject", "x"))
    # Algorithm confusion: HS256 keyed with the public key bytes must not pass.
    expect_401(srv, "HS256 with the public key as secret",
               token=hs_token({"sub": "admin"}, key=open(k["rsa_pub"], "rb").read()))
    expect_401(srv, "EC token on an RSA server", token=openssl_token(claims, "ES256", k["ec_priv"]))
    srv.stop()
    pub_b64 = base64.b64encode(open(k["ec_pub"], "rb").read()).decode()
    srv = auth_server("-o", "tokenPublicAlg=ES256", key="tokenPublicKey=data:;base64," + pub_b64)
    expect_ok(srv, token=openssl_token(claims, "ES256", k["ec_priv"]))
    expect_401(srv, "RS256 token on an EC server", token=openssl_token(claims, "RS256", k["rsa_priv"]))


@test
def rest_needs_the_token_too():
    srv = auth_server()
    status, headers, body = http_get(srv, "/admin/v2/tenants")
    eq(status, 401, "REST without token")
    eq(headers.get("content-type"), "application/json", "content type")
    eq(json.loads(body), {"reason": "Authentication required"}, "REST 401 body")
    eq(http_get(srv, "/metrics")[0], 401, "/metrics without token")
    tok = tool("create", "--secret-key", "file://" + keys()["secret"], "--subject", "ops")
    status, _, _ = http_get(srv, "/admin/v2/tenants", headers={"Authorization": "Bearer " + tok})
    check(status != 401, "REST with a valid token must not be 401")
    eq(http_get(srv, "/admin/v2/tenants?token=" + tok)[0], 401,
       "the token query parameter is only for WebSocket upgrades")


@test
def anonymous_role_and_auth_method():
    srv = auth_server("-o", "anonymousUserRole=guest")
    expect_ok(srv)
    expect_ok(srv, token="garbage")
    tok = tool("create", "--secret-key", "file://" + keys()["secret"], "--subject", "alice")
    expect_ok(srv, token=tok, headers={"X-Pulsar-Auth-Method-Name": "token"})
    # A named method gets no anonymous fallback.
    expect_401(srv, "named method, bad token", token="garbage",
               headers={"X-Pulsar-Auth-Method-Name": "token"})
    expect_401(srv, "unknown method", token=tok, headers={"X-Pulsar-Auth-Method-Name": "basic"})
    eq(http_get(srv, "/admin/v2/tenants")[0] != 401, True, "REST as anonymous")


@test
def audience_and_role_claim():
    srv = auth_server("-o", "tokenAudience=magnetar", "-o", "tokenAuthClaim=role")
    expect_ok(srv, token=hs_token({"role": "r", "aud": "magnetar"}))
    expect_ok(srv, token=hs_token({"role": ["r", "s"], "aud": ["x", "magnetar"]}))
    expect_401(srv, "no audience", token=hs_token({"role": "r"}))
    expect_401(srv, "other audience", token=hs_token({"role": "r", "aud": "pulsar"}))
    expect_401(srv, "role in sub only", token=hs_token({"sub": "r", "aud": "magnetar"}))


def expect_start_failure(args, fragment):
    p = subprocess.run([MAGNETAR_BIN, "-p", "0", "--ephemeral"] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
                       cwd=mkdtemp("mag-cwd-"))
    eq(p.returncode, 2, "exit code for %s" % args)
    check(fragment in p.stderr.decode(errors="replace"),
          "stderr should mention %r: %r" % (fragment, p.stderr[-300:]))
    check(b"ready" not in p.stdout, "no ready line")


@test
def configuration_errors():
    enabled = ["-o", "authenticationEnabled=true"]
    prov = ["-o", "authenticationProviders=" + PROVIDER]
    expect_start_failure(enabled, "AuthenticationProviderToken")
    expect_start_failure(enabled + prov, "needs tokenSecretKey or tokenPublicKey")
    expect_start_failure(enabled + prov + ["-o", "tokenSecretKey=data:;base64,c2hvcnQ="],
                         "at least 256")
    expect_start_failure(enabled + prov + ["-o", "tokenSecretKey=file:///nonexistent/key"],
                         "tokenSecretKey: cannot open key file")
    expect_start_failure(enabled + prov + ["-o", "tokenSecretKey=file://" + keys()["secret"],
                                           "-o", "tokenAudienceClaim=aud"], "tokenAudience")
    expect_start_failure(enabled + prov + ["-o", "tokenPublicKey=file://" + keys()["rsa_pub"],
                                           "-o", "tokenPublicAlg=ES256"], "needs an EC public key")


@test
def quick_start_tls_and_token():
    """The 5-command quick start of docs/SECURITY.md, minus the shell."""
    srv = auth_server(tls=True)
    tok = tool("create", "--secret-key", "file://" + keys()["secret"], "--subject", "app")
    ws = connect_tls(srv, path("producer", uniq("qs")), header=["Authorization: Bearer " + tok])
    eq(publish(ws, "hello")["result"], "ok", "publish over wss with a token")
    ws.close()
    try:
        connect_tls(srv, path("producer", uniq("qs")))
    except TestFailure as e:
        check("401" in str(e), "expected 401, got %s" % e)
    else:
        raise TestFailure("wss upgrade without a token must be refused")
    ws = connect_tls(srv, path("consumer", uniq("qs"), "s") + "?token=" + tok)
    ws.close()


@test
def token_tool_roundtrip():
    s = keys()["secret"]
    tok = tool("create", "--secret-key", s, "--subject", "u1", "--expiry-time", "2h")
    shown = tool("show", tok).split("\n---\n")
    eq(json.loads(shown[0]), {"alg": "HS256"}, "header")
    claims = json.loads(shown[1])
    eq(claims["sub"], "u1", "subject")
    check(abs(claims["exp"] - (time.time() + 7200)) < 60, "exp about 2 h ahead")
    eq(json.loads(tool("validate", "--secret-key", s, tok)), claims, "validate prints the claims")
    eq(tool("validate", "--secret-key", s, "-", input_=(tok + "\n").encode()) != "", True,
       "token from stdin")
    b = tool("create-secret-key", "--base64")
    eq(len(base64.b64decode(b)), 32, "base64 secret length")
    p = subprocess.run([TOKEN_BIN, "validate", "--secret-key", "data:;base64," + b, tok],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eq(p.returncode, 1, "validate with another key fails")
    p = subprocess.run([TOKEN_BIN, "bogus"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eq(p.returncode, 2, "unknown command")


if __name__ == "__main__":
    main()
