/*
 * options: see options.h. Options that keep their argument as is go through a table of slots;
 * numbers and durations are parsed with range checks; the rest are flags. Every usage error is
 * one sentence on stderr that names the option and what it accepts.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "version.h"

#define MIN_WINDOW_NS 10000000ull /* 10 ms: no window or period may be shorter */
#define NOT_A_VALUE_OPTION 2

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

static int parse_duration_opt(const char *name, const char *v, uint64_t min_ns, uint64_t *out)
{
    if (duration_parse(v, out) < 0 || *out < min_ns) {
        fprintf(stderr, "chaos: --%s '%s' is not a duration such as 500ms, 3s or 1m%s\n", name, v,
                min_ns ? " (and not below 10ms)" : "");
        return -1;
    }
    return 0;
}

static int parse_number(const char *name, const char *v, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !(d >= min && d <= max)) {
        fprintf(stderr, "chaos: --%s '%s' is not a number from %g to %g\n", name, v, min, max);
        return -1;
    }
    *out = d;
    return 0;
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
    case OPT_HOOK:
        return &c->webhook_listen;
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

/* Options with a number or a duration. Returns 0, -1 for a bad value, or NOT_A_VALUE_OPTION. */
static int take_value(struct chaos_options *c, int opt, const char *arg)
{
    struct experiment_options *o = &c->o;
    switch (opt) {
    case OPT_RATE:
        return parse_number("rate", arg, 1, 100000, &o->rate);
    case OPT_STEADY:
        return parse_duration_opt("steady", arg, MIN_WINDOW_NS, &o->steady_ns);
    case OPT_FAULT:
        return parse_duration_opt("fault", arg, MIN_WINDOW_NS, &o->fault_ns);
    case OPT_RECOVER:
        return parse_duration_opt("recover-timeout", arg, MIN_WINDOW_NS, &o->recover_timeout_ns);
    case OPT_PROBE:
        return parse_duration_opt("probe-interval", arg, MIN_WINDOW_NS, &o->probe_interval_ns);
    case OPT_ALERT_TIMEOUT:
        return parse_duration_opt("alert-timeout", arg, MIN_WINDOW_NS, &o->alert_timeout_ns);
    case OPT_MAX_ERR:
        return parse_number("max-error-ratio", arg, 0, 1, &o->max_error_ratio);
    case OPT_MAX_P99:
        return parse_duration_opt("max-p99", arg, 0, &o->max_p99_ns);
    default:
        return NOT_A_VALUE_OPTION;
    }
}

static int add_taskd_arg(struct chaos_options *c, const char *arg)
{
    if (c->nargs == EXPERIMENT_MAX_ARGS - 8) {
        fprintf(stderr, "chaos: too many --taskd-arg values (at most %d)\n",
                EXPERIMENT_MAX_ARGS - 8);
        return -1;
    }
    c->o.taskd_args[c->nargs++] = arg;
    return 0;
}

/* One option. Returns 0, 1 to exit 0 (help, version), or -1 for a usage error. */
static int take_option(struct chaos_options *c, int opt, const char *arg)
{
    const char **slot = text_slot(c, opt);
    if (slot) {
        *slot = arg;
        return 0;
    }
    int rc = take_value(c, opt, arg);
    if (rc != NOT_A_VALUE_OPTION)
        return rc;
    switch (opt) {
    case OPT_TASKD_ARG:
        return add_taskd_arg(c, arg);
    case OPT_DRY:
        c->dry_run = 1;
        return 0;
    case 'q':
        c->o.verbose = 0;
        return 0;
    case 'h':
        chaos_options_usage(stdout);
        return 1;
    case OPT_VERSION:
        printf("chaos %s\n", taskbench_version());
        return 1;
    default:
        fprintf(stderr, "chaos: see 'chaos --help'\n");
        return -1;
    }
}

static int add_scenario(struct chaos_options *c, const char *name)
{
    if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < scenarios_count(); i++)
            if (add_scenario(c, scenarios_at(i)->name) < 0)
                return -1;
        return 0;
    }
    const struct scenario *sc = scenarios_find(name);
    if (!sc) {
        fprintf(stderr, "chaos: unknown scenario '%s'; 'chaos list' shows them\n", name);
        return -1;
    }
    for (size_t i = 0; i < c->nscenarios; i++) {
        if (c->scenarios[i] == sc)
            return 0;
    }
    if (c->nscenarios == CHAOS_OPTIONS_MAX_SCENARIOS)
        return -1;
    c->scenarios[c->nscenarios++] = sc;
    return 0;
}

/* Options that only make sense together, or not together. Returns 0, or -1 (printed). */
static int check_combinations(const struct chaos_options *c)
{
    const struct experiment_options *o = &c->o;
    if (c->nscenarios == 0) {
        fprintf(stderr, "chaos: name at least one scenario ('chaos list' shows them, 'all' runs "
                        "every one)\n");
        return -1;
    }
    if (!o->target_url && (o->start_cmd || o->stop_cmd || o->kill_cmd || o->target_db)) {
        fprintf(stderr, "chaos: --start-cmd, --stop-cmd, --kill-cmd and --db go with --target\n");
        return -1;
    }
    if (o->target_url && o->taskd_bin) {
        fprintf(stderr, "chaos: give --taskd (chaos starts it) or --target (you run it), not "
                        "both\n");
        return -1;
    }
    return 0;
}

/* Without --taskd or --target: the taskd beside the chaos binary. Returns 0, or -1 (printed)
 * when the taskd to start cannot be run. */
static int find_taskd(struct chaos_options *c)
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
        fprintf(stderr, "chaos: cannot run taskd at %s: %s; build it (make) or give --taskd\n",
                c->o.taskd_bin, strerror(errno));
        return -1;
    }
    return 0;
}

int chaos_options_parse(struct chaos_options *c, int argc, char **argv)
{
    experiment_options_default(&c->o);
    c->o.verbose = 1;
    c->work_dir = "chaos-work";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", long_options, NULL)) != -1) {
        int rc = take_option(c, opt, optarg);
        if (rc != 0)
            return rc;
    }
    for (int i = optind; i < argc; i++) {
        if (add_scenario(c, argv[i]) < 0)
            return -1;
    }
    if (check_combinations(c) < 0)
        return -1;
    return find_taskd(c);
}
