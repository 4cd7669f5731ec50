/* ws_frame.h -- pure RFC 6455 frame codec (no sockets, no libevent).
 *
 * The parser is a resumable state machine fed with arbitrary chunks: first the header phase
 * (mag_ws_parse_header, up to 14 bytes, partial bytes are kept in the parser), then the payload
 * phase (mag_ws_parse_payload, unmasks into a caller buffer). It enforces every frame-level rule
 * of RFC 6455 §5 for CLIENT frames plus the data-frame sequencing rules of §5.4 (continuation
 * without an open message, a new data frame inside a fragmented message) and a size limit that
 * applies to a single frame and to the reassembled message, decided from the header BEFORE any
 * payload is buffered. The serializer writes SERVER (unmasked) frame headers, and masked CLIENT
 * headers for the tools that talk to a server (magnetar-client, magnetar-perf).
 */
#ifndef MAG_CODEC_WS_FRAME_H
#define MAG_CODEC_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"

enum {
    MAG_WS_OP_CONT = 0x0,
    MAG_WS_OP_TEXT = 0x1,
    MAG_WS_OP_BINARY = 0x2,
    MAG_WS_OP_CLOSE = 0x8,
    MAG_WS_OP_PING = 0x9,
    MAG_WS_OP_PONG = 0xA
};

/* Largest header the server writes (2 + 8-byte length, no mask). */
#define MAG_WS_MAX_SERVER_HEADER 10
/* Largest header a client can send (2 + 8 + 4-byte mask). */
#define MAG_WS_MAX_CLIENT_HEADER 14
/* Largest control-frame payload (RFC 6455 §5.5). */
#define MAG_WS_MAX_CONTROL_PAYLOAD 125
/* Close codes used by the server. */
#define MAG_WS_CLOSE_NORMAL 1000
#define MAG_WS_CLOSE_GOING_AWAY 1001
#define MAG_WS_CLOSE_PROTOCOL 1002
#define MAG_WS_CLOSE_NO_STATUS 1005   /* never on the wire: "the Close had no payload" */
#define MAG_WS_CLOSE_BAD_DATA 1007
#define MAG_WS_CLOSE_TOO_BIG 1009
#define MAG_WS_CLOSE_INTERNAL 1011

/* One parsed frame header. */
typedef struct mag_ws_frame_hdr {
    bool fin;
    uint8_t rsv;          /* the three RSV bits (always 0 in an accepted frame) */
    uint8_t opcode;       /* MAG_WS_OP_* */
    bool masked;
    uint8_t mask[4];
    uint64_t payload_len;
} mag_ws_frame_hdr;

/* Parser state; embed it and initialise with mag_ws_parser_init. No heap memory. */
typedef struct mag_ws_parser {
    int state;               /* private */
    mag_rc err;              /* sticky error once one occurred */
    uint8_t hbuf[MAG_WS_MAX_CLIENT_HEADER];
    size_t hlen;             /* header bytes collected so far */
    uint64_t max_payload;    /* limit for a frame and for a reassembled message; 0 = none */
    bool require_mask;       /* true for a server parsing client frames */
    mag_ws_frame_hdr frame;  /* valid after mag_ws_parse_header returned MAG_OK */
    uint64_t payload_done;   /* payload bytes of the current frame consumed */
    bool msg_open;           /* a fragmented data message is in progress */
    uint8_t msg_opcode;      /* TEXT or BINARY of the open message */
    uint64_t msg_len;        /* payload bytes of the open message so far (incl. this frame) */
} mag_ws_parser;

/* Initialise p. max_payload: declared frame payloads or reassembled data messages above this
 * are MAG_ERR_TOO_LARGE (0 = unlimited, still at most 2^63-1). require_mask: reject unmasked
 * frames (a server parsing client frames must pass true). */
void mag_ws_parser_init(mag_ws_parser *p, uint64_t max_payload, bool require_mask);

/* Header phase. Feeds up to len bytes of buf; *consumed gets how many were used (partial
 * header bytes are copied into p, so the caller may drop them). Returns:
 *   MAG_OK            header complete: p->frame is valid; the parser is now in the payload phase
 *   MAG_AGAIN         all len bytes consumed, header still incomplete
 *   MAG_ERR_PROTOCOL  RSV bits set, unknown opcode, control frame with FIN=0 or payload > 125,
 *                     non-minimal length encoding, 64-bit length with the top bit set, unmasked
 *                     frame while require_mask, CONT without an open message, TEXT/BINARY while
 *                     a fragmented message is open
 *   MAG_ERR_TOO_LARGE declared payload (or message total) above max_payload
 *   MAG_ERR_INTERNAL  called while in the payload phase
 * Errors are sticky: every later call returns the same code. buf is borrowed. */
mag_rc mag_ws_parse_header(mag_ws_parser *p, const uint8_t *buf, size_t len, size_t *consumed);

/* Payload phase. Consumes min(len, remaining payload) bytes of buf, writing them unmasked to
 * out (out may equal buf for in-place unmasking, or be NULL to discard). *consumed gets the
 * count. Returns MAG_OK when the frame's payload is complete (the parser is back in the header
 * phase and p->frame still describes the finished frame), MAG_AGAIN when more payload is
 * needed, MAG_ERR_INTERNAL when not in the payload phase (or the sticky error). */
mag_rc mag_ws_parse_payload(mag_ws_parser *p, const uint8_t *buf, size_t len, uint8_t *out,
                            size_t *consumed);

/* True while the parser expects payload bytes (after a header, before the frame ends). */
bool mag_ws_parser_in_payload(const mag_ws_parser *p);
/* Payload bytes still expected for the current frame (0 in the header phase). */
uint64_t mag_ws_parser_remaining(const mag_ws_parser *p);

/* XOR-unmask len bytes in place; offset is the position of buf[0] within the frame payload. */
void mag_ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset);

/* Write an unmasked server frame header for a payload of payload_len bytes into out, which must
 * have room for MAG_WS_MAX_SERVER_HEADER bytes. Uses the minimal length encoding. Returns the
 * header size (2, 4 or 10). The payload itself is appended by the caller. */
size_t mag_ws_frame_header_write(uint8_t *out, bool fin, uint8_t opcode, uint64_t payload_len);

/* Write a masked client frame header (RFC 6455 §5.3: every client frame is masked) for a payload
 * of payload_len bytes into out, which must have room for MAG_WS_MAX_CLIENT_HEADER bytes: the
 * server form with the MASK bit set, then the 4 mask bytes. The caller appends the payload
 * XOR-ed with mask (mag_ws_unmask with offset 0 does that). Returns the header size (6, 8 or 14). */
size_t mag_ws_client_frame_header_write(uint8_t *out, bool fin, uint8_t opcode,
                                        uint64_t payload_len, const uint8_t mask[4]);

/* True for close codes a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1014, 3000-4999. */
bool mag_ws_close_code_valid(uint16_t code);

/* Parse a Close frame payload. An empty payload gives *code = MAG_WS_CLOSE_NO_STATUS (1005) and
 * an empty reason. *reason points into payload (borrowed, not NUL-terminated). Returns MAG_OK,
 * MAG_ERR_PROTOCOL (1-byte payload, payload > 125, invalid code) or MAG_ERR_UTF8 (reason is not
 * valid UTF-8). */
mag_rc mag_ws_close_parse(const uint8_t *payload, size_t len, uint16_t *code,
                          const char **reason, size_t *reason_len);

/* Build a Close payload (2-byte big-endian code + reason) into out, which must have room for
 * MAG_WS_MAX_CONTROL_PAYLOAD bytes. reason may be NULL; it is truncated to 123 bytes (at a UTF-8
 * character boundary). Returns the payload length. */
size_t mag_ws_close_build(uint8_t *out, uint16_t code, const char *reason);

#endif /* MAG_CODEC_WS_FRAME_H */
