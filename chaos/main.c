/*
 * chaos: the command line — `chaos list`, `chaos mechanisms`, `chaos run EXPERIMENT...
 * [options]`, `chaos table JOURNAL...`, `chaos cleanup`.
 *
 * It parses options (options.c), makes and locks the work directory (workdir.c), installs the
 * safety nets (SIGINT/SIGTERM set a flag the experiment polls, so the rollback runs in order; a
 * crash of chaos itself undoes the armed fault from the signal handler; mounts live in a private
 * mount namespace, so they vanish with chaos whatever happens), runs the experiments one after
 * another and writes the journal and the HTML report.
 * Exit status: 0 every hypothesis held, 1 the service deviated, 2 usage or setup error.
 */
#include <curl/curl.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup_record.h"
#include "experiment.h"
#include "faults.h"
#include "html_report.h"
#include "journal.h"
#include "mechanism.h"
#include "options.h"
#include "builtin_experiments.h"
#include "scenarios.h"
#include "table.h"
#include "version.h"
#include "webhook.h"
#include "workdir.h"

#define EXIT_HELD 0
#define EXIT_DEVIATED 1
#define EXIT_USAGE 2
#define JOURNAL_MAX (256u << 20)
#define TITLE_MAX 1024

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

/* Mounts made by the experiments live in a namespace of chaos's own: they vanish with chaos
 * and its children, even after a SIGKILL. Only for a service chaos starts (it shares the
 * namespace); a target the user runs needs the mounts where it can see them. */
static void private_mounts(const struct chaos_options *c)
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

static void list(FILE *out)
{
    for (size_t i = 0; i < builtin_experiments_count(); i++) {
        const struct scenario *sc = builtin_experiment_at(i);
        fprintf(out, "%-17s %s\n", sc->name, sc->summary);
        fprintf(out, "%-17s   fault:     %s [%s, %s]%s\n", "", sc->mechanism, sc->mech->name,
                sc->at_start ? "at-start" : "live", sc->needs_root ? " (needs root)" : "");
        if (sc->expect.max_lost == SCENARIO_ANY_LOSS)
            fprintf(out, "%-17s   expected:  %s; acknowledged writes lost: counted\n", "",
                    sc->expected);
        else
            fprintf(out, "%-17s   expected:  %s; acknowledged writes lost: at most %llu\n", "",
                    sc->expected, (unsigned long long)sc->expect.max_lost);
    }
    fprintf(out, "\nEach is a file of chaos/experiments/ (chaos run chaos/experiments/NAME.json "
                 "runs the same);\n'chaos mechanisms' lists the faults an experiment file can aim "
                 "at any service.\n");
}

static void list_mechanisms(FILE *out)
{
    static const char *const types[] = {"path", "text", "size", "count", "duration"};
    for (size_t i = 0; mechanisms[i]; i++) {
        const struct mechanism *m = mechanisms[i];
        const char *when =
            m->when == (MECHANISM_LIVE | MECHANISM_AT_START)
                ? (m->default_when == FAULT_LIVE ? "live (or at-start)" : "at-start (or live)")
            : m->when == MECHANISM_LIVE ? "live"
                                        : "at-start";
        fprintf(out, "%-16s %s\n", m->name, m->summary);
        fprintf(out, "%-16s   made %s%s; rollback: %s%s\n", "", when,
                m->default_stop == FAULT_STOP_KILL ? " after a SIGKILL" : "", m->rollback_summary,
                m->needs_root ? "; needs root" : "");
        for (size_t k = 0; m->params && m->params[k].name; k++) {
            const struct mechanism_param *p = &m->params[k];
            fprintf(out, "%-16s   %-9s %-8s %s%s%s\n", "", p->name, types[p->type], p->doc,
                    p->fallback ? "; default " : " (required)",
                    p->fallback ? (*p->fallback ? p->fallback : "none") : "");
        }
    }
}

/* ---- reports ------------------------------------------------------------------------------- */

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

/* The page's one heading: "chaos: " and the scenarios run (the renderer adds none). */
static void html_title(const struct experiment_result *const *runs, size_t n, char *out, size_t cap)
{
    struct buf t;
    buf_init(&t, cap - 1);
    buf_puts(&t, "chaos: ");
    for (size_t i = 0; i < n; i++)
        buf_printf(&t, "%s%s", i ? ", " : "", runs[i]->sc->name);
    if (n == 0)
        buf_puts(&t, "no experiment");
    snprintf(out, cap, "%s", t.data ? t.data : "chaos");
    buf_free(&t);
}

static int write_html(const char *path, const struct experiment_result *const *runs, size_t n,
                      const char *json)
{
    char title[TITLE_MAX], err[512];
    html_title(runs, n, title, sizeof(title));
    if (html_report_write(path, title, "chaos", json, err, sizeof(err)) < 0) {
        fprintf(stderr, "chaos: %s\n", err);
        return -1;
    }
    printf("html report: %s\n", path);
    return 0;
}

/* --journal, or WORK/journal.json. Returns 0, or -1 when it does not fit. */
static int journal_path(const struct chaos_options *c, const char *work, char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "%s%s", c->journal ? c->journal : work,
                            c->journal ? "" : "/journal.json") < cap
               ? 0
               : -1;
}

static int write_reports(const struct chaos_options *c, const char *work,
                         const struct experiment_result *const *runs, size_t n)
{
    char path[PATH_MAX + 16];
    if (journal_path(c, work, path, sizeof(path)) < 0) {
        fprintf(stderr, "chaos: the journal path is too long\n");
        return -1;
    }
    struct buf json;
    buf_init(&json, JOURNAL_MAX);
    int rc = -1;
    if (journal_render(runs, n, &json) < 0) {
        fprintf(stderr, "chaos: the journal is over its size limit\n");
        goto out;
    }
    if (write_file(path, json.data, json.len) < 0)
        goto out;
    printf("journal: %s\n", path);
    if (c->html && write_html(c->html, runs, n, json.data) < 0)
        goto out;
    rc = 0;
out:
    buf_free(&json);
    return rc;
}

/* ---- chaos run ----------------------------------------------------------------------------- */

/* --dry-run: every scenario's plan, nothing touched. */
static int print_plans(const struct chaos_options *c, const char *work)
{
    char err[600];
    printf("dry run: nothing is touched. work directory %s\n\n", work);
    for (size_t i = 0; i < c->nscenarios; i++) {
        if (experiment_plan(c->scenarios[i], &c->o, stdout, err, sizeof(err)) < 0) {
            fprintf(stderr, "chaos: %s\n", err);
            return EXIT_USAGE;
        }
        putchar('\n');
    }
    return EXIT_HELD;
}

/* --table: the run's experiments as one table, made from the journal just written. */
static void print_table(const char *journal_path)
{
    struct buf text;
    char err[300];
    buf_init(&text, JOURNAL_MAX);
    if (buf_append_file(&text, journal_path) == 0) {
        putchar('\n');
        table_header(stdout);
        if (table_rows(text.data ? text.data : "", journal_path, stdout, err, sizeof(err)) < 0)
            fprintf(stderr, "chaos: %s\n", err);
    }
    buf_free(&text);
}

/* Runs the experiments (until interrupted), prints and writes the results. */
static int run_experiments(struct chaos_options *c, const char *work)
{
    static struct experiment_result results[CHAOS_OPTIONS_MAX_SCENARIOS];
    const struct experiment_result *done[CHAOS_OPTIONS_MAX_SCENARIOS];
    size_t n = 0;
    c->o.interrupted = &interrupted;
    for (size_t i = 0; i < c->nscenarios && !interrupted; i++) {
        experiment_run(c->scenarios[i], &c->o, &results[n]);
        done[n] = &results[n];
        n++;
    }
    putchar('\n');
    journal_print(done, n, stdout);
    int code = journal_exit_code(done, n);
    if (write_reports(c, work, done, n) < 0 && code == EXIT_HELD)
        code = EXIT_USAGE;
    if (interrupted && code == EXIT_HELD)
        code = EXIT_USAGE;
    char path[PATH_MAX + 16];
    if (c->table && journal_path(c, work, path, sizeof(path)) == 0)
        print_table(path);
    for (size_t i = 0; i < n; i++)
        experiment_result_free(&results[i]);
    return code;
}

static void say_cleanup(const char *line)
{
    fprintf(stderr, "chaos: cleanup after an earlier run: %s\n", line);
}

/* `chaos cleanup [--work-dir DIR]`: undoes what a killed chaos left (its cleanup record). */
static int cleanup(int argc, char **argv)
{
    const char *dir = "chaos-work";
    if (argc == 3 && strcmp(argv[1], "--work-dir") == 0)
        dir = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: chaos cleanup [--work-dir DIR]\n");
        return EXIT_USAGE;
    }
    char work[PATH_MAX], err[600];
    if (workdir_resolve(dir, 1, work, sizeof(work), err, sizeof(err)) < 0) {
        fprintf(stderr, "chaos: %s\n", err);
        return EXIT_USAGE;
    }
    if (workdir_lock(work, err, sizeof(err)) < 0) {
        fprintf(stderr, "chaos: %s\n", err);
        return EXIT_USAGE;
    }
    int left = cleanup_record_undo(work, say_cleanup);
    printf("chaos cleanup: %d resource%s left by an earlier run undone in %s\n", left,
           left == 1 ? "" : "s", work);
    return EXIT_HELD;
}

/* The run once the options are read: the work directory, the safety nets, the experiments. */
static int run_parsed(struct chaos_options *c)
{
    char work[PATH_MAX], err[600];
    if (workdir_resolve(c->work_dir, c->dry_run, work, sizeof(work), err, sizeof(err)) < 0) {
        fprintf(stderr, "chaos: %s\n", err);
        return EXIT_USAGE;
    }
    c->o.work_dir = work;
    if (c->dry_run)
        return print_plans(c, work);
    if (workdir_lock(work, err, sizeof(err)) < 0) {
        fprintf(stderr, "chaos: %s\n", err);
        return EXIT_USAGE;
    }
    /* What a chaos killed with SIGKILL on this work directory left behind, first. */
    cleanup_record_undo(work, say_cleanup);
    cleanup_record_open(work);
    private_mounts(c);
    install_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct webhook *hook = NULL;
    if (c->webhook_listen) {
        if (webhook_start(&hook, &c->webhook_addr, err, sizeof(err)) < 0) {
            fprintf(stderr, "chaos: --webhook-listen %s: %s\n", c->webhook_listen, err);
            return EXIT_USAGE;
        }
        fprintf(stderr, "chaos: receiving Alertmanager webhooks on port %u\n", webhook_port(hook));
    }
    c->o.webhook = hook;
    int code = run_experiments(c, work);
    cleanup_record_clear(); /* every experiment undid its own */
    webhook_stop(hook);
    curl_global_cleanup();
    return code;
}

static int run(int argc, char **argv)
{
    static struct chaos_options c; /* big: options with arrays */
    char err[800];
    int code = EXIT_USAGE;
    switch (chaos_options_parse(&c, argc, argv, err, sizeof(err))) {
    case CHAOS_OPTIONS_EXIT_OK:
        code = EXIT_HELD;
        break;
    case CHAOS_OPTIONS_ERROR:
        fprintf(stderr, "chaos: %s\n", err);
        break;
    case CHAOS_OPTIONS_OK:
        code = run_parsed(&c);
        break;
    }
    chaos_options_free(&c);
    return code;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "__hold-lock") == 0)
        return fault_lock_main(argv[2]);
    if (argc < 2) {
        chaos_options_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "list") == 0) {
        list(stdout);
        return EXIT_HELD;
    }
    if (strcmp(argv[1], "mechanisms") == 0) {
        list_mechanisms(stdout);
        return EXIT_HELD;
    }
    if (strcmp(argv[1], "table") == 0)
        return table_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return run(argc - 1, argv + 1);
    if (strcmp(argv[1], "cleanup") == 0)
        return cleanup(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        chaos_options_usage(stdout);
        return EXIT_HELD;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("chaos %s\n", taskbench_version());
        return EXIT_HELD;
    }
    fprintf(stderr,
            "chaos: unknown command '%s'; use 'chaos list', 'chaos mechanisms', 'chaos run "
            "EXPERIMENT', 'chaos table JOURNAL' or 'chaos cleanup'\n",
            argv[1]);
    return EXIT_USAGE;
}
