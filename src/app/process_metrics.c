/* process_metrics.c -- the Prometheus client's standard process_* metrics for /metrics.
 *
 * Pulsar's broker registers the Java client's DefaultExports, whose
 * StandardExports print process_cpu_seconds_total, process_start_time_seconds,
 * process_open_fds, process_max_fds, process_virtual_memory_bytes and
 * process_resident_memory_bytes, read from /proc/self. These are the same
 * names, help texts and units, read the same way (once per scrape). A value
 * that cannot be read (no /proc) is left out rather than reported as 0.
 */
#include "app_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fields of /proc/self/stat after the command name: state is field 3 of
   proc(5), utime 14, stime 15, starttime 22, vsize 23, rss 24. */
struct proc_stat {
    unsigned long long utime, stime, starttime, vsize;
    long long rss;
};

static bool read_proc_stat(struct proc_stat *ps)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');     /* the command name may hold spaces and ')' */
    if (!p)
        return false;
    /* p + 2: field 3 (state). Skip fields 3..13, read 14, 15, skip 16..21, read 22..24. */
    return sscanf(p + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                  "%llu %llu %lld",
                  &ps->utime, &ps->stime, &ps->starttime, &ps->vsize, &ps->rss) == 5;
}

/* Boot time (epoch seconds), the "btime" line of /proc/stat. */
static bool read_boot_time(unsigned long long *btime)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "btime %llu", btime) == 1;
    fclose(f);
    return found;
}

static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the directory stream's own descriptor */
}

/* # HELP and # TYPE of a one-sample family, then its name; the caller appends the value. */
static void head(mag_buf *out, const char *name, const char *type, const char *help)
{
    mag_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name, type, name);
}

void mag_process_metrics(mag_buf *out)
{
    struct proc_stat ps;
    double ticks = (double)sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    bool have_stat = read_proc_stat(&ps) && ticks > 0;
    if (have_stat) {
        head(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        mag_buf_appendf(out, "%.2f\n", (double)(ps.utime + ps.stime) / ticks);
    }
    unsigned long long btime;
    if (have_stat && read_boot_time(&btime)) {
        head(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
        mag_buf_appendf(out, "%.2f\n", (double)btime + (double)ps.starttime / ticks);
    }
    long fds = count_open_fds();
    if (fds >= 0) {
        head(out, "process_open_fds", "gauge", "Number of open file descriptors.");
        mag_buf_appendf(out, "%ld\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        head(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        if (rl.rlim_cur == RLIM_INFINITY)
            mag_buf_append_str(out, "+Inf\n");
        else
            mag_buf_appendf(out, "%llu\n", (unsigned long long)rl.rlim_cur);
    }
    if (have_stat) {
        head(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        mag_buf_appendf(out, "%llu\n", ps.vsize);
        head(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        mag_buf_appendf(out, "%lld\n", ps.rss * (long long)page);
    }
}
