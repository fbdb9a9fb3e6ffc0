/*
 * lossyfs: a FUSE file system that loses what was not synced, on command — a power cut for
 * the files below it, where device-mapper (dm-flakey, dm-log-writes) is not available.
 *
 *   lossyfs [--control SOCKET] BACKING_DIR MOUNTPOINT      serve (in the foreground)
 *   lossyfs ctl SOCKET drop|flush|stat|ping                 talk to a running one
 *
 * Everything is passed through to BACKING_DIR except file data: writes and truncations stay in
 * memory (pagecache.c) until the file is fsync'ed or fdatasync'ed; "drop" forgets them all, as
 * a power cut would, while "flush" writes them out. Metadata (create, unlink, rename, mkdir,
 * chmod) goes through at once, as a journaling file system makes it durable at least as early
 * as the data. Built after Jepsen's lazyfs; only the calls SQLite makes are needed, and the
 * kernel's page cache is kept out of the way (no attribute caching, pages dropped on open) so
 * a restarted process reads what lossyfs holds. Every operation runs under one mutex.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "control.h"
#include "pagecache.h"

static struct {
    int base; /* the backing directory */
    struct pagecache *cache;
    pthread_mutex_t lock;
    struct control *control;
    const char *control_path;
    unsigned long long drops, syncs;
} fs = {.base = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* "/a/b" -> "a/b", "/" -> "." : paths relative to the backing directory. */
static const char *rel(const char *path)
{
    return path[1] ? path + 1 : ".";
}

/* Passes the result through after releasing the lock taken by lock(): `return unlocked(f());`
 * after `lock();` keeps every operation under the one mutex. */
static void lock(void)
{
    pthread_mutex_lock(&fs.lock);
}

static int unlocked(int rc)
{
    pthread_mutex_unlock(&fs.lock);
    return rc;
}

static int neg(int rc)
{
    return rc < 0 ? -errno : rc;
}

/* ---- attributes and directories ---------------------------------------------------------- */

static int do_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    int rc = fi ? fstat((int)fi->fh, st) : fstatat(fs.base, rel(path), st, AT_SYMLINK_NOFOLLOW);
    if (rc < 0)
        return -errno;
    off_t size = pagecache_size(fs.cache, st->st_ino);
    if (size >= 0) {
        st->st_size = size;
        st->st_blocks = (size + 511) / 512;
    }
    return 0;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    lock();
    return unlocked(do_getattr(path, st, fi));
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off, (void)fi, (void)flags;
    int fd = openat(fs.base, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
        if (fill(buf, e->d_name, &st, 0, 0))
            break;
    }
    closedir(d);
    return 0;
}

static int op_mkdir(const char *path, mode_t mode)
{
    return neg(mkdirat(fs.base, rel(path), mode));
}

static int op_rmdir(const char *path)
{
    return neg(unlinkat(fs.base, rel(path), AT_REMOVEDIR));
}

static int op_unlink(const char *path)
{
    lock();
    return unlocked(neg(unlinkat(fs.base, rel(path), 0)));
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
    if (flags)
        return -EINVAL; /* RENAME_NOREPLACE/EXCHANGE: SQLite uses neither */
    lock();
    return unlocked(neg(renameat(fs.base, rel(from), fs.base, rel(to))));
}

static int op_symlink(const char *target, const char *path)
{
    return neg(symlinkat(target, fs.base, rel(path)));
}

static int op_readlink(const char *path, char *buf, size_t size)
{
    ssize_t n = readlinkat(fs.base, rel(path), buf, size - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

static int op_link(const char *from, const char *to)
{
    return neg(linkat(fs.base, rel(from), fs.base, rel(to), 0));
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return neg(fi ? fchmod((int)fi->fh, mode) : fchmodat(fs.base, rel(path), mode, 0));
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    return neg(fi ? fchown((int)fi->fh, uid, gid)
                  : fchownat(fs.base, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    return neg(fi ? futimens((int)fi->fh, tv)
                  : utimensat(fs.base, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int op_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    return neg(fstatvfs(fs.base, st));
}

/* ---- file data ----------------------------------------------------------------------------- */

/* The backing file is always opened read-write when it can be: pages of a file opened for
 * writing are read through the same descriptor, and a sync needs write access. */
static int open_backing(const char *path, int flags, mode_t mode)
{
    int access_mode = flags & O_ACCMODE;
    int f = (flags & ~(O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECT)) | O_CLOEXEC;
    int fd = openat(fs.base, rel(path), f | O_RDWR, mode);
    if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM) && access_mode == O_RDONLY)
        fd = openat(fs.base, rel(path), f | O_RDONLY, mode);
    return fd;
}

static int do_truncate_fd(int fd, off_t size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    return pagecache_truncate(fs.cache, st.st_ino, fd, size);
}

static int finish_open(int fd, int flags, struct fuse_file_info *fi)
{
    if (fd < 0)
        return -errno;
    if (flags & O_TRUNC) {
        lock();
        int rc = unlocked(do_truncate_fd(fd, 0));
        if (rc < 0) {
            close(fd);
            return rc;
        }
    }
    fi->fh = (uint64_t)fd;
    fi->keep_cache = 0; /* the kernel drops its pages: a reopened file reads what lossyfs holds */
    return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
    return finish_open(open_backing(path, fi->flags, 0), fi->flags, fi);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return finish_open(open_backing(path, fi->flags | O_CREAT, mode), fi->flags, fi);
}

static int do_read(int fd, char *buf, size_t size, off_t off)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    ssize_t n = pagecache_read(fs.cache, st.st_ino, fd, buf, size, off);
    return (int)n;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    lock();
    return unlocked(do_read((int)fi->fh, buf, size, off));
}

static int do_write(int fd, const char *buf, size_t size, off_t off)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    return (int)pagecache_write(fs.cache, st.st_ino, fd, buf, size, off);
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    lock();
    return unlocked(do_write((int)fi->fh, buf, size, off));
}

static int do_truncate_path(const char *path, off_t size)
{
    int fd = open_backing(path, O_RDWR, 0);
    if (fd < 0)
        return -errno;
    int rc = do_truncate_fd(fd, size);
    close(fd);
    return rc;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    lock();
    return unlocked(fi ? do_truncate_fd((int)fi->fh, size) : do_truncate_path(path, size));
}

static int do_fsync(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    fs.syncs++;
    return pagecache_sync(fs.cache, st.st_ino, fd);
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path, (void)datasync;
    lock();
    return unlocked(do_fsync((int)fi->fh));
}

static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path, (void)datasync, (void)fi;
    return 0; /* metadata went through at once */
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
    (void)path, (void)fi;
    return 0; /* close(2) does not make data durable */
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh); /* unsynced pages stay: the cache holds its own descriptor */
    return 0;
}

/* ---- control ----------------------------------------------------------------------------- */

static void handle_command(const char *cmd, char *out, size_t cap, void *ctx)
{
    (void)ctx;
    struct pagecache_stats s;
    pthread_mutex_lock(&fs.lock);
    if (strcmp(cmd, "drop") == 0) {
        pagecache_drop_all(fs.cache, &s);
        fs.drops++;
        snprintf(out, cap, "ok dropped %llu bytes in %llu files", (unsigned long long)s.dirty_bytes,
                 (unsigned long long)s.files);
    } else if (strcmp(cmd, "flush") == 0) {
        int rc = pagecache_sync_all(fs.cache, &s);
        if (rc < 0)
            snprintf(out, cap, "error flush: %s", strerror(-rc));
        else
            snprintf(out, cap, "ok flushed %llu bytes in %llu files",
                     (unsigned long long)s.dirty_bytes, (unsigned long long)s.files);
    } else if (strcmp(cmd, "stat") == 0) {
        pagecache_stats(fs.cache, &s);
        snprintf(out, cap, "ok unsynced %llu bytes in %llu files; %llu syncs, %llu drops",
                 (unsigned long long)s.dirty_bytes, (unsigned long long)s.files, fs.syncs,
                 fs.drops);
    } else if (strcmp(cmd, "ping") == 0) {
        snprintf(out, cap, "ok lossyfs");
    } else {
        snprintf(out, cap, "error unknown command '%.40s' (drop, flush, stat, ping)", cmd);
    }
    pthread_mutex_unlock(&fs.lock);
}

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->use_ino = 1;
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->kernel_cache = 0;
    cfg->direct_io = 0; /* SQLite maps its -shm: shared mappings need the page cache */
    if (fs.control_path) {
        char err[300];
        if (control_start(&fs.control, fs.control_path, handle_command, NULL, err, sizeof(err)) <
            0) {
            fprintf(stderr, "lossyfs: %s\n", err);
            fuse_exit(fuse_get_context()->fuse);
        }
    }
    return NULL;
}

static void op_destroy(void *data)
{
    (void)data;
    control_stop(fs.control);
    fs.control = NULL;
}

static const struct fuse_operations ops = {
    .init = op_init,
    .destroy = op_destroy,
    .getattr = op_getattr,
    .readdir = op_readdir,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .unlink = op_unlink,
    .rename = op_rename,
    .symlink = op_symlink,
    .readlink = op_readlink,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .utimens = op_utimens,
    .statfs = op_statfs,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    .truncate = op_truncate,
    .fsync = op_fsync,
    .fsyncdir = op_fsyncdir,
    .flush = op_flush,
    .release = op_release,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lossyfs [--control SOCKET] BACKING_DIR MOUNTPOINT [-o FUSE_OPTION]...\n"
            "       lossyfs ctl SOCKET drop|flush|stat|ping\n"
            "\n"
            "Mounts BACKING_DIR at MOUNTPOINT, keeping every write in memory until the file\n"
            "is fsync'ed; 'drop' on the control socket loses every unsynced write, as a power\n"
            "cut would. Runs in the foreground; unmount with 'fusermount3 -u MOUNTPOINT'.\n");
}

static int ctl_main(int argc, char **argv)
{
    if (argc != 4) {
        usage(stderr);
        return 2;
    }
    char answer[300];
    int rc = control_request(argv[2], argv[3], 10000, answer, sizeof(answer));
    fprintf(rc == 0 ? stdout : stderr, "%s%s\n", rc < 0 ? "lossyfs: " : "", answer);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return ctl_main(argc, argv);
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--control") == 0) {
        fs.control_path = argv[2];
        i = 3;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc - i < 2) {
        usage(stderr);
        return 2;
    }
    fs.base = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs.base < 0) {
        fprintf(stderr, "lossyfs: cannot open the backing directory %s: %s\n", argv[i],
                strerror(errno));
        return 1;
    }
    fs.cache = pagecache_new();
    if (!fs.cache) {
        fprintf(stderr, "lossyfs: out of memory\n");
        return 1;
    }
    /* fuse_main's arguments: the mount point, foreground, our options, then the user's. */
    char *fargv[64];
    int fargc = 0;
    fargv[fargc++] = argv[0];
    fargv[fargc++] = argv[i + 1];
    fargv[fargc++] = "-f";
    fargv[fargc++] = "-o";
    fargv[fargc++] = "default_permissions,fsname=lossyfs,subtype=lossyfs";
    for (int j = i + 2; j < argc && fargc < 63; j++)
        fargv[fargc++] = argv[j];
    fargv[fargc] = NULL;
    umask(0);
    int rc = fuse_main(fargc, fargv, &ops, NULL);
    pagecache_free(fs.cache);
    close(fs.base);
    return rc;
}
