/* tls.h -- the server's TLS context (OpenSSL 3) built from Pulsar-style TLS settings.
 *
 * One mag_tls wraps one SSL_CTX: the server certificate chain and key, the CA used to verify
 * client certificates (mTLS), the allowed protocol versions and cipher suites. The HTTP server
 * takes it as an option and makes one SSL per accepted connection on its TLS listener
 * (bufferevent_openssl). Setting names and meanings follow Pulsar's tls* keys, so a user's
 * broker.conf lines carry over; cipher names may be given in IANA/Java spelling
 * (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or OpenSSL spelling (ECDHE-RSA-AES128-GCM-SHA256).
 */
#ifndef MAG_NET_TLS_H
#define MAG_NET_TLS_H

#include <stdbool.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

typedef struct mag_tls mag_tls;

struct mag_tls_opts {
    const char *cert_file;        /* tlsCertificateFilePath: PEM chain, leaf first; required */
    const char *key_file;         /* tlsKeyFilePath: PEM private key (PKCS#8 or traditional);
                                     required */
    const char *trust_certs_file; /* tlsTrustCertsFilePath: PEM CA bundle for client
                                     certificates; NULL/"" = client certificates not requested
                                     (unless require_client_cert) */
    bool allow_insecure;          /* tlsAllowInsecureConnection: a client certificate that does
                                     not verify is still accepted */
    bool require_client_cert;     /* tlsRequireTrustedClientCertOnConnect: a client without a
                                     (trusted, unless allow_insecure) certificate fails the
                                     handshake */
    const char *protocols;        /* tlsProtocols: comma list of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3
                                     (the range min..max of the listed ones is allowed);
                                     NULL/"" = OpenSSL defaults (TLSv1.2 and up) */
    const char *ciphers;          /* tlsCiphers: comma list; TLS 1.3 suites (TLS_AES_...,
                                     TLS_CHACHA20_...) set the 1.3 list, the others (IANA or
                                     OpenSSL names) the TLS <= 1.2 list; NULL/"" = defaults */
};

/* Build the context. All strings are borrowed (only used during the call); files are read now.
 * @param out  receives the new context (caller frees with mag_tls_free); NULL on failure
 * @param err  if not NULL, one line describing the problem is APPENDED on failure, e.g.
 *             "tlsCertificateFilePath '/x.pem': cannot load certificate chain: ...",
 *             "tlsProtocols: unknown protocol 'SSLv3'"
 * @return MAG_OK, or MAG_ERR_CONFIG for any missing/unreadable/inconsistent setting. */
mag_rc mag_tls_new(const struct mag_tls_opts *o, mag_tls **out, mag_buf *err);

/* Free the context. Connections already created keep their own reference to the SSL_CTX, so
 * this may be called while they live. NULL is a no-op. */
void mag_tls_free(mag_tls *t);

/* The SSL_CTX (an `SSL_CTX *`, typed void * so this header does not pull in OpenSSL). Owned by
 * t; valid until mag_tls_free(t). The net layer calls SSL_new() on it per connection. */
void *mag_tls_ssl_ctx(const mag_tls *t);

#endif /* MAG_NET_TLS_H */
