/*
 * service_runner: fork/exec of a supervised service with bounded waits, or the user's hooks for
 * an external one. See service_runner.h. A supervised child's environment is stripped of TASKD_*
 * variables, so the command line chaos prints is the whole configuration of a taskd it starts.
 */
#include "service_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http_fetch.h"
#include "port_file.h"

#define HOOK_TIMEOUT_S 30
#define ARG_MAX_LEN 4096

extern char **environ;

/* taskd's own command: its port file, database and log under the experiment's directory. */
static const char *const taskd_command[] = {"--listen",   "127.0.0.1:{port}", "--db",
                                            "{db}",       "--port-file",      "{port_file}",
                                            "--log-file", "{dir}/taskd.log",  NULL};
static const char default_url[] = "http://127.0.0.1:{port}";

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

static int add_templates(struct service_runner *r, size_t *n, const char *const *list, char *err,
                         size_t errlen)
{
    for (size_t i = 0; list && list[i]; i++) {
        if (*n == SERVICE_RUNNER_MAX_ARGS) {
            snprintf(err, errlen, "the service's command has too many arguments (at most %d)",
                     SERVICE_RUNNER_MAX_ARGS);
            return -1;
        }
        r->command[(*n)++] = list[i];
    }
    r->command[*n] = NULL;
    return 0;
}

static int any_uses(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (placeholders_uses(list[i], name))
            return 1;
    return 0;
}

int service_runner_init_supervised(struct service_runner *r, const struct scenario_service *svc,
                                   const char *taskd_bin, const char *const *extra,
                                   const char *work, const char *dir, const char *data_dir,
                                   const char *db, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->supervised = 1;
    if (copy_path(r->dir, sizeof(r->dir), dir, "experiment", err, errlen) < 0 ||
        copy_path(r->db_path, sizeof(r->db_path), db, "database", err, errlen) < 0 ||
        copy_path(r->data_dir, sizeof(r->data_dir), data_dir, "data", err, errlen) < 0)
        return -1;
    snprintf(r->out_path, sizeof(r->out_path), "%s/service.out", dir);
    snprintf(r->port_file, sizeof(r->port_file), "%s/service.port", dir);
    r->ph = (struct placeholders){.port_file = r->port_file,
                                  .dir = r->dir,
                                  .data_dir = r->data_dir,
                                  .db = r->db_path,
                                  .file_dir = svc->file_dir,
                                  .work = work};
    size_t n = 0;
    if (svc->taskd) {
        const char *bin[] = {taskd_bin, NULL};
        if (!taskd_bin) {
            snprintf(err, errlen, "no taskd to start (give --taskd)");
            return -1;
        }
        if (add_templates(r, &n, bin, err, errlen) < 0 ||
            add_templates(r, &n, taskd_command, err, errlen) < 0)
            return -1;
    } else if (add_templates(r, &n, svc->command, err, errlen) < 0) {
        return -1;
    }
    if (add_templates(r, &n, svc->args, err, errlen) < 0 ||
        add_templates(r, &n, extra, err, errlen) < 0)
        return -1;
    if (n == 0) {
        snprintf(err, errlen, "the service has no command");
        return -1;
    }
    for (size_t i = 0; svc->env[i] && i < SCENARIO_MAX_ENV; i++)
        r->env_tmpl[i] = svc->env[i];
    r->url_tmpl = svc->url ? svc->url : default_url;
    r->port_from_file = any_uses(r->command, "port_file");
    r->live = &svc->live;
    r->start_timeout_ns = svc->start_timeout_ns;
    r->stop_timeout_ns = svc->stop_timeout_ns;
    return 0;
}

int service_runner_init_external(struct service_runner *r, const char *url, const char *start_cmd,
                                 const char *stop_cmd, const char *kill_cmd,
                                 const struct scenario_http_check *live, char *err, size_t errlen)
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
    r->live = live;
    r->start_timeout_ns = 10 * 1000000000ull;
    r->stop_timeout_ns = 15 * 1000000000ull;
    return 0;
}

int service_runner_can_restart(const struct service_runner *r)
{
    return r->supervised || (r->start_cmd && r->stop_cmd);
}

int service_runner_can_kill(const struct service_runner *r)
{
    return r->supervised || (r->start_cmd && r->kill_cmd);
}

/* The last line of the service's output, appended to err, to explain a failed start. */
static void append_output_tail(const struct service_runner *r, char *err, size_t errlen)
{
    FILE *f = fopen(r->out_path, "r");
    if (!f)
        return;
    char tail[400] = "";
    char line[400];
    while (fgets(line, sizeof(line), f)) {
        if (line[strspn(line, " \t\r\n")])
            snprintf(tail, sizeof(tail), "%s", line);
    }
    fclose(f);
    tail[strcspn(tail, "\r\n")] = '\0';
    size_t used = strlen(err);
    if (*tail && used < errlen)
        snprintf(err + used, errlen - used, " (its output ends: %s)", tail);
}

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, cap, "ended with wait status 0x%x", (unsigned)status);
}

static void exec_child(const struct service_runner *r, char *const *argv, char *const *env,
                       int out_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0); /* its own group: stop and kill reach a wrapper's children too */
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
    for (size_t i = 0; env[i]; i++)
        putenv(env[i]);
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
    execvp(argv[0], argv);
    dprintf(STDERR_FILENO, "chaos: cannot run the service's command %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
}

/* Expands templates (then more) into list (NULL-terminated, malloc'ed strings). */
static int expand_list(const struct service_runner *r, const char *const *tmpl,
                       const char *const *more, char **list, size_t cap, char *err, size_t errlen)
{
    size_t n = 0;
    char text[ARG_MAX_LEN];
    for (int part = 0; part < 2; part++) {
        const char *const *src = part == 0 ? tmpl : more;
        for (size_t i = 0; src && src[i]; i++) {
            if (n + 1 >= cap) {
                snprintf(err, errlen, "the service's command has too many arguments");
                goto fail;
            }
            if (placeholders_expand(src[i], &r->ph, text, sizeof(text), err, errlen) < 0)
                goto fail;
            if (!(list[n] = strdup(text))) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            list[++n] = NULL;
        }
    }
    list[n] = NULL;
    return 0;
fail:
    list[n] = NULL;
    free_list(list);
    list[0] = NULL;
    return -1;
}

/* A port that is free now, for a service that takes {port}. */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    unsigned port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int spawn(struct service_runner *r, const char *const *more, char *err, size_t errlen)
{
    char *argv[SERVICE_RUNNER_MAX_ARGS + SCENARIO_MAX_ARGS + 2] = {NULL};
    char *env[SERVICE_RUNNER_MAX_ENV + 1] = {NULL};
    if (expand_list(r, r->command, more, argv, sizeof(argv) / sizeof(argv[0]), err, errlen) < 0)
        return -1;
    if (expand_list(r, r->env_tmpl, NULL, env, sizeof(env) / sizeof(env[0]), err, errlen) < 0) {
        free_list(argv);
        return -1;
    }
    int rc = -1;
    int fd = open(r->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", r->out_path, strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_child(r, argv, env, fd);
    close(fd);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork the service: %s", strerror(errno));
        goto out;
    }
    setpgid(pid, pid);
    r->pid = pid;
    rc = 0;
out:
    free_list(argv);
    free_list(env);
    return rc;
}

static int status_expected(const struct scenario_http_check *c, int status)
{
    for (size_t i = 0; i < c->nstatus; i++)
        if (c->status[i] == status)
            return 1;
    return 0;
}

int service_runner_poll(struct service_runner *r)
{
    int status;
    if (!r->supervised || !r->pid || waitpid(r->pid, &status, WNOHANG) != r->pid)
        return 0;
    kill(-r->pid, SIGKILL); /* what its group left behind */
    r->pid = 0;
    describe_status(status, r->last_exit, sizeof(r->last_exit));
    r->exits++;
    return 1;
}

/* Waits until the live probe answers as expected (and, supervised, the port is known), failing
 * fast when a supervised process ends. */
static int wait_live(struct service_runner *r, char *err, size_t errlen)
{
    uint64_t deadline = clock_monotonic_ns() + r->start_timeout_ns;
    int last = 0;
    while (clock_monotonic_ns() < deadline) {
        if (r->supervised) {
            if (service_runner_poll(r)) {
                snprintf(err, errlen, "the service %s during its start", r->last_exit);
                append_output_tail(r, err, errlen);
                return -1;
            }
            if (r->port_from_file && !r->port)
                r->port = port_file_read(r->port_file);
            if (r->port_from_file && !r->port) {
                sleep_ms(10);
                continue;
            }
            r->ph.port = r->port;
            char e[200];
            if (placeholders_expand(r->url_tmpl, &r->ph, r->url, sizeof(r->url), e, sizeof(e)) <
                0) {
                snprintf(err, errlen, "the service's URL: %s", e);
                return -1;
            }
        }
        char url[400];
        snprintf(url, sizeof(url), "%s%s", r->url, r->live->path);
        last = http_fetch_get(url, 500, NULL, NULL, 0);
        if (status_expected(r->live, last))
            return 0;
        sleep_ms(20);
    }
    char answer[48];
    if (last > 0)
        snprintf(answer, sizeof(answer), "it answered %d", last);
    else
        snprintf(answer, sizeof(answer), "no answer");
    snprintf(err, errlen,
             "the service at %s did not answer %s as expected within %.0f s of its "
             "start (%s)",
             *r->url ? r->url : "(no port yet)", r->live->path, (double)r->start_timeout_ns / 1e9,
             answer);
    if (r->supervised)
        append_output_tail(r, err, errlen);
    return -1;
}

int service_runner_start(struct service_runner *r, const char *const *more, char *err,
                         size_t errlen)
{
    if (!r->supervised) {
        if (!r->start_cmd) {
            snprintf(err, errlen, "cannot start the service at %s: no --start-cmd was given",
                     r->url);
            return -1;
        }
        int rc = service_runner_shell(r->start_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc != 0) {
            if (rc > 0)
                snprintf(err, errlen, "--start-cmd '%s' exited with %d", r->start_cmd, rc);
            return -1;
        }
        return wait_live(r, err, errlen);
    }
    if (r->pid) {
        snprintf(err, errlen, "the service is already running (pid %d)", (int)r->pid);
        return -1;
    }
    if (!r->port_from_file && !r->port)
        r->port = free_port();
    r->ph.port = r->port;
    if (r->port_from_file)
        unlink(r->port_file);
    if (spawn(r, more, err, errlen) < 0)
        return -1;
    if (wait_live(r, err, errlen) < 0) {
        service_runner_kill9(r, NULL, 0);
        return -1;
    }
    return 0;
}

/* Waits for the supervised child until the deadline. Returns 0 with its status, or -1. */
static int reap(struct service_runner *r, uint64_t timeout_ns, int *status)
{
    uint64_t deadline = clock_monotonic_ns() + timeout_ns;
    for (;;) {
        pid_t got = waitpid(r->pid, status, WNOHANG);
        if (got == r->pid || (got < 0 && errno == ECHILD)) {
            kill(-r->pid, SIGKILL); /* what its group left behind */
            r->pid = 0;
            return 0;
        }
        if (clock_monotonic_ns() >= deadline)
            return -1;
        sleep_ms(5);
    }
}

int service_runner_stop(struct service_runner *r, char *err, size_t errlen)
{
    if (!r->supervised) {
        if (!r->stop_cmd) {
            snprintf(err, errlen, "cannot stop the service at %s: no --stop-cmd was given", r->url);
            return -1;
        }
        int rc = service_runner_shell(r->stop_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc != 0 && rc > 0)
            snprintf(err, errlen, "--stop-cmd '%s' exited with %d", r->stop_cmd, rc);
        return rc == 0 ? 0 : -1;
    }
    if (!r->pid)
        return 0;
    int status = 0;
    kill(-r->pid, SIGTERM);
    if (reap(r, r->stop_timeout_ns, &status) < 0) {
        service_runner_kill9(r, NULL, 0);
        snprintf(err, errlen, "the service did not exit within %.0f s of SIGTERM; it was killed",
                 (double)r->stop_timeout_ns / 1e9);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[100];
        describe_status(status, how, sizeof(how));
        snprintf(err, errlen, "the service %s after SIGTERM, not 0", how);
        return -1;
    }
    return 0;
}

int service_runner_kill9(struct service_runner *r, char *err, size_t errlen)
{
    if (!r->supervised) {
        if (!r->kill_cmd) {
            snprintf(err, errlen, "cannot kill the service at %s: no --kill-cmd was given", r->url);
            return -1;
        }
        int rc = service_runner_shell(r->kill_cmd, HOOK_TIMEOUT_S, err, errlen);
        if (rc > 0)
            snprintf(err, errlen, "--kill-cmd '%s' exited with %d", r->kill_cmd, rc);
        return rc == 0 ? 0 : -1;
    }
    if (!r->pid) {
        if (err)
            snprintf(err, errlen, "the service is not running");
        return -1;
    }
    int status;
    kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
    reap(r, 15 * 1000000000ull, &status);
    return 0;
}

int service_runner_add_env(struct service_runner *r, const char *entry)
{
    size_t n = 0;
    while (r->env[n])
        n++;
    if (n == SERVICE_RUNNER_MAX_ENV)
        return -1;
    r->env[n] = entry;
    r->env[n + 1] = NULL;
    return 0;
}

int service_runner_signal(struct service_runner *r, int sig, char *err, size_t errlen)
{
    if (!r->supervised || !r->pid) {
        snprintf(err, errlen, "signal %d needs a service chaos started and that is running", sig);
        return -1;
    }
    if (kill(-r->pid, sig) < 0 && kill(r->pid, sig) < 0) {
        snprintf(err, errlen, "cannot signal the service (pid %d): %s", (int)r->pid,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void service_runner_emergency_kill(struct service_runner *r)
{
    if (r && r->supervised && r->pid > 0) {
        kill(-r->pid, SIGKILL);
        kill(r->pid, SIGKILL);
    }
}

void service_runner_describe(const struct service_runner *r, const char *const *more, char *out,
                             size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    char text[ARG_MAX_LEN], err[300];
    for (int part = 0; part < 2; part++) {
        const char *const *src = part == 0 ? r->command : more;
        for (size_t i = 0; src && src[i] && used + 1 < cap; i++) {
            const char *shown = src[i];
            if (placeholders_expand(src[i], &r->ph, text, sizeof(text), err, sizeof(err)) == 0)
                shown = text;
            int quote = strpbrk(shown, " \t'\"") != NULL || !*shown;
            used += (size_t)snprintf(out + used, cap - used, "%s%s%s%s", used ? " " : "",
                                     quote ? "'" : "", shown, quote ? "'" : "");
            if (used >= cap)
                used = cap - 1;
        }
    }
}

int service_runner_exec(const char *const *argv, const char *log_path, int timeout_s, char *err,
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

int service_runner_shell(const char *cmd, int timeout_s, char *err, size_t errlen)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int rc = service_runner_exec(argv, NULL, timeout_s, err, errlen);
    if (rc < 0 && strstr(err, "did not finish"))
        snprintf(err, errlen,
                 "'%s' did not finish within %d s and was killed (a hook must return: put a "
                 "long-running service in the background, or give the experiment a command "
                 "chaos supervises)",
                 cmd, timeout_s);
    return rc;
}
