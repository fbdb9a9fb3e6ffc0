/*
 * taskd_runner: fork/exec of a managed taskd with bounded waits, or the user's hooks for an
 * external one. See taskd_runner.h. A managed child's environment is stripped of TASKD_*
 * variables, so the command line chaos prints is the whole configuration.
 */
#include "taskd_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http_fetch.h"
#include "port_file.h"

#define START_TIMEOUT_NS (10 * 1000000000ull)
#define STOP_TIMEOUT_NS (15 * 1000000000ull)
#define HOOK_TIMEOUT_S 30

extern char **environ;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int copy_path(char *dst, size_t cap, const char *src, const char *what, char *err,
                     size_t errlen)
{
    if ((size_t)snprintf(dst, cap, "%s", src) >= cap) {
        snprintf(err, errlen, "the %s path %s is too long (at most %zu bytes)", what, src, cap - 1);
        return -1;
    }
    return 0;
}

int taskd_runner_init_managed(struct taskd_runner *r, const char *bin, const char *dir,
                              const char *db_path, const char *const *args, char *err,
                              size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->bin = bin;
    if (copy_path(r->dir, sizeof(r->dir), dir, "work", err, errlen) < 0 ||
        copy_path(r->db_path, sizeof(r->db_path), db_path, "database", err, errlen) < 0)
        return -1;
    snprintf(r->log_path, sizeof(r->log_path), "%s/taskd.log", dir);
    size_t n = 0;
    for (; args && args[n]; n++) {
        if (n == TASKD_RUNNER_MAX_ARGS - 8) {
            snprintf(err, errlen, "too many --taskd-arg values (at most %d)",
                     TASKD_RUNNER_MAX_ARGS - 8);
            return -1;
        }
        r->args[n] = args[n];
    }
    r->args[n] = NULL;
    return 0;
}

int taskd_runner_init_external(struct taskd_runner *r, const char *url, const char *start_cmd,
                               const char *stop_cmd, const char *kill_cmd, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    if (strncmp(url, "http://", 7) != 0 || len <= 7 || len >= sizeof(r->url)) {
        snprintf(err, errlen, "--target '%s' is not a base URL such as http://127.0.0.1:5000", url);
        return -1;
    }
    snprintf(r->url, sizeof(r->url), "%.*s", (int)len, url);
    r->start_cmd = start_cmd;
    r->stop_cmd = stop_cmd;
    r->kill_cmd = kill_cmd;
    return 0;
}

int taskd_runner_can_restart(const struct taskd_runner *r)
{
    return r->bin || (r->start_cmd && r->stop_cmd);
}

int taskd_runner_can_kill(const struct taskd_runner *r)
{
    return r->bin || (r->start_cmd && r->kill_cmd);
}

/* The last lines of taskd's stderr, appended to err, to explain a failed start. */
static void append_stderr_tail(const struct taskd_runner *r, char *err, size_t errlen)
{
    char path[TASKD_RUNNER_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/taskd.stderr", r->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char tail[400] = "";
    char line[400];
    while (fgets(line, sizeof(line), f))
        snprintf(tail, sizeof(tail), "%s", line);
    fclose(f);
    tail[strcspn(tail, "\n")] = '\0';
    size_t used = strlen(err);
    if (*tail && used < errlen)
        snprintf(err + used, errlen - used, " (taskd said: %s)", tail);
}

static void exec_taskd(const struct taskd_runner *r, const char *const *argv, int out_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    for (size_t i = 0; environ && environ[i];) {
        if (strncmp(environ[i], "TASKD_", 6) == 0) {
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)strcspn(environ[i], "="), environ[i]);
            unsetenv(name); /* shifts the array: look at index i again */
            continue;
        }
        i++;
    }
    for (size_t i = 0; r->env[i]; i++)
        putenv((char *)r->env[i]);
    if (r->run_as && (setgroups(0, NULL) < 0 || setgid(r->gid) < 0 || setuid(r->uid) < 0)) {
        dprintf(STDERR_FILENO, "cannot run as uid %d: %s\n", (int)r->uid, strerror(errno));
        _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], (char *const *)argv);
    dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int spawn(struct taskd_runner *r, const char *const *more, const char *port_file, char *err,
                 size_t errlen)
{
    const char *argv[2 * TASKD_RUNNER_MAX_ARGS + 16];
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", r->port);
    size_t n = 0;
    argv[n++] = r->bin;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--db";
    argv[n++] = r->db_path;
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--log-file";
    argv[n++] = r->log_path;
    for (size_t i = 0; r->args[i]; i++)
        argv[n++] = r->args[i];
    for (size_t i = 0; more && more[i] && i < TASKD_RUNNER_MAX_ARGS; i++)
        argv[n++] = more[i];
    argv[n] = NULL;
    char out_path[TASKD_RUNNER_PATH_MAX + 16];
    snprintf(out_path, sizeof(out_path), "%s/taskd.stderr", r->dir);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", out_path, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_taskd(r, argv, fd);
    close(fd);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork taskd: %s", strerror(errno));
        return -1;
    }
    r->pid = pid;
    return 0;
}

/* Waits for /livez 200 (and, managed, the port file), failing fast when a managed child dies. */
static int wait_listening(struct taskd_runner *r, const char *port_file, char *err, size_t errlen)
{
    uint64_t deadline = clock_monotonic_ns() + START_TIMEOUT_NS;
    while (clock_monotonic_ns() < deadline) {
        if (r->bin) {
            int status;
            if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
                r->pid = 0;
                snprintf(err, errlen, "taskd %s exited during start (wait status 0x%x)", r->bin,
                         (unsigned)status);
                append_stderr_tail(r, err, errlen);
                return -1;
            }
            unsigned port = port_file_read(port_file);
            if (port && !r->port)
                r->port = port;
            if (port)
                snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%u", r->port);
            else {
                sleep_ms(10);
                continue;
            }
        }
        char url[200];
        snprintf(url, sizeof(url), "%s/livez", r->url);
        if (http_fetch_get(url, 500, NULL, NULL, 0) == 200)
            return 0;
        sleep_ms(20);
    }
    snprintf(err, errlen, "taskd at %s did not answer /livez within 10 s of its start",
             *r->url ? r->url : "(no port yet)");
    if (r->bin)
        append_stderr_tail(r, err, errlen);
    return -1;
}

int taskd_runner_start(struct taskd_runner *r, const char *const *more, char *err, size_t errlen)
{
    char port_file[TASKD_RUNNER_PATH_MAX + 16];
    if (!r->bin) {
        if (!r->start_cmd) {
            snprintf(err, errlen, "cannot start the taskd at %s: no --start-cmd was given", r->url);
            return -1;
        }
        int rc = taskd_runner_shell(r->start_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc != 0) {
            if (rc > 0)
                snprintf(err, errlen, "--start-cmd '%s' exited with %d", r->start_cmd, rc);
            return -1;
        }
        return wait_listening(r, NULL, err, errlen);
    }
    if (r->pid) {
        snprintf(err, errlen, "taskd is already running (pid %d)", (int)r->pid);
        return -1;
    }
    snprintf(port_file, sizeof(port_file), "%s/taskd.port", r->dir);
    unlink(port_file);
    if (spawn(r, more, port_file, err, errlen) < 0)
        return -1;
    if (wait_listening(r, port_file, err, errlen) < 0) {
        taskd_runner_kill9(r, NULL, 0);
        return -1;
    }
    return 0;
}

/* Waits for the managed child until the deadline. Returns 0 with its status, or -1. */
static int reap(struct taskd_runner *r, uint64_t timeout_ns, int *status)
{
    uint64_t deadline = clock_monotonic_ns() + timeout_ns;
    for (;;) {
        pid_t got = waitpid(r->pid, status, WNOHANG);
        if (got == r->pid || (got < 0 && errno == ECHILD)) {
            r->pid = 0;
            return 0;
        }
        if (clock_monotonic_ns() >= deadline)
            return -1;
        sleep_ms(5);
    }
}

int taskd_runner_stop(struct taskd_runner *r, char *err, size_t errlen)
{
    if (!r->bin) {
        if (!r->stop_cmd) {
            snprintf(err, errlen, "cannot stop the taskd at %s: no --stop-cmd was given", r->url);
            return -1;
        }
        int rc = taskd_runner_shell(r->stop_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc != 0 && rc > 0)
            snprintf(err, errlen, "--stop-cmd '%s' exited with %d", r->stop_cmd, rc);
        return rc == 0 ? 0 : -1;
    }
    if (!r->pid)
        return 0;
    int status = 0;
    kill(r->pid, SIGTERM);
    if (reap(r, STOP_TIMEOUT_NS, &status) < 0) {
        taskd_runner_kill9(r, NULL, 0);
        snprintf(err, errlen, "taskd did not exit within 15 s of SIGTERM; it was killed");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "taskd exited with wait status 0x%x after SIGTERM, not 0",
                 (unsigned)status);
        return -1;
    }
    return 0;
}

int taskd_runner_kill9(struct taskd_runner *r, char *err, size_t errlen)
{
    if (!r->bin) {
        if (!r->kill_cmd) {
            snprintf(err, errlen, "cannot kill the taskd at %s: no --kill-cmd was given", r->url);
            return -1;
        }
        int rc = taskd_runner_shell(r->kill_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc > 0)
            snprintf(err, errlen, "--kill-cmd '%s' exited with %d", r->kill_cmd, rc);
        return rc == 0 ? 0 : -1;
    }
    if (!r->pid) {
        if (err)
            snprintf(err, errlen, "taskd is not running");
        return -1;
    }
    int status;
    kill(r->pid, SIGKILL);
    reap(r, STOP_TIMEOUT_NS, &status);
    return 0;
}

int taskd_runner_add_env(struct taskd_runner *r, const char *entry)
{
    size_t n = 0;
    while (r->env[n])
        n++;
    if (n == TASKD_RUNNER_MAX_ENV)
        return -1;
    r->env[n] = entry;
    r->env[n + 1] = NULL;
    return 0;
}

int taskd_runner_signal(struct taskd_runner *r, int sig, char *err, size_t errlen)
{
    if (!r->bin || !r->pid) {
        snprintf(err, errlen, "signal %d needs a taskd chaos started and that is running", sig);
        return -1;
    }
    if (kill(r->pid, sig) < 0) {
        snprintf(err, errlen, "cannot signal taskd (pid %d): %s", (int)r->pid, strerror(errno));
        return -1;
    }
    return 0;
}

void taskd_runner_emergency_kill(struct taskd_runner *r)
{
    if (r && r->bin && r->pid > 0)
        kill(r->pid, SIGKILL);
}

int taskd_runner_exec(const char *const *argv, const char *log_path, int timeout_s, char *err,
                      size_t errlen)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork %s: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (log_path) {
            int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
        }
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0); /* so a timeout kills the whole group, background jobs included */
        execvp(argv[0], (char *const *)argv);
        dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    uint64_t deadline = clock_monotonic_ns() + (uint64_t)timeout_s * 1000000000ull;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR) {
            snprintf(err, errlen, "cannot wait for %s: %s", argv[0], strerror(errno));
            return -1;
        }
        if (clock_monotonic_ns() >= deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "'%s' did not finish within %d s and was killed", argv[0],
                     timeout_s);
            return -1;
        }
        sleep_ms(10);
    }
    if (!WIFEXITED(status)) {
        snprintf(err, errlen, "'%s' was killed by signal %d", argv[0], WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

int taskd_runner_shell(const char *cmd, int timeout_s, char *err, size_t errlen)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int rc = taskd_runner_exec(argv, NULL, timeout_s, err, errlen);
    if (rc < 0 && strstr(err, "did not finish"))
        snprintf(err, errlen, "'%s' did not finish within %d s and was killed", cmd, timeout_s);
    return rc;
}
