/*
 * options: see options.h. Options that keep their argument as is go through a table of slots;
 * values are parsed by common/flag_value with its range checks and sentences; the rest are
 * switches. Every usage error is one sentence in the caller's buffer, as taskd's and loadgen's.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flag_value.h"
#include "version.h"

#define MIN_WINDOW_NS 10000000ull /* 10 ms: no window or period may be shorter */
#define NOT_A_VALUE_OPTION 2      /* neither 0, -1 nor CHAOS_OPTIONS_EXIT_OK */

void chaos_options_usage(FILE *out)
{
    fprintf(out,
            "usage: chaos list\n"
            "       chaos run SCENARIO... [options]   (SCENARIO 'all' runs every one)\n"
            "\n"
            "Breaks a real taskd's persistence under load from loadgen's engine, checks that it\n"
            "fails closed and recovers, and audits every acknowledged write afterwards.\n"
            "\n"
            "options:\n"
            "  --work-dir DIR         everything chaos touches lives here (default ./chaos-work)\n"
            "  --taskd PATH           the taskd to start (default: taskd beside chaos)\n"
            "  --taskd-arg ARG        extra taskd argument, repeatable (e.g. "
            "--check-interval=50ms)\n"
            "  --rate R               load in requests/s, open model (default 200)\n"
            "  --steady D             steady-state window (default 3s)\n"
            "  --fault D              how long the fault stays in place (default 5s)\n"
            "  --recover-timeout D    how long taskd may take to be ready again (default 10s)\n"
            "  --probe-interval D     probe period (default 100ms)\n"
            "  --max-error-ratio X    steady-state error ratio tolerance (default 0.01)\n"
            "  --max-p99 D            steady-state p99 tolerance (default 250ms)\n"
            "  --journal FILE         the JSON journal (default WORK/journal.json)\n"
            "  --html FILE            an HTML report with the fault-window timeline\n"
            "  --dry-run              print the plan and touch nothing\n"
            "  --prometheus URL       check the expected alerts in Prometheus (/api/v1/alerts)\n"
            "  --alertmanager URL     ... and in Alertmanager (/api/v2/alerts)\n"
            "  --webhook-listen ADDR  receive Alertmanager webhooks here (e.g. 127.0.0.1:9095)\n"
            "  --alert-timeout D      how long to wait for alerts to fire and resolve "
            "(default 120s)\n"
            "  --target URL           a taskd you run (instead of starting one); with:\n"
            "  --db PATH              its database (under --work-dir)\n"
            "  --start-cmd CMD        starts it (sh -c); --stop-cmd CMD stops it (SIGTERM);\n"
            "  --kill-cmd CMD         kills it with SIGKILL (for kill-9)\n"
            "  -q, --quiet            no progress lines\n"
            "  -h, --help, --version\n"
            "\n"
            "exit status: 0 every hypothesis held, 1 taskd deviated, 2 usage or setup error\n");
}

enum {
    OPT_WORK = 256,
    OPT_TASKD,
    OPT_TASKD_ARG,
    OPT_RATE,
    OPT_STEADY,
    OPT_FAULT,
    OPT_RECOVER,
    OPT_PROBE,
    OPT_MAX_ERR,
    OPT_MAX_P99,
    OPT_JOURNAL,
    OPT_HTML,
    OPT_DRY,
    OPT_PROM,
    OPT_AM,
    OPT_HOOK,
    OPT_ALERT_TIMEOUT,
    OPT_TARGET,
    OPT_DB,
    OPT_START,
    OPT_STOP,
    OPT_KILL,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"work-dir", required_argument, NULL, OPT_WORK},
    {"taskd", required_argument, NULL, OPT_TASKD},
    {"taskd-arg", required_argument, NULL, OPT_TASKD_ARG},
    {"rate", required_argument, NULL, OPT_RATE},
    {"steady", required_argument, NULL, OPT_STEADY},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"recover-timeout", required_argument, NULL, OPT_RECOVER},
    {"probe-interval", required_argument, NULL, OPT_PROBE},
    {"max-error-ratio", required_argument, NULL, OPT_MAX_ERR},
    {"max-p99", required_argument, NULL, OPT_MAX_P99},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"html", required_argument, NULL, OPT_HTML},
    {"dry-run", no_argument, NULL, OPT_DRY},
    {"prometheus", required_argument, NULL, OPT_PROM},
    {"alertmanager", required_argument, NULL, OPT_AM},
    {"webhook-listen", required_argument, NULL, OPT_HOOK},
    {"alert-timeout", required_argument, NULL, OPT_ALERT_TIMEOUT},
    {"target", required_argument, NULL, OPT_TARGET},
    {"db", required_argument, NULL, OPT_DB},
    {"start-cmd", required_argument, NULL, OPT_START},
    {"stop-cmd", required_argument, NULL, OPT_STOP},
    {"kill-cmd", required_argument, NULL, OPT_KILL},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* A duration option: at least 10 ms, except the p99 tolerance. */
static int take_duration(const char *name, const char *v, uint64_t min_ns, uint64_t *out, char *err,
                         size_t errlen)
{
    return flag_duration(name, v, min_ns, FLAG_NO_MAX, out, err, errlen);
}

/* Options that keep their argument as is: where it goes, or NULL for the others. */
static const char **text_slot(struct chaos_options *c, int opt)
{
    struct experiment_options *o = &c->o;
    switch (opt) {
    case OPT_WORK:
        return &c->work_dir;
    case OPT_TASKD:
        return &o->taskd_bin;
    case OPT_JOURNAL:
        return &c->journal;
    case OPT_HTML:
        return &c->html;
    case OPT_PROM:
        return &o->prometheus_url;
    case OPT_AM:
        return &o->alertmanager_url;
    case OPT_TARGET:
        return &o->target_url;
    case OPT_DB:
        return &o->target_db;
    case OPT_START:
        return &o->start_cmd;
    case OPT_STOP:
        return &o->stop_cmd;
    case OPT_KILL:
        return &o->kill_cmd;
    default:
        return NULL;
    }
}

/* Options with a value to parse. Returns 0, -1 for a bad value (err says why), or
 * NOT_A_VALUE_OPTION. */
static int take_value(struct chaos_options *c, int opt, const char *arg, char *err, size_t errlen)
{
    struct experiment_options *o = &c->o;
    switch (opt) {
    case OPT_RATE:
        return flag_rate("rate", arg, 1, 100000, &o->rate, err, errlen);
    case OPT_STEADY:
        return take_duration("steady", arg, MIN_WINDOW_NS, &o->steady_ns, err, errlen);
    case OPT_FAULT:
        return take_duration("fault", arg, MIN_WINDOW_NS, &o->fault_ns, err, errlen);
    case OPT_RECOVER:
        return take_duration("recover-timeout", arg, MIN_WINDOW_NS, &o->recover_timeout_ns, err,
                             errlen);
    case OPT_PROBE:
        return take_duration("probe-interval", arg, MIN_WINDOW_NS, &o->probe_interval_ns, err,
                             errlen);
    case OPT_ALERT_TIMEOUT:
        return take_duration("alert-timeout", arg, MIN_WINDOW_NS, &o->alert_timeout_ns, err,
                             errlen);
    case OPT_MAX_ERR:
        return flag_ratio("max-error-ratio", arg, &o->max_error_ratio, err, errlen);
    case OPT_MAX_P99:
        return take_duration("max-p99", arg, 0, &o->max_p99_ns, err, errlen);
    case OPT_HOOK:
        c->webhook_listen = arg;
        return flag_addr("webhook-listen", arg, &c->webhook_addr, err, errlen);
    default:
        return NOT_A_VALUE_OPTION;
    }
}

static int add_taskd_arg(struct chaos_options *c, const char *arg, char *err, size_t errlen)
{
    if (c->nargs == EXPERIMENT_MAX_ARGS - 8) {
        snprintf(err, errlen, "too many --taskd-arg values (at most %d)", EXPERIMENT_MAX_ARGS - 8);
        return -1;
    }
    c->o.taskd_args[c->nargs++] = arg;
    return 0;
}

/* One option. Returns 0, CHAOS_OPTIONS_EXIT_OK after help or the version (printed), or -1 for
 * a usage error (err says why). */
static int take_option(struct chaos_options *c, int opt, const char *arg, const char *given,
                       char *err, size_t errlen)
{
    const char **slot = text_slot(c, opt);
    if (slot) {
        *slot = arg;
        return 0;
    }
    int rc = take_value(c, opt, arg, err, errlen);
    if (rc != NOT_A_VALUE_OPTION)
        return rc;
    switch (opt) {
    case OPT_TASKD_ARG:
        return add_taskd_arg(c, arg, err, errlen);
    case OPT_DRY:
        c->dry_run = 1;
        return 0;
    case 'q':
        c->o.verbose = 0;
        return 0;
    case 'h':
        chaos_options_usage(stdout);
        return CHAOS_OPTIONS_EXIT_OK;
    case OPT_VERSION:
        printf("chaos %s\n", taskbench_version());
        return CHAOS_OPTIONS_EXIT_OK;
    default:
        snprintf(err, errlen, "unknown option or missing value: %s (see chaos --help)", given);
        return -1;
    }
}

static int add_scenario(struct chaos_options *c, const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < scenarios_count(); i++)
            if (add_scenario(c, scenarios_at(i)->name, err, errlen) < 0)
                return -1;
        return 0;
    }
    const struct scenario *sc = scenarios_find(name);
    if (!sc) {
        snprintf(err, errlen, "unknown scenario '%s'; 'chaos list' shows them", name);
        return -1;
    }
    for (size_t i = 0; i < c->nscenarios; i++) {
        if (c->scenarios[i] == sc)
            return 0;
    }
    if (c->nscenarios == CHAOS_OPTIONS_MAX_SCENARIOS) {
        snprintf(err, errlen, "at most %d scenarios", CHAOS_OPTIONS_MAX_SCENARIOS);
        return -1;
    }
    c->scenarios[c->nscenarios++] = sc;
    return 0;
}

/* Options that only make sense together, or not together. Returns 0, or -1 (err says why). */
static int check_combinations(const struct chaos_options *c, char *err, size_t errlen)
{
    const struct experiment_options *o = &c->o;
    if (c->nscenarios == 0) {
        snprintf(err, errlen,
                 "name at least one scenario ('chaos list' shows them, 'all' runs every one)");
        return -1;
    }
    if (!o->target_url && (o->start_cmd || o->stop_cmd || o->kill_cmd || o->target_db)) {
        snprintf(err, errlen, "--start-cmd, --stop-cmd, --kill-cmd and --db go with --target");
        return -1;
    }
    if (o->target_url && o->taskd_bin) {
        snprintf(err, errlen, "give --taskd (chaos starts it) or --target (you run it), not both");
        return -1;
    }
    return 0;
}

/* Without --taskd or --target: the taskd beside the chaos binary. Returns 0, or -1 (err says
 * why) when the taskd to start cannot be run. */
static int find_taskd(struct chaos_options *c, char *err, size_t errlen)
{
    if (!c->o.target_url && !c->o.taskd_bin) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = '\0';
            if ((size_t)snprintf(c->taskd_default, sizeof(c->taskd_default), "%s/taskd", self) >=
                sizeof(c->taskd_default))
                c->taskd_default[0] = '\0';
        }
        c->o.taskd_bin = c->taskd_default;
    }
    if (c->o.taskd_bin && access(c->o.taskd_bin, X_OK) != 0) {
        snprintf(err, errlen, "cannot run taskd at %s: %s; build it (make) or give --taskd",
                 c->o.taskd_bin, strerror(errno));
        return -1;
    }
    return 0;
}

enum chaos_options_result chaos_options_parse(struct chaos_options *c, int argc, char **argv,
                                              char *err, size_t errlen)
{
    experiment_options_default(&c->o);
    c->o.verbose = 1;
    c->work_dir = "chaos-work";
    int opt;
    optind = 0; /* restarts getopt at argv[1], also between calls (the tests parse many) */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "qh", long_options, NULL)) != -1) {
        int rc = take_option(c, opt, optarg, argv[optind - 1], err, errlen);
        if (rc == CHAOS_OPTIONS_EXIT_OK)
            return CHAOS_OPTIONS_EXIT_OK;
        if (rc < 0)
            return CHAOS_OPTIONS_ERROR;
    }
    for (int i = optind; i < argc; i++) {
        if (add_scenario(c, argv[i], err, errlen) < 0)
            return CHAOS_OPTIONS_ERROR;
    }
    if (check_combinations(c, err, errlen) < 0 || find_taskd(c, err, errlen) < 0)
        return CHAOS_OPTIONS_ERROR;
    return CHAOS_OPTIONS_OK;
}
