/* test_hash.c -- Murmur3_32 and Java String.hashCode against values computed by Java/Pulsar. */
#include <string.h>

#include "mag/util/hash.h"
#include "mag_test.h"

MAG_TEST(test_java_string_hash_known_values)
{
    /* Values of "x".hashCode() in Java. */
    CHECK_EQ_INT(mag_java_string_hash("", 0), 0);
    CHECK_EQ_INT(mag_java_string_hash("0", 1), 48);
    CHECK_EQ_INT(mag_java_string_hash("hello", 5), 99162322);
    CHECK_EQ_INT(mag_java_string_hash("key-1", 5), 101943363);
    CHECK_EQ_INT(mag_java_string_hash("Hello World", 11), -862545276);
    /* "é" (U+00E9) is one UTF-16 unit: 233. */
    CHECK_EQ_INT(mag_java_string_hash("\xc3\xa9", 2), 233);
    /* U+1F600 is the surrogate pair D83D DE00: 31*0xD83D + 0xDE00 = 1772899. */
    CHECK_EQ_INT(mag_java_string_hash("\xf0\x9f\x98\x80", 4), 31 * 0xD83D + 0xDE00);
}

MAG_TEST(test_murmur3_known_values)
{
    /* Standard MurmurHash3_x86_32 vectors (seed 0) and the keys "0", "key-1", "hello". */
    CHECK_EQ_INT(mag_murmur3_32("", 0, 0), 0);
    CHECK_EQ_INT(mag_murmur3_32("", 0, 1), 0x514E28B7u);
    CHECK_EQ_INT(mag_murmur3_32("hello", 5, 0) & 0x7FFFFFFF, 613153351);
    CHECK_EQ_INT(mag_murmur3_32("0", 1, 0) & 0x7FFFFFFF, 1383186559);
    CHECK_EQ_INT(mag_murmur3_32("key-1", 5, 0) & 0x7FFFFFFF, 414258592);
    CHECK_EQ_INT(mag_murmur3_32("The quick brown fox jumps over the lazy dog", 43, 0), 0x2e4ff723u);
}

MAG_TEST(test_partition_choice)
{
    /* PartitionedProducerImpl routing (signSafeMod): N=3 and N=4 */
    CHECK_EQ_INT(mag_hash_partition((uint32_t)mag_java_string_hash("hello", 5), 3), 1);
    CHECK_EQ_INT(mag_hash_partition((uint32_t)mag_java_string_hash("hello", 5), 4), 2);
    CHECK_EQ_INT(mag_hash_partition(mag_murmur3_32("hello", 5, 0), 3), 1);
    CHECK_EQ_INT(mag_hash_partition(mag_murmur3_32("hello", 5, 0), 4), 3);
    CHECK_EQ_INT(mag_hash_partition((uint32_t)mag_java_string_hash("key-1", 5), 4), 3);
    CHECK_EQ_INT(mag_hash_partition(mag_murmur3_32("key-1", 5, 0), 3), 1);
}

int main(void)
{
    RUN(test_java_string_hash_known_values);
    RUN(test_murmur3_known_values);
    RUN(test_partition_choice);
    return mag_test_summary();
}
