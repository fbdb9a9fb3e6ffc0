/*
 * fault_mounts: the file system under the data directory, changed with mount(2) (root only).
 *
 * readonly-mount: the directory bind-mounted read-only over itself. Root ignores chmod, and a
 *   file system with a file open for writing cannot be remounted read-only ("busy"), so this is
 *   made with the service stopped, which then starts on a read-only directory (readonly).
 * fill-disk: the directory is a small tmpfs, mounted before the service first starts; at the
 *   injection a ballast file fills it to ENOSPC while the service serves, and deleting the
 *   ballast is the rollback (disk-full).
 *
 * Mounts are made in chaos's private mount namespace when chaos starts the service, so they
 * vanish with chaos; they are also written to the cleanup record first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup_record.h"
#include "mechanism.h"

static struct {
    char dir[600];
    char ballast[640];
    int ro_mounted, tmpfs_mounted, filled;
} st;

/* ---- readonly-mount -------------------------------------------------------------------------- */

static int ro_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.dir, sizeof(st.dir), "%s", c->data_dir);
    if (cleanup_record_mount(st.dir) < 0 || mount(st.dir, st.dir, NULL, MS_BIND, NULL) < 0) {
        snprintf(err, errlen, "cannot bind-mount %s over itself: %s", st.dir, strerror(errno));
        return -1;
    }
    st.ro_mounted = 1;
    if (mount(NULL, st.dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
        snprintf(err, errlen, "cannot remount the bind of %s read-only: %s", st.dir,
                 strerror(errno));
        umount2(st.dir, MNT_DETACH);
        st.ro_mounted = 0;
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c,
                  "%s%s bind-mounted over itself and remounted read-only (mount(2) MS_BIND "
                  "then MS_REMOUNT|MS_BIND|MS_RDONLY)%s",
                  c->at_start ? "the service stopped; " : "", st.dir,
                  c->at_start ? "; the service started on it" : "");
    return 0;
}

static int ro_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (st.ro_mounted && umount2(st.dir, MNT_DETACH) < 0) {
        snprintf(err, errlen, "cannot unmount the read-only bind of %s: %s", st.dir,
                 strerror(errno));
        return -1;
    }
    st.ro_mounted = 0;
    return 0;
}

static void ro_emergency(void)
{
    if (st.ro_mounted)
        umount2(st.dir, MNT_DETACH);
}

static void ro_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  inject: mount --bind %s %s; mount -o remount,ro,bind %s\n", c->data_dir,
               c->data_dir, c->data_dir);
    buf_printf(out, "  rollback: umount -l %s\n", c->data_dir);
}

static const struct mechanism_param dir_param[] = {
    {"dir", MECHANISM_PARAM_PATH, "{data_dir}", "the directory (it gets a mount of its own)"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_readonly_mount = {
    .name = "readonly-mount",
    .summary = "bind-mount the data directory read-only over itself",
    .rollback_summary = "unmount the read-only bind",
    .params = dir_param,
    .when = MECHANISM_AT_START | MECHANISM_LIVE,
    .default_when = FAULT_AT_START,
    .needs_root = "mount(2) is how this fault is made real; root ignores chmod, so there is no "
                  "honest unprivileged way",
    .inject = ro_inject,
    .rollback = ro_rollback,
    .cleanup = NULL,
    .emergency = ro_emergency,
    .plan = ro_plan,
};

/* ---- fill-disk ------------------------------------------------------------------------------- */

static int fill_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    memset(&st, 0, sizeof(st));
    snprintf(st.dir, sizeof(st.dir), "%s", c->data_dir);
    snprintf(st.ballast, sizeof(st.ballast), "%s/ballast", c->data_dir);
    char options[64];
    snprintf(options, sizeof(options), "size=%llu,mode=0755",
             (unsigned long long)mechanism_param_number(c, "size"));
    if (cleanup_record_mount(st.dir) < 0 ||
        mount("tmpfs", st.dir, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0) {
        snprintf(err, errlen, "cannot mount a tmpfs on %s: %s", st.dir, strerror(errno));
        return -1;
    }
    st.tmpfs_mounted = 1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "a tmpfs of %s mounted at %s before the service started; ",
                  mechanism_param(c, "size"), st.dir);
    return 0;
}

static int fill_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    int fd = open(st.ballast, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the ballast %s: %s", st.ballast, strerror(errno));
        return -1;
    }
    st.filled = 1;
    static const char block[64 * 1024];
    /* Smaller and smaller writes, so the last free page is taken too. */
    for (size_t size = sizeof(block); size >= 1; size /= 2) {
        while (write(fd, block, size) == (ssize_t)size)
            ;
        if (errno != ENOSPC && errno != 0 && errno != EFBIG) {
            snprintf(err, errlen, "writing the ballast %s failed: %s", st.ballast, strerror(errno));
            close(fd);
            unlink(st.ballast);
            st.filled = 0;
            return -1;
        }
    }
    close(fd);
    mechanism_say(c, "a ballast file %s written until ENOSPC while the service serves", st.ballast);
    return 0;
}

static int fill_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (st.filled && unlink(st.ballast) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot delete the ballast %s: %s", st.ballast, strerror(errno));
        return -1;
    }
    st.filled = 0;
    return 0;
}

static void fill_cleanup(struct mechanism_ctx *c)
{
    (void)c;
    if (st.tmpfs_mounted && umount2(st.dir, MNT_DETACH) == 0)
        st.tmpfs_mounted = 0;
}

static void fill_emergency(void)
{
    if (st.filled)
        unlink(st.ballast);
    if (st.tmpfs_mounted)
        umount2(st.dir, MNT_DETACH);
}

static void fill_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  before the service starts: mount -t tmpfs -o size=%s tmpfs %s\n",
               mechanism_param(c, "size"), c->data_dir);
    buf_printf(out, "  inject: write %s/ballast until ENOSPC\n", c->data_dir);
    buf_printf(out, "  rollback: delete the ballast; at the end umount %s\n", c->data_dir);
}

static const struct mechanism_param fill_params[] = {
    {"dir", MECHANISM_PARAM_PATH, "{data_dir}", "the directory that becomes a small tmpfs"},
    {"size", MECHANISM_PARAM_SIZE, "16MiB", "the tmpfs's size"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_fill_disk = {
    .name = "fill-disk",
    .summary = "the data directory is a small tmpfs; a ballast file fills it to ENOSPC",
    .rollback_summary = "delete the ballast file",
    .params = fill_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .needs_root = "mounting a tmpfs",
    .prepare = fill_prepare,
    .inject = fill_inject,
    .rollback = fill_rollback,
    .cleanup = fill_cleanup,
    .emergency = fill_emergency,
    .plan = fill_plan,
};
