/*
 * fault_lock: another process holds the database's write lock (db-locked). A child of chaos,
 * `chaos __hold-lock DB`, opens the database with SQLite and takes BEGIN IMMEDIATE, says
 * "locked", and holds the lock until its stdin closes (then rolls back) or it is killed —
 * either releases the lock, so the emergency undo is a kill. It dies with chaos
 * (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mechanism.h"

#define LOCK_READY_TIMEOUT_MS 5000

static struct {
    pid_t pid;
    int release_fd; /* closing it releases the lock holder */
} st = {0, -1};

static int lock_inject(struct mechanism_ctx *c, char *err, size_t errlen)
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
        execl("/proc/self/exe", "chaos", "__hold-lock", c->db, (char *)NULL);
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
    st.pid = pid;
    st.release_fd = to_child[1];
    char line[16] = "";
    struct pollfd pfd = {.fd = from_child[0], .events = POLLIN};
    ssize_t got = 0;
    if (poll(&pfd, 1, LOCK_READY_TIMEOUT_MS) == 1)
        got = read(from_child[0], line, sizeof(line) - 1);
    close(from_child[0]);
    if (got <= 0 || strncmp(line, "locked", 6) != 0) {
        snprintf(err, errlen, "the lock holder did not get BEGIN IMMEDIATE on %s within %d ms",
                 c->db, LOCK_READY_TIMEOUT_MS);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(st.release_fd);
        st.release_fd = -1;
        st.pid = 0;
        return -1;
    }
    c->mechanism[0] = '\0';
    mechanism_say(c, "a child process (pid %d) opened %s with SQLite and holds BEGIN IMMEDIATE",
                  (int)pid, c->db);
    return 0;
}

static void release(void)
{
    if (st.release_fd >= 0)
        close(st.release_fd);
    st.release_fd = -1;
    if (st.pid > 0)
        kill(st.pid, SIGTERM);
}

static int lock_rollback(struct mechanism_ctx *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    release();
    if (st.pid > 0)
        waitpid(st.pid, NULL, 0);
    st.pid = 0;
    return 0;
}

static void lock_emergency(void)
{
    if (st.pid > 0)
        kill(st.pid, SIGKILL);
}

static void lock_plan(const struct mechanism_ctx *c, struct buf *out)
{
    buf_printf(out, "  inject: a child opens %s and runs BEGIN IMMEDIATE\n", c->db);
    buf_printf(out, "  rollback: the child rolls back and exits\n");
}

static const struct mechanism_param lock_params[] = {
    {"db", MECHANISM_PARAM_PATH, "{db}", "the SQLite database to lock"},
    {NULL, 0, NULL, NULL},
};

const struct mechanism mechanism_sqlite_lock = {
    .name = "sqlite-lock",
    .summary = "another process opens the SQLite database and holds BEGIN IMMEDIATE",
    .rollback_summary = "the process rolls back and exits",
    .params = lock_params,
    .when = MECHANISM_LIVE,
    .default_when = FAULT_LIVE,
    .inject = lock_inject,
    .rollback = lock_rollback,
    .emergency = lock_emergency,
    .plan = lock_plan,
};

int fault_lock_main(const char *db_path)
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
