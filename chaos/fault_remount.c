/*
 * fault_remount: the production "EXT4-fs error ... Remounting filesystem read-only". The data
 * directory is an ext4 image on a loop device, mounted errors=remount-ro; writing to the
 * file system's sysfs trigger_fs_error makes it emergency read-only under the running
 * service, whose next write gets EROFS. An emergency read-only ext4 cannot be remounted read-write,
 * so the rollback is what an operator does: unmount it (lazily: the service still holds files on
 * it), e2fsck the image, and mount it again — on a new loop device, so the service sees its
 * database replaced by the file system that came back (taskd reopens it).
 *
 * Loop devices are attached with LO_FLAGS_AUTOCLEAR (detached by the kernel when the last
 * mount goes), the mounts live in chaos's private mount namespace, and both are written to
 * the cleanup record.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup_record.h"
#include "mechanism.h"

#define MOUNT_OPTIONS "errors=remount-ro"

static struct {
    char image[600], data_dir[600], log[600];
    char device[32]; /* /dev/loopN of the current mount */
    int mounted;
    int ro;
} st;

#define ATTACH_TRIES 20

/* One try at attaching st.image to the loop device LOOP_CTL_GET_FREE names. Returns the
 * device's descriptor, -1 with err, or -2 when another process took that device first (EBUSY
 * between GET_FREE and SET_FD: experiments running side by side). */
static int attach_once(char *err, size_t errlen)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    int n = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
    if (ctl >= 0)
        close(ctl);
    if (n < 0) {
        snprintf(err, errlen, "no free loop device: %s", strerror(errno));
        return -1;
    }
    snprintf(st.device, sizeof(st.device), "/dev/loop%d", n);
    if (cleanup_record_loop(st.device, st.image) < 0) {
        snprintf(err, errlen, "cannot write the cleanup record");
        return -1;
    }
    int dev = open(st.device, O_RDWR | O_CLOEXEC);
    int img = open(st.image, O_RDWR | O_CLOEXEC);
    struct loop_info64 info;
    memset(&info, 0, sizeof(info));
    info.lo_flags = LO_FLAGS_AUTOCLEAR;
    snprintf((char *)info.lo_file_name, LO_NAME_SIZE, "%.*s", LO_NAME_SIZE - 1, st.image);
    int rc = dev >= 0 && img >= 0 && ioctl(dev, LOOP_SET_FD, img) == 0 ? 0 : -1;
    int busy = rc < 0 && errno == EBUSY;
    if (rc == 0 && ioctl(dev, LOOP_SET_STATUS64, &info) < 0) {
        ioctl(dev, LOOP_CLR_FD, 0);
        rc = -1;
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot attach %s to %s: %s", st.image, st.device, strerror(errno));
    if (img >= 0)
        close(img);
    if (rc < 0 && dev >= 0)
        close(dev);
    return rc < 0 ? (busy ? -2 : -1) : dev;
}

/* Attaches `image` to a free loop device (autoclear) into st.device, trying the next free one
 * when another process took it first (as losetup does). Returns its descriptor, to be closed
 * once the device is mounted (closing it before would let autoclear detach it), or -1. */
static int attach(char *err, size_t errlen)
{
    int dev = -2;
    for (int i = 0; i < ATTACH_TRIES && dev == -2; i++)
        dev = attach_once(err, errlen);
    return dev < 0 ? -1 : dev;
}

static int mount_image(char *err, size_t errlen)
{
    int dev = attach(err, errlen);
    if (dev < 0)
        return -1;
    if (cleanup_record_mount(st.data_dir) < 0 ||
        mount(st.device, st.data_dir, "ext4", MS_NOSUID | MS_NODEV, MOUNT_OPTIONS) < 0) {
        snprintf(err, errlen, "cannot mount %s (%s) on %s: %s", st.device, st.image, st.data_dir,
                 strerror(errno));
        close(dev); /* autoclear detaches it */
        return -1;
    }
    close(dev); /* autoclear: the mount holds the device from here on */
    st.mounted = 1;
    return 0;
}

static int remount_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (access("/dev/loop-control", R_OK | W_OK) != 0) {
        snprintf(err, errlen, "skipped: no loop devices here (/dev/loop-control: %s)",
                 strerror(errno));
        return 1;
    }
    memset(&st, 0, sizeof(st));
    snprintf(st.image, sizeof(st.image), "%s/ext4.img", c->dir);
    snprintf(st.data_dir, sizeof(st.data_dir), "%s", c->data_dir);
    snprintf(st.log, sizeof(st.log), "%s/e2fsprogs.log", c->dir);
    int fd = open(st.image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)mechanism_param_number(c, "size")) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", st.image, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    const char *mkfs[] = {"mkfs.ext4", "-q", "-F", st.image, NULL};
    int rc = service_runner_exec(mkfs, st.log, 30, err, errlen);
    if (rc == 127) {
        snprintf(err, errlen, "skipped: mkfs.ext4 is not installed (make deps: e2fsprogs)");
        return 1;
    }
    if (rc != 0) {
        if (rc > 0)
            snprintf(err, errlen, "mkfs.ext4 %s exited with %d (see %s)", st.image, rc, st.log);
        return -1;
    }
    if (mount_image(err, errlen) < 0)
        return -1;
    c->mechanism[0] = '\0';
    mechanism_say(c, "%s is ext4 on %s (%s, mounted %s); ", c->data_dir, st.device, st.image,
                  MOUNT_OPTIONS);
    return 0;
}

static int remount_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    char trigger[96];
    snprintf(trigger, sizeof(trigger), "/sys/fs/ext4/%s/trigger_fs_error", st.device + 5);
    int fd = open(trigger, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "chaos readonly-remount\n", 23) != 23) {
        snprintf(err, errlen, "cannot write %s: %s", trigger, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    st.ro = 1;
    mechanism_say(c,
                  "'chaos readonly-remount' written to %s: the file system is emergency "
                  "read-only under the service",
                  trigger);
    return 0;
}

static int remount_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!st.ro)
        return 0;
    if (st.mounted && umount2(st.data_dir, MNT_DETACH) < 0) {
        snprintf(err, errlen, "cannot unmount %s: %s", st.data_dir, strerror(errno));
        return -1;
    }
    st.mounted = 0;
    const char *fsck[] = {"e2fsck", "-f", "-y", st.image, NULL};
    int rc = service_runner_exec(fsck, st.log, 60, err, errlen);
    if (rc < 0 || rc > 1) { /* 1: errors corrected */
        snprintf(err, errlen, "e2fsck -f -y %s exited with %d (see %s)", st.image, rc, st.log);
        return -1;
    }
    if (mount_image(err, errlen) < 0)
        return -1;
    st.ro = 0;
    mechanism_say(c, "; rollback: lazy unmount, e2fsck -f -y (exit %d), mounted again on %s", rc,
                  st.device);
    return 0;
}

static void remount_cleanup(struct mechanism_ctx *c)
{
    (void)c;
    /* A stack may be left: the emergency-ro mount lazily detached and the new one. */
    for (int i = 0; i < 4 && umount2(st.data_dir, MNT_DETACH) == 0; i++)
        ;
    st.mounted = 0;
}

static void remount_emergency(void)
{
    if (*st.data_dir)
        for (int i = 0; i < 4 && umount2(st.data_dir, MNT_DETACH) == 0; i++)
            ;
}

static void remount_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  before the service starts: mkfs.ext4 %s/ext4.img (%s), attach it to a loop "
               "device (autoclear), mount -o %s on %s\n",
               c->dir, mechanism_param(c, "size"), MOUNT_OPTIONS, c->data_dir);
    buf_printf(out, "  inject: write /sys/fs/ext4/loopN/trigger_fs_error while the service "
                    "serves\n");
    buf_printf(out, "  rollback: umount -l %s; e2fsck -f -y the image; mount it again\n",
               c->data_dir);
}

static const struct mechanism_param remount_params[] = {
    {"dir", MECHANISM_PARAM_PATH, "{data_dir}", "the directory that becomes the ext4 mount"},
    {"size", MECHANISM_PARAM_SIZE, "64MiB", "the ext4 image's size"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_remount = {
    .name = "remount-ro",
    .summary = "the data directory is ext4 on a loop device mounted errors=remount-ro; sysfs "
               "trigger_fs_error makes it emergency read-only under the running service",
    .rollback_summary = "unmount lazily, e2fsck -f -y the image, mount it again",
    .params = remount_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .needs_root = "loop devices and mount(2)",
    .prepare = remount_prepare,
    .inject = remount_inject,
    .rollback = remount_rollback,
    .cleanup = remount_cleanup,
    .emergency = remount_emergency,
    .plan = remount_plan,
};
