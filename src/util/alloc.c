/* alloc.c -- abort-on-OOM allocation wrappers (see include/mag/util/alloc.h). */
#include "mag/util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "magnetar: out of memory allocating %zu bytes\n", n);
    abort();
}

void *mag_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *mag_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *mag_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *mag_xstrndup(const char *s, size_t n)
{
    char *p = mag_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *mag_xstrdup(const char *s)
{
    return mag_xstrndup(s, strlen(s));
}
