/*
 * faults: the fault of an experiment, run through its mechanism (see faults.h). The paths a
 * mechanism may touch are computed and checked here, before anything is made, which is what
 * lets each mechanism undo from a signal handler with system calls on paths it already holds.
 */
#include "faults.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fault_state *armed;
static struct service_runner *armed_service;

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

/* Fills in every parameter of the mechanism (the file's value, else the default) and checks
 * that each path lies under the work directory. */
static int fill_params(struct fault_state *f, const struct placeholders *ph, char *err,
                       size_t errlen)
{
    const struct mechanism *m = f->sc->mech;
    for (size_t i = 0; m->params && m->params[i].name; i++) {
        const struct mechanism_param *p = &m->params[i];
        const char *v = f->sc->params[i] ? f->sc->params[i] : p->fallback;
        if (!v) {
            snprintf(err, errlen, "the %s mechanism needs its parameter \"%s\" (%s)", m->name,
                     p->name, p->doc);
            return -1;
        }
        char e[400];
        if (placeholders_expand(v, ph, f->params[i], sizeof(f->params[i]), e, sizeof(e)) < 0) {
            snprintf(err, errlen, "the %s mechanism's parameter \"%s\": %s", m->name, p->name, e);
            return -1;
        }
        if (p->type == MECHANISM_PARAM_PATH &&
            faults_check_under(f->work, f->params[i], err, errlen) < 0)
            return -1;
        f->param[i] = f->params[i];
    }
    return 0;
}

int faults_init(struct fault_state *f, const struct scenario *sc, const struct placeholders *ph,
                char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->sc = sc;
    snprintf(f->mechanism, sizeof(f->mechanism), "%s", sc->mechanism);
    if (join_path(f->work, sizeof(f->work), err, errlen, ph->work, "") < 0 ||
        join_path(f->dir, sizeof(f->dir), err, errlen, ph->dir, "") < 0 ||
        join_path(f->aside_dir, sizeof(f->aside_dir), err, errlen, ph->dir, "/aside") < 0 ||
        join_path(f->db, sizeof(f->db), err, errlen, ph->db, "") < 0 ||
        join_path(f->data_dir, sizeof(f->data_dir), err, errlen, ph->data_dir, "") < 0)
        return -1;
    if (fill_params(f, ph, err, errlen) < 0)
        return -1;
    /* A mechanism's "db" and "dir" parameters aim it at other files than the service's. */
    int db = mechanism_param_index(sc->mech, "db"), dir = mechanism_param_index(sc->mech, "dir");
    if (db >= 0)
        snprintf(f->db, sizeof(f->db), "%s", f->params[db]);
    if (dir >= 0)
        snprintf(f->data_dir, sizeof(f->data_dir), "%s", f->params[dir]);
    if (join_path(f->wal, sizeof(f->wal), err, errlen, f->db, "-wal") < 0 ||
        join_path(f->shm, sizeof(f->shm), err, errlen, f->db, "-shm") < 0)
        return -1;
    const char *checked[] = {f->dir, f->db, f->data_dir, f->aside_dir};
    for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
        if (faults_check_under(f->work, checked[i], err, errlen) < 0)
            return -1;
    }
    /* The data directory must not be the work directory itself: mounts go over it. */
    if (strcmp(f->data_dir, f->work) == 0) {
        snprintf(err, errlen,
                 "the data directory %s must be a directory below the work directory %s, not "
                 "the work directory itself",
                 f->data_dir, f->work);
        return -1;
    }
    f->mctx = (struct mechanism_ctx){.work = f->work,
                                     .dir = f->dir,
                                     .data_dir = f->data_dir,
                                     .db = f->db,
                                     .wal = f->wal,
                                     .shm = f->shm,
                                     .aside_dir = f->aside_dir,
                                     .param = f->param,
                                     .mech = sc->mech,
                                     .at_start = sc->at_start,
                                     .mechanism = f->mechanism};
    return 0;
}

void faults_plan(const struct fault_state *f, struct buf *out)
{
    const struct scenario *sc = f->sc;
    buf_printf(out, "  mechanism: %s", sc->mech->name);
    for (size_t i = 0; sc->mech->params && sc->mech->params[i].name; i++)
        buf_printf(out, "%s %s=%s", i ? "," : ";", sc->mech->params[i].name, f->param[i]);
    buf_printf(out, "; %s\n", sc->at_start ? "made with the service stopped" : "made live");
    buf_printf(out, "  paths: database %s, data %s, aside %s\n", f->db, f->data_dir, f->aside_dir);
    if (sc->at_start)
        buf_printf(out, "  before: stop the service (%s)\n",
                   sc->stop == FAULT_STOP_KILL ? "SIGKILL: a crash" : "SIGTERM");
    sc->mech->plan(&f->mctx, out);
    if (sc->at_start) {
        buf_printf(out, "  after: start the service on it");
        for (size_t i = 0; sc->service.fault_args[i]; i++)
            buf_printf(out, " %s", sc->service.fault_args[i]);
        buf_printf(out, "\n");
    }
    if (sc->mech->stops_service)
        buf_printf(out, "  then: start the service again on what is left\n");
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

int faults_prepare(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen)
{
    const struct mechanism *m = f->sc->mech;
    if (make_dirs(f->data_dir, err, errlen) < 0 || make_dirs(f->aside_dir, err, errlen) < 0)
        return -1;
    f->mctx.service = svc;
    if (m->needs_root && mechanism_need_root(m->needs_root, err, errlen))
        return 1;
    return m->prepare ? m->prepare(&f->mctx, err, errlen) : 0;
}

/* An at-start fault: stop the service, break the files, start it on them. Returns like
 * faults_inject. */
static int inject_at_start(struct fault_state *f, struct service_runner *svc, char *err,
                           size_t errlen)
{
    const struct scenario *sc = f->sc;
    if (!service_runner_can_restart(svc)) {
        snprintf(err, errlen,
                 "%s needs to restart the service: give --stop-cmd and --start-cmd with --target",
                 sc->name);
        return -1;
    }
    int stopped = sc->stop == FAULT_STOP_KILL ? service_runner_kill9(svc, err, errlen)
                                              : service_runner_stop(svc, err, errlen);
    if (stopped < 0)
        return -1;
    if (sc->mech->applies && !sc->mech->applies(&f->mctx, err, errlen)) {
        char why[600];
        snprintf(why, sizeof(why), "%s", err);
        if (service_runner_start(svc, NULL, err, errlen) == 0)
            snprintf(err, errlen, "%s", why);
        return 2;
    }
    f->injected = 1;
    if (sc->mech->inject(&f->mctx, err, errlen) < 0) {
        char why[600], ignored[300];
        snprintf(why, sizeof(why), "%s", err);
        sc->mech->rollback(&f->mctx, ignored, sizeof(ignored));
        f->injected = 0;
        if (service_runner_start(svc, NULL, err, errlen) == 0)
            snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (service_runner_start(svc, sc->service.fault_args, err, errlen) < 0) {
        f->service_down = 1;
        return 1;
    }
    return 0;
}

int faults_inject(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen)
{
    f->mctx.service = svc;
    if (f->sc->at_start)
        return inject_at_start(f, svc, err, errlen);
    if (f->sc->mech->applies && !f->sc->mech->applies(&f->mctx, err, errlen))
        return 2;
    int rc = f->sc->mech->inject(&f->mctx, err, errlen);
    if (rc >= 0)
        f->injected = 1;
    if (rc == 1 || (rc == 0 && f->sc->mech->stops_service))
        f->service_down = 1;
    return rc;
}

int faults_rollback(struct fault_state *f, struct service_runner *svc, char *err, size_t errlen)
{
    if (!f->injected)
        return 0;
    if (f->sc->mech->rollback(&f->mctx, err, errlen) < 0)
        return -1;
    f->injected = 0;
    /* A supervised service that is not running (the fault killed it, it never came up on the
     * fault, or it died of it) is started again, as an orchestrator would; one the user runs,
     * when the fault took it down. */
    service_runner_poll(svc);
    int down = svc->supervised ? svc->pid == 0 : f->service_down;
    f->service_down = 0;
    if (down && service_runner_start(svc, NULL, err, errlen) < 0)
        return -1;
    return 0;
}

void faults_cleanup(struct fault_state *f)
{
    if (f->sc && f->sc->mech->cleanup)
        f->sc->mech->cleanup(&f->mctx);
}

void faults_arm(struct fault_state *f, struct service_runner *svc)
{
    armed = f;
    armed_service = svc;
}

void faults_emergency_rollback(void)
{
    struct fault_state *f = armed;
    armed = NULL;
    service_runner_emergency_kill(armed_service);
    armed_service = NULL;
    if (f && f->sc->mech->emergency)
        f->sc->mech->emergency();
}
