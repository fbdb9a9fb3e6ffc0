/*
 * faults: inject and roll back per scenario (see faults.h). The undo of every fault is a short
 * list of system calls on paths computed before the injection, which is what lets the same code
 * run from a signal handler: no allocation, no stdio, no locks on the emergency path.
 */
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCK_READY_TIMEOUT_MS 5000

static struct fault_state *armed;
static struct taskd_runner *armed_taskd;

/* dst = a + b, or -1 with a sentence when it does not fit. */
static int join_path(char *dst, size_t cap, char *err, size_t errlen, const char *a, const char *b)
{
    if ((size_t)snprintf(dst, cap, "%s%s", a, b) >= cap) {
        snprintf(err, errlen, "the path %s%s is too long (at most %zu bytes)", a, b, cap - 1);
        return -1;
    }
    return 0;
}

/* The realpath of the deepest existing ancestor of `path`, with the rest appended as is. The
 * rest must not hold "..": it cannot be resolved before it exists. Returns 0 or -1. */
static int resolve_partial(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
    char probe[PATH_MAX], real[PATH_MAX];
    if (snprintf(probe, sizeof(probe), "%s", path) >= (int)sizeof(probe)) {
        snprintf(err, errlen, "the path %s is too long", path);
        return -1;
    }
    size_t keep = strlen(probe);
    while (!realpath(probe, real)) {
        char *slash = strrchr(probe, '/');
        if (!slash || slash == probe) {
            snprintf(err, errlen, "cannot resolve %s: %s", path, strerror(errno));
            return -1;
        }
        *slash = '\0';
        keep = (size_t)(slash - probe);
    }
    const char *rest = path + keep; /* "" or "/a/b" */
    if (strstr(rest, "/../") ||
        (strlen(rest) >= 3 && strcmp(rest + strlen(rest) - 3, "/..") == 0)) {
        snprintf(err, errlen, "refusing %s: a '..' below a directory that does not exist yet",
                 path);
        return -1;
    }
    if ((size_t)snprintf(out, cap, "%s%s", strcmp(real, "/") == 0 && *rest ? "" : real, rest) >=
        cap) {
        snprintf(err, errlen, "the path %s is too long", path);
        return -1;
    }
    return 0;
}

int faults_check_under(const char *work, const char *path, char *err, size_t errlen)
{
    char real_work[PATH_MAX], real[PATH_MAX];
    if (resolve_partial(work, real_work, sizeof(real_work), err, errlen) < 0 ||
        resolve_partial(path, real, sizeof(real), err, errlen) < 0)
        return -1;
    size_t n = strlen(real_work);
    if (strncmp(real, real_work, n) != 0 || (real[n] != '/' && real[n] != '\0')) {
        snprintf(err, errlen,
                 "refusing to touch %s: it resolves to %s, outside the work directory %s", path,
                 real, real_work);
        return -1;
    }
    return 0;
}

int faults_init(struct fault_state *f, const struct scenario *sc, const char *work, const char *dir,
                const char *db_path, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->sc = sc;
    f->lock_release_fd = -1;
    snprintf(f->mechanism, sizeof(f->mechanism), "%s", sc->mechanism);
    if (join_path(f->work, sizeof(f->work), err, errlen, work, "") < 0 ||
        join_path(f->dir, sizeof(f->dir), err, errlen, dir, "") < 0 ||
        join_path(f->db, sizeof(f->db), err, errlen, db_path, "") < 0 ||
        join_path(f->wal, sizeof(f->wal), err, errlen, db_path, "-wal") < 0 ||
        join_path(f->shm, sizeof(f->shm), err, errlen, db_path, "-shm") < 0 ||
        join_path(f->aside_dir, sizeof(f->aside_dir), err, errlen, dir, "/aside") < 0 ||
        join_path(f->aside_db, sizeof(f->aside_db), err, errlen, dir, "/aside/tasks.db") < 0 ||
        join_path(f->aside_wal, sizeof(f->aside_wal), err, errlen, dir, "/aside/tasks.db-wal") < 0)
        return -1;
    static const char *const intruder[] = {"/aside/intruder.db", "/aside/intruder.db-wal",
                                           "/aside/intruder.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        if (join_path(f->intruder[i], sizeof(f->intruder[i]), err, errlen, dir, intruder[i]) < 0)
            return -1;
    }
    snprintf(f->data_dir, sizeof(f->data_dir), "%s", db_path);
    char *slash = strrchr(f->data_dir, '/');
    if (!slash || slash == f->data_dir) {
        snprintf(err, errlen, "the database path %s has no directory part", db_path);
        return -1;
    }
    *slash = '\0';
    snprintf(f->ballast, sizeof(f->ballast), "%s/ballast", f->data_dir);
    f->mctx = (struct mechanism_ctx){.work = f->work,
                                     .dir = f->dir,
                                     .data_dir = f->data_dir,
                                     .db = f->db,
                                     .wal = f->wal,
                                     .shm = f->shm,
                                     .aside_dir = f->aside_dir,
                                     .param = sc->mech_param,
                                     .mechanism = f->mechanism};
    const char *checked[] = {f->dir, f->db, f->data_dir, f->aside_dir};
    for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
        if (faults_check_under(work, checked[i], err, errlen) < 0)
            return -1;
    }
    /* The data directory must not be the work directory itself: mounts go over it. */
    if (strcmp(f->data_dir, work) == 0) {
        snprintf(err, errlen,
                 "the database %s must be in a directory below the work directory "
                 "%s, not in it",
                 db_path, work);
        return -1;
    }
    return 0;
}

void faults_plan(const struct fault_state *f, struct buf *out)
{
    const char *db = f->db, *aside = f->aside_db;
    int step = 1;
    buf_printf(out, "  paths: database %s, aside %s\n", db, f->aside_dir);
    if (f->sc->mech) {
        f->sc->mech->plan(&f->mctx, out);
        return;
    }
    switch (f->sc->fault) {
    case FAULT_VOLUME_MOUNT:
        buf_printf(out,
                   "  %d. stop taskd (SIGTERM)\n  %d. rename %s -> %s\n  %d. mkdir %s\n"
                   "  %d. start taskd on it\n",
                   step, step + 1, db, aside, step + 2, db, step + 3);
        buf_printf(out, "  rollback: rmdir %s; rename %s -> %s\n", db, aside, db);
        break;
    case FAULT_DB_MISSING:
        buf_printf(out,
                   "  1. stop taskd (SIGTERM)\n  2. rename %s -> %s\n"
                   "  3. start taskd with --no-create\n",
                   db, aside);
        buf_printf(out, "  rollback: rename %s -> %s\n", aside, db);
        break;
    case FAULT_DB_DELETED:
        buf_printf(out, "  1. rename %s -> %s while taskd serves\n", db, aside);
        buf_printf(out, "  rollback: rename %s -> %s\n", aside, db);
        break;
    case FAULT_WAL_DELETED:
        buf_printf(out, "  1. unlink %s while taskd serves\n", f->wal);
        buf_printf(out, "  rollback: none (taskd rebuilds it); then kill -9 and restart taskd "
                        "before the audit\n");
        break;
    case FAULT_READONLY:
        buf_printf(out,
                   "  1. stop taskd (SIGTERM)\n  2. mount --bind %s %s\n"
                   "  3. mount -o remount,ro,bind %s\n  4. start taskd\n",
                   f->data_dir, f->data_dir, f->data_dir);
        buf_printf(out, "  rollback: umount -l %s\n", f->data_dir);
        break;
    case FAULT_DISK_FULL:
        buf_printf(out, "  0. before taskd starts: mount -t tmpfs -o size=%s tmpfs %s\n",
                   FAULTS_TMPFS_SIZE, f->data_dir);
        buf_printf(out, "  1. write %s until ENOSPC\n", f->ballast);
        buf_printf(out, "  rollback: unlink %s; at the end umount %s\n", f->ballast, f->data_dir);
        break;
    case FAULT_DB_LOCKED:
        buf_printf(out, "  1. a child opens %s and runs BEGIN IMMEDIATE\n", db);
        buf_printf(out, "  rollback: the child rolls back and exits\n");
        break;
    case FAULT_CORRUPT_HEADER:
        buf_printf(out,
                   "  1. stop taskd (SIGTERM)\n  2. save the first %d bytes of %s\n"
                   "  3. overwrite them with garbage\n  4. start taskd\n",
                   FAULTS_HEADER_LEN, db);
        buf_printf(out, "  rollback: write the saved bytes back\n");
        break;
    case FAULT_KILL9:
        buf_printf(out, "  1. SIGKILL taskd\n");
        buf_printf(out, "  rollback: start taskd again on the same database and port\n");
        break;
    case FAULT_MECHANISM:
        break; /* the mechanism's plan, above */
    }
}

/* mkdir -p for a path under the work directory. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char tmp[FAULTS_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "cannot create the directory %s: %s", tmp, strerror(errno));
    return -1;
}

int faults_prepare(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen)
{
    if (make_dirs(f->data_dir, err, errlen) < 0 || make_dirs(f->aside_dir, err, errlen) < 0)
        return -1;
    f->mctx.taskd = taskd;
    if (f->sc->mech)
        return f->sc->mech->prepare ? f->sc->mech->prepare(&f->mctx, err, errlen) : 0;
    if (f->sc->needs_root && geteuid() != 0) {
        snprintf(err, errlen,
                 "skipped: needs root (mount(2) is how this fault is made real; "
                 "root ignores chmod, so there is no honest unprivileged way)");
        return 1;
    }
    if (f->sc->fault != FAULT_DISK_FULL)
        return 0;
    if (mount("tmpfs", f->data_dir, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=" FAULTS_TMPFS_SIZE ",mode=0755") < 0) {
        int e = errno;
        snprintf(err, errlen, "%scannot mount a tmpfs on %s: %s",
                 e == EPERM ? "skipped: needs root: " : "", f->data_dir, strerror(e));
        return e == EPERM ? 1 : -1;
    }
    f->tmpfs_mounted = 1;
    snprintf(f->mechanism, sizeof(f->mechanism),
             "tmpfs of %s mounted at %s before taskd started; a ballast file written until "
             "ENOSPC",
             FAULTS_TMPFS_SIZE, f->data_dir);
    return 0;
}

/* Moves the database aside; with taskd stopped (`stopped`), a leftover -wal goes with it. A
 * live database keeps its -wal and -shm where they are: only the file is "deleted". */
static int move_db_aside(struct fault_state *f, int stopped, char *err, size_t errlen)
{
    if (rename(f->db, f->aside_db) < 0) {
        snprintf(err, errlen, "cannot move %s to %s: %s", f->db, f->aside_db, strerror(errno));
        return -1;
    }
    f->db_aside = 1;
    if (stopped && rename(f->wal, f->aside_wal) == 0)
        f->wal_aside = 1;
    if (stopped)
        unlink(f->shm); /* rebuilt from the -wal; a stale one must not outlive it */
    return 0;
}

static int fill_disk(struct fault_state *f, char *err, size_t errlen)
{
    int fd = open(f->ballast, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the ballast %s: %s", f->ballast, strerror(errno));
        return -1;
    }
    static const char block[64 * 1024];
    /* Smaller and smaller writes, so the last free page is taken too. */
    for (size_t size = sizeof(block); size >= 1; size /= 2) {
        while (write(fd, block, size) == (ssize_t)size)
            ;
        if (errno != ENOSPC && errno != 0 && errno != EFBIG) {
            snprintf(err, errlen, "writing the ballast %s failed: %s", f->ballast, strerror(errno));
            close(fd);
            unlink(f->ballast);
            return -1;
        }
    }
    close(fd);
    return 0;
}

static int hold_lock(struct fault_state *f, char *err, size_t errlen)
{
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(from_child, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        close(to_child[0]);
        close(to_child[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/proc/self/exe", "chaos", "__hold-lock", f->db, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork the lock holder: %s", strerror(errno));
        close(to_child[1]);
        close(from_child[0]);
        return -1;
    }
    f->lock_pid = pid;
    f->lock_release_fd = to_child[1];
    char line[16] = "";
    struct pollfd pfd = {.fd = from_child[0], .events = POLLIN};
    ssize_t got = 0;
    if (poll(&pfd, 1, LOCK_READY_TIMEOUT_MS) == 1)
        got = read(from_child[0], line, sizeof(line) - 1);
    close(from_child[0]);
    if (got <= 0 || strncmp(line, "locked", 6) != 0) {
        snprintf(err, errlen, "the lock holder did not get BEGIN IMMEDIATE on %s within %d ms",
                 f->db, LOCK_READY_TIMEOUT_MS);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(f->lock_release_fd);
        f->lock_release_fd = -1;
        f->lock_pid = 0;
        return -1;
    }
    return 0;
}

static int corrupt_header(struct fault_state *f, char *err, size_t errlen)
{
    int fd = open(f->db, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", f->db, strerror(errno));
        return -1;
    }
    int rc = -1;
    if (pread(fd, f->header, FAULTS_HEADER_LEN, 0) != FAULTS_HEADER_LEN) {
        snprintf(err, errlen, "cannot read the header of %s", f->db);
        goto out;
    }
    f->header_saved = 1;
    char garbage[FAULTS_HEADER_LEN];
    memset(garbage, 0, sizeof(garbage));
    snprintf(garbage, sizeof(garbage), "chaos corrupt-header: this is not a SQLite header");
    if (pwrite(fd, garbage, sizeof(garbage), 0) != (ssize_t)sizeof(garbage) || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot overwrite the header of %s: %s", f->db, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int mount_readonly(struct fault_state *f, char *err, size_t errlen)
{
    if (mount(f->data_dir, f->data_dir, NULL, MS_BIND, NULL) < 0) {
        snprintf(err, errlen, "cannot bind-mount %s over itself: %s", f->data_dir, strerror(errno));
        return -1;
    }
    f->ro_mounted = 1;
    if (mount(NULL, f->data_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
        snprintf(err, errlen, "cannot remount the bind of %s read-only: %s", f->data_dir,
                 strerror(errno));
        umount2(f->data_dir, MNT_DETACH);
        f->ro_mounted = 0;
        return -1;
    }
    snprintf(f->mechanism, sizeof(f->mechanism),
             "taskd stopped; %s bind-mounted over itself and remounted read-only "
             "(mount(2) MS_BIND then MS_REMOUNT|MS_BIND|MS_RDONLY); taskd started on it",
             f->data_dir);
    return 0;
}

/* The file-level part of a start-up fault, with taskd stopped. */
static int make_start_fault(struct fault_state *f, char *err, size_t errlen)
{
    switch (f->sc->fault) {
    case FAULT_VOLUME_MOUNT:
        if (move_db_aside(f, 1, err, errlen) < 0)
            return -1;
        if (mkdir(f->db, 0755) < 0) {
            snprintf(err, errlen, "cannot mkdir %s: %s", f->db, strerror(errno));
            return -1;
        }
        f->dir_made = 1;
        return 0;
    case FAULT_DB_MISSING:
        return move_db_aside(f, 1, err, errlen);
    case FAULT_READONLY:
        return mount_readonly(f, err, errlen);
    case FAULT_CORRUPT_HEADER:
        return corrupt_header(f, err, errlen);
    default:
        snprintf(err, errlen, "scenario %s is not a start-up fault", f->sc->name);
        return -1;
    }
}

/* Undoes what is in place, with system calls only. Safe in a signal handler. */
static void undo_files(struct fault_state *f)
{
    if (f->lock_pid > 0) {
        if (f->lock_release_fd >= 0)
            close(f->lock_release_fd);
        f->lock_release_fd = -1;
        kill(f->lock_pid, SIGTERM);
    }
    if (f->ro_mounted && umount2(f->data_dir, MNT_DETACH) == 0)
        f->ro_mounted = 0;
    if (f->dir_made && rmdir(f->db) == 0)
        f->dir_made = 0;
    if (f->db_aside && !f->dir_made) {
        /* A database made at the path meanwhile (a service that creates one) must not end up
         * beside the real one's -wal, nor its -wal beside the real database: move it away. */
        struct stat st;
        if (lstat(f->db, &st) == 0 && rename(f->db, f->intruder[0]) == 0) {
            rename(f->wal, f->intruder[1]);
            rename(f->shm, f->intruder[2]);
        }
        if (rename(f->aside_db, f->db) == 0)
            f->db_aside = 0;
    }
    if (f->wal_aside && rename(f->aside_wal, f->wal) == 0)
        f->wal_aside = 0;
    if (f->header_saved) {
        int fd = open(f->db, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (pwrite(fd, f->header, FAULTS_HEADER_LEN, 0) == FAULTS_HEADER_LEN && fsync(fd) == 0)
                f->header_saved = 0;
            close(fd);
        }
    }
    if (f->sc->fault == FAULT_DISK_FULL && f->injected)
        unlink(f->ballast);
}

/* A start-up fault: stop taskd, break the files, start it on them. Returns like faults_inject. */
static int inject_at_start(struct fault_state *f, struct taskd_runner *taskd, char *err,
                           size_t errlen)
{
    const struct scenario *sc = f->sc;
    if (!taskd_runner_can_restart(taskd)) {
        snprintf(err, errlen,
                 "%s needs to restart taskd: give --stop-cmd and --start-cmd "
                 "with --target",
                 sc->name);
        return -1;
    }
    if (taskd_runner_stop(taskd, err, errlen) < 0)
        return -1;
    f->injected = 1;
    if (make_start_fault(f, err, errlen) < 0) {
        char why[300];
        snprintf(why, sizeof(why), "%s", err);
        undo_files(f);
        f->injected = 0;
        if (taskd_runner_start(taskd, NULL, err, errlen) == 0)
            snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (taskd_runner_start(taskd, sc->taskd_args, err, errlen) < 0)
        return 1;
    return 0;
}

/* A fault made while taskd serves. Returns 0, or -1 with a sentence in err. */
static int inject_live(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen)
{
    switch (f->sc->fault) {
    case FAULT_DB_DELETED:
        return move_db_aside(f, 0, err, errlen);
    case FAULT_WAL_DELETED:
        if (unlink(f->wal) < 0) {
            snprintf(err, errlen, "cannot unlink %s: %s", f->wal, strerror(errno));
            return -1;
        }
        return 0;
    case FAULT_DISK_FULL:
        if (!f->tmpfs_mounted) {
            snprintf(err, errlen, "disk-full needs its tmpfs, and it is not mounted");
            return -1;
        }
        return fill_disk(f, err, errlen);
    case FAULT_DB_LOCKED:
        return hold_lock(f, err, errlen);
    case FAULT_KILL9:
        if (!taskd_runner_can_kill(taskd)) {
            snprintf(err, errlen,
                     "kill-9 needs a managed taskd, or --kill-cmd and --start-cmd "
                     "with --target");
            return -1;
        }
        return taskd_runner_kill9(taskd, err, errlen);
    default:
        snprintf(err, errlen, "scenario %s has no live injection", f->sc->name);
        return -1;
    }
}

int faults_inject(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen)
{
    if (f->sc->mech) {
        f->mctx.taskd = taskd;
        int rc = f->sc->mech->inject(&f->mctx, err, errlen);
        if (rc >= 0)
            f->injected = 1;
        return rc;
    }
    if (f->sc->at_start)
        return inject_at_start(f, taskd, err, errlen);
    if (inject_live(f, taskd, err, errlen) < 0)
        return -1;
    f->injected = 1;
    return 0;
}

int faults_rollback(struct fault_state *f, struct taskd_runner *taskd, char *err, size_t errlen)
{
    if (!f->injected)
        return 0;
    if (f->sc->mech) {
        if (f->sc->mech->rollback(&f->mctx, err, errlen) < 0)
            return -1;
        f->injected = 0;
        if (taskd->bin && taskd->pid == 0 && taskd_runner_start(taskd, NULL, err, errlen) < 0)
            return -1;
        return 0;
    }
    undo_files(f);
    if (f->lock_pid > 0) {
        int status;
        waitpid(f->lock_pid, &status, 0);
        f->lock_pid = 0;
    }
    if (f->db_aside || f->dir_made || f->ro_mounted || f->header_saved || f->wal_aside) {
        snprintf(err, errlen, "the rollback of %s is incomplete: %s%s%s%s%s", f->sc->name,
                 f->db_aside ? "the database is still at the aside path; " : "",
                 f->dir_made ? "the directory at the database path is not empty; " : "",
                 f->ro_mounted ? "the read-only mount is still there; " : "",
                 f->header_saved ? "the saved header could not be written back; " : "",
                 f->wal_aside ? "the -wal is still aside" : "");
        return -1;
    }
    f->injected = 0;
    int needs_start = taskd->bin ? taskd->pid == 0 : f->sc->fault == FAULT_KILL9;
    if (needs_start && taskd_runner_start(taskd, NULL, err, errlen) < 0)
        return -1;
    return 0;
}

void faults_cleanup(struct fault_state *f)
{
    if (f->sc && f->sc->mech && f->sc->mech->cleanup)
        f->sc->mech->cleanup(&f->mctx);
    if (f->ro_mounted && umount2(f->data_dir, MNT_DETACH) == 0)
        f->ro_mounted = 0;
    if (f->tmpfs_mounted && umount2(f->data_dir, MNT_DETACH) == 0)
        f->tmpfs_mounted = 0;
}

void faults_arm(struct fault_state *f, struct taskd_runner *taskd)
{
    armed = f;
    armed_taskd = taskd;
}

void faults_emergency_rollback(void)
{
    struct fault_state *f = armed;
    armed = NULL;
    taskd_runner_emergency_kill(armed_taskd);
    armed_taskd = NULL;
    if (!f)
        return;
    if (f->sc->mech) {
        if (f->sc->mech->emergency)
            f->sc->mech->emergency();
        return;
    }
    if (f->injected)
        undo_files(f);
    if (f->lock_pid > 0)
        kill(f->lock_pid, SIGKILL);
    faults_cleanup(f);
}

int faults_hold_lock_main(const char *db_path)
{
    sqlite3 *db = NULL;
    int rc = 1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "chaos: the lock holder cannot open %s: %s\n", db_path, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "chaos: the lock holder cannot take the write lock on %s: %s\n", db_path,
                sqlite3_errmsg(db));
        goto out;
    }
    fputs("locked\n", stdout);
    fflush(stdout);
    /* Held until stdin closes (then rolled back), or until SIGTERM/SIGKILL ends the process,
     * which releases the lock as well. */
    char c;
    while (read(STDIN_FILENO, &c, 1) > 0)
        ;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    rc = 0;
out:
    sqlite3_close(db);
    return rc;
}
