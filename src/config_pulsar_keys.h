/* config_pulsar_keys.h -- lookup in the table of Pulsar configuration keys Magnetar accepts and ignores.
 * Private to src/config.c and its unit test; the table is src/config_pulsar_keys.c. */
#ifndef MAG_CONFIG_PULSAR_KEYS_H
#define MAG_CONFIG_PULSAR_KEYS_H

#include <stddef.h>

/* Index of Pulsar key `key` (n bytes, not NUL-terminated) in the table, or -1
 * if it is not a Pulsar key Magnetar ignores. *reason (if not NULL) gets a
 * static phrase saying why it is ignored. */
int mag_config_pulsar_key(const char *key, size_t n, const char **reason);

/* Number of keys in the table, and the name of key i (NULL past the end). */
size_t mag_config_pulsar_key_count(void);
const char *mag_config_pulsar_key_name(size_t i);

#endif /* MAG_CONFIG_PULSAR_KEYS_H */
