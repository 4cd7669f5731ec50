/* rc.c -- human-readable text for mag_rc codes (see include/mag/rc.h). */
#include "mag/rc.h"

const char *mag_strerror(mag_rc rc)
{
    switch (rc) {
    case MAG_OK: return "ok";
    case MAG_AGAIN: return "need more data";
    case MAG_ERR_PROTOCOL: return "protocol error";
    case MAG_ERR_UTF8: return "invalid UTF-8";
    case MAG_ERR_TOO_LARGE: return "too large";
    case MAG_ERR_BAD_REQUEST: return "bad request";
    case MAG_ERR_AUTH: return "authentication failed";
    case MAG_ERR_FORBIDDEN: return "not authorized";
    case MAG_ERR_NOT_FOUND: return "not found";
    case MAG_ERR_METHOD: return "method not allowed";
    case MAG_ERR_NOT_ACCEPTABLE: return "not acceptable";
    case MAG_ERR_CONFLICT: return "conflict";
    case MAG_ERR_PRECONDITION: return "precondition failed";
    case MAG_ERR_UNAVAILABLE: return "service unavailable";
    case MAG_ERR_JSON: return "failed to de-serialize from JSON";
    case MAG_ERR_PAYLOAD: return "invalid payload encoding";
    case MAG_ERR_STORAGE: return "storage error";
    case MAG_ERR_MAP_FULL: return "storage full";
    case MAG_ERR_QUEUE_FULL: return "producer send queue is full";
    case MAG_ERR_TIMEOUT: return "timed out";
    case MAG_ERR_CONFIG: return "configuration error";
    case MAG_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
