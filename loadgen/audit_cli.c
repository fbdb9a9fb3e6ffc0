/*
 * audit_cli: the `loadgen audit` command. Parses its flags ("--name value" or "--name=value"),
 * runs audit_run, prints the human summary, optionally writes the JSON report, and turns the
 * verdict into the exit status (0 clean, 1 lost or unexpected, 2 usage or I/O) so a script or CI
 * job can act on it without parsing the report.
 */
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "flag_value.h"

static const char usage[] =
    "usage: loadgen audit --ledger FILE [options] URL\n"
    "\n"
    "Reads every row of the taskd at URL and checks it against the writes loadgen --ledger\n"
    "recorded: acknowledged writes must be there (else \"lost\"), writes the server refused must\n"
    "not be, and no row of this run may be unexplained (else \"unexpected\"); writes that got no\n"
    "answer may have happened either way (\"recovered\" when they did). Run it after the load.\n"
    "\n"
    "  --ledger FILE        the ledger written by loadgen --ledger (required)\n"
    "  --json OUT           also write the report as JSON to OUT\n"
    "  --max-report N       list at most N lost/unexpected findings in detail (default 20)\n"
    "  --tag TAG            the run tag of this run's task text (default: read from the ledger)\n"
    "  --incomplete         the ledger ends before the run did (loadgen was killed): rows that\n"
    "                       unrecorded later writes may explain count as unverifiable (automatic\n"
    "                       when the last line is cut short)\n"
    "  --timeout D          per page request (default 10s)\n"
    "  --retry-for D        keep retrying while taskd answers 503 or refuses (default 10s)\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 nothing lost or unexpected, 1 something lost or unexpected,\n"
    "2 usage error, unreadable or malformed ledger, or server unreachable.\n"
    "Example: loadgen audit --ledger run.ledger http://127.0.0.1:5000\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "loadgen audit: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see loadgen audit --help)\n");
    return 2;
}

static int write_json_file(const struct audit_report *r, const char *path)
{
    int rc = -1;
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    FILE *f = NULL;
    if (audit_render_json(r, &b) < 0 || buf_putc(&b, '\n') < 0) {
        fprintf(stderr, "loadgen audit: cannot render the JSON report: out of memory\n");
        goto out;
    }
    f = fopen(path, "w");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fflush(f) != 0) {
        fprintf(stderr, "loadgen audit: cannot write the JSON report %s: %s\n", path,
                strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f && fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "loadgen audit: cannot write the JSON report %s: %s\n", path,
                strerror(errno));
        rc = -1;
    }
    buf_free(&b);
    return rc;
}

/* "--name value" or "--name=value"; returns the value (advancing *i) or NULL if not this flag. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

struct cli_args {
    struct audit_options opt;
    const char *ledger, *json, *url;
};

/* The flags that take a value. Returns 1 when argv[*i] was one (and its value is fine), 0 when it
 * was none of them (*missing set when it was one without a value), or 2 after a usage error. */
static int value_flag(int argc, char **argv, int *i, struct cli_args *a, int *missing)
{
    const char *v;
    char err[300];
    if ((v = flag_value(argc, argv, i, "--ledger", missing))) {
        a->ledger = v;
    } else if ((v = flag_value(argc, argv, i, "--json", missing))) {
        a->json = v;
    } else if ((v = flag_value(argc, argv, i, "--tag", missing))) {
        if (!*v)
            return usage_error("--tag needs a non-empty run tag");
        a->opt.tag = v;
    } else if ((v = flag_value(argc, argv, i, "--max-report", missing))) {
        uint64_t n;
        if (flag_count("max-report", v, 0, 1000000, &n, err, sizeof err))
            return usage_error("%s", err);
        a->opt.max_report = (size_t)n;
    } else if ((v = flag_value(argc, argv, i, "--timeout", missing))) {
        if (flag_duration("timeout", v, 1000000u, FLAG_NO_MAX, &a->opt.timeout_ns, err, sizeof err))
            return usage_error("%s", err);
    } else if ((v = flag_value(argc, argv, i, "--retry-for", missing))) {
        if (flag_duration("retry-for", v, 0, FLAG_NO_MAX, &a->opt.retry_for_ns, err, sizeof err))
            return usage_error("%s", err);
    } else {
        return 0;
    }
    return 1;
}

/* Fills `a` from argv. Returns -1 to run the audit, or the exit status: 0 after --help, 2 after
 * a usage error (printed). */
static int parse_args(int argc, char **argv, struct cli_args *a)
{
    audit_options_default(&a->opt);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int missing = 0, taken;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(arg, "--incomplete")) {
            a->opt.incomplete_ledger = 1;
        } else if ((taken = value_flag(argc, argv, &i, a, &missing))) {
            if (taken == 2)
                return 2;
        } else if (missing) {
            return usage_error("%s needs a value", arg);
        } else if (arg[0] == '-' && arg[1]) {
            return usage_error("unknown option %s", arg);
        } else if (a->url) {
            return usage_error("one URL only (got %s and %s)", a->url, arg);
        } else {
            a->url = arg;
        }
    }
    if (!a->ledger)
        return usage_error("--ledger FILE is required");
    if (!a->url)
        return usage_error("the taskd base URL is missing, e.g. http://127.0.0.1:5000");
    return -1;
}

int audit_main(int argc, char **argv)
{
    struct cli_args a = {.ledger = NULL};
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    struct audit_report r;
    char err[512];
    status = 2;
    if (audit_run(a.ledger, a.url, &a.opt, &r, err, sizeof err) < 0) {
        fprintf(stderr, "loadgen audit: %s\n", err);
        goto out;
    }
    audit_print(&r, stdout);
    fflush(stdout);
    if (a.json && write_json_file(&r, a.json) < 0)
        goto out;
    status = audit_clean(&r) ? 0 : 1;
out:
    audit_report_free(&r);
    return status;
}
