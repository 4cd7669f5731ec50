/* compress.h -- payload compression codecs with Pulsar's exact byte formats.
 *
 * A producer's compressionType (NONE, LZ4, ZLIB, ZSTD, SNAPPY) names the codec
 * a Pulsar client applies to a message payload before it is stored. Magnetar
 * stores the compressed bytes together with the uncompressed size (Pulsar's
 * MessageMetadata.uncompressed_size), so the bytes must be the ones the Java
 * client (which the real WebSocket proxy uses) would produce, and decoding
 * must accept what any Pulsar client writes. Pure: no I/O, no libevent, no
 * LMDB; output is appended to a caller-owned mag_buf.
 */
#ifndef MAG_CODEC_COMPRESS_H
#define MAG_CODEC_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Values are Pulsar's CompressionType protobuf numbers. */
typedef enum mag_compression {
    MAG_COMP_NONE = 0,
    MAG_COMP_LZ4 = 1,
    MAG_COMP_ZLIB = 2,
    MAG_COMP_ZSTD = 3,
    MAG_COMP_SNAPPY = 4
} mag_compression;

/* Largest input (and largest uncompressed size) any codec accepts: Java
 * byte arrays, LZ4 and the zlib stream API all count in int. */
#define MAG_COMPRESS_MAX_INPUT ((size_t)0x7E000000)

/* Parse Pulsar's enum name: exactly "NONE", "LZ4", "ZLIB", "ZSTD" or
 * "SNAPPY" (case-sensitive, as CompressionType.valueOf).
 * @param name NUL-terminated, borrowed; NULL is rejected.
 * @param out  set only on success.
 * @return MAG_OK, or MAG_ERR_BAD_REQUEST for any other string. */
mag_rc mag_compression_parse(const char *name, mag_compression *out);

/* Pulsar's enum name of c ("NONE", ...), a static string; "UNKNOWN" for a
 * value outside the enum. Never NULL. */
const char *mag_compression_name(mag_compression c);

/* Compress len bytes at src with codec c and APPEND the result to out.
 * Formats (what the Pulsar Java client writes, byte for byte):
 *   NONE   src unchanged;
 *   LZ4    one raw LZ4 block (LZ4_compress_default, no frame);
 *   ZLIB   zlib header + deflate (default level, window 15) flushed with
 *          Z_SYNC_FLUSH and NOT finished (no final block, no Adler-32
 *          trailer), exactly as CompressionCodecZLib's Deflater loop; an
 *          empty input gives zero bytes;
 *   ZSTD   one zstd frame, level 3 (ZSTD_compress, content size recorded);
 *   SNAPPY one raw snappy block (snappy_compress, no framing).
 * @param src borrowed; may be NULL when len is 0.
 * @param out caller-owned; grown as needed. On error out->len is unchanged.
 * @return MAG_OK; MAG_ERR_BAD_REQUEST for an unknown codec;
 *         MAG_ERR_TOO_LARGE when len > MAG_COMPRESS_MAX_INPUT;
 *         MAG_ERR_INTERNAL if the library itself fails. */
mag_rc mag_compress(mag_compression c, const uint8_t *src, size_t len, mag_buf *out);

/* Decompress len bytes at src (codec c) and APPEND exactly
 * uncompressed_size bytes to out.
 * Checks, in order: unknown codec -> MAG_ERR_BAD_REQUEST;
 * uncompressed_size > max_size -> MAG_ERR_TOO_LARGE, decided before any
 * allocation; uncompressed_size or len > MAG_COMPRESS_MAX_INPUT ->
 * MAG_ERR_TOO_LARGE; then corrupt input, trailing garbage, or a decoded size
 * that differs from uncompressed_size -> MAG_ERR_PAYLOAD.
 * ZLIB accepts both a finished stream (compress2/C++ client) and the
 * unfinished SYNC_FLUSH stream the Java client writes (a zero-length input
 * decodes to zero bytes); ZSTD accepts one or more concatenated frames.
 * @param src borrowed; may be NULL when len is 0.
 * @param out caller-owned; at most uncompressed_size bytes are reserved.
 *            On error out->len is unchanged (bytes past it are unspecified).
 * @return MAG_OK or an error code above. */
mag_rc mag_decompress(mag_compression c, const uint8_t *src, size_t len, size_t uncompressed_size,
                      size_t max_size, mag_buf *out);

#endif /* MAG_CODEC_COMPRESS_H */
