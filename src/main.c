/* main.c -- the magnetar binary: command line -> configuration -> a server started through the
 * embedding API (include/magnetar.h), then wait for the end of the process's life.
 *
 * Precedence: built-in defaults < config file (-c, or conf/magnetar.conf when
 * present) < -o KEY=VALUE overrides (in order) < -p / -d. Configuration
 * errors name the file and line and exit with status 2.
 * The server runs on its own thread; this thread prints the ready line and
 * waits (signalfd + poll) for SIGTERM/SIGINT, the parent's death
 * (--exit-with-parent, which the kernel turns into SIGTERM) or the end of
 * standard input (--exit-on-stdin-eof), then stops the server. SIGHUP opens
 * logFile again (after a log rotation).
 */
#define _GNU_SOURCE /* prctl */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magnetar.h"
#include "mag/cli.h"
#include "mag/util/log.h"

#define DEFAULT_CONFIG "conf/magnetar.conf"

static void print_warnings(const char *w)
{
    size_t n = strlen(w);
    if (n)
        fprintf(stderr, "%s%s", w, w[n - 1] == '\n' ? "" : "\n");
}

/* Config file, -o overrides, -p and -d, in that order. Returns 0 or prints the error. */
static int configure(magnetar *m, const struct mag_cli *cli)
{
    const char *path = cli->config_path;
    if (!path && access(DEFAULT_CONFIG, R_OK) == 0)
        path = DEFAULT_CONFIG;
    int rc = path ? magnetar_load_config(m, path) : MAGNETAR_OK;
    for (size_t i = 0; rc == MAGNETAR_OK && i < cli->num_overrides; i++)
        rc = magnetar_set_line(m, cli->overrides[i]);
    if (rc == MAGNETAR_OK)
        print_warnings(magnetar_warnings(m));
    char port[8];
    snprintf(port, sizeof port, "%d", cli->port);
    if (rc == MAGNETAR_OK && cli->port >= 0)
        rc = magnetar_set(m, "webServicePort", port);
    if (rc == MAGNETAR_OK && cli->data_dir)
        rc = magnetar_set(m, "dataDir", cli->data_dir);
    if (rc != MAGNETAR_OK)
        fprintf(stderr, "magnetar: %s\n", magnetar_error(m));
    return rc;
}

/* The lifetime flags that must hold before the server starts. */
static int check_lifetime(const struct mag_cli *cli)
{
    if (cli->exit_on_stdin_eof) {
        struct stat st;
        if (fstat(STDIN_FILENO, &st) != 0 ||
            !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO))) {
            fprintf(stderr, "magnetar: --exit-on-stdin-eof: standard input must be a pipe, socket "
                            "or terminal\n");
            return 2;
        }
    }
    if (cli->exit_with_parent) {
        pid_t parent = getppid();
        /* The kernel sends SIGTERM when the parent dies; a parent that died before the prctl
           shows as a changed parent id. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
            fprintf(stderr, "magnetar: --exit-with-parent: prctl: %s\n", strerror(errno));
            return 1;
        }
        if (getppid() != parent)
            raise(SIGTERM);
    }
    return 0;
}

/* Blocks until a reason to stop; returns it for the log. sigs are already blocked. */
static const char *wait_for_the_end(const sigset_t *sigs, bool watch_stdin)
{
    int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
    if (sfd < 0) {
        int sig = SIGHUP;
        while (sig == SIGHUP && sigwait(sigs, &sig) == 0)
            if (sig == SIGHUP)
                mag_log_reopen();
        return sig == SIGINT ? "SIGINT" : "SIGTERM";
    }
    struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
    const char *why = NULL;
    while (!why) {
        if (poll(fds, watch_stdin ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            why = "poll failed";
            break;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
                continue;
            if (si.ssi_signo == SIGHUP) {
                int rc = mag_log_reopen();
                if (rc != 0)
                    mag_error("SIGHUP: cannot open the log file again: %s", strerror(-rc));
                else
                    mag_info("SIGHUP: log file opened again");
                continue;
            }
            why = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
        }
        if (!why && watch_stdin && fds[1].revents) {
            char sink[512];   /* whatever arrives is discarded; end of file stops */
            ssize_t n = read(STDIN_FILENO, sink, sizeof sink);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                why = "standard input closed";
        }
    }
    close(sfd);
    return why;
}

int main(int argc, char **argv)
{
    struct mag_cli cli;
    mag_buf err = MAG_BUF_INIT;
    magnetar *m = NULL;
    int code = 2;

    if (mag_cli_parse(&cli, argc, argv, &err) != MAG_OK) {
        fprintf(stderr, "magnetar: %s\n%s", mag_buf_cstr(&err), mag_cli_usage());
        goto out;
    }
    if (cli.show_help || cli.show_version) {
        if (cli.show_help)
            fputs(mag_cli_usage(), stdout);
        else
            printf("magnetar %s\n", magnetar_version());
        code = 0;
        goto out;
    }
    m = magnetar_new();
    if (!m || configure(m, &cli) != MAGNETAR_OK)
        goto out;
    if (cli.dump_config) {
        char *dump = magnetar_dump_config(m);
        fputs(dump, stdout);
        free(dump);
        code = 0;
        goto out;
    }
    /* Blocked before the server's threads exist, so only this thread's signalfd sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((code = check_lifetime(&cli)) != 0)
        goto out;
    magnetar_set_ephemeral(m, cli.ephemeral);
    code = magnetar_start(m);
    if (code != MAGNETAR_OK) {
        fprintf(stderr, "magnetar: %s\n", magnetar_error(m));
        goto out;
    }
    const char *wss = magnetar_wss_url(m);
    printf("magnetar ready %s%s%s\n", magnetar_ws_url(m), wss ? " " : "", wss ? wss : "");
    fflush(stdout);
    mag_info("%s: shutting down", wait_for_the_end(&sigs, cli.exit_on_stdin_eof));
    code = magnetar_stop(m);
out:
    magnetar_free(m);
    mag_cli_cleanup(&cli);
    mag_buf_free(&err);
    return code;
}
