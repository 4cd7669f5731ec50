/* test_cli.c -- unit tests for src/cli.c (the magnetar command line).
 *
 * The command line is a contract (DESIGN.md), so every accepted spelling and
 * every error message is checked exactly, including that values point into
 * argv and that a failed parse leaves nothing to free.
 */
#include "mag/cli.h"
#include "mag_test.h"

#include <string.h>

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parse argv and expect failure with exactly `msg`. */
static void expect_fail(int argc, char **argv, const char *msg)
{
    struct mag_cli cli;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_cli_parse(&cli, argc, argv, &err), MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), msg);
    CHECK(cli.overrides == NULL);
    CHECK_EQ_INT(cli.num_overrides, 0);
    mag_cli_cleanup(&cli); /* safe after failure */
    mag_buf_free(&err);
}

MAG_TEST(test_no_args)
{
    char *argv[] = { "magnetar" };
    struct mag_cli cli;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_cli_parse(&cli, ARGC(argv), argv, &err), MAG_OK);
    CHECK(cli.config_path == NULL);
    CHECK_EQ_INT(cli.port, -1);
    CHECK(cli.data_dir == NULL);
    CHECK_EQ_INT(cli.num_overrides, 0);
    CHECK(!cli.ephemeral && !cli.show_version && !cli.show_help && !cli.dump_config);
    CHECK_EQ_INT(err.len, 0);
    mag_cli_cleanup(&cli);
    mag_cli_cleanup(&cli);
    CHECK_EQ_INT(mag_cli_parse(&cli, 0, NULL, &err), MAG_OK);
    CHECK_EQ_INT(cli.port, -1);
    mag_cli_cleanup(&cli);
    mag_buf_free(&err);
}

MAG_TEST(test_port_spellings)
{
    char *a1[] = { "magnetar", "-p", "8080" };
    char *a2[] = { "magnetar", "-p8081" };
    char *a3[] = { "magnetar", "--port", "8082" };
    char *a4[] = { "magnetar", "--port=0" };
    char *a5[] = { "magnetar", "-p", "1", "--port=65535" };
    char **all[] = { a1, a2, a3, a4, a5 };
    int argcs[] = { ARGC(a1), ARGC(a2), ARGC(a3), ARGC(a4), ARGC(a5) };
    int want[] = { 8080, 8081, 8082, 0, 65535 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct mag_cli cli;
        CHECK_EQ_INT(mag_cli_parse(&cli, argcs[i], all[i], NULL), MAG_OK);
        CHECK_EQ_INT(cli.port, want[i]);
        mag_cli_cleanup(&cli);
    }
}

MAG_TEST(test_all_options)
{
    char *argv[] = { "magnetar", "-c", "my.conf", "-d/tmp/data", "-o", "webServicePort=1",
                     "--set=tlsEnabled=true", "-ologLevel=debug", "--set", "a=b", "--ephemeral",
                     "--version", "--help", "--dump-config", "--exit-with-parent", "--exit-on-stdin-eof",
                     "--data-dir=/var/lib/m", "--config=x.conf" };
    struct mag_cli cli;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_cli_parse(&cli, ARGC(argv), argv, &err), MAG_OK);
    CHECK_EQ_INT(err.len, 0);
    CHECK_STR(cli.config_path, "x.conf");
    CHECK(cli.config_path == argv[17] + 9); /* points into argv */
    CHECK_STR(cli.data_dir, "/var/lib/m");
    CHECK_EQ_INT(cli.port, -1);
    CHECK_EQ_INT(cli.num_overrides, 4);
    CHECK_STR(cli.overrides[0], "webServicePort=1");
    CHECK(cli.overrides[0] == argv[5]);
    CHECK_STR(cli.overrides[1], "tlsEnabled=true");
    CHECK_STR(cli.overrides[2], "logLevel=debug");
    CHECK_STR(cli.overrides[3], "a=b");
    CHECK(cli.ephemeral && cli.show_version && cli.show_help && cli.dump_config);
    CHECK(cli.exit_with_parent && cli.exit_on_stdin_eof);
    mag_cli_cleanup(&cli);
    CHECK(cli.overrides == NULL);
    CHECK_EQ_INT(cli.num_overrides, 0);
    CHECK_EQ_INT(cli.port, -1);
    mag_buf_free(&err);

    /* A value may look like an option: it is taken as the value. */
    char *b[] = { "magnetar", "-c", "--ephemeral" };
    CHECK_EQ_INT(mag_cli_parse(&cli, ARGC(b), b, NULL), MAG_OK);
    CHECK_STR(cli.config_path, "--ephemeral");
    CHECK(!cli.ephemeral);
    mag_cli_cleanup(&cli);
}

MAG_TEST(test_errors)
{
    char *a1[] = { "magnetar", "--foo" };
    expect_fail(ARGC(a1), a1, "unknown option '--foo'");
    char *a2[] = { "magnetar", "--foo=bar" };
    expect_fail(ARGC(a2), a2, "unknown option '--foo'");
    char *a3[] = { "magnetar", "-x" };
    expect_fail(ARGC(a3), a3, "unknown option '-x'");
    char *a4[] = { "magnetar", "-p", "x" };
    expect_fail(ARGC(a4), a4, "-p: 'x' is not a port number");
    char *a5[] = { "magnetar", "--port=65536" };
    expect_fail(ARGC(a5), a5, "--port: '65536' is not a port number");
    char *a6[] = { "magnetar", "-p-1" };
    expect_fail(ARGC(a6), a6, "-p: '-1' is not a port number");
    char *a7[] = { "magnetar", "--port=" };
    expect_fail(ARGC(a7), a7, "--port: '' is not a port number");
    char *a8[] = { "magnetar", "-o", "a=b", "-p" };
    expect_fail(ARGC(a8), a8, "-p: missing value");
    char *a9[] = { "magnetar", "--config" };
    expect_fail(ARGC(a9), a9, "--config: missing value");
    char *a10[] = { "magnetar", "--ephemeral=1" };
    expect_fail(ARGC(a10), a10, "--ephemeral: takes no value");
    char *a10b[] = { "magnetar", "--exit-with-parent=yes" };
    expect_fail(ARGC(a10b), a10b, "--exit-with-parent: takes no value");
    char *a11[] = { "magnetar", "serve" };
    expect_fail(ARGC(a11), a11, "unexpected argument 'serve'");
    char *a12[] = { "magnetar", "-" };
    expect_fail(ARGC(a12), a12, "unexpected argument '-'");
    char *a13[] = { "magnetar", "--" };
    expect_fail(ARGC(a13), a13, "unknown option '--'");
    char *a14[] = { "magnetar", "-c", "" };
    expect_fail(ARGC(a14), a14, "-c: empty file name");
    char *a15[] = { "magnetar", "--data-dir=" };
    expect_fail(ARGC(a15), a15, "--data-dir: empty directory name");
    char *a16[] = { "magnetar", "-p", "99999999999999999999" };
    expect_fail(ARGC(a16), a16, "-p: '99999999999999999999' is not a port number");
    char *a17[] = { "magnetar", "--Port=1" };
    expect_fail(ARGC(a17), a17, "unknown option '--Port'");
    char *a18[] = { "magnetar", "-h" };
    expect_fail(ARGC(a18), a18, "unknown option '-h'");

    /* err may be NULL */
    struct mag_cli cli;
    CHECK_EQ_INT(mag_cli_parse(&cli, ARGC(a1), a1, NULL), MAG_ERR_CONFIG);
    mag_cli_cleanup(&cli);
}

MAG_TEST(test_usage)
{
    CHECK_STR(mag_cli_usage(),
              "magnetar [-c FILE] [-p PORT] [-d DIR] [-o KEY=VALUE]... [--ephemeral] [--version] [--help]\n"
              "  -c, --config FILE   Pulsar-style key=value file (default: conf/magnetar.conf if present)\n"
              "  -p, --port PORT     webServicePort (HTTP + WebSocket); 0 picks a free port\n"
              "  -d, --data-dir DIR  LMDB directory (created if missing)\n"
              "  -o, --set K=V       override any config key, same names as the file (repeatable)\n"
              "  --ephemeral         temporary data dir, no fsync, removed at exit (for test suites)\n"
              "  --exit-with-parent  stop when the process that started magnetar dies\n"
              "  --exit-on-stdin-eof stop when standard input closes (a supervisor holding a pipe)\n"
              "  --dump-config       print the effective configuration as key=value lines and exit\n");
}

int main(void)
{
    RUN(test_no_args);
    RUN(test_port_spellings);
    RUN(test_all_options);
    RUN(test_errors);
    RUN(test_usage);
    return mag_test_summary();
}
