/*
 * mechanism: what the fault mechanisms share (see mechanism.h) — finding a tool beside chaos,
 * running a program with a bound on its time, the root check, the description of what was done.
 */
#include "mechanism.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int mechanism_sibling(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return (size_t)snprintf(out, cap, "%s/%s", self, name) < cap && access(out, X_OK) == 0 ? 0
                                                                                            : -1;
}

int mechanism_run(const char *const *argv, const char *log_path, int timeout_s, char *err,
                  size_t errlen)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork %s: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], (char *const *)argv);
        dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    uint64_t deadline = clock_monotonic_ns() + (uint64_t)timeout_s * 1000000000ull;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            break;
        if (clock_monotonic_ns() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errlen, "%s did not finish within %d s", argv[0], timeout_s);
            return -1;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status)) {
        snprintf(err, errlen, "%s was killed by signal %d", argv[0], WTERMSIG(status));
        return -1;
    }
    if (WEXITSTATUS(status) == 127)
        snprintf(err, errlen, "%s could not be run (is it installed? make deps)", argv[0]);
    else if (WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "%s exited with %d", argv[0], WEXITSTATUS(status));
    return WEXITSTATUS(status);
}

int mechanism_need_root(const char *why, char *err, size_t errlen)
{
    if (geteuid() == 0)
        return 0;
    snprintf(err, errlen, "skipped: needs root (%s)", why);
    return 1;
}

void mechanism_say(struct mechanism_ctx *c, const char *fmt, ...)
{
    size_t used = strlen(c->mechanism);
    if (used + 1 >= MECHANISM_TEXT_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->mechanism + used, MECHANISM_TEXT_MAX - used, fmt, ap);
    va_end(ap);
}
