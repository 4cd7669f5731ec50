/* client_msg.h -- the Pulsar WebSocket frames magnetar-client reads, and how it prints them.
 *
 * A producer receipt ({"result","messageId","context","errorMsg"}) or a consumer/reader delivery
 * ({"messageId","payload","properties","key",...}) is bound with mag_core's json_reader into
 * reusable buffers; a delivery is printed the way pulsar-client prints a message
 * (CmdConsume.interpretMessage): a "----- got message -----" line, then
 * "key:[K], properties:[k1=v1, k2=v2], content:C".
 */
#ifndef MAG_TOOLS_CLIENT_MSG_H
#define MAG_TOOLS_CLIENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/util/buf.h"

#define MAG_CLIENT_MESSAGE_BOUNDARY "----- got message -----"

/* The fields of a receipt or a delivery the client uses (decoded strings). Owned by the verb
   that parses into it (one thread), reused for every frame, freed with mag_client_msg_free. */
struct mag_client_msg {
    mag_buf result, error_msg, message_id, payload, key, props;
    bool has_key;
    uint32_t nprops;
};

/* Parse one server text frame into m (its buffers reused). false if it is not a JSON object. */
bool mag_client_msg_parse(const uint8_t *json, size_t len, struct mag_client_msg *m);

/* Print a delivery on stdout as pulsar-client does; hex: the content as commons-io's
   HexDump.dump lays it out (pulsar-client --hex). Flushes stdout. */
void mag_client_msg_print(const struct mag_client_msg *m, bool hex);

/* Free the buffers; m is empty and reusable. */
void mag_client_msg_free(struct mag_client_msg *m);

#endif /* MAG_TOOLS_CLIENT_MSG_H */
