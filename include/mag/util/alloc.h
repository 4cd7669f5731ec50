/* alloc.h -- allocation helpers that abort on out-of-memory.
 *
 * Magnetar treats OOM as fatal (as Redis and h2o do): callers never check for
 * NULL. Sizes that come from untrusted input must be checked against a limit
 * BEFORE calling these.
 */
#ifndef MAG_UTIL_ALLOC_H
#define MAG_UTIL_ALLOC_H

#include <stddef.h>

void *mag_xmalloc(size_t n);
void *mag_xcalloc(size_t count, size_t size);
void *mag_xrealloc(void *p, size_t n);
/* Copy of s (NUL-terminated); caller frees with free(). */
char *mag_xstrdup(const char *s);
/* Copy of the n bytes at s plus a terminating NUL; caller frees with free(). */
char *mag_xstrndup(const char *s, size_t n);

/* Free p and set it to NULL. */
#define MAG_FREE(p) do { free(p); (p) = NULL; } while (0)

#endif /* MAG_UTIL_ALLOC_H */
