/* server.h -- wire the modules together from a configuration and run the loop.
 *
 * server.c is the only module (with main.c and config.c) that sees the whole
 * struct mag_config; it copies the relevant fields into each module's own
 * options struct.
 */
#ifndef MAG_SERVER_H
#define MAG_SERVER_H

#include <stdbool.h>

#include "mag/config.h"

/* How the process around the server lives (the command line's flags, not config keys). */
struct mag_run_opts {
    bool ephemeral;           /* a fresh temporary data dir without fsync; its files are removed
                                 as soon as they are open, so no kind of death leaves them behind */
    bool exit_with_parent;    /* stop (as on SIGTERM) when the parent process dies */
    bool exit_on_stdin_eof;   /* stop (as on SIGTERM) when standard input reaches end of file */
};

/* Open storage, start the broker and the HTTP/WebSocket listener, print the
   ready line, run until SIGTERM/SIGINT (or a condition of ro), then shut down
   cleanly. Returns the process exit code. */
int mag_server_run(const struct mag_config *cfg, const struct mag_run_opts *ro);

#endif /* MAG_SERVER_H */
