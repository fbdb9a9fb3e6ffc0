/*
 * taskd_proc: fork/exec of taskd with bounded waits for its port file and its exit.
 * See taskd_proc.h. Running children are tracked in a small table for the atexit cleanup.
 */
#include "taskd_proc.h"
#include "temp_names.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "port_file.h"

#define TRACKED_MAX 16

extern char **environ;

static struct taskd_proc *tracked[TRACKED_MAX];
static int atexit_installed;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void cleanup_at_exit(void)
{
    for (int i = 0; i < TRACKED_MAX; i++) {
        if (tracked[i])
            taskd_proc_destroy(tracked[i]);
    }
}

static void track(struct taskd_proc *p)
{
    if (!atexit_installed) {
        atexit(cleanup_at_exit);
        atexit_installed = 1;
    }
    for (int i = 0; i < TRACKED_MAX; i++) {
        if (tracked[i] == p)
            return;
    }
    for (int i = 0; i < TRACKED_MAX; i++) {
        if (!tracked[i]) {
            tracked[i] = p;
            return;
        }
    }
}

static void untrack(struct taskd_proc *p)
{
    for (int i = 0; i < TRACKED_MAX; i++) {
        if (tracked[i] == p)
            tracked[i] = NULL;
    }
}

const char *taskd_proc_bin(void)
{
    static char path[1024];
    const char *bin = getenv("TASKD_BIN");
    if (bin && *bin)
        return bin;
    const char *root = getenv("TASKBENCH_ROOT");
    snprintf(path, sizeof(path), "%s/build/bin/taskd", root && *root ? root : ".");
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int taskd_proc_remove_tree(const char *dir)
{
    if (!dir || !*dir)
        return 0;
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT ? -1 : 0;
}

char *taskd_proc_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        char *grown = realloc(data, cap);
        if (!grown) {
            free(data);
            data = NULL;
        }
        data = grown;
    }
    fclose(f);
    if (!data)
        return NULL;
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

char *taskd_proc_read_log(const struct taskd_proc *p, size_t *len)
{
    return taskd_proc_read_file(p->log_path, len);
}

/* Prints taskd's stderr as TAP comments, to explain a failed start. */
static void show_stderr(const struct taskd_proc *p)
{
    char *text = taskd_proc_read_file(p->stderr_path, NULL);
    if (!text)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "#   taskd stderr: %s\n", line);
    free(text);
}

static void free_strings(char **list)
{
    for (int i = 0; list[i]; i++) {
        free(list[i]);
        list[i] = NULL;
    }
}

/* A copy of `s` with every "@DIR@" replaced by `dir` (NULL: no replacement). */
static char *expand(const char *s, const char *dir)
{
    static const char token[] = "@DIR@";
    size_t tlen = sizeof(token) - 1, dlen = dir ? strlen(dir) : 0, count = 0;
    for (const char *at = s; dir && (at = strstr(at, token)); at += tlen)
        count++;
    char *out = malloc(strlen(s) + count * dlen + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    for (const char *at = s, *next; *at; at = next + tlen) {
        next = dir ? strstr(at, token) : NULL;
        size_t n = next ? (size_t)(next - at) : strlen(at);
        memcpy(out + used, at, n);
        used += n;
        if (!next)
            break;
        memcpy(out + used, dir, dlen);
        used += dlen;
    }
    out[used] = '\0';
    return out;
}

static int copy_strings(char **dst, const char *const *src, const char *dir)
{
    int n = 0;
    for (; src && src[n]; n++) {
        if (n == TASKD_PROC_MAX_ARGS || !(dst[n] = expand(src[n], dir)))
            return -1;
    }
    dst[n] = NULL;
    return 0;
}

/* In the child: a clean TASKD_* environment plus the test's entries, then exec. */
static void exec_child(const char *const *argv, char *const *env, int out_fd, int err_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    for (size_t i = 0; environ && environ[i];) {
        if (strncmp(environ[i], "TASKD_", 6) == 0) {
            char name[128];
            size_t n = strcspn(environ[i], "=");
            snprintf(name, sizeof(name), "%.*s", (int)n, environ[i]);
            unsetenv(name);
            continue; /* unsetenv shifted the array */
        }
        i++;
    }
    for (size_t i = 0; env && env[i]; i++)
        putenv(env[i]);
    execv(argv[0], (char *const *)argv);
    dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int spawn(struct taskd_proc *p)
{
    const char *argv[TASKD_PROC_MAX_ARGS + 16];
    int n = 0;
    argv[n++] = taskd_proc_bin();
    if (!p->omit_listen_db) {
        argv[n++] = "--listen";
        argv[n++] = "127.0.0.1:0";
        argv[n++] = "--db";
        argv[n++] = p->db_path;
    }
    argv[n++] = "--port-file";
    argv[n++] = p->port_file;
    argv[n++] = "--log-file";
    argv[n++] = p->log_path;
    for (int i = 0; p->args[i]; i++)
        argv[n++] = p->args[i];
    argv[n] = NULL;
    int fd = open(p->stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, p->env, fd, fd);
    close(fd);
    if (pid < 0)
        return -1;
    p->pid = pid;
    track(p);
    return 0;
}

/* Waits for the port file; fails fast if taskd exits first. */
static int wait_for_port(struct taskd_proc *p)
{
    uint64_t deadline = clock_monotonic_ns() + TASKD_PROC_START_TIMEOUT_MS * 1000000ull;
    while (clock_monotonic_ns() < deadline) {
        unsigned port = port_file_read(p->port_file);
        if (port) {
            p->port = (uint16_t)port;
            return 0;
        }
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            fprintf(stderr, "# taskd exited during start (wait status 0x%x)\n", status);
            p->pid = 0;
            return -1;
        }
        sleep_ms(5);
    }
    fprintf(stderr, "# taskd wrote no port file within %d ms\n", TASKD_PROC_START_TIMEOUT_MS);
    return -1;
}

int taskd_proc_restart(struct taskd_proc *p)
{
    if (p->pid > 0) {
        fprintf(stderr, "# taskd_proc_restart: taskd is still running\n");
        return -1;
    }
    unlink(p->port_file);
    p->port = 0;
    if (spawn(p) < 0) {
        fprintf(stderr, "# cannot start %s: %s\n", taskd_proc_bin(), strerror(errno));
        return -1;
    }
    if (wait_for_port(p) < 0) {
        show_stderr(p);
        int status;
        taskd_proc_kill9(p, &status);
        return -1;
    }
    return 0;
}

int taskd_proc_start(struct taskd_proc *p, const struct taskd_opts *opts)
{
    memset(p, 0, sizeof(*p));
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof(p->dir), "%s/taskd-e2e-" MKSTEMP_SUFFIX, tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p->dir)) {
        fprintf(stderr, "# mkdtemp %s: %s\n", p->dir, strerror(errno));
        p->dir[0] = '\0';
        return -1;
    }
    snprintf(p->port_file, sizeof(p->port_file), "%s/port", p->dir);
    snprintf(p->db_path, sizeof(p->db_path), "%s/data/tasks.db", p->dir);
    snprintf(p->log_path, sizeof(p->log_path), "%s/taskd.log", p->dir);
    snprintf(p->stderr_path, sizeof(p->stderr_path), "%s/stderr", p->dir);
    p->omit_listen_db = opts ? opts->omit_listen_db : 0;
    if (copy_strings(p->args, opts ? opts->args : NULL, p->dir) < 0 ||
        copy_strings(p->env, opts ? opts->env : NULL, p->dir) < 0) {
        fprintf(stderr, "# taskd_proc_start: too many arguments\n");
        taskd_proc_destroy(p);
        return -1;
    }
    track(p);
    if (taskd_proc_restart(p) < 0) {
        taskd_proc_destroy(p);
        return -1;
    }
    return 0;
}

int taskd_proc_set_args(struct taskd_proc *p, const char *const *args)
{
    char *copy[TASKD_PROC_MAX_ARGS + 1] = {NULL};
    if (copy_strings(copy, args, p->dir) < 0) {
        free_strings(copy);
        return -1;
    }
    free_strings(p->args);
    memcpy(p->args, copy, sizeof(copy));
    return 0;
}

int taskd_proc_signal(struct taskd_proc *p, int sig)
{
    return p->pid > 0 ? kill(p->pid, sig) : -1;
}

int taskd_proc_wait(struct taskd_proc *p, int timeout_ms, int *status)
{
    if (p->pid <= 0)
        return -1;
    uint64_t deadline = clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        pid_t r = waitpid(p->pid, status, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (clock_monotonic_ns() >= deadline)
            return -1;
        sleep_ms(2);
    }
}

int taskd_proc_stop(struct taskd_proc *p, int *status)
{
    if (taskd_proc_signal(p, SIGTERM) < 0)
        return -1;
    if (taskd_proc_wait(p, TASKD_PROC_STOP_TIMEOUT_MS, status) == 0)
        return 0;
    fprintf(stderr, "# taskd did not exit within %d ms of SIGTERM; killing it\n",
            TASKD_PROC_STOP_TIMEOUT_MS);
    int ignored;
    taskd_proc_kill9(p, &ignored);
    return -1;
}

int taskd_proc_kill9(struct taskd_proc *p, int *status)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, status, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
    return 0;
}

void taskd_proc_destroy(struct taskd_proc *p)
{
    int status;
    if (p->pid > 0)
        taskd_proc_kill9(p, &status);
    if (p->dir[0]) {
        taskd_proc_remove_tree(p->dir);
        p->dir[0] = '\0';
    }
    free_strings(p->args);
    free_strings(p->env);
    untrack(p);
}

static char *read_fd_all(int fd)
{
    size_t cap = 1024, n = 0;
    char *data = malloc(cap);
    for (;;) {
        if (!data)
            return NULL;
        ssize_t got = read(fd, data + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n + 1 == cap) {
            cap *= 2;
            char *grown = realloc(data, cap);
            if (!grown)
                free(data);
            data = grown;
        }
    }
    data[n] = '\0';
    return data;
}

int taskd_proc_run(const char *const *args, const char *const *env, int timeout_ms, int *status,
                   char **out, char **err)
{
    return taskd_proc_run_program(taskd_proc_bin(), args, env, timeout_ms, status, out, err);
}

const char *taskd_proc_tool_bin(const char *name)
{
    static char path[2][512];
    static const char *const names[2] = {"loadgen", "chaos"};
    int i = strcmp(name, "chaos") == 0;
    if (!path[i][0]) {
        const char *taskd = taskd_proc_bin();
        const char *slash = strrchr(taskd, '/');
        int dir_len = slash ? (int)(slash - taskd) : 1;
        snprintf(path[i], sizeof path[i], "%.*s/%s", dir_len, slash ? taskd : ".", names[i]);
    }
    return path[i];
}

pid_t taskd_proc_spawn_program(const char *bin, const char *const *args, const char *out_path,
                               const char *err_path)
{
    const char *argv[TASKD_PROC_MAX_ARGS + 2];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args && args[i] && n <= TASKD_PROC_MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid = -1;
    if (out_fd >= 0 && err_fd >= 0 && (pid = fork()) == 0)
        exec_child(argv, NULL, out_fd, err_fd);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    return pid;
}

int taskd_proc_run_program(const char *bin, const char *const *args, const char *const *env,
                           int timeout_ms, int *status, char **out, char **err)
{
    *out = *err = NULL;
    const char *tmp = getenv("TMPDIR");
    char tmpl_out[300], tmpl_err[300];
    snprintf(tmpl_out, sizeof(tmpl_out), "%s/taskd-e2e-out-" MKSTEMP_SUFFIX,
             tmp && *tmp ? tmp : "/tmp");
    snprintf(tmpl_err, sizeof(tmpl_err), "%s/taskd-e2e-err-" MKSTEMP_SUFFIX,
             tmp && *tmp ? tmp : "/tmp");
    int out_fd = mkstemp(tmpl_out), err_fd = mkstemp(tmpl_err);
    int rc = -1;
    if (out_fd < 0 || err_fd < 0)
        goto out;
    const char *argv[TASKD_PROC_MAX_ARGS + 2];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args && args[i] && n <= TASKD_PROC_MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char *env_copy[TASKD_PROC_MAX_ARGS + 1] = {NULL};
    if (copy_strings(env_copy, env, NULL) < 0) {
        free_strings(env_copy);
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_child(argv, env_copy, out_fd, err_fd);
    free_strings(env_copy);
    if (pid < 0)
        goto out;
    struct taskd_proc child = {.pid = pid};
    if (taskd_proc_wait(&child, timeout_ms, status) < 0) {
        taskd_proc_kill9(&child, status);
        fprintf(stderr, "# %s %s did not exit within %d ms\n", bin, args && args[0] ? args[0] : "",
                timeout_ms);
        goto out;
    }
    lseek(out_fd, 0, SEEK_SET);
    lseek(err_fd, 0, SEEK_SET);
    *out = read_fd_all(out_fd);
    *err = read_fd_all(err_fd);
    rc = *out && *err ? 0 : -1;
out:
    if (out_fd >= 0) {
        close(out_fd);
        unlink(tmpl_out);
    }
    if (err_fd >= 0) {
        close(err_fd);
        unlink(tmpl_err);
    }
    return rc;
}
