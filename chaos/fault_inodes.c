/*
 * fault_inodes: no free inode while bytes remain (millions of small files on the same volume,
 * a log directory gone wild). The data directory is a tmpfs with few inodes (mounted before
 * taskd starts); with taskd stopped (its clean stop removes the -wal and -shm), empty files
 * take every free inode, and taskd starts: SQLite opens the database but cannot create its
 * -wal and -shm. Deleting the files is the rollback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup_record.h"
#include "mechanism.h"

#define TMPFS_OPTIONS "size=16m,nr_inodes=64,mode=0755"
#define MAX_FILLERS 4096

static struct {
    char data_dir[600];
    int mounted;
    int fillers;
} st;

static void filler_path(int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/.chaos-inode-%d", st.data_dir, i);
}

static int inodes_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (mechanism_need_root("mounting a tmpfs with few inodes", err, errlen))
        return 1;
    memset(&st, 0, sizeof(st));
    snprintf(st.data_dir, sizeof(st.data_dir), "%s", c->data_dir);
    if (cleanup_record_mount(c->data_dir) < 0 ||
        mount("tmpfs", c->data_dir, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_OPTIONS) < 0) {
        snprintf(err, errlen, "cannot mount a tmpfs on %s: %s", c->data_dir, strerror(errno));
        return -1;
    }
    st.mounted = 1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s is a tmpfs (%s); ", c->data_dir, TMPFS_OPTIONS);
    return 0;
}

static void remove_fillers(void)
{
    char path[700];
    for (int i = 0; i < st.fillers; i++) {
        filler_path(i, path, sizeof(path));
        unlink(path);
    }
    st.fillers = 0;
}

static int inodes_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (taskd_runner_stop(c->taskd, err, errlen) < 0)
        return -1;
    char path[700];
    int e = 0;
    while (st.fillers < MAX_FILLERS) {
        filler_path(st.fillers, path, sizeof(path));
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            e = errno;
            break;
        }
        close(fd);
        st.fillers++;
    }
    if (e != ENOSPC) {
        snprintf(err, errlen, "filling the inodes of %s stopped with %s, not ENOSPC", c->data_dir,
                 e ? strerror(e) : "no error");
        remove_fillers();
        taskd_runner_start(c->taskd, NULL, path, sizeof(path));
        return -1;
    }
    mechanism_say(c,
                  "taskd stopped; %d empty files took every free inode of %s (bytes still "
                  "free); taskd started",
                  st.fillers, c->data_dir);
    return taskd_runner_start(c->taskd, NULL, err, errlen) < 0 ? 1 : 0;
}

static int inodes_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    remove_fillers();
    return 0;
}

static void inodes_cleanup(struct mechanism_ctx *c)
{
    (void)c;
    if (st.mounted && umount2(st.data_dir, MNT_DETACH) == 0)
        st.mounted = 0;
}

static void inodes_emergency(void)
{
    if (st.mounted) /* the files go with the tmpfs */
        umount2(st.data_dir, MNT_DETACH);
}

static void inodes_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  0. before taskd starts: mount -t tmpfs -o %s tmpfs %s\n", TMPFS_OPTIONS,
               c->data_dir);
    buf_printf(out,
               "  1. stop taskd\n  2. create %s/.chaos-inode-N until ENOSPC\n  3. start "
               "taskd\n  rollback: delete them; at the end umount %s\n",
               c->data_dir, c->data_dir);
}

const struct mechanism mechanism_inodes = {
    .name = "inode exhaustion",
    .prepare = inodes_prepare,
    .inject = inodes_inject,
    .rollback = inodes_rollback,
    .cleanup = inodes_cleanup,
    .emergency = inodes_emergency,
    .plan = inodes_plan,
};
