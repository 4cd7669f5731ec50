/* cli.h -- Magnetar's command-line parser.
 *
 * The command line is a contract (DESIGN.md): tests and users rely on it.
 * This module only splits argv into a struct mag_cli; it does not read files,
 * touch the configuration or print anything. main.c applies the result in
 * order: config file, then -o overrides, then -p and -d.
 */
#ifndef MAG_CLI_H
#define MAG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

struct mag_cli {
    const char *config_path;     /* -c/--config FILE; NULL = use conf/magnetar.conf if it exists */
    int port;                    /* -p/--port; -1 = not given */
    const char *data_dir;        /* -d/--data-dir; NULL = not given */
    const char **overrides;      /* -o/--set K=V (repeatable), in order; points into argv */
    size_t num_overrides;
    bool ephemeral;              /* --ephemeral */
    bool exit_with_parent;       /* --exit-with-parent */
    bool exit_on_stdin_eof;      /* --exit-on-stdin-eof */
    bool show_version, show_help, dump_config; /* --version, --help, --dump-config */
};

/* Parse argv[1..argc-1] into *cli (which need not be initialised).
 *
 * Value options accept "-p 8080", "-p8080", "--port 8080" and "--port=8080";
 * the same holds for -c/--config, -d/--data-dir and -o/--set. A repeated
 * -c/-p/-d keeps the last one; -o values accumulate in order. Flags
 * (--ephemeral, --exit-with-parent, --exit-on-stdin-eof, --version, --help,
 * --dump-config) take no value. Positional
 * arguments are not accepted. The -o text is not checked here; pass each to
 * mag_config_set(), which reports "-o: ..." errors.
 *
 * @param cli   out: result. config_path, data_dir and each overrides[i] point
 *              into argv (borrowed; argv must outlive cli). The overrides
 *              array itself is heap-owned by cli; free with mag_cli_cleanup().
 * @param err   if not NULL, on error one line (no trailing newline) is
 *              APPENDED, e.g. "unknown option '--foo'",
 *              "-p: 'x' is not a port number", "--port: missing value",
 *              "--ephemeral: takes no value", "unexpected argument 'foo'".
 * @return MAG_OK or MAG_ERR_CONFIG. On error cli holds nothing that needs
 *         freeing, but mag_cli_cleanup() is still safe to call.
 */
mag_rc mag_cli_parse(struct mag_cli *cli, int argc, char **argv, mag_buf *err);

/* Free the overrides array and reset cli to "nothing given". Safe to call
 * twice and after a failed mag_cli_parse(). */
void mag_cli_cleanup(struct mag_cli *cli);

/* The --help text: DESIGN.md's command-line block plus --dump-config, ending
 * in a newline. Static storage; never NULL. */
const char *mag_cli_usage(void);

#endif /* MAG_CLI_H */
