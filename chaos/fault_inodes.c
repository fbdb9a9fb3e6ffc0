/*
 * fault_inodes: no free inode while bytes remain (millions of small files on the same volume,
 * a log directory gone wild). The data directory is a tmpfs with few inodes (mounted before
 * the service starts); with the service stopped (taskd's clean stop removes the -wal and -shm),
 * empty files take every free inode, and the service starts: SQLite opens the database but
 * cannot create its -wal and -shm. Deleting the files is the rollback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup_record.h"
#include "mechanism.h"

#define MAX_FILLERS 4096

static struct {
    char data_dir[600];
    char options[80];
    int mounted;
    int fillers;
} st;

static void filler_path(int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/.chaos-inode-%d", st.data_dir, i);
}

static int inodes_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.data_dir, sizeof(st.data_dir), "%s", c->data_dir);
    snprintf(st.options, sizeof(st.options), "size=16m,nr_inodes=%llu,mode=0755",
             (unsigned long long)mechanism_param_number(c, "inodes"));
    if (cleanup_record_mount(c->data_dir) < 0 ||
        mount("tmpfs", c->data_dir, "tmpfs", MS_NOSUID | MS_NODEV, st.options) < 0) {
        snprintf(err, errlen, "cannot mount a tmpfs on %s: %s", c->data_dir, strerror(errno));
        return -1;
    }
    st.mounted = 1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s is a tmpfs (%s); ", c->data_dir, st.options);
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
        return -1;
    }
    mechanism_say(c, "%s%d empty files took every free inode of %s (bytes still free)%s",
                  c->at_start ? "the service stopped; " : "", st.fillers, c->data_dir,
                  c->at_start ? "; the service started" : "");
    return 0;
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
    buf_printf(out,
               "  before the service starts: mount -t tmpfs -o size=16m,nr_inodes=%s tmpfs %s\n",
               mechanism_param(c, "inodes"), c->data_dir);
    buf_printf(out,
               "  inject: create %s/.chaos-inode-N until ENOSPC\n  rollback: delete them; at the "
               "end umount %s\n",
               c->data_dir, c->data_dir);
}

static const struct mechanism_param inodes_params[] = {
    {"dir", MECHANISM_PARAM_PATH, "{data_dir}", "the directory that becomes the tmpfs"},
    {"inodes", MECHANISM_PARAM_COUNT, "64", "the tmpfs's inodes (nr_inodes)"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_inodes = {
    .name = "inodes",
    .summary = "the data directory is a tmpfs with few inodes; empty files take every free one "
               "while bytes remain",
    .rollback_summary = "delete the empty files",
    .params = inodes_params,
    .when = MECHANISM_AT_START | MECHANISM_LIVE,
    .default_when = FAULT_AT_START,
    .needs_root = "mounting a tmpfs with few inodes",
    .prepare = inodes_prepare,
    .inject = inodes_inject,
    .rollback = inodes_rollback,
    .cleanup = inodes_cleanup,
    .emergency = inodes_emergency,
    .plan = inodes_plan,
};
