#!/usr/bin/env bash
# tools/gen-test-certs.sh -- make a throw-away PKI for trying and testing Magnetar's TLS.
#
#   tools/gen-test-certs.sh [OUTDIR]        (default OUTDIR: ./certs)
#
# Writes, with the openssl command line only (EC P-256 keys, PKCS#8 PEM, SHA-256):
#   ca.cert.pem / ca.key.pem                       test CA      -> tlsTrustCertsFilePath, clients' CA
#   server.cert.pem / server.key.pem               CN=localhost, SAN localhost, 127.0.0.1, ::1
#                                                  -> tlsCertificateFilePath / tlsKeyFilePath
#   client.cert.pem / client.key.pem               CN=client-user, signed by the CA (mTLS)
#   untrusted-ca.cert.pem, untrusted-client.cert.pem / untrusted-client.key.pem
#                                                  a client certificate from another CA (negative tests)
# Never use these for anything real: the keys are unencrypted and the CA key sits next to them.
# Environment: DAYS (validity, default 825).
set -euo pipefail

case "${1:-}" in
-h|--help|help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
-*) echo "gen-test-certs: unknown option $1 (usage: tools/gen-test-certs.sh [OUTDIR])" >&2; exit 2 ;;
esac
out="${1:-certs}"
days="${DAYS:-825}"
command -v openssl >/dev/null || { echo "gen-test-certs: openssl not found" >&2; exit 1; }
mkdir -p "$out"
cd "$out"
umask 077

key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

serial() {
    echo "0x$(openssl rand -hex 8)"
}

# ca NAME CN
ca() {
    key "$1.key.pem"
    openssl req -x509 -new -key "$1.key.pem" -sha256 -days "$days" -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$1.cert.pem" 2>/dev/null
}

# leaf NAME CN CA EXTENSIONS...
leaf() {
    local name="$1" cn="$2" issuer="$3"
    shift 3
    key "$name.key.pem"
    openssl req -new -key "$name.key.pem" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "subjectKeyIdentifier=hash" \
        "authorityKeyIdentifier=keyid,issuer" "$@" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$issuer.cert.pem" -CAkey "$issuer.key.pem" \
        -set_serial "$(serial)" -days "$days" -sha256 -extfile "$name.ext" \
        -out "$name.cert.pem" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

ca ca "Magnetar Test CA"
leaf server localhost ca "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client client-user ca "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
ca untrusted-ca "Untrusted Test CA"
leaf untrusted-client untrusted-user untrusted-ca "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth"
rm -f untrusted-ca.key.pem
chmod 644 ./*.cert.pem

openssl verify -CAfile ca.cert.pem server.cert.pem client.cert.pem >/dev/null
echo "gen-test-certs: wrote $(pwd)/{ca,server,client,untrusted-client}.*.pem"
