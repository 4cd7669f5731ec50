/* buf.c -- growable byte buffer (see include/mag/util/buf.h). */
#include "mag/util/buf.h"
#include "mag/util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mag_buf_init(mag_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mag_buf_free(mag_buf *b)
{
    free(b->data);
    mag_buf_init(b);
}

void mag_buf_reserve(mag_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= extra)
        cap *= 2;
    b->data = mag_xrealloc(b->data, cap);
    b->cap = cap;
}

void mag_buf_append(mag_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    mag_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mag_buf_append_str(mag_buf *b, const char *s)
{
    mag_buf_append(b, s, strlen(s));
}

void mag_buf_append_byte(mag_buf *b, uint8_t c)
{
    mag_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void mag_buf_appendf(mag_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    mag_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mag_buf_append_u64(mag_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    mag_buf_append(b, tmp + i, sizeof tmp - i);
}

void mag_buf_append_i64(mag_buf *b, int64_t v)
{
    if (v < 0) {
        mag_buf_append_byte(b, '-');
        mag_buf_append_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        mag_buf_append_u64(b, (uint64_t)v);
    }
}

const char *mag_buf_cstr(mag_buf *b)
{
    mag_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}
