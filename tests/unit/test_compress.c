/* test_compress.c -- unit tests for src/codec/compress.c.
 *
 * Known vectors were produced outside Magnetar: python3's zlib (a finished
 * zlib.compress stream, and compressobj + flush(Z_SYNC_FLUSH), which is what
 * Pulsar's Java CompressionCodecZLib emits), the lz4 CLI (the raw block cut
 * out of its frame), the zstd CLI, and hand-assembled snappy blocks. Then
 * round trips for every codec (empty, tiny, 1 MiB random and repetitive) and
 * every error path: corrupt, truncated, trailing bytes, size mismatch, size
 * over the limit (checked before allocating), unknown codec.
 */
#include "mag_test.h"
#include "mag/codec/compress.h"

#include <stdlib.h>

#define MIB (1024u * 1024u)

static const mag_compression all_codecs[] = { MAG_COMP_NONE, MAG_COMP_LZ4, MAG_COMP_ZLIB,
                                              MAG_COMP_ZSTD, MAG_COMP_SNAPPY };
#define N_CODECS (sizeof all_codecs / sizeof all_codecs[0])

static const char hello4[] = "hello hello hello hello"; /* 23 bytes */

/* python3: zlib.compress(b"hello hello hello hello") */
static const uint8_t zlib_finished[] = { 0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
                                         0xc8, 0x40, 0x27, 0x01, 0x68, 0x03, 0x08, 0xb1 };
/* python3: c = zlib.compressobj(); c.compress(d) + c.flush(zlib.Z_SYNC_FLUSH) */
static const uint8_t zlib_java[] = { 0x78, 0x9c, 0xca, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8,
                                     0x40, 0x27, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff };
/* lz4 -BI --no-frame-crc: the one block of the frame (6 literals, match
 * offset 6 length 12, 5 final literals). */
static const uint8_t lz4_block[] = "\x68hello \x06\x00\x50hello";
#define LZ4_BLOCK_LEN 15
/* zstd -3 --no-check in.txt (content size 23 in the header). */
static const uint8_t zstd_file[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x17, 0x65, 0x00, 0x00,
                                     0x30, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x01, 0x00,
                                     0x99, 0x4b, 0x11 };
/* zstd -3 --no-check < in.txt (streamed: no content size). */
static const uint8_t zstd_stream[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x65, 0x00, 0x00,
                                       0x30, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x01, 0x00,
                                       0x99, 0x4b, 0x11 };
/* snappy: varint 16, literal "abcd", copy-2 (len 12, offset 4). */
static const uint8_t snappy_copy[] = "\x10\x0c" "abcd" "\x2e\x04\x00";
#define SNAPPY_COPY_LEN 9

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void fill_repetitive(uint8_t *p, size_t n)
{
    static const char pat[] = "{\"payload\":\"magnetar\",\"n\":12345}";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)pat[i % (sizeof pat - 1)];
}

/* Compress then decompress with an exact limit; check the bytes come back
 * and that appending keeps what out already held. */
static void round_trip(mag_compression c, const uint8_t *src, size_t len, size_t *clen)
{
    mag_buf z = MAG_BUF_INIT, back = MAG_BUF_INIT;
    mag_buf_append(&z, "PRE", 3);
    CHECK_EQ_INT(mag_compress(c, src, len, &z), MAG_OK);
    CHECK(z.len >= 3 && memcmp(z.data, "PRE", 3) == 0);
    *clen = z.len - 3;
    mag_buf_append(&back, "AB", 2);
    CHECK_EQ_INT(mag_decompress(c, z.data + 3, z.len - 3, len, len, &back), MAG_OK);
    CHECK_EQ_INT(back.len, len + 2);
    CHECK(memcmp(back.data, "AB", 2) == 0);
    if (back.len == len + 2 && len > 0)
        CHECK(memcmp(back.data + 2, src, len) == 0);
    if (len > 0) {
        size_t before = back.len;
        CHECK_EQ_INT(mag_decompress(c, z.data + 3, z.len - 3, len, len - 1, &back),
                     MAG_ERR_TOO_LARGE);
        CHECK_EQ_INT(back.len, before);
    }
    mag_buf_free(&z);
    mag_buf_free(&back);
}

MAG_TEST(parse_and_name)
{
    static const char *names[] = { "NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY" };
    for (size_t i = 0; i < N_CODECS; i++) {
        mag_compression c = (mag_compression)99;
        CHECK_EQ_INT(mag_compression_parse(names[i], &c), MAG_OK);
        CHECK_EQ_INT(c, all_codecs[i]);
        CHECK_STR(mag_compression_name(all_codecs[i]), names[i]);
    }
    CHECK_EQ_INT(MAG_COMP_LZ4, 1);
    CHECK_EQ_INT(MAG_COMP_SNAPPY, 4);
    mag_compression c = MAG_COMP_ZSTD;
    CHECK_EQ_INT(mag_compression_parse("lz4", &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_compression_parse("Zlib", &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_compression_parse("", &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_compression_parse("NONE ", &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_compression_parse("GZIP", &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_compression_parse(NULL, &c), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(c, MAG_COMP_ZSTD); /* untouched on error */
    CHECK_STR(mag_compression_name((mag_compression)5), "UNKNOWN");
    CHECK_STR(mag_compression_name((mag_compression)-1), "UNKNOWN");
}

MAG_TEST(compress_known_vectors)
{
    mag_buf b = MAG_BUF_INIT;
    const uint8_t *h = (const uint8_t *)hello4;

    CHECK_EQ_INT(mag_compress(MAG_COMP_ZLIB, h, 23, &b), MAG_OK);
    CHECK_EQ_INT(b.len, sizeof zlib_java);
    CHECK_MEM(b.data, zlib_java, sizeof zlib_java);

    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_LZ4, h, 23, &b), MAG_OK);
    CHECK_EQ_INT(b.len, LZ4_BLOCK_LEN);
    CHECK_MEM(b.data, lz4_block, LZ4_BLOCK_LEN);

    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_LZ4, (const uint8_t *)"hello", 5, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 6);
    CHECK_MEM(b.data, "\x50hello", 6);

    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_ZSTD, h, 23, &b), MAG_OK);
    CHECK_EQ_INT(b.len, sizeof zstd_file);
    CHECK_MEM(b.data, zstd_file, sizeof zstd_file);

    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_SNAPPY, (const uint8_t *)"hello", 5, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 7);
    CHECK_MEM(b.data, "\x05\x10hello", 7);

    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_NONE, h, 23, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 23);
    CHECK_MEM(b.data, hello4, 23);
    mag_buf_free(&b);
}

MAG_TEST(compress_empty_formats)
{
    mag_buf b = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_compress(MAG_COMP_ZLIB, NULL, 0, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 0); /* Java's Deflater loop writes nothing */
    CHECK_EQ_INT(mag_compress(MAG_COMP_LZ4, NULL, 0, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 1);
    CHECK_EQ_INT(b.data[0], 0x00);
    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_SNAPPY, NULL, 0, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 1);
    CHECK_EQ_INT(b.data[0], 0x00);
    mag_buf_reset(&b);
    CHECK_EQ_INT(mag_compress(MAG_COMP_NONE, NULL, 0, &b), MAG_OK);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(mag_compress(MAG_COMP_ZSTD, NULL, 0, &b), MAG_OK);
    CHECK(b.len >= 9);
    CHECK_MEM(b.data, "\x28\xb5\x2f\xfd", 4);
    mag_buf_free(&b);
}

static void expect_decode(mag_compression c, const uint8_t *src, size_t len, const char *want,
                          size_t want_len)
{
    mag_buf b = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_decompress(c, src, len, want_len, want_len, &b), MAG_OK);
    CHECK_EQ_INT(b.len, want_len);
    if (b.len == want_len && want_len > 0)
        CHECK_MEM(b.data, want, want_len);
    /* one byte more or less than the real size is a payload error */
    size_t before = b.len;
    CHECK_EQ_INT(mag_decompress(c, src, len, want_len + 1, want_len + 1, &b), MAG_ERR_PAYLOAD);
    if (want_len > 0)
        CHECK_EQ_INT(mag_decompress(c, src, len, want_len - 1, want_len, &b), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(b.len, before);
    mag_buf_free(&b);
}

MAG_TEST(decompress_known_vectors)
{
    expect_decode(MAG_COMP_ZLIB, zlib_finished, sizeof zlib_finished, hello4, 23);
    expect_decode(MAG_COMP_ZLIB, zlib_java, sizeof zlib_java, hello4, 23);
    expect_decode(MAG_COMP_LZ4, lz4_block, LZ4_BLOCK_LEN, hello4, 23);
    expect_decode(MAG_COMP_ZSTD, zstd_file, sizeof zstd_file, hello4, 23);
    expect_decode(MAG_COMP_ZSTD, zstd_stream, sizeof zstd_stream, hello4, 23);
    expect_decode(MAG_COMP_SNAPPY, snappy_copy, SNAPPY_COPY_LEN, "abcdabcdabcdabcd", 16);
    expect_decode(MAG_COMP_SNAPPY, (const uint8_t *)"\x05\x10hello", 7, "hello", 5);
    expect_decode(MAG_COMP_NONE, (const uint8_t *)"abc", 3, "abc", 3);
    /* empty payloads as each Pulsar codec writes them */
    expect_decode(MAG_COMP_ZLIB, NULL, 0, "", 0);
    expect_decode(MAG_COMP_LZ4, (const uint8_t *)"\x00", 1, "", 0);
    expect_decode(MAG_COMP_SNAPPY, (const uint8_t *)"\x00", 1, "", 0);
    expect_decode(MAG_COMP_NONE, NULL, 0, "", 0);
}

MAG_TEST(round_trips_small)
{
    const uint8_t one = 'x';
    for (size_t i = 0; i < N_CODECS; i++) {
        size_t clen;
        round_trip(all_codecs[i], NULL, 0, &clen);
        round_trip(all_codecs[i], &one, 1, &clen);
        round_trip(all_codecs[i], (const uint8_t *)hello4, 23, &clen);
    }
}

MAG_TEST(round_trips_1mib)
{
    uint8_t *rnd = malloc(MIB), *rep = malloc(MIB);
    fill_random(rnd, MIB, 0x9e3779b97f4a7c15u);
    fill_repetitive(rep, MIB);
    for (size_t i = 0; i < N_CODECS; i++) {
        size_t clen = 0;
        round_trip(all_codecs[i], rnd, MIB, &clen);
        CHECK(clen >= MIB); /* random data does not shrink */
        CHECK(clen <= MIB + MIB / 64);
        round_trip(all_codecs[i], rep, MIB, &clen);
        if (all_codecs[i] == MAG_COMP_NONE)
            CHECK_EQ_INT(clen, MIB);
        else
            CHECK(clen < MIB / 10);
    }
    free(rnd);
    free(rep);
}

MAG_TEST(too_large_checked_before_allocating)
{
    for (size_t i = 0; i < N_CODECS; i++) {
        mag_buf b = MAG_BUF_INIT;
        /* a 2 GiB claim against a 1 MiB limit: refused, nothing reserved */
        CHECK_EQ_INT(mag_decompress(all_codecs[i], zlib_java, sizeof zlib_java, 2048u * MIB, MIB,
                                    &b),
                     MAG_ERR_TOO_LARGE);
        CHECK(b.data == NULL);
        CHECK_EQ_INT(b.cap, 0);
        CHECK_EQ_INT(mag_decompress(all_codecs[i], zlib_java, sizeof zlib_java, 24, 23, &b),
                     MAG_ERR_TOO_LARGE);
        CHECK(b.data == NULL);
        /* above the absolute cap even with a permissive limit */
        CHECK_EQ_INT(mag_decompress(all_codecs[i], zlib_java, sizeof zlib_java,
                                    MAG_COMPRESS_MAX_INPUT + 1, SIZE_MAX, &b),
                     MAG_ERR_TOO_LARGE);
        CHECK(b.data == NULL);
        /* compress refuses oversized input without reading it */
        CHECK_EQ_INT(mag_compress(all_codecs[i], zlib_java, MAG_COMPRESS_MAX_INPUT + 1, &b),
                     MAG_ERR_TOO_LARGE);
        CHECK(b.data == NULL);
    }
}

MAG_TEST(unknown_codec)
{
    mag_buf b = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_compress((mag_compression)5, (const uint8_t *)"x", 1, &b),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_decompress((mag_compression)5, (const uint8_t *)"x", 1, 1, 1, &b),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_decompress((mag_compression)-1, (const uint8_t *)"x", 1, 1, 1, &b),
                 MAG_ERR_BAD_REQUEST);
    CHECK(b.data == NULL);
}

/* Decoding `src` as c to `size` bytes must fail with MAG_ERR_PAYLOAD and
 * leave the buffer's length alone. */
static void expect_corrupt(mag_compression c, const uint8_t *src, size_t len, size_t size)
{
    mag_buf b = MAG_BUF_INIT;
    mag_buf_append(&b, "K", 1);
    CHECK_EQ_INT(mag_decompress(c, src, len, size, 1u << 20, &b), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(b.len, 1);
    mag_buf_free(&b);
}

MAG_TEST(corrupt_inputs)
{
    uint8_t tmp[64];

    /* ZLIB: bad header, bad block type, dictionary required, bad Adler-32,
     * trailing byte after a finished stream, truncated finished stream
     * (missing output), garbage. */
    expect_corrupt(MAG_COMP_ZLIB, (const uint8_t *)"\x78\x9d\x00", 3, 1);
    expect_corrupt(MAG_COMP_ZLIB, (const uint8_t *)"\x78\x9c\x07", 3, 1);
    expect_corrupt(MAG_COMP_ZLIB, (const uint8_t *)"\x78\xbb\x00\x00\x00\x01\x03\x00", 8, 0);
    memcpy(tmp, zlib_finished, sizeof zlib_finished);
    tmp[sizeof zlib_finished - 1] ^= 1;
    expect_corrupt(MAG_COMP_ZLIB, tmp, sizeof zlib_finished, 23);
    memcpy(tmp, zlib_finished, sizeof zlib_finished);
    tmp[sizeof zlib_finished] = 0;
    expect_corrupt(MAG_COMP_ZLIB, tmp, sizeof zlib_finished + 1, 23);
    expect_corrupt(MAG_COMP_ZLIB, zlib_java, 8, 23);
    expect_corrupt(MAG_COMP_ZLIB, (const uint8_t *)"garbage!", 8, 8);

    /* LZ4: empty input, offset 0, offset before the start, literal run
     * past the end, trailing byte. */
    expect_corrupt(MAG_COMP_LZ4, NULL, 0, 0);
    expect_corrupt(MAG_COMP_LZ4, (const uint8_t *)"\x14" "a" "\x00\x00\x50hello", 9, 14);
    expect_corrupt(MAG_COMP_LZ4, (const uint8_t *)"\x14" "a" "\x09\x00\x50hello", 9, 14);
    expect_corrupt(MAG_COMP_LZ4, (const uint8_t *)"\x90" "ab", 3, 9);
    memcpy(tmp, lz4_block, LZ4_BLOCK_LEN);
    tmp[LZ4_BLOCK_LEN] = 0;
    expect_corrupt(MAG_COMP_LZ4, tmp, LZ4_BLOCK_LEN + 1, 23);
    expect_corrupt(MAG_COMP_LZ4, lz4_block, LZ4_BLOCK_LEN - 1, 23);

    /* ZSTD: empty, bad magic, truncated frame, trailing byte, flipped byte
     * in the compressed block. */
    expect_corrupt(MAG_COMP_ZSTD, NULL, 0, 0);
    memcpy(tmp, zstd_file, sizeof zstd_file);
    tmp[0] = 0x29;
    expect_corrupt(MAG_COMP_ZSTD, tmp, sizeof zstd_file, 23);
    expect_corrupt(MAG_COMP_ZSTD, zstd_file, sizeof zstd_file - 1, 23);
    memcpy(tmp, zstd_file, sizeof zstd_file);
    tmp[sizeof zstd_file] = 0;
    expect_corrupt(MAG_COMP_ZSTD, tmp, sizeof zstd_file + 1, 23);
    memcpy(tmp, zstd_file, sizeof zstd_file);
    tmp[6] = 0xff; /* block header: reserved block type */
    expect_corrupt(MAG_COMP_ZSTD, tmp, sizeof zstd_file, 23);

    /* SNAPPY: empty, unterminated length varint, copy before the start,
     * truncated literal, declared length differs from the expected size. */
    expect_corrupt(MAG_COMP_SNAPPY, NULL, 0, 0);
    expect_corrupt(MAG_COMP_SNAPPY, (const uint8_t *)"\x80", 1, 0);
    expect_corrupt(MAG_COMP_SNAPPY, (const uint8_t *)"\x10\x0c" "abcd" "\x2e\x09\x00", 9, 16);
    expect_corrupt(MAG_COMP_SNAPPY, (const uint8_t *)"\x05\x10hel", 5, 5);
    expect_corrupt(MAG_COMP_SNAPPY, (const uint8_t *)"\x05\x10hello", 7, 6);

    /* NONE: length must equal the declared size. */
    expect_corrupt(MAG_COMP_NONE, (const uint8_t *)"abc", 3, 2);
    expect_corrupt(MAG_COMP_NONE, (const uint8_t *)"abc", 3, 4);
}

/* Decoding into a buffer that already holds data (and must grow) appends. */
MAG_TEST(decompress_appends)
{
    mag_buf b = MAG_BUF_INIT;
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(mag_decompress(MAG_COMP_ZLIB, zlib_java, sizeof zlib_java, 23, 23, &b),
                     MAG_OK);
    CHECK_EQ_INT(b.len, 69);
    CHECK_MEM(b.data + 46, hello4, 23);
    mag_buf_free(&b);
}

int main(void)
{
    RUN(parse_and_name);
    RUN(compress_known_vectors);
    RUN(compress_empty_formats);
    RUN(decompress_known_vectors);
    RUN(round_trips_small);
    RUN(round_trips_1mib);
    RUN(too_large_checked_before_allocating);
    RUN(unknown_codec);
    RUN(corrupt_inputs);
    RUN(decompress_appends);
    return mag_test_summary();
}
