/* cli.c -- Magnetar's command-line parser (see include/mag/cli.h).
 *
 * A small table of options drives a getopt_long-like loop written out by
 * hand: getopt keeps global state and prints its own messages, while we want
 * a re-entrant parser (unit tests call it many times) that reports one precise
 * line in a mag_buf and leaves printing and exiting to main.c.
 */
#include "mag/cli.h"
#include "mag/util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cli_opt { CLI_CONFIG, CLI_PORT, CLI_DATA_DIR, CLI_SET, CLI_EPHEMERAL, CLI_EXIT_WITH_PARENT,
               CLI_EXIT_ON_STDIN_EOF, CLI_VERSION, CLI_HELP, CLI_DUMP_CONFIG };

struct cli_spec {
    char short_name;      /* 0 = long form only */
    const char *long_name;
    bool takes_value;
    enum cli_opt id;
};

static const struct cli_spec g_specs[] = {
    { 'c', "config", true, CLI_CONFIG },
    { 'p', "port", true, CLI_PORT },
    { 'd', "data-dir", true, CLI_DATA_DIR },
    { 'o', "set", true, CLI_SET },
    { 0, "ephemeral", false, CLI_EPHEMERAL },
    { 0, "exit-with-parent", false, CLI_EXIT_WITH_PARENT },
    { 0, "exit-on-stdin-eof", false, CLI_EXIT_ON_STDIN_EOF },
    { 0, "version", false, CLI_VERSION },
    { 0, "help", false, CLI_HELP },
    { 0, "dump-config", false, CLI_DUMP_CONFIG },
};

#define NUM_SPECS (sizeof g_specs / sizeof g_specs[0])

static const char g_usage[] =
    "magnetar [-c FILE] [-p PORT] [-d DIR] [-o KEY=VALUE]... [--ephemeral] [--version] [--help]\n"
    "  -c, --config FILE   Pulsar-style key=value file (default: conf/magnetar.conf if present)\n"
    "  -p, --port PORT     webServicePort (HTTP + WebSocket); 0 picks a free port\n"
    "  -d, --data-dir DIR  LMDB directory (created if missing)\n"
    "  -o, --set K=V       override any config key, same names as the file (repeatable)\n"
    "  --ephemeral         temporary data dir, no fsync, removed at exit (for test suites)\n"
    "  --exit-with-parent  stop when the process that started magnetar dies\n"
    "  --exit-on-stdin-eof stop when standard input closes (a supervisor holding a pipe)\n"
    "  --dump-config       print the effective configuration as key=value lines and exit\n";

const char *mag_cli_usage(void)
{
    return g_usage;
}

static void reset(struct mag_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli->port = -1;
}

void mag_cli_cleanup(struct mag_cli *cli)
{
    free(cli->overrides);
    reset(cli);
}

static const struct cli_spec *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < NUM_SPECS; i++)
        if (strlen(g_specs[i].long_name) == n && memcmp(g_specs[i].long_name, name, n) == 0)
            return &g_specs[i];
    return NULL;
}

static const struct cli_spec *find_short(char ch)
{
    for (size_t i = 0; i < NUM_SPECS; i++)
        if (g_specs[i].short_name && g_specs[i].short_name == ch)
            return &g_specs[i];
    return NULL;
}

/* Decimal 0..65535, nothing else (no sign, no spaces, no hex). */
static bool parse_port(const char *s, int *out)
{
    long v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
        if (v > 65535)
            return false;
    }
    *out = (int)v;
    return true;
}

/* Store one option. `shown` is the option as the user wrote it ("-p" or
 * "--port") for messages. */
static mag_rc take(struct mag_cli *cli, const struct cli_spec *spec, const char *shown, const char *val,
                   mag_buf *err)
{
    switch (spec->id) {
    case CLI_CONFIG:
    case CLI_DATA_DIR:
        if (!*val) {
            if (err)
                mag_buf_appendf(err, "%s: empty %s", shown, spec->id == CLI_CONFIG ? "file name" : "directory name");
            return MAG_ERR_CONFIG;
        }
        if (spec->id == CLI_CONFIG)
            cli->config_path = val;
        else
            cli->data_dir = val;
        break;
    case CLI_PORT:
        if (!parse_port(val, &cli->port)) {
            if (err)
                mag_buf_appendf(err, "%s: '%s' is not a port number", shown, val);
            return MAG_ERR_CONFIG;
        }
        break;
    case CLI_SET:
        cli->overrides[cli->num_overrides++] = val;
        break;
    case CLI_EPHEMERAL:
        cli->ephemeral = true;
        break;
    case CLI_EXIT_WITH_PARENT:
        cli->exit_with_parent = true;
        break;
    case CLI_EXIT_ON_STDIN_EOF:
        cli->exit_on_stdin_eof = true;
        break;
    case CLI_VERSION:
        cli->show_version = true;
        break;
    case CLI_HELP:
        cli->show_help = true;
        break;
    case CLI_DUMP_CONFIG:
        cli->dump_config = true;
        break;
    }
    return MAG_OK;
}

mag_rc mag_cli_parse(struct mag_cli *cli, int argc, char **argv, mag_buf *err)
{
    mag_rc rc = MAG_OK;

    reset(cli);
    /* Every -o needs at least one argv slot, so argc bounds the count. */
    cli->overrides = mag_xcalloc(argc > 1 ? (size_t)argc : 1, sizeof *cli->overrides);
    for (int i = 1; i < argc && rc == MAG_OK; i++) {
        const char *arg = argv[i];
        const struct cli_spec *spec;
        const char *val;          /* value attached to the option itself, or NULL */
        char shown[32];           /* the option as written, for messages */

        if (arg[0] != '-' || arg[1] == '\0') {
            if (err)
                mag_buf_appendf(err, "unexpected argument '%s'", arg);
            rc = MAG_ERR_CONFIG;
            break;
        }
        if (arg[1] == '-') {      /* --name or --name=value */
            const char *eq = strchr(arg + 2, '=');
            size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            spec = find_long(arg + 2, n);
            val = eq ? eq + 1 : NULL;
            if (!spec) {
                if (err)
                    mag_buf_appendf(err, "unknown option '--%.*s'", (int)n, arg + 2);
                rc = MAG_ERR_CONFIG;
                break;
            }
            snprintf(shown, sizeof shown, "--%s", spec->long_name);
        } else {                  /* -x, -xVALUE */
            spec = find_short(arg[1]);
            val = arg[2] ? arg + 2 : NULL;
            if (!spec) {
                if (err)
                    mag_buf_appendf(err, "unknown option '-%c'", arg[1]);
                rc = MAG_ERR_CONFIG;
                break;
            }
            snprintf(shown, sizeof shown, "-%c", arg[1]);
        }
        if (!spec->takes_value && val) {
            if (err)
                mag_buf_appendf(err, "%s: takes no value", shown);
            rc = MAG_ERR_CONFIG;
            break;
        }
        if (spec->takes_value && !val) {
            if (i + 1 >= argc) {
                if (err)
                    mag_buf_appendf(err, "%s: missing value", shown);
                rc = MAG_ERR_CONFIG;
                break;
            }
            val = argv[++i];
        }
        rc = take(cli, spec, shown, val ? val : "", err);
    }
    if (rc != MAG_OK)
        mag_cli_cleanup(cli);
    return rc;
}
