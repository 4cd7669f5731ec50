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

/* Open storage, start the broker and the HTTP/WebSocket listener, print the
   ready line, run until SIGTERM/SIGINT, then shut down cleanly.
   ephemeral: use a fresh temporary data dir without fsync, removed at exit.
   Returns the process exit code. */
int mag_server_run(const struct mag_config *cfg, bool ephemeral);

#endif /* MAG_SERVER_H */
