/* console_assets.h -- the web console's files, compiled into the binary.
 *
 * The table is generated at build time by cmake/embed_files.cmake from
 * src/app/console/ (index.html, console.js, console.css) and served by
 * src/app/console.c. Read-only data, shared by every thread.
 */
#ifndef MAG_APP_CONSOLE_ASSETS_H
#define MAG_APP_CONSOLE_ASSETS_H

#include <stddef.h>

struct mag_console_asset {
    const char *name;            /* file name, e.g. "console.js"; NULL ends the table */
    const unsigned char *data;   /* the file's bytes (NUL-terminated, the NUL not counted) */
    size_t len;
};

extern const struct mag_console_asset mag_console_assets[];

#endif /* MAG_APP_CONSOLE_ASSETS_H */
