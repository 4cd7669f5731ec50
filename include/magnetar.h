/* magnetar.h -- embed Magnetar, Apache Pulsar's WebSocket API on LMDB, in your own process.
 *
 *     magnetar *m = magnetar_new();
 *     magnetar_set_ephemeral(m, 1);                  // a throw-away data dir (tests)
 *     magnetar_set(m, "webServicePort", "0");        // any config key; 0 picks a free port
 *     if (magnetar_start(m) != MAGNETAR_OK)          // serves on its own thread from here
 *         fprintf(stderr, "%s\n", magnetar_error(m));
 *     connect_to(magnetar_ws_url(m));                // "ws://127.0.0.1:PORT"
 *     magnetar_stop(m);                              // as SIGTERM: commit, close, join
 *     magnetar_free(m);
 *
 * Configuration keys are the config file's (conf/magnetar.conf, Pulsar's names). A server has no
 * global state: several can run in one process, each on its own data directory and port. Two
 * things are process-wide: the log (logLevel, logFormat, logFile: the last server started sets
 * them; stderr by default) and SIGPIPE, which magnetar_start ignores when it is at its default
 * action.
 * Build with `pkg-config --cflags --libs magnetar`.
 *
 * Threads: a `magnetar` object is used from one thread at a time; the server runs on a thread of
 * its own, started by magnetar_start with every signal blocked.
 */
#ifndef MAGNETAR_H
#define MAGNETAR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct magnetar magnetar;

/* Return codes. MAGNETAR_ERR_CONFIG matches the binary's exit status 2. */
enum {
    MAGNETAR_OK = 0,
    MAGNETAR_ERR = 1,          /* storage, listening, out of resources: see magnetar_error() */
    MAGNETAR_ERR_CONFIG = 2,   /* an unknown key, a bad value, a setting that cannot work */
    MAGNETAR_ERR_STATE = 3     /* not allowed now (e.g. a key set while running) */
};

/* A server with the built-in defaults, not started. NULL only when out of memory. */
magnetar *magnetar_new(void);

/* Apply a config file (key=value lines, as conf/magnetar.conf). Pulsar keys that Magnetar ignores
   are warnings (magnetar_warnings), anything unknown or invalid is MAGNETAR_ERR_CONFIG. */
int magnetar_load_config(magnetar *m, const char *path);

/* Set one config key ("dataDir", "webServicePort", ...). */
int magnetar_set(magnetar *m, const char *key, const char *value);

/* The same from one "KEY=VALUE" text, as the command line's -o. */
int magnetar_set_line(magnetar *m, const char *key_eq_value);

/* Use a fresh temporary data directory without fsync whose files are unlinked as soon as they are
   open: nothing is left behind, whatever ends the process. */
void magnetar_set_ephemeral(magnetar *m, int ephemeral);

/* The warnings collected by the setters so far, one per line ("" when none). Owned by m. */
const char *magnetar_warnings(const magnetar *m);

/* The effective configuration as key=value lines (secrets masked). Heap-allocated: free() it. */
char *magnetar_dump_config(const magnetar *m);

/* Open storage, listen and serve on a new thread. Returns once the ports are bound (the URLs are
   then valid) or on an error. */
int magnetar_start(magnetar *m);

/* After a successful start: the bound HTTP/WebSocket port and the URLs for clients. The wss URL
   is NULL without TLS. Owned by m, valid until magnetar_free. */
int magnetar_port(const magnetar *m);
const char *magnetar_ws_url(const magnetar *m);
const char *magnetar_wss_url(const magnetar *m);
const char *magnetar_http_url(const magnetar *m);

/* Stop as SIGTERM does (commit what is pending, close every session with 1001) and wait for the
   server's thread. The same object can be started again. */
int magnetar_stop(magnetar *m);

/* Stop if running, then free. NULL is fine. */
void magnetar_free(magnetar *m);

/* The last error's text ("" after success). Owned by m. */
const char *magnetar_error(const magnetar *m);

/* The library's version, e.g. "0.1.0". */
const char *magnetar_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MAGNETAR_H */
