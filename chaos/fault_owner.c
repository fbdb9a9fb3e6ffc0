/*
 * fault_owner: ownership, as it breaks in production — the service runs as an unprivileged
 * user (here nobody, uid 65534) and someone restores or copies the database as root, leaving
 * root's files 0644 beside a directory the service owns. SQLite then opens the file read-only
 * without an error, reads work, and every write fails with "attempt to write a readonly
 * database". chaos runs taskd as that user for the whole experiment (it needs root to switch),
 * in an experiment directory the user owns; the rollback gives the files back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mechanism.h"

#define SERVICE_UID 65534
#define SERVICE_GID 65534

static struct {
    int taken; /* the database files belong to root now */
    char paths[3][620];
} st;

static int give(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    for (size_t i = 0; i < 3; i++) {
        if (lchown(st.paths[i], uid, gid) < 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot chown %s to %d: %s", st.paths[i], (int)uid,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* 1 when the service user can enter and write `dir` (every directory above it traversable). */
static int user_reaches(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(SERVICE_GID) < 0 || setuid(SERVICE_UID) < 0)
            _exit(2);
        _exit(access(dir, W_OK | X_OK) == 0 ? 0 : 1);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static int owner_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (mechanism_need_root("switching taskd to an unprivileged user", err, errlen))
        return 1;
    if (!c->taskd->bin) {
        snprintf(err, errlen, "skipped: chaos must start taskd to run it as another user");
        return 1;
    }
    memset(&st, 0, sizeof(st));
    snprintf(st.paths[0], sizeof(st.paths[0]), "%s", c->db);
    snprintf(st.paths[1], sizeof(st.paths[1]), "%s", c->wal);
    snprintf(st.paths[2], sizeof(st.paths[2]), "%s", c->shm);
    /* The user must reach its directory: the work directory is traversable (not listable),
     * the experiment's directory and the data directory are the user's. */
    struct stat ws;
    if (stat(c->work, &ws) == 0 && chmod(c->work, (ws.st_mode & 07777) | 0111) < 0) {
        snprintf(err, errlen, "cannot make %s traversable: %s", c->work, strerror(errno));
        return -1;
    }
    if (chown(c->dir, SERVICE_UID, SERVICE_GID) < 0 ||
        chown(c->data_dir, SERVICE_UID, SERVICE_GID) < 0) {
        snprintf(err, errlen, "cannot give %s to uid %d: %s", c->dir, SERVICE_UID, strerror(errno));
        return -1;
    }
    if (!user_reaches(c->dir)) {
        snprintf(err, errlen,
                 "uid %d cannot reach %s: a directory above the work directory is not "
                 "traversable by others (chmod o+x it, or choose another --work-dir)",
                 SERVICE_UID, c->dir);
        return -1;
    }
    c->taskd->run_as = 1;
    c->taskd->uid = SERVICE_UID;
    c->taskd->gid = SERVICE_GID;
    c->mechanism[0] = '\0';
    mechanism_say(c, "taskd runs as uid %d (nobody) and owns %s; ", SERVICE_UID, c->data_dir);
    return 0;
}

static int owner_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (taskd_runner_stop(c->taskd, err, errlen) < 0)
        return -1;
    st.taken = 1;
    if (give(0, 0, err, errlen) < 0 || chmod(c->db, 0644) < 0) {
        give(SERVICE_UID, SERVICE_GID, err, errlen);
        st.taken = 0;
        taskd_runner_start(c->taskd, NULL, err, errlen);
        return -1;
    }
    mechanism_say(c,
                  "taskd stopped; %s (and any -wal, -shm) chowned to root:root, mode 0644, "
                  "as a restore done as root leaves it; taskd started",
                  c->db);
    return taskd_runner_start(c->taskd, NULL, err, errlen) < 0 ? 1 : 0;
}

static int owner_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (!st.taken)
        return 0;
    if (give(SERVICE_UID, SERVICE_GID, err, errlen) < 0)
        return -1;
    st.taken = 0;
    return 0;
}

static void owner_emergency(void)
{
    if (st.taken)
        for (size_t i = 0; i < 3; i++)
            lchown(st.paths[i], SERVICE_UID, SERVICE_GID);
}

static void owner_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  0. chown %s and %s to uid %d; taskd runs as uid %d\n  1. stop taskd\n  2. "
               "chown %s (-wal, -shm) to root, mode 0644\n  3. start taskd\n",
               c->dir, c->data_dir, SERVICE_UID, SERVICE_UID, c->db);
    buf_printf(out, "  rollback: chown them back to uid %d\n", SERVICE_UID);
}

const struct mechanism mechanism_owner = {
    .name = "ownership",
    .prepare = owner_prepare,
    .inject = owner_inject,
    .rollback = owner_rollback,
    .emergency = owner_emergency,
    .plan = owner_plan,
};
