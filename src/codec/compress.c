/* compress.c -- Pulsar payload codecs (see include/mag/codec/compress.h).
 *
 * Thin, bounds-checked wrappers over liblz4, zlib, libzstd and libsnappy that
 * reproduce the Java client's byte formats (CompressionCodec{LZ4,ZLib,Zstd,
 * Snappy}). Every decoder is told the exact expected size, refuses sizes over
 * the caller's limit before reserving memory, and writes straight into the
 * output mag_buf, committing out->len only on success.
 */
#include "mag/codec/compress.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

/* Pulsar's default zstd level (CompressionCodecZstd.ZSTD_COMPRESSION_LEVEL). */
#define MAG_ZSTD_LEVEL 3
/* Slack over deflateBound(): a sync flush ends with an empty stored block
 * (at most 5 bytes) instead of the 4-byte Adler-32 trailer the bound counts. */
#define MAG_ZLIB_FLUSH_SLACK 16

static const char *const comp_names[] = {
    [MAG_COMP_NONE] = "NONE", [MAG_COMP_LZ4] = "LZ4", [MAG_COMP_ZLIB] = "ZLIB",
    [MAG_COMP_ZSTD] = "ZSTD", [MAG_COMP_SNAPPY] = "SNAPPY",
};
#define COMP_COUNT (sizeof comp_names / sizeof comp_names[0])

static bool comp_valid(mag_compression c)
{
    return (unsigned)c < COMP_COUNT;
}

mag_rc mag_compression_parse(const char *name, mag_compression *out)
{
    if (!name)
        return MAG_ERR_BAD_REQUEST;
    for (size_t i = 0; i < COMP_COUNT; i++) {
        if (strcmp(name, comp_names[i]) == 0) {
            *out = (mag_compression)i;
            return MAG_OK;
        }
    }
    return MAG_ERR_BAD_REQUEST;
}

const char *mag_compression_name(mag_compression c)
{
    return comp_valid(c) ? comp_names[c] : "UNKNOWN";
}

/* ---- compression ---- */

static mag_rc lz4_compress(const uint8_t *src, size_t len, mag_buf *out)
{
    int bound = LZ4_compressBound((int)len);
    if (bound <= 0)
        return MAG_ERR_INTERNAL;
    mag_buf_reserve(out, (size_t)bound);
    int n = LZ4_compress_default((const char *)src, (char *)out->data + out->len, (int)len, bound);
    if (n <= 0)
        return MAG_ERR_INTERNAL;
    out->len += (size_t)n;
    return MAG_OK;
}

/* Same calls as CompressionCodecZLib.encode: new Deflater() (level -1,
 * window 15, memLevel 8, zlib wrapper), deflate(SYNC_FLUSH) until the input
 * is consumed and the flush drained, never finish(). */
static mag_rc zlib_compress(const uint8_t *src, size_t len, mag_buf *out)
{
    if (len == 0)
        return MAG_OK; /* the Java loop never calls deflate: zero bytes */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK)
        return MAG_ERR_INTERNAL;
    mag_rc rc = MAG_OK;
    size_t room = (size_t)deflateBound(&zs, (uLong)len) + MAG_ZLIB_FLUSH_SLACK;
    size_t used = 0;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    do {
        mag_buf_reserve(out, used + room);
        zs.next_out = out->data + out->len + used;
        zs.avail_out = (uInt)room;
        int zrc = deflate(&zs, Z_SYNC_FLUSH);
        if (zrc == Z_BUF_ERROR && zs.avail_in == 0)
            break; /* flush already complete: nothing left to write */
        if (zrc != Z_OK) {
            rc = MAG_ERR_INTERNAL;
            goto out;
        }
        used += room - zs.avail_out;
    } while (zs.avail_out == 0 || zs.avail_in > 0);
    out->len += used;
out:
    deflateEnd(&zs);
    return rc;
}

static mag_rc zstd_compress(const uint8_t *src, size_t len, mag_buf *out)
{
    size_t bound = ZSTD_compressBound(len);
    mag_buf_reserve(out, bound);
    size_t n = ZSTD_compress(out->data + out->len, bound, src, len, MAG_ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return MAG_ERR_INTERNAL;
    out->len += n;
    return MAG_OK;
}

static mag_rc snappy_compress_buf(const uint8_t *src, size_t len, mag_buf *out)
{
    size_t n = snappy_max_compressed_length(len);
    mag_buf_reserve(out, n);
    static const char empty[1] = { 0 };
    if (snappy_compress(src ? (const char *)src : empty, len, (char *)out->data + out->len, &n) !=
        SNAPPY_OK)
        return MAG_ERR_INTERNAL;
    out->len += n;
    return MAG_OK;
}

mag_rc mag_compress(mag_compression c, const uint8_t *src, size_t len, mag_buf *out)
{
    if (!comp_valid(c))
        return MAG_ERR_BAD_REQUEST;
    if (len > MAG_COMPRESS_MAX_INPUT)
        return MAG_ERR_TOO_LARGE;
    switch (c) {
    case MAG_COMP_NONE:
        mag_buf_append(out, src, len);
        return MAG_OK;
    case MAG_COMP_LZ4:
        return lz4_compress(src, len, out);
    case MAG_COMP_ZLIB:
        return zlib_compress(src, len, out);
    case MAG_COMP_ZSTD:
        return zstd_compress(src, len, out);
    case MAG_COMP_SNAPPY:
        return snappy_compress_buf(src, len, out);
    }
    return MAG_ERR_BAD_REQUEST;
}

/* ---- decompression: each writes exactly `size` bytes at dst or fails ---- */

static mag_rc none_copy(const uint8_t *src, size_t len, uint8_t *dst, size_t size)
{
    if (len != size)
        return MAG_ERR_PAYLOAD;
    if (len > 0)
        memcpy(dst, src, len);
    return MAG_OK;
}

static mag_rc lz4_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t size)
{
    if (len == 0)
        return MAG_ERR_PAYLOAD;
    int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)len, (int)size);
    return n >= 0 && (size_t)n == size ? MAG_OK : MAG_ERR_PAYLOAD;
}

/* Accepts a finished zlib stream (nothing may follow it) and the Java
 * client's unfinished SYNC_FLUSH stream (input simply ends). In both cases
 * the input must decode to exactly `size` bytes: once dst is full, inflation
 * continues into a one-byte probe that must stay empty. */
static mag_rc zlib_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t size)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return MAG_ERR_INTERNAL;
    mag_rc rc;
    uint8_t probe;
    bool probing = false;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)size;
    for (;;) {
        int zrc = inflate(&zs, Z_NO_FLUSH);
        if (probing && zs.avail_out == 0) {
            rc = MAG_ERR_PAYLOAD; /* decodes to more than size bytes */
            break;
        }
        if (zrc == Z_STREAM_END) {
            rc = zs.avail_in == 0 && zs.total_out == size ? MAG_OK : MAG_ERR_PAYLOAD;
            break;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = MAG_ERR_PAYLOAD; /* Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR */
            break;
        }
        if (zs.avail_in == 0) {
            rc = zs.total_out == size ? MAG_OK : MAG_ERR_PAYLOAD;
            break;
        }
        if (zs.avail_out == 0) {
            zs.next_out = &probe;
            zs.avail_out = 1;
            probing = true;
            continue;
        }
        if (zrc == Z_BUF_ERROR) {
            rc = MAG_ERR_PAYLOAD; /* no progress possible */
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static mag_rc zstd_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t size)
{
    if (len == 0)
        return MAG_ERR_PAYLOAD;
    size_t n = ZSTD_decompress(dst, size, src, len);
    return !ZSTD_isError(n) && n == size ? MAG_OK : MAG_ERR_PAYLOAD;
}

static mag_rc snappy_decompress(const uint8_t *src, size_t len, uint8_t *dst, size_t size)
{
    size_t declared;
    if (len == 0 || snappy_uncompressed_length((const char *)src, len, &declared) != SNAPPY_OK ||
        declared != size)
        return MAG_ERR_PAYLOAD;
    size_t n = size;
    if (snappy_uncompress((const char *)src, len, (char *)dst, &n) != SNAPPY_OK || n != size)
        return MAG_ERR_PAYLOAD;
    return MAG_OK;
}

mag_rc mag_decompress(mag_compression c, const uint8_t *src, size_t len, size_t uncompressed_size,
                      size_t max_size, mag_buf *out)
{
    if (!comp_valid(c))
        return MAG_ERR_BAD_REQUEST;
    if (uncompressed_size > max_size || uncompressed_size > MAG_COMPRESS_MAX_INPUT ||
        len > MAG_COMPRESS_MAX_INPUT)
        return MAG_ERR_TOO_LARGE;
    mag_buf_reserve(out, uncompressed_size);
    uint8_t *dst = out->data + out->len;
    mag_rc rc = MAG_ERR_BAD_REQUEST;
    switch (c) {
    case MAG_COMP_NONE:
        rc = none_copy(src, len, dst, uncompressed_size);
        break;
    case MAG_COMP_LZ4:
        rc = lz4_decompress(src, len, dst, uncompressed_size);
        break;
    case MAG_COMP_ZLIB:
        rc = zlib_decompress(src, len, dst, uncompressed_size);
        break;
    case MAG_COMP_ZSTD:
        rc = zstd_decompress(src, len, dst, uncompressed_size);
        break;
    case MAG_COMP_SNAPPY:
        rc = snappy_decompress(src, len, dst, uncompressed_size);
        break;
    }
    if (rc == MAG_OK)
        out->len += uncompressed_size;
    return rc;
}
