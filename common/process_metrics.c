/*
 * process_metrics: process_* metrics read from /proc/self/stat, /proc/self/fd and /proc/stat.
 * The start time is boot time (btime in /proc/stat) plus the process start in clock ticks,
 * which is how the Go client computes it.
 */
#include "process_metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "expo.h"

struct proc_stat {
    unsigned long utime, stime;   /* clock ticks */
    unsigned long long starttime; /* clock ticks after boot */
    unsigned long vsize;          /* bytes */
    long rss;                     /* pages */
};

static int read_proc_stat(struct proc_stat *st)
{
    char line[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: parse after the last ')'. */
    char *p = strrchr(line, ')');
    if (!p)
        return -1;
    int got = sscanf(p + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
                     "%*d %llu %lu %ld",
                     &st->utime, &st->stime, &st->starttime, &st->vsize, &st->rss);
    return got == 5 ? 0 : -1;
}

static long long boot_time_seconds(void)
{
    char line[256];
    long long btime = -1;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    }
    fclose(f);
    return btime;
}

static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n - 1; /* the descriptor opendir itself holds */
}

void process_metrics_write(struct buf *out)
{
    struct proc_stat st;
    double ticks = (double)sysconf(_SC_CLK_TCK);
    if (read_proc_stat(&st) == 0) {
        expo_family(out, "process_cpu_seconds_total", "counter",
                    "Total user and system CPU time spent in seconds.");
        expo_sample_double(out, "process_cpu_seconds_total", NULL, 0,
                           (double)(st.utime + st.stime) / ticks);
        expo_gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
                   (double)st.rss * (double)sysconf(_SC_PAGESIZE));
        expo_gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                   (double)st.vsize);
        long long btime = boot_time_seconds();
        if (btime >= 0)
            expo_gauge(out, "process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.",
                       (double)btime + (double)st.starttime / ticks);
    }
    long fds = count_open_fds();
    if (fds >= 0)
        expo_gauge(out, "process_open_fds", "Number of open file descriptors.", (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        expo_gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
                   (double)rl.rlim_cur);
}
