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
#include "transport.h"

static const char usage[] =
    "usage: loadgen audit --ledger FILE [options] URL\n"
    "\n"
    "Reads every resource of the service at URL (taskd's API unless told otherwise) and checks\n"
    "it against the writes loadgen --ledger recorded: acknowledged writes must be there (else\n"
    "\"lost\"), writes the server refused must not be, and no resource of this run may be\n"
    "unexplained (else \"unexpected\"); writes that got no answer may have happened either way\n"
    "(\"recovered\" when they did). Run it after the load.\n"
    "\n"
    "  --ledger FILE        the ledger written by loadgen --ledger (required)\n"
    "  --json OUT           also write the report as JSON to OUT\n"
    "  --max-report N       list at most N lost/unexpected findings in detail (default 20)\n"
    "  --tag TAG            the run tag of this run's task text (default: read from the ledger)\n"
    "  --incomplete         the ledger ends before the run did (loadgen was killed): rows that\n"
    "                       unrecorded later writes may explain count as unverifiable (automatic\n"
    "                       when the last line is cut short)\n"
    "  --timeout D          per page request (default 10s)\n"
    "  --retry-for D        keep retrying while the service answers 503 or refuses (default 10s)\n"
    "  -h, --help           this help\n"
    "the API (default: taskd's; see docs/audit.md):\n"
    "  --api NAME           a known API to start from: taskd, or blog (the blog's Flask app)\n"
    "  --id-from WHERE      a create's id: a JSON Pointer into its answer (/id), body, location\n"
    "                       (the Location header), or none (found by its text in the listing)\n"
    "  --item-url TEMPLATE  one resource, e.g. /tasks/{id}, or none\n"
    "  --list-url URL       the first page of the listing, e.g. /tasks?limit=1000, or none\n"
    "                       (then each id is read back at --item-url)\n"
    "  --paging HOW         one (one page), link (Link: rel=\"next\"), cursor (see below)\n"
    "  --items POINTER      where a page holds its array of items (default: the page itself)\n"
    "  --cursor-field POINTER  cursor paging: where a page names the next cursor\n"
    "  --cursor-param NAME  cursor paging: the query parameter that takes it\n"
    "  --item-id POINTER    an item's id (default /id)\n"
    "  --text-field POINTER the text a write set (default /task)\n"
    "  --done-field POINTER the boolean a write set (default /done), or none\n"
    "\n";

static const char usage_exit[] =
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
    struct transport_config transport;
    int has_transport;
    const char *ledger, *json, *url;
};

/* --NAME VALUE or --NAME=VALUE for the API model's settings and the transport flags. Returns 1
 * when argv[*i] was one (applied), 0 when not, 2 after a usage error. */
static int model_or_transport_flag(int argc, char **argv, int *i, struct cli_args *a, int *missing)
{
    char name[64], err[512];
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2))
        return 0;
    size_t n = strcspn(arg + 2, "=");
    if (n >= sizeof name)
        return 0;
    memcpy(name, arg + 2, n);
    name[n] = '\0';
    int model = resource_api_has_key(name);
    int takes_value = model || transport_flag_takes_value(name);
    const char *v = NULL;
    if (takes_value) {
        char flag[72];
        snprintf(flag, sizeof flag, "--%s", name);
        if (!(v = flag_value(argc, argv, i, flag, missing)))
            return 0;
    } else if (arg[2 + n]) {
        return 0; /* "--insecure=x" */
    }
    if (model && !strcmp(name, "api"))
        return 1; /* applied before the other flags (resource_api_preset_from_args) */
    int rc = model ? resource_api_set(&a->opt.api, name, v, err, sizeof err)
                   : transport_flag(&a->transport, name, v, err, sizeof err);
    if (rc < 0)
        return usage_error("%s", err);
    if (!model && rc == 1)
        a->has_transport = 1;
    return rc == 0 && !model ? 0 : 1;
}

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
    char err[512];
    audit_options_default(&a->opt);
    if (resource_api_preset_from_args(&a->opt.api, argc, argv, err, sizeof err) < 0)
        return usage_error("%s", err);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int missing = 0, taken;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(usage, stdout);
            fputs(transport_usage, stdout);
            fputs(usage_exit, stdout);
            return 0;
        } else if (!strcmp(arg, "--incomplete")) {
            a->opt.incomplete_ledger = 1;
        } else if ((taken = value_flag(argc, argv, &i, a, &missing)) ||
                   (taken = model_or_transport_flag(argc, argv, &i, a, &missing))) {
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
        return usage_error("the service's base URL is missing, e.g. http://127.0.0.1:5000");
    if (resource_api_check(&a->opt.api, err, sizeof err) < 0)
        return usage_error("%s", err);
    return -1;
}

int audit_main(int argc, char **argv)
{
    struct cli_args a = {.ledger = NULL};
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    struct audit_report r = {0};
    struct transport t = {0};
    char err[512];
    status = 2;
    if (a.has_transport && transport_init(&t, &a.transport, err, sizeof err) < 0) {
        usage_error("%s", err);
        goto out;
    }
    if (a.has_transport)
        a.opt.transport = &t;
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
    transport_free(&t);
    return status;
}
