/* rc.h -- the one return-code vocabulary of Magnetar.
 *
 * Every module returns a mag_rc. MAG_OK is 0; MAG_AGAIN means "need more input"
 * for resumable parsers. The mapping from codes to wire errors (HTTP status at
 * upgrade time, send-error:N receipts, close codes) lives in exactly one place:
 * src/app/wire_errors.c. Nothing else invents statuses. Allocation failure is not a
 * code: the mag_x* allocators abort (include/mag/util/alloc.h).
 */
#ifndef MAG_RC_H
#define MAG_RC_H

typedef enum mag_rc {
    MAG_OK = 0,
    MAG_AGAIN,              /* parser needs more bytes */
    MAG_ERR_PROTOCOL,       /* peer broke the protocol (RFC 6455 -> close 1002) */
    MAG_ERR_UTF8,           /* invalid UTF-8 in a text message (close 1007) */
    MAG_ERR_TOO_LARGE,      /* message/header over the configured limit (close 1009 / HTTP 431) */
    MAG_ERR_BAD_REQUEST,    /* malformed request or invalid parameter (HTTP 400) */
    MAG_ERR_AUTH,           /* authentication failed (HTTP 401) */
    MAG_ERR_FORBIDDEN,      /* not authorized (HTTP 403) */
    MAG_ERR_NOT_FOUND,      /* no such path/topic/subscription (HTTP 404) */
    MAG_ERR_METHOD,         /* method not allowed (HTTP 405) */
    MAG_ERR_NOT_ACCEPTABLE, /* e.g. a partition count <= 0 (HTTP 406, as Pulsar) */
    MAG_ERR_CONFLICT,       /* busy/duplicate: producer name, exclusive consumer (HTTP 409) */
    MAG_ERR_PRECONDITION,   /* refused because of active clients etc. (HTTP 412) */
    MAG_ERR_UNAVAILABLE,    /* topic terminated, quota exceeded (HTTP 503) */
    MAG_ERR_JSON,           /* text is not the expected JSON (send-error:3) */
    MAG_ERR_PAYLOAD,        /* bad base64 payload / bad field encoding (send-error:7) */
    MAG_ERR_STORAGE,        /* LMDB write or commit failed (send-error:8) */
    MAG_ERR_MAP_FULL,       /* LMDB map is full (send-error:8) */
    MAG_ERR_QUEUE_FULL,     /* producer pending queue full (send-error:8) */
    MAG_ERR_TIMEOUT,        /* operation timed out */
    MAG_ERR_CONFIG,         /* bad configuration value */
    MAG_ERR_INTERNAL        /* anything else (HTTP 500 / send-error:8) */
} mag_rc;

/* Short static English text for a code; never NULL. */
const char *mag_strerror(mag_rc rc);

#endif /* MAG_RC_H */
