/*
 * chaos: the command line — `chaos list`, `chaos run SCENARIO... [options]`.
 *
 * It parses options, makes the work directory, installs the safety nets (SIGINT/SIGTERM set a
 * flag the experiment polls, so the rollback runs in order; a crash of chaos itself undoes the
 * armed fault from the signal handler; mounts live in a private mount namespace, so they vanish
 * with chaos whatever happens), runs the experiments one after another and writes the journal.
 * Exit status: 0 every hypothesis held, 1 taskd deviated, 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "duration.h"
#include "experiment.h"
#include "faults.h"
#include "html_report.h"
#include "journal.h"
#include "scenarios.h"
#include "version.h"
#include "webhook.h"

#define EXIT_HELD 0
#define EXIT_DEVIATED 1
#define EXIT_USAGE 2
#define MAX_RUNS 32

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void on_fatal(int sig)
{
    faults_emergency_rollback();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void usage(FILE *out)
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

static void list(FILE *out)
{
    for (size_t i = 0; i < scenarios_count(); i++) {
        const struct scenario *sc = scenarios_at(i);
        fprintf(out, "%-15s %s\n", sc->name, sc->summary);
        fprintf(out, "%-15s   mechanism: %s%s\n", "", sc->mechanism,
                sc->needs_root ? " (needs root)" : "");
        fprintf(out, "%-15s   expected:  %s; acknowledged writes lost: at most %llu\n", "",
                sc->expected, (unsigned long long)sc->expect.max_lost);
    }
}

struct cli {
    struct experiment_options o;
    const struct scenario *scenarios[MAX_RUNS];
    size_t nscenarios;
    const char *work_dir, *journal, *html, *webhook_listen;
    char taskd_default[PATH_MAX];
    size_t nargs;
    int dry_run;
};

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

/* One option. Returns 0, 1 to exit 0 (help, version), or -1 for a usage error. */
static int take_option(struct cli *c, int opt, const char *arg)
{
    struct experiment_options *o = &c->o;
    switch (opt) {
    case OPT_WORK:
        c->work_dir = arg;
        return 0;
    case OPT_TASKD:
        o->taskd_bin = arg;
        return 0;
    case OPT_TASKD_ARG:
        if (c->nargs == EXPERIMENT_MAX_ARGS - 8) {
            fprintf(stderr, "chaos: too many --taskd-arg values (at most %d)\n",
                    EXPERIMENT_MAX_ARGS - 8);
            return -1;
        }
        o->taskd_args[c->nargs++] = arg;
        return 0;
    case OPT_RATE:
        return parse_number("rate", arg, 1, 100000, &o->rate);
    case OPT_STEADY:
        return parse_duration_opt("steady", arg, 10000000, &o->steady_ns);
    case OPT_FAULT:
        return parse_duration_opt("fault", arg, 10000000, &o->fault_ns);
    case OPT_RECOVER:
        return parse_duration_opt("recover-timeout", arg, 10000000, &o->recover_timeout_ns);
    case OPT_PROBE:
        return parse_duration_opt("probe-interval", arg, 10000000, &o->probe_interval_ns);
    case OPT_ALERT_TIMEOUT:
        return parse_duration_opt("alert-timeout", arg, 10000000, &o->alert_timeout_ns);
    case OPT_MAX_ERR:
        return parse_number("max-error-ratio", arg, 0, 1, &o->max_error_ratio);
    case OPT_MAX_P99:
        return parse_duration_opt("max-p99", arg, 0, &o->max_p99_ns);
    case OPT_JOURNAL:
        c->journal = arg;
        return 0;
    case OPT_HTML:
        c->html = arg;
        return 0;
    case OPT_DRY:
        c->dry_run = 1;
        return 0;
    case OPT_PROM:
        o->prometheus_url = arg;
        return 0;
    case OPT_AM:
        o->alertmanager_url = arg;
        return 0;
    case OPT_HOOK:
        c->webhook_listen = arg;
        return 0;
    case OPT_TARGET:
        o->target_url = arg;
        return 0;
    case OPT_DB:
        o->target_db = arg;
        return 0;
    case OPT_START:
        o->start_cmd = arg;
        return 0;
    case OPT_STOP:
        o->stop_cmd = arg;
        return 0;
    case OPT_KILL:
        o->kill_cmd = arg;
        return 0;
    case 'q':
        o->verbose = 0;
        return 0;
    case 'h':
        usage(stdout);
        return 1;
    case OPT_VERSION:
        printf("chaos %s\n", taskbench_version());
        return 1;
    default:
        fprintf(stderr, "chaos: see 'chaos --help'\n");
        return -1;
    }
}

static int add_scenario(struct cli *c, const char *name)
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
    if (c->nscenarios == MAX_RUNS)
        return -1;
    c->scenarios[c->nscenarios++] = sc;
    return 0;
}

/* Parses `chaos run ...`. Returns 0, 1 to exit 0, or -1 for a usage error. */
static int parse_run(struct cli *c, int argc, char **argv)
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
    if (c->nscenarios == 0) {
        fprintf(stderr, "chaos: name at least one scenario ('chaos list' shows them, 'all' runs "
                        "every one)\n");
        return -1;
    }
    if (!c->o.target_url && (c->o.start_cmd || c->o.stop_cmd || c->o.kill_cmd || c->o.target_db)) {
        fprintf(stderr, "chaos: --start-cmd, --stop-cmd, --kill-cmd and --db go with --target\n");
        return -1;
    }
    if (c->o.target_url && c->o.taskd_bin) {
        fprintf(stderr, "chaos: give --taskd (chaos starts it) or --target (you run it), not "
                        "both\n");
        return -1;
    }
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

/* mkdir -p of the work directory (not in dry-run), then its realpath. */
static int resolve_work_dir(struct cli *c, char *real, size_t cap)
{
    (void)cap;
    if (!c->dry_run) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s", c->work_dir);
        for (char *p = tmp + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(tmp, 0755);
                *p = '/';
            }
        }
        mkdir(tmp, 0755);
    }
    if (!realpath(c->work_dir, real)) {
        if (c->dry_run) { /* not made yet: plan with the absolute path it would get */
            char cwd[PATH_MAX / 2];
            if (c->work_dir[0] != '/' && getcwd(cwd, sizeof(cwd))) {
                snprintf(real, cap, "%s/%s", cwd, c->work_dir);
                return 0;
            }
            snprintf(real, cap, "%s", c->work_dir);
            return 0;
        }
        fprintf(stderr, "chaos: cannot use the work directory %s: %s\n", c->work_dir,
                strerror(errno));
        return -1;
    }
    if (strcmp(real, "/") == 0) {
        fprintf(stderr, "chaos: refusing / as the work directory\n");
        return -1;
    }
    return 0;
}

/* One chaos run per work directory: a second one would remove the first one's experiment
 * directories under it. The lock lives as long as the process (the descriptor is never closed). */
static int lock_work_dir(const char *work)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/.chaos-lock", work) >= sizeof(path)) {
        fprintf(stderr, "chaos: the work directory path %s is too long\n", work);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "chaos: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr,
                "chaos: another chaos run is using the work directory %s; wait for it or "
                "choose another --work-dir\n",
                work);
        close(fd);
        return -1;
    }
    return 0;
}

/* Mounts made by the experiments live in a namespace of chaos's own: they vanish with chaos
 * and its children, even after a SIGKILL. Only for a taskd chaos starts (it shares the
 * namespace); a target the user runs needs the mounts where it can see them. */
static void private_mounts(const struct cli *c)
{
    int wanted = 0;
    for (size_t i = 0; i < c->nscenarios; i++)
        wanted |= c->scenarios[i]->needs_root;
    if (!wanted || c->o.target_url || geteuid() != 0)
        return;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fprintf(stderr, "chaos: no private mount namespace (%s); mounts are undone on exit\n",
                strerror(errno));
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        sigaction(fatal[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(faults_emergency_rollback);
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "chaos: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return 0;
}

static int write_reports(const struct cli *c, const char *work,
                         const struct experiment_result *const *runs, size_t n)
{
    struct buf json;
    buf_init(&json, 256u << 20);
    int rc = 0;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s%s", c->journal ? c->journal : work,
                         c->journal ? "" : "/journal.json") >= sizeof(path)) {
        fprintf(stderr, "chaos: the journal path is too long\n");
        return -1;
    }
    if (journal_render(runs, n, &json) < 0) {
        fprintf(stderr, "chaos: the journal is over its size limit\n");
        rc = -1;
    } else if (write_file(path, json.data, json.len) < 0) {
        rc = -1;
    } else {
        printf("journal: %s\n", path);
    }
    char err[512];
    if (rc == 0 && c->html) {
        if (html_report_write(c->html, "chaos report", "chaos", json.data, err, sizeof(err)) < 0) {
            fprintf(stderr, "chaos: %s\n", err);
            rc = -1;
        } else {
            printf("html report: %s\n", c->html);
        }
    }
    buf_free(&json);
    return rc;
}

static int run(int argc, char **argv)
{
    static struct cli c; /* big: options with arrays */
    int rc = parse_run(&c, argc, argv);
    if (rc != 0)
        return rc > 0 ? EXIT_HELD : EXIT_USAGE;
    char work[PATH_MAX];
    if (resolve_work_dir(&c, work, sizeof(work)) < 0)
        return EXIT_USAGE;
    c.o.work_dir = work;
    char err[600];
    if (c.dry_run) {
        printf("dry run: nothing is touched. work directory %s\n\n", work);
        for (size_t i = 0; i < c.nscenarios; i++) {
            if (experiment_plan(c.scenarios[i], &c.o, stdout, err, sizeof(err)) < 0) {
                fprintf(stderr, "chaos: %s\n", err);
                return EXIT_USAGE;
            }
            putchar('\n');
        }
        return EXIT_HELD;
    }
    if (lock_work_dir(work) < 0)
        return EXIT_USAGE;
    private_mounts(&c);
    install_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct webhook *hook = NULL;
    if (c.webhook_listen) {
        if (webhook_start(&hook, c.webhook_listen, err, sizeof(err)) < 0) {
            fprintf(stderr, "chaos: %s\n", err);
            return EXIT_USAGE;
        }
        fprintf(stderr, "chaos: receiving Alertmanager webhooks on port %u\n", webhook_port(hook));
    }
    c.o.webhook = hook;
    c.o.interrupted = &interrupted;
    static struct experiment_result results[MAX_RUNS];
    const struct experiment_result *done[MAX_RUNS];
    size_t n = 0;
    for (size_t i = 0; i < c.nscenarios && !interrupted; i++) {
        experiment_run(c.scenarios[i], &c.o, &results[n]);
        done[n] = &results[n];
        n++;
    }
    putchar('\n');
    journal_print(done, n, stdout);
    int code = journal_exit_code(done, n);
    if (write_reports(&c, work, done, n) < 0 && code == EXIT_HELD)
        code = EXIT_USAGE;
    if (interrupted && code == EXIT_HELD)
        code = EXIT_USAGE;
    for (size_t i = 0; i < n; i++)
        experiment_result_free(&results[i]);
    webhook_stop(hook);
    curl_global_cleanup();
    return code;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "__hold-lock") == 0)
        return faults_hold_lock_main(argv[2]);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "list") == 0) {
        list(stdout);
        return EXIT_HELD;
    }
    if (strcmp(argv[1], "run") == 0)
        return run(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return EXIT_HELD;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("chaos %s\n", taskbench_version());
        return EXIT_HELD;
    }
    fprintf(stderr, "chaos: unknown command '%s'; use 'chaos list' or 'chaos run SCENARIO'\n",
            argv[1]);
    return EXIT_USAGE;
}
