/* main.c -- command line -> configuration -> server.
 *
 * Precedence: built-in defaults < config file (-c, or conf/magnetar.conf when
 * present) < -o KEY=VALUE overrides (in order) < -p / -d. Configuration
 * errors name the file and line and exit with status 2.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mag/cli.h"
#include "mag/config.h"
#include "mag/server.h"

#define DEFAULT_CONFIG "conf/magnetar.conf"

static void print_warnings(const mag_buf *w)
{
    if (w->len)
        fprintf(stderr, "%.*s%s", (int)w->len, (const char *)w->data,
                w->data[w->len - 1] == '\n' ? "" : "\n");
}

int main(int argc, char **argv)
{
    struct mag_cli cli;
    struct mag_config cfg;
    mag_buf err = MAG_BUF_INIT, warnings = MAG_BUF_INIT;
    int code = 2;

    mag_config_init(&cfg);
    if (mag_cli_parse(&cli, argc, argv, &err) != MAG_OK) {
        fprintf(stderr, "magnetar: %s\n%s", mag_buf_cstr(&err), mag_cli_usage());
        goto out;
    }
    if (cli.show_help) {
        fputs(mag_cli_usage(), stdout);
        code = 0;
        goto out;
    }
    if (cli.show_version) {
        printf("magnetar %s\n", MAG_VERSION);
        code = 0;
        goto out;
    }
    const char *path = cli.config_path;
    if (!path && access(DEFAULT_CONFIG, R_OK) == 0)
        path = DEFAULT_CONFIG;
    if (path && mag_config_load_file(&cfg, path, &err, &warnings) != MAG_OK) {
        fprintf(stderr, "magnetar: %s\n", mag_buf_cstr(&err));
        goto out;
    }
    for (size_t i = 0; i < cli.num_overrides; i++) {
        if (mag_config_set(&cfg, cli.overrides[i], &err, &warnings) != MAG_OK) {
            fprintf(stderr, "magnetar: %s\n", mag_buf_cstr(&err));
            goto out;
        }
    }
    print_warnings(&warnings);
    if (cli.port >= 0)
        cfg.web_service_port = cli.port;
    if (cli.data_dir) {
        mag_buf set = MAG_BUF_INIT;
        mag_buf_appendf(&set, "dataDir=%s", cli.data_dir);
        int rc = mag_config_set(&cfg, mag_buf_cstr(&set), &err, NULL);
        mag_buf_free(&set);
        if (rc != MAG_OK) {
            fprintf(stderr, "magnetar: %s\n", mag_buf_cstr(&err));
            goto out;
        }
    }
    if (cli.dump_config) {
        mag_buf dump = MAG_BUF_INIT;
        mag_config_dump(&cfg, &dump);
        fwrite(dump.data, 1, dump.len, stdout);
        mag_buf_free(&dump);
        code = 0;
        goto out;
    }
    struct mag_run_opts ro = {
        .ephemeral = cli.ephemeral,
        .exit_with_parent = cli.exit_with_parent,
        .exit_on_stdin_eof = cli.exit_on_stdin_eof,
    };
    code = mag_server_run(&cfg, &ro);
out:
    mag_cli_cleanup(&cli);
    mag_config_cleanup(&cfg);
    mag_buf_free(&err);
    mag_buf_free(&warnings);
    return code;
}
