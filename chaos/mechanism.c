/*
 * mechanism: what the fault mechanisms share (see mechanism.h) — finding a tool beside chaos,
 * the root check, the description of what was done. (Running a program with a bound on its
 * time is taskd_runner_exec, which the user's hooks use too.)
 */
#include "mechanism.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    return (size_t)snprintf(out, cap, "%s/%s", self, name) < cap && access(out, X_OK) == 0 ? 0 : -1;
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
