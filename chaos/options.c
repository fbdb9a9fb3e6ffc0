/*
 * options: see options.h. Options that keep their argument as is go through a table of slots;
 * values are parsed by common/flag_value with its range checks and sentences; the rest are
 * switches. Every usage error is one sentence in the caller's buffer, as taskd's and loadgen's.
 */
#include "options.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin_experiments.h"
#include "experiment_file.h"
#include "flag_value.h"
#include "version.h"

#define MIN_WINDOW_NS 10000000ull /* 10 ms: no window or period may be shorter */
#define NOT_A_VALUE_OPTION 2      /* neither 0, -1 nor CHAOS_OPTIONS_EXIT_OK */

void chaos_options_usage(FILE *out)
{
    fputs("usage: chaos list                       the built-in experiments\n"
          "       chaos mechanisms                 the fault mechanisms and their parameters\n"
          "       chaos run EXPERIMENT... [options]\n"
          "       chaos table JOURNAL...           one table of the experiments of journals\n"
          "       chaos cleanup [--work-dir DIR]\n"
          "\n"
          "Breaks a real service's persistence under load from loadgen's engine, checks what it\n"
          "does against the experiment's expectations, and audits every acknowledged write.\n"
          "EXPERIMENT: a built-in name ('all' runs every one) or an experiment file (JSON, see\n"
          "docs/chaos.md). The service is taskd beside chaos unless the file, --service or\n"
          "--service-cmd says otherwise.\n"
          "\n"
          "options:\n"
          "  --work-dir DIR         everything chaos touches lives here (default ./chaos-work)\n"
          "  --service FILE         a service file: the service, load and audit to aim the\n"
          "                         experiments at (replacing theirs)\n"
          "  --service-cmd CMD      or the service's foreground command (sh -c; {port}, {db},\n"
          "                         {data_dir}, {dir} filled in), with --live PATH,\n"
          "                         --ready PATH and --metrics-path PATH|none\n"
          "  --service-arg ARG      extra argument for the service chaos starts, repeatable\n"
          "                         (--taskd-arg is the same; e.g. --check-interval=50ms)\n"
          "  --taskd PATH           the taskd to start (default: taskd beside chaos)\n",
          out);
    fputs("  --rate R               load in requests/s, open model (default 200)\n"
          "  --steady D             steady-state window (default 3s)\n"
          "  --fault D              how long the fault stays in place (default 5s)\n"
          "  --recover-timeout D    how long the service may take to be ready again (default "
          "10s)\n"
          "  --probe-interval D     probe period (default 100ms)\n"
          "  --max-error-ratio X    steady-state error ratio tolerance (default 0.01)\n"
          "  --max-p99 D            steady-state p99 tolerance (default 250ms)\n"
          "                         (these win over an experiment file's windows)\n"
          "  --journal FILE         the JSON journal (default WORK/journal.json)\n"
          "  --html FILE            an HTML report with the fault-window timeline\n"
          "  --table                end with one table row per experiment (markdown)\n"
          "  --dry-run              print the plan and touch nothing\n"
          "  --prometheus URL       check the expected alerts in Prometheus (/api/v1/alerts);\n"
          "                         also the server of PromQL metric probes\n"
          "  --alertmanager URL     ... and in Alertmanager (/api/v2/alerts)\n"
          "  --webhook-listen ADDR  receive Alertmanager webhooks here (e.g. 127.0.0.1:9095)\n"
          "  --alert-timeout D      how long to wait for alerts to fire and resolve (default "
          "120s)\n"
          "  --target URL           a service you run (instead of starting one); with:\n"
          "  --db PATH              its database (under --work-dir)\n"
          "  --start-cmd CMD        starts it (sh -c, must return); --stop-cmd CMD stops it;\n"
          "  --kill-cmd CMD         kills it with SIGKILL (for kill-9)\n"
          "  -q, --quiet            no progress lines\n"
          "  -h, --help, --version\n"
          "\n"
          "exit status: 0 every hypothesis held, 1 the service deviated, 2 usage or setup error\n",
          out);
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
    OPT_SERVICE,
    OPT_SERVICE_CMD,
    OPT_LIVE,
    OPT_READY,
    OPT_METRICS_PATH,
    OPT_TABLE,
};

static const struct option long_options[] = {
    {"work-dir", required_argument, NULL, OPT_WORK},
    {"taskd", required_argument, NULL, OPT_TASKD},
    {"taskd-arg", required_argument, NULL, OPT_TASKD_ARG},
    {"service-arg", required_argument, NULL, OPT_TASKD_ARG},
    {"service", required_argument, NULL, OPT_SERVICE},
    {"service-cmd", required_argument, NULL, OPT_SERVICE_CMD},
    {"live", required_argument, NULL, OPT_LIVE},
    {"ready", required_argument, NULL, OPT_READY},
    {"metrics-path", required_argument, NULL, OPT_METRICS_PATH},
    {"table", no_argument, NULL, OPT_TABLE},
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
    case OPT_SERVICE:
        return &c->service_file;
    case OPT_SERVICE_CMD:
        return &c->service_cmd;
    case OPT_LIVE:
        return &c->live;
    case OPT_READY:
        return &c->ready;
    case OPT_METRICS_PATH:
        return &c->metrics_path;
    default:
        return NULL;
    }
}

/* The bit of an option an experiment file may also set. */
static unsigned given_bit(int opt)
{
    switch (opt) {
    case OPT_RATE:
        return GIVEN_RATE;
    case OPT_STEADY:
        return GIVEN_STEADY;
    case OPT_FAULT:
        return GIVEN_FAULT;
    case OPT_RECOVER:
        return GIVEN_RECOVER;
    case OPT_PROBE:
        return GIVEN_PROBE;
    case OPT_MAX_ERR:
        return GIVEN_MAX_ERROR;
    case OPT_MAX_P99:
        return GIVEN_MAX_P99;
    default:
        return 0;
    }
}

/* Options with a value to parse. Returns 0, -1 for a bad value (err says why), or
 * NOT_A_VALUE_OPTION. */
static int take_value(struct chaos_options *c, int opt, const char *arg, char *err, size_t errlen)
{
    struct experiment_options *o = &c->o;
    o->given |= given_bit(opt);
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

static int add_service_arg(struct chaos_options *c, const char *arg, char *err, size_t errlen)
{
    if (c->nargs == EXPERIMENT_MAX_ARGS - 8) {
        snprintf(err, errlen, "too many --service-arg values (at most %d)",
                 EXPERIMENT_MAX_ARGS - 8);
        return -1;
    }
    c->o.service_args[c->nargs++] = arg;
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
        return add_service_arg(c, arg, err, errlen);
    case OPT_TABLE:
        c->table = 1;
        return 0;
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

/* An experiment file names itself by a path: a '/' or a .json ending. */
static int is_file(const char *arg)
{
    size_t n = strlen(arg);
    return strchr(arg, '/') || (n > 5 && strcmp(arg + n - 5, ".json") == 0);
}

static int keep_scenario(struct chaos_options *c, const struct scenario *sc, struct scenario *owned,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nscenarios; i++) {
        if (strcmp(c->scenarios[i]->name, sc->name) == 0) {
            scenario_free(owned);
            if (c->scenarios[i] == sc || strcmp(c->scenarios[i]->source, sc->source) == 0)
                return 0; /* named twice: run once */
            snprintf(err, errlen,
                     "two experiments are named '%s' (%s and %s): each gets the directory "
                     "WORK/NAME, so give them different names",
                     sc->name, c->scenarios[i]->source, sc->source);
            return -1;
        }
    }
    if (c->nscenarios == CHAOS_OPTIONS_MAX_SCENARIOS) {
        snprintf(err, errlen, "at most %d experiments", CHAOS_OPTIONS_MAX_SCENARIOS);
        scenario_free(owned);
        return -1;
    }
    c->scenarios[c->nscenarios++] = sc;
    if (owned)
        c->owned[c->nowned++] = owned;
    return 0;
}

static int add_scenario(struct chaos_options *c, const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "all") == 0) {
        for (size_t i = 0; i < builtin_experiments_count(); i++)
            if (add_scenario(c, builtin_experiment_at(i)->name, err, errlen) < 0)
                return -1;
        return 0;
    }
    struct experiment_source service = {c->service_file ? c->service_file : "--service-cmd",
                                        c->service_dir, c->service_text,
                                        c->service_text ? strlen(c->service_text) : 0};
    const struct experiment_source *over = c->service_text ? &service : NULL;
    if (!is_file(name)) {
        size_t len;
        const char *text = builtin_experiment_text(name, &len);
        if (!text) {
            snprintf(err, errlen,
                     "unknown experiment '%s'; 'chaos list' shows the built-in ones, and a "
                     "file is named by its path (a '/' or .json)",
                     name);
            return -1;
        }
        if (!over) /* the built-in as it is */
            return keep_scenario(c, builtin_experiment_find(name), NULL, err, errlen);
        char source[160];
        snprintf(source, sizeof(source), "built-in %s (chaos/experiments/%s.json)", name, name);
        struct experiment_source src = {source, NULL, text, len};
        struct scenario *sc = experiment_file_build(&src, over, err, errlen);
        return sc ? keep_scenario(c, sc, sc, err, errlen) : -1;
    }
    char *text, *dir;
    struct experiment_source src;
    if (experiment_file_read(name, &src, &text, &dir, err, errlen) < 0)
        return -1;
    struct scenario *sc = experiment_file_build(&src, over, err, errlen);
    free(text);
    free(dir);
    return sc ? keep_scenario(c, sc, sc, err, errlen) : -1;
}

/* --service FILE is read once; --service-cmd and its probes become the same kind of text, so
 * one reader checks both. */
static int service_source(struct chaos_options *c, char *err, size_t errlen)
{
    if (c->service_file && c->service_cmd) {
        snprintf(err, errlen, "give --service FILE or --service-cmd CMD, not both");
        return -1;
    }
    if ((c->live || c->ready || c->metrics_path) && !c->service_cmd) {
        snprintf(err, errlen,
                 "--live, --ready and --metrics-path go with --service-cmd (a "
                 "service file says them itself)");
        return -1;
    }
    if (c->service_file) {
        struct experiment_source src;
        if (experiment_file_read(c->service_file, &src, &c->service_text, &c->service_dir, err,
                                 errlen) < 0)
            return -1;
        return experiment_file_check_service(&src, err, errlen);
    }
    if (!c->service_cmd)
        return 0;
    cJSON *root = cJSON_CreateObject(), *svc = cJSON_AddObjectToObject(root, "service");
    cJSON *cmd = cJSON_AddArrayToObject(svc, "command");
    char exec_cmd[8192];
    snprintf(exec_cmd, sizeof(exec_cmd), "exec %s", c->service_cmd);
    cJSON_AddItemToArray(cmd, cJSON_CreateString("/bin/sh"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString(exec_cmd));
    cJSON_AddStringToObject(root, "schema", SERVICE_FILE_SCHEMA);
    if (c->live)
        cJSON_AddStringToObject(svc, "live", c->live);
    if (c->ready)
        cJSON_AddStringToObject(svc, "ready", c->ready);
    if (c->metrics_path && strcmp(c->metrics_path, "none") == 0)
        cJSON_AddNullToObject(svc, "metrics_path");
    else if (c->metrics_path)
        cJSON_AddStringToObject(svc, "metrics_path", c->metrics_path);
    c->service_text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char cwd[PATH_MAX];
    c->service_dir = strdup(getcwd(cwd, sizeof(cwd)) ? cwd : ".");
    struct experiment_source src = {"--service-cmd", c->service_dir, c->service_text,
                                    c->service_text ? strlen(c->service_text) : 0};
    if (!c->service_text || !c->service_dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return experiment_file_check_service(&src, err, errlen);
}

void chaos_options_free(struct chaos_options *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        scenario_free(c->owned[i]);
    c->nowned = 0;
    free(c->service_text);
    free(c->service_dir);
    c->service_text = c->service_dir = NULL;
}

/* Options that only make sense together, or not together. Returns 0, or -1 (err says why). */
static int check_combinations(const struct chaos_options *c, char *err, size_t errlen)
{
    const struct experiment_options *o = &c->o;
    if (c->nscenarios == 0) {
        snprintf(err, errlen,
                 "name at least one experiment: a built-in ('chaos list' shows them, 'all' runs "
                 "every one) or an experiment file");
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
    if (o->target_url && c->service_text) {
        snprintf(err, errlen,
                 "give --target (a service you run) or --service/--service-cmd (one "
                 "chaos starts), not both");
        return -1;
    }
    return 0;
}

/* Without --taskd or --target: the taskd beside the chaos binary. Returns 0, or -1 (err says
 * why) when an experiment's service is taskd and it cannot be run. */
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
    int needed = 0;
    for (size_t i = 0; i < c->nscenarios; i++)
        needed |= c->scenarios[i]->service.taskd;
    if (needed && !c->o.target_url && access(c->o.taskd_bin, X_OK) != 0) {
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
    if (service_source(c, err, errlen) < 0)
        return CHAOS_OPTIONS_ERROR;
    for (int i = optind; i < argc; i++) {
        if (add_scenario(c, argv[i], err, errlen) < 0)
            return CHAOS_OPTIONS_ERROR;
    }
    if (check_combinations(c, err, errlen) < 0 || find_taskd(c, err, errlen) < 0)
        return CHAOS_OPTIONS_ERROR;
    return CHAOS_OPTIONS_OK;
}
