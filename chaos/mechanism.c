/*
 * mechanism: the registry of fault mechanisms and what they share (see mechanism.h) — their
 * parameters, finding a tool beside chaos, the root check, the description of what was done.
 * (Running a program with a bound on its time is service_runner_exec, which the user's hooks
 * use too.)
 */
#include "mechanism.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flag_value.h"
#include "placeholders.h"

const struct mechanism *const mechanisms[] = {
    &mechanism_move_away,
    &mechanism_make_directory,
    &mechanism_unlink,
    &mechanism_overwrite_bytes,
    &mechanism_readonly_mount,
    &mechanism_fill_disk,
    &mechanism_sqlite_lock,
    &mechanism_kill,
    &mechanism_pause,
    &mechanism_fiu,
    &mechanism_power,
    &mechanism_corrupt_page,
    &mechanism_torn_wal,
    &mechanism_older_copy,
    &mechanism_stale_wal,
    &mechanism_remount,
    &mechanism_inodes,
    &mechanism_owner,
    NULL,
};

const struct mechanism *mechanism_find(const char *name)
{
    for (size_t i = 0; name && mechanisms[i]; i++)
        if (strcmp(mechanisms[i]->name, name) == 0)
            return mechanisms[i];
    return NULL;
}

int mechanism_param_index(const struct mechanism *m, const char *name)
{
    for (int i = 0; m->params && m->params[i].name; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return i;
    return -1;
}

const char *mechanism_param(const struct mechanism_ctx *c, const char *name)
{
    int i = mechanism_param_index(c->mech, name);
    return i >= 0 && c->param ? c->param[i] : NULL;
}

uint64_t mechanism_param_number(const struct mechanism_ctx *c, const char *name)
{
    const char *v = mechanism_param(c, name);
    int i = mechanism_param_index(c->mech, name);
    uint64_t n = 0;
    char err[200];
    if (!v || i < 0)
        return 0;
    switch (c->mech->params[i].type) {
    case MECHANISM_PARAM_SIZE:
        flag_size(name, v, 0, FLAG_NO_MAX, &n, err, sizeof(err));
        break;
    case MECHANISM_PARAM_DURATION:
        flag_duration(name, v, 0, FLAG_NO_MAX, &n, err, sizeof(err));
        break;
    default:
        flag_count(name, v, 0, UINT64_MAX, &n, err, sizeof(err));
        break;
    }
    return n;
}

int mechanism_param_check(const struct mechanism_param *p, const char *value, char *err,
                          size_t errlen)
{
    uint64_t n;
    switch (p->type) {
    case MECHANISM_PARAM_PATH:
        if (!*value) {
            snprintf(err, errlen, "expected a path (%s), got an empty string", p->doc);
            return -1;
        }
        return placeholders_check(value, err, errlen);
    case MECHANISM_PARAM_TEXT:
        return 0;
    case MECHANISM_PARAM_SIZE:
        return flag_size(p->name, value, 1, FLAG_NO_MAX, &n, err, errlen);
    case MECHANISM_PARAM_DURATION:
        return flag_duration(p->name, value, 0, FLAG_NO_MAX, &n, err, errlen);
    case MECHANISM_PARAM_COUNT:
        return flag_count(p->name, value, 0, UINT32_MAX, &n, err, errlen);
    }
    return -1;
}

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

int mechanism_wal_present(const char *wal, char *why, size_t whylen)
{
    if (access(wal, F_OK) == 0 || errno != ENOENT)
        return 1;
    snprintf(why, whylen,
             "does not apply: the service does not keep its database in SQLite's WAL mode (no "
             "-wal at %s)",
             wal);
    return 0;
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

void mechanism_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
