/* non_persistent.c -- non-persistent topics (issue #7, Pulsar's non-persistent domain).
 *
 * A message published on a non-persistent topic is never written to LMDB:
 * it is handed at once to one consumer of every subscription connected at
 * that moment (chosen like a persistent dispatch), and a subscription whose
 * consumers have no permit or a congested socket drops it and counts the
 * drop. The producer's receipt follows immediately. There is no backlog, no
 * redelivery and nothing to acknowledge.
 */
#include "broker_internal.h"

#include <string.h>

#include "mag/util/log.h"

void mag_np_publish(mag_producer *p, const mag_entry *e, uint64_t token)
{
    mag_topic *t = p->topic;
    mag_entry msg = *e;
    msg.publish_time_ms = mag_broker_now_ms();
    msg.producer_name = p->name;
    msg.producer_name_len = strlen(p->name);
    uint64_t id = t->next_entry_id++;
    mag_msgid mid;
    mag_msgid_init(&mid, t->rec.id, id);
    mid.partition = t->partition;

    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        s->rr_streak = 0;       /* one message per round, as NonPersistentDispatcherMultipleConsumers */
        mag_consumer *c = s->type == MAG_SUB_KEY_SHARED ? mag_ks_select(s, &msg) : mag_dispatch_pick(s);
        if (!c || !mag_dispatch_available(c)) {
            s->msg_dropped++;
            t->msg_dropped++;
            continue;
        }
        c->flow->permits--;
        c->msg_out_counter++;
        c->bytes_out_counter += msg.payload_len;
        s->msg_out_counter++;
        s->bytes_out_counter += msg.payload_len;
        c->ev.on_message(c->ctx, &mid, &msg, 0, true, 0);
    }
    t->msg_in_counter++;
    t->bytes_in_counter += msg.payload_len;
    p->msg_in_counter++;
    p->bytes_in_counter += msg.payload_len;
    p->ev.on_result(p->ctx, token, MAG_OK, &mid);
}
