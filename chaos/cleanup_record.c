/*
 * cleanup_record: one line per resource in WORK/.chaos-cleanup ("mount PATH", "loop DEVICE
 * BACKING", "process PID NAME"), appended and fsync'ed before the resource is made. Undo reads
 * the lines back, newest first. See cleanup_record.h.
 */
#include "cleanup_record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#define MAX_LINES 64

static char record_path[PATH_MAX];

void cleanup_record_open(const char *work)
{
    snprintf(record_path, sizeof(record_path), "%s/%s", work, CLEANUP_RECORD_NAME);
}

static int append(const char *line)
{
    if (!*record_path)
        return -1;
    int fd = open(record_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(line);
    int rc = write(fd, line, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

int cleanup_record_mount(const char *path)
{
    char line[PATH_MAX + 16];
    snprintf(line, sizeof(line), "mount %s\n", path);
    return append(line);
}

int cleanup_record_loop(const char *device, const char *backing_file)
{
    char line[2 * PATH_MAX + 16];
    snprintf(line, sizeof(line), "loop %s %s\n", device, backing_file);
    return append(line);
}

int cleanup_record_process(pid_t pid, const char *exe_name)
{
    char line[PATH_MAX + 32];
    snprintf(line, sizeof(line), "process %d %s\n", (int)pid, exe_name);
    return append(line);
}

/* 1 when `path` is a mount point in this mount namespace. */
static int is_mounted(const char *path)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    size_t n = strlen(path);
    while (!found && fgets(line, sizeof(line), f)) {
        /* "id parent major:minor root mountpoint ..." */
        char *p = line;
        for (int field = 0; field < 4 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        found = p && strncmp(p, path, n) == 0 && p[n] == ' ';
    }
    fclose(f);
    return found;
}

#define SAY(log, ...)                                                                              \
    do {                                                                                           \
        if (log) {                                                                                 \
            char said_[2 * PATH_MAX + 64];                                                         \
            snprintf(said_, sizeof(said_), __VA_ARGS__);                                           \
            (log)(said_);                                                                          \
        }                                                                                          \
    } while (0)

static int undo_mount(const char *path, void (*log)(const char *))
{
    int there = 0;
    /* A stack of mounts (a bind over a tmpfs): unmount until nothing is mounted there. */
    for (int i = 0; i < 8 && is_mounted(path); i++) {
        there = 1;
        if (umount2(path, MNT_DETACH) < 0)
            break;
    }
    if (there)
        SAY(log, "unmounted %s", path);
    return there;
}

/* Detaches `device` only if its backing file is still `backing` (a device reused since is
 * someone else's). */
static int undo_loop(const char *device, const char *backing, void (*log)(const char *))
{
    int fd = open(device, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct loop_info64 info;
    int there = ioctl(fd, LOOP_GET_STATUS64, &info) == 0 &&
                strncmp((const char *)info.lo_file_name, backing, LO_NAME_SIZE - 1) == 0;
    if (there && ioctl(fd, LOOP_CLR_FD, 0) == 0)
        SAY(log, "detached %s (%s)", device, backing);
    close(fd);
    return there;
}

/* Kills `pid` only if /proc/PID/exe still ends in `/name` (no reused pid is hit). */
static int undo_process(pid_t pid, const char *name, void (*log)(const char *))
{
    char link[64], exe[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, exe, sizeof(exe) - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    if (!base || strcmp(base + 1, name) != 0)
        return 0;
    kill(pid, SIGKILL);
    SAY(log, "killed %s (pid %d)", name, (int)pid);
    return 1;
}

int cleanup_record_undo(const char *work, void (*log)(const char *line))
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", work, CLEANUP_RECORD_NAME);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char lines[MAX_LINES][2 * PATH_MAX + 32];
    size_t n = 0;
    while (n < MAX_LINES && fgets(lines[n], sizeof(lines[n]), f)) {
        lines[n][strcspn(lines[n], "\n")] = '\0';
        n++;
    }
    fclose(f);
    int left = 0;
    /* Processes first (a FUSE daemon must die before its mount can go), then newest first. */
    for (size_t i = n; i-- > 0;) {
        int pid;
        char name[PATH_MAX];
        if (sscanf(lines[i], "process %d %4095s", &pid, name) == 2 && pid > 1)
            left += undo_process((pid_t)pid, name, log);
    }
    for (size_t i = n; i-- > 0;) {
        char a[PATH_MAX], b[PATH_MAX];
        if (strncmp(lines[i], "mount ", 6) == 0)
            left += undo_mount(lines[i] + 6, log);
        else if (sscanf(lines[i], "loop %4095s %4095s", a, b) == 2)
            left += undo_loop(a, b, log);
    }
    unlink(path);
    return left;
}

void cleanup_record_clear(void)
{
    if (*record_path)
        unlink(record_path);
}
