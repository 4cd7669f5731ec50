/* server.h -- wire the modules together from a configuration and run the loop.
 *
 * server.c is the only module (with config.c, main.c and embed.c) that sees
 * the whole struct mag_config; it copies the relevant fields into each
 * module's own options struct. A server owns no process-wide state: signals,
 * the ready line and the process's lifetime belong to its caller, so several
 * servers can run in one process (src/embed.c, include/magnetar.h).
 */
#ifndef MAG_SERVER_H
#define MAG_SERVER_H

#include <stdbool.h>

#include "mag/config.h"
#include "mag/rc.h"

typedef struct mag_server mag_server;

/* Open storage, start the broker and listen (ports bound, nothing served until
 * mag_server_loop). ephemeral: a fresh temporary data dir without fsync whose
 * files are unlinked as soon as they are open, so no kind of death leaves them
 * behind. Errors are logged. Returns MAG_OK, MAG_ERR_CONFIG (a setting that
 * cannot work: TLS files, authentication) or another code (storage, listen). */
mag_rc mag_server_open(const struct mag_config *cfg, bool ephemeral, mag_server **out);

/* The bound HTTP/WebSocket port, and the URLs for clients ("ws://HOST:PORT";
 * the wss URL is NULL without TLS). HOST is 127.0.0.1 for a wildcard bind. */
int mag_server_port(const mag_server *s);
const char *mag_server_ws_url(const mag_server *s);
const char *mag_server_wss_url(const mag_server *s);

/* Serve until a stop is requested and the shutdown is done: what is staged is
 * committed, sessions are closed (1001), and the loop ends as soon as no
 * connection is left (at most 200 ms later). Runs on the calling thread,
 * which becomes the loop thread. */
void mag_server_loop(mag_server *s);

/* Ask the loop to stop. Safe from any thread and from a signal handler. */
void mag_server_request_stop(mag_server *s);

/* Free everything (after mag_server_loop returned, or instead of it). NULL is fine. */
void mag_server_free(mag_server *s);

#endif /* MAG_SERVER_H */
