/*
 * fault_owner: ownership, as it breaks in production — the service runs as an unprivileged
 * user (here nobody, uid 65534) and someone restores or copies the database as root, leaving
 * root's files 0644 beside a directory the service owns. SQLite then opens the file read-only
 * without an error, reads work, and every write fails with "attempt to write a readonly
 * database". chaos runs the service as that user for the whole experiment (it needs root to
 * switch), in an experiment directory the user owns; the rollback gives the files back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mechanism.h"

static struct {
    int taken; /* the database files belong to root now */
    char paths[3][620];
    uid_t uid;
    gid_t gid;
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
        if (setgroups(0, NULL) < 0 || setgid(st.gid) < 0 || setuid(st.uid) < 0)
            _exit(2);
        _exit(access(dir, W_OK | X_OK) == 0 ? 0 : 1);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static int owner_prepare(struct mechanism_ctx *c, char *err, size_t errlen)
{
    if (!c->service->supervised) {
        snprintf(err, errlen, "skipped: chaos must start the service to run it as another user");
        return 1;
    }
    memset(&st, 0, sizeof(st));
    st.uid = (uid_t)mechanism_param_number(c, "uid");
    st.gid = (gid_t)mechanism_param_number(c, "gid");
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
    if (chown(c->dir, st.uid, st.gid) < 0 || chown(c->data_dir, st.uid, st.gid) < 0) {
        snprintf(err, errlen, "cannot give %s to uid %d: %s", c->dir, (int)st.uid, strerror(errno));
        return -1;
    }
    if (!user_reaches(c->dir)) {
        snprintf(err, errlen,
                 "uid %d cannot reach %s: a directory above the work directory is not "
                 "traversable by others (chmod o+x it, or choose another --work-dir)",
                 (int)st.uid, c->dir);
        return -1;
    }
    c->service->run_as = 1;
    c->service->uid = st.uid;
    c->service->gid = st.gid;
    c->mechanism[0] = '\0';
    mechanism_say(c, "the service runs as uid %d and owns %s; ", (int)st.uid, c->data_dir);
    return 0;
}

static int owner_inject(struct mechanism_ctx *c, char *err, size_t errlen)
{
    st.taken = 1;
    if (give(0, 0, err, errlen) < 0 || chmod(c->db, 0644) < 0) {
        char ignored[200];
        give(st.uid, st.gid, ignored, sizeof(ignored));
        st.taken = 0;
        return -1;
    }
    mechanism_say(c,
                  "%s%s (and any -wal, -shm) chowned to root:root, mode 0644, as a restore done "
                  "as root leaves it%s",
                  c->at_start ? "the service stopped; " : "", c->db,
                  c->at_start ? "; the service started" : "");
    return 0;
}

static int owner_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (!st.taken)
        return 0;
    if (give(st.uid, st.gid, err, errlen) < 0)
        return -1;
    st.taken = 0;
    return 0;
}

static void owner_emergency(void)
{
    if (st.taken)
        for (size_t i = 0; i < 3; i++)
            lchown(st.paths[i], st.uid, st.gid);
}

static void owner_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out,
               "  before the service starts: chown %s and %s to uid %s; the service runs as "
               "uid %s\n  inject: chown %s (-wal, -shm) to root, mode 0644\n",
               c->dir, c->data_dir, mechanism_param(c, "uid"), mechanism_param(c, "uid"), c->db);
    buf_printf(out, "  rollback: chown them back to uid %s\n", mechanism_param(c, "uid"));
}

static const struct mechanism_param owner_params[] = {
    {"uid", MECHANISM_PARAM_COUNT, "65534", "the user the service runs as (nobody)"},
    {"gid", MECHANISM_PARAM_COUNT, "65534", "its group (nogroup)"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_owner = {
    .name = "owner",
    .summary = "the service runs as an unprivileged user; its database files are chowned to "
               "root, mode 0644 (a restore done as root)",
    .rollback_summary = "chown them back to the service's user",
    .params = owner_params,
    .when = MECHANISM_AT_START | MECHANISM_LIVE,
    .default_when = FAULT_AT_START,
    .needs_root = "switching the service to an unprivileged user",
    .prepare = owner_prepare,
    .inject = owner_inject,
    .rollback = owner_rollback,
    .emergency = owner_emergency,
    .plan = owner_plan,
};
