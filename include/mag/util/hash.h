/* hash.h -- the hash functions Pulsar's routing and Key_Shared dispatch use.
 *
 * Both must match Java bit for bit, because users expect a key to land on the
 * same partition / consumer as it would on a real Pulsar cluster (Murmur3_32Hash,
 * JavaStringHash). Pure functions, no allocation.
 */
#ifndef MAG_UTIL_HASH_H
#define MAG_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* MurmurHash3_x86_32 over len bytes with the given seed (Pulsar uses seed 0). */
uint32_t mag_murmur3_32(const void *data, size_t len, uint32_t seed);

/* Java String.hashCode() of the UTF-8 text s: the text is transcoded to UTF-16
   code units (a supplementary character counts as two, a surrogate pair);
   invalid UTF-8 bytes count as U+FFFD, as Java's decoder replaces them. */
int32_t mag_java_string_hash(const char *s, size_t len);

/* Pulsar's partition choice for a key: (hash & 0x7FFFFFFF) % n. */
static inline uint32_t mag_hash_partition(uint32_t hash, uint32_t n)
{
    return (hash & 0x7FFFFFFFu) % n;
}

#endif /* MAG_UTIL_HASH_H */
