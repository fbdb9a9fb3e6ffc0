/*
 * options: parses loadgen's run flags (see options.h). The model follows from the flags:
 * --rate or --stages select the open model, otherwise the closed model with --connections.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cpus.h"
#include "duration.h"
#include "flag_value.h"
#include "resource_api.h"
#include "transport.h"
#include "version.h"

enum {
    OPT_MIX = 256,
    OPT_MISSING,
    OPT_TASK_SIZE,
    OPT_LIST_LIMIT,
    OPT_RAW,
    OPT_BODY,
    OPT_STAGES,
    OPT_POISSON,
    OPT_MAX_INFLIGHT,
    OPT_WARMUP,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_SHARD,
    OPT_SHARDS,
    OPT_START_AT,
    OPT_JSON,
    OPT_HTML,
    OPT_LEDGER,
    OPT_THRESHOLD,
    OPT_METRICS,
    OPT_QUIET,
    OPT_NO_PROGRESS,
    OPT_VERSION,
    OPT_TAG,
    OPT_LINGER,
    OPT_TARGETS,
    OPT_DATA,
    OPT_EXPECT_STATUS,
    OPT_EXPECT_BODY,
    OPT_REQUESTS_OUT,
    OPT_LIBCURL,
    OPT_TRANSPORT, /* transport.h's flags, by name */
    OPT_API,       /* resource_api.h's settings a run uses: where a created id is */
};

static const struct option long_options[] = {
    {"mix", required_argument, NULL, OPT_MIX},
    {"missing-ratio", required_argument, NULL, OPT_MISSING},
    {"task-size", required_argument, NULL, OPT_TASK_SIZE},
    {"list-limit", required_argument, NULL, OPT_LIST_LIMIT},
    {"run-tag", required_argument, NULL, OPT_TAG},
    {"raw", no_argument, NULL, OPT_RAW},
    {"method", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"body", required_argument, NULL, OPT_BODY},
    {"connections", required_argument, NULL, 'c'},
    {"rate", required_argument, NULL, 'r'},
    {"stages", required_argument, NULL, OPT_STAGES},
    {"poisson", no_argument, NULL, OPT_POISSON},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"threads", required_argument, NULL, 't'},
    {"duration", required_argument, NULL, 'd'},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"shards", required_argument, NULL, OPT_SHARDS},
    {"start-at", required_argument, NULL, OPT_START_AT},
    {"json", required_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"ledger", required_argument, NULL, OPT_LEDGER},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"metrics-listen", required_argument, NULL, OPT_METRICS},
    {"metrics-linger", required_argument, NULL, OPT_LINGER},
    {"targets", required_argument, NULL, OPT_TARGETS},
    {"data", required_argument, NULL, OPT_DATA},
    {"requests", required_argument, NULL, 'n'},
    {"expect-status", required_argument, NULL, OPT_EXPECT_STATUS},
    {"expect-body", required_argument, NULL, OPT_EXPECT_BODY},
    {"requests-out", required_argument, NULL, OPT_REQUESTS_OUT},
    {"libcurl", no_argument, NULL, OPT_LIBCURL},
    {"insecure", no_argument, NULL, OPT_TRANSPORT},
    {"cacert", required_argument, NULL, OPT_TRANSPORT},
    {"cert", required_argument, NULL, OPT_TRANSPORT},
    {"key", required_argument, NULL, OPT_TRANSPORT},
    {"http2", no_argument, NULL, OPT_TRANSPORT},
    {"http2-prior-knowledge", no_argument, NULL, OPT_TRANSPORT},
    {"streams", required_argument, NULL, OPT_TRANSPORT},
    {"connect-timeout", required_argument, NULL, OPT_TRANSPORT},
    {"no-keepalive", no_argument, NULL, OPT_TRANSPORT},
    {"resolve", required_argument, NULL, OPT_TRANSPORT},
    {"connect-to", required_argument, NULL, OPT_TRANSPORT},
    {"unix-socket", required_argument, NULL, OPT_TRANSPORT},
    {"api", required_argument, NULL, OPT_API},
    {"id-from", required_argument, NULL, OPT_API},
    {"item-url", required_argument, NULL, OPT_API},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void options_usage(FILE *out)
{
    fputs(
        "usage: loadgen [options] URL            load a taskd at base URL (or any URL with --raw)\n"
        "       loadgen --targets FILE [options] [BASE_URL]   send the requests FILE describes\n"
        "       loadgen audit --ledger FILE URL  check every acknowledged write is there\n"
        "       loadgen merge A.json B.json ...  combine results of several machines\n"
        "\n"
        "workload:\n"
        "  --mix SPEC             task mix weights (default "
        "create=20,read=60,update=15,delete=5,list=0)\n"
        "  --missing-ratio R      share of reads/updates/deletes aimed at missing ids, 0..1 "
        "(default 0)\n"
        "  --task-size N          pad written task text to N bytes, at most 1000 (default: no "
        "padding)\n"
        "  --list-limit N         ?limit= of list requests (default 100)\n"
        "  --run-tag TAG          prefix of written task text (default lg-<random>)\n"
        "  --api NAME             the service's API: taskd (default) or blog "
        "(examples/flask-tasks)\n"
        "  --id-from WHERE        where a create's answer names the new id: a JSON Pointer (/id),\n"
        "                         body, location (with --item-url /tasks/{id}) or none\n"
        "  --raw                  send one request to URL as-is (wrk-style) instead of the task "
        "mix\n"
        "  -X, --method M         raw: request method (default GET, or POST with --body)\n"
        "  -H, --header 'N: V'    raw: extra header (repeatable)\n"
        "  --body DATA            raw: request body\n"
        "  --targets FILE         requests described in FILE (vegeta's HTTP format or JSON\n"
        "                         lines), each a named route; relative URLs join BASE_URL\n"
        "  --data FILE.csv        rows for {{data.COLUMN}} in targets and --raw (with --shard,\n"
        "                         each shard takes its own rows)\n"
        "  --expect-status LIST   success for targets without their own rule, e.g. 200,201 or 2xx\n"
        "                         (default 2xx,3xx); other statuses count as errors\n"
        "  --expect-body TEXT     success also needs TEXT in the response body\n",
        out);
    /* Two strings: a C17 compiler need not take one longer than 4095 bytes. */
    fputs(
        "load model:\n"
        "  -c, --connections N    closed model: N connections, each sends as soon as the last\n"
        "                         answer came (default 16 when no --rate is given)\n"
        "  -r, --rate R           open model: R requests/s in total, scheduled from absolute time\n"
        "  --stages LIST          open model ramps, e.g. 30s@100,1m@1000 (from --rate, default 0)\n"
        "  --poisson              exponential gaps between arrivals instead of even spacing\n"
        "  --max-inflight N       open model: requests in flight at most (default --connections or "
        "256)\n"
        "  -t, --threads N        threads (default: the CPUs loadgen may use)\n"
        "  -d, --duration D       measured period, e.g. 30s (default 10s; with --stages their "
        "sum)\n"
        "  -n, --requests N       end after N measured requests (and --duration, if given)\n"
        "  --warmup D             load before measuring, excluded from results (default 0s)\n"
        "  --timeout D            per request (default 10s)\n"
        "  --seed N               random seed for the mix and Poisson gaps\n"
        "  --shard I/N            run share I (1..N) of a rate or connection count split over N "
        "machines\n"
        "  --shards N             the same, with the share read from JOB_COMPLETION_INDEX "
        "(0..N-1,\n"
        "                         as Kubernetes sets it in the pods of an Indexed Job)\n"
        "  --start-at TIME        start at this RFC 3339 time (e.g. 2026-12-07T10:00:00Z) instead "
        "of now,\n"
        "                         so that shards started apart share one schedule\n"
        "output:\n"
        "  --json FILE            versioned JSON result (schema in docs/loadgen-json.md)\n"
        "  --html FILE            self-contained HTML report with charts\n"
        "  --ledger FILE          one JSON line per write, for `loadgen audit` (the task mix's,\n"
        "                         or targets with # @ledger create|update|delete)\n"
        "  --requests-out FILE    every request: times, target, status, bytes, error, connection\n"
        "                         (JSON lines; CSV when FILE ends in .csv)\n"
        "  --threshold EXPR       fail (exit 99) unless EXPR holds, e.g. 'p99<50ms', "
        "'error_ratio<1%',\n"
        "                         'login.p99.9<100ms', 'status.429<10', '4xx_ratio<1%' "
        "(repeatable)\n"
        "  --metrics-listen ADDR  serve loadgen's own Prometheus metrics on HOST:PORT /metrics\n"
        "  --metrics-linger D     keep serving /metrics for D after the run, so the last counts\n"
        "                         get scraped (default 0s)\n"
        "  --quiet                no summary on stdout\n"
        "  --no-progress          no live progress line (it is shown only on a terminal anyway)\n"
        "  --libcurl              full libcurl transfers even over http:// (loadgen otherwise\n"
        "                         writes HTTP/1.1 itself there, which is faster)\n"
        "  --help, --version\n",
        out);
    fputs(transport_usage, out);
    fputs("\nexit: 0 ok, 1 the run could not be done, 2 usage error, 99 a threshold failed\n", out);
}

static int parse_unsigned(const char *flag, const char *s, unsigned min, unsigned max,
                          unsigned *out, char *err, size_t errlen)
{
    uint64_t v;
    if (flag_count(flag, s, min, max, &v, err, errlen))
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_duration(const char *flag, const char *s, uint64_t *out, char *err, size_t errlen)
{
    return flag_duration(flag, s, 0, FLAG_NO_MAX, out, err, errlen);
}

/* "30s@100,1m@1000": each stage ramps to its rate over its duration. */
static int parse_stages(struct engine_config *c, const char *spec, char *err, size_t errlen)
{
    char copy[1024];
    if (strlen(spec) >= sizeof copy) {
        snprintf(err, errlen, "--stages: the list is longer than %zu characters", sizeof copy - 1);
        return -1;
    }
    memcpy(copy, spec, strlen(spec) + 1);
    c->nstages = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *at = strchr(part, '@');
        if (c->nstages == ENGINE_MAX_STAGES) {
            snprintf(err, errlen, "--stages '%s' has more than %d stages", spec, ENGINE_MAX_STAGES);
            return -1;
        }
        struct lg_stage *st = &c->stages[c->nstages];
        char *end;
        if (!at)
            goto bad;
        *at = '\0';
        st->rate = strtod(at + 1, &end);
        if (duration_parse(part, &st->duration_ns) || st->duration_ns == 0 || *end ||
            end == at + 1 || !isfinite(st->rate) || st->rate < 0)
            goto bad;
        c->nstages++;
    }
    if (c->nstages)
        return 0;
bad:
    snprintf(err, errlen,
             "--stages '%s' is not a list of DURATION@RATE stages separated by commas, such as "
             "30s@100,1m@1000",
             spec);
    return -1;
}

static int parse_shard(struct engine_config *c, const char *s, char *err, size_t errlen)
{
    unsigned long i, n;
    char *end;
    errno = 0;
    i = strtoul(s, &end, 10);
    if (*end != '/' || errno)
        goto bad;
    const char *rest = end + 1;
    n = strtoul(rest, &end, 10);
    if (*end || end == rest || errno || n < 1 || n > 10000 || i < 1 || i > n)
        goto bad;
    c->shard_index = (unsigned)(i - 1);
    c->shard_count = (unsigned)n;
    return 0;
bad:
    snprintf(err, errlen, "--shard '%s' is not I/N with 1 <= I <= N <= 10000, such as 1/4", s);
    return -1;
}

/* --shards N: this process's share comes from JOB_COMPLETION_INDEX (0-based). */
static int shard_from_job_index(struct engine_config *c, unsigned long n, char *err, size_t errlen)
{
    const char *index = getenv("JOB_COMPLETION_INDEX");
    unsigned long i;
    char *end;
    if (!index) {
        snprintf(
            err, errlen,
            "--shards %lu reads this process's shard from JOB_COMPLETION_INDEX, which is not "
            "set (Kubernetes sets it in the pods of an Indexed Job); elsewhere use --shard I/N",
            n);
        return -1;
    }
    errno = 0;
    i = strtoul(index, &end, 10);
    if (!*index || *end || errno || index[0] == '-' || i >= n) {
        snprintf(err, errlen, "JOB_COMPLETION_INDEX '%s' is not a shard of --shards %lu (0 to %lu)",
                 index, n, n - 1);
        return -1;
    }
    c->shard_index = (unsigned)i;
    c->shard_count = (unsigned)n;
    return 0;
}

static int apply(struct loadgen_options *o, int opt, const char *arg, char *err, size_t errlen)
{
    struct engine_config *c = &o->engine;
    struct workload_config *wl = &c->workload;
    switch (opt) {
    case OPT_MIX:
        return workload_parse_mix(wl, arg, err, errlen);
    case OPT_MISSING:
        return flag_ratio("missing-ratio", arg, &wl->missing_ratio, err, errlen);
    case OPT_TASK_SIZE:
        return parse_unsigned("task-size", arg, 0, WORKLOAD_TASK_MAX, &wl->task_size, err, errlen);
    case OPT_LIST_LIMIT:
        return parse_unsigned("list-limit", arg, 1, 1000, &wl->list_limit, err, errlen);
    case OPT_TAG:
        wl->run_tag = arg;
        return 0;
    case OPT_RAW:
        wl->raw = 1;
        return 0;
    case 'X':
        wl->method = arg;
        return 0;
    case 'H':
        if (!strchr(arg, ':')) {
            snprintf(err, errlen, "--header '%s' is not a header such as 'Name: value'", arg);
            return -1;
        }
        if (wl->nheaders == sizeof wl->headers / sizeof wl->headers[0]) {
            snprintf(err, errlen, "at most %zu --header flags",
                     sizeof wl->headers / sizeof wl->headers[0]);
            return -1;
        }
        wl->headers[wl->nheaders++] = arg;
        return 0;
    case OPT_BODY:
        wl->body = arg;
        return 0;
    case OPT_TARGETS:
        wl->targets_path = arg;
        return 0;
    case OPT_DATA:
        wl->data_path = arg;
        return 0;
    case OPT_EXPECT_STATUS: {
        struct expect probe; /* refused here, before anything starts */
        char why[256];
        expect_default(&probe);
        if (expect_parse_statuses(&probe, arg, why, sizeof why)) {
            snprintf(err, errlen,
                     "--expect-status '%.80s' is not a list of codes (200), classes (2xx) and "
                     "ranges (200-299) separated by commas",
                     arg);
            return -1;
        }
        wl->expect_status = arg;
        return 0;
    }
    case OPT_EXPECT_BODY:
        if (!*arg || strlen(arg) > EXPECT_BODY_MAX) {
            snprintf(err, errlen, "--expect-body '%.80s' is not 1 to %d bytes of text", arg,
                     EXPECT_BODY_MAX);
            return -1;
        }
        wl->expect_body = arg;
        return 0;
    case 'n':
        return flag_count("requests", arg, 1, UINT64_MAX / 2, &c->requests, err, errlen);
    case OPT_REQUESTS_OUT:
        o->requests_out_path = arg;
        return 0;
    case OPT_LIBCURL:
        c->force_libcurl = 1;
        return 0;
    case 'c':
        return parse_unsigned("connections", arg, 1, 100000, &c->connections, err, errlen);
    case 'r':
        c->model = LG_MODEL_OPEN;
        return flag_rate("rate", arg, 0, 10e6, &c->rate, err, errlen);
    case OPT_STAGES:
        c->model = LG_MODEL_OPEN;
        return parse_stages(c, arg, err, errlen);
    case OPT_POISSON:
        c->poisson = 1;
        return 0;
    case OPT_MAX_INFLIGHT:
        return parse_unsigned("max-inflight", arg, 1, 100000, &c->max_inflight, err, errlen);
    case 't':
        return parse_unsigned("threads", arg, 1, 256, &c->threads, err, errlen);
    case 'd':
        return parse_duration("duration", arg, &c->duration_ns, err, errlen);
    case OPT_WARMUP:
        return parse_duration("warmup", arg, &c->warmup_ns, err, errlen);
    case OPT_TIMEOUT:
        return parse_duration("timeout", arg, &c->timeout_ns, err, errlen);
    case OPT_SEED:
        return flag_count("seed", arg, 0, UINT64_MAX, &c->seed, err, errlen);
    case OPT_SHARD:
        o->shard_flags++;
        return parse_shard(c, arg, err, errlen);
    case OPT_SHARDS: {
        uint64_t n;
        o->shard_flags++;
        return flag_count("shards", arg, 1, 10000, &n, err, errlen) ||
                       shard_from_job_index(c, (unsigned long)n, err, errlen)
                   ? -1
                   : 0;
    }
    case OPT_START_AT:
        if (clock_parse_rfc3339(arg, &c->start_unix_ns) || c->start_unix_ns == 0) {
            snprintf(err, errlen,
                     "--start-at '%s' is not an RFC 3339 time, such as 2026-12-07T10:00:00Z", arg);
            return -1;
        }
        return 0;
    case OPT_JSON:
        o->json_path = arg;
        return 0;
    case OPT_HTML:
        o->html_path = arg;
        return 0;
    case OPT_LEDGER:
        o->ledger_path = arg;
        return 0;
    case OPT_THRESHOLD:
        if (o->nthresholds == OPTIONS_MAX_THRESHOLDS) {
            snprintf(err, errlen, "at most %d --threshold flags", OPTIONS_MAX_THRESHOLDS);
            return -1;
        }
        o->thresholds[o->nthresholds++] = arg;
        return 0;
    case OPT_METRICS:
        o->metrics_listen = arg;
        return flag_addr("metrics-listen", arg, &o->metrics_addr, err, errlen);
    case OPT_LINGER:
        return parse_duration("metrics-linger", arg, &o->metrics_linger_ns, err, errlen);
    case OPT_QUIET:
        o->quiet = 1;
        return 0;
    case OPT_NO_PROGRESS:
        o->no_progress = 1;
        return 0;
    default:
        return -1;
    }
}

static int finish(struct loadgen_options *o, char *err, size_t errlen)
{
    struct engine_config *c = &o->engine;
    struct workload_config *wl = &c->workload;
    if (wl->raw && wl->body && !wl->method)
        wl->method = "POST";
    if (wl->raw && wl->targets_path) {
        snprintf(err, errlen, "--raw sends one request and --targets a file of them: pick one");
        return -1;
    }
    if (!wl->raw && (wl->method || wl->body)) {
        snprintf(err, errlen,
                 "--method and --body need --raw (the task mix and --targets describe their "
                 "own requests)");
        return -1;
    }
    if (!workload_is_targets(wl) &&
        (wl->nheaders || wl->data_path || wl->expect_status || wl->expect_body)) {
        snprintf(err, errlen,
                 "--header, --data, --expect-status and --expect-body need --raw or --targets "
                 "(the task mix builds its own requests and knows its own statuses)");
        return -1;
    }
    if (wl->raw && o->ledger_path) {
        snprintf(err, errlen,
                 "--ledger records the writes of the task mix or of targets with a ledger role; "
                 "it does not apply to --raw");
        return -1;
    }
    if (c->model == LG_MODEL_OPEN && c->poisson == 0 && c->rate <= 0 && c->nstages == 0) {
        snprintf(err, errlen, "the open model needs --rate or --stages");
        return -1;
    }
    if (o->shard_flags > 1) {
        snprintf(err, errlen, "give one of --shard and --shards, once");
        return -1;
    }
    if (c->model == LG_MODEL_CLOSED && c->poisson) {
        snprintf(err, errlen, "--poisson shapes the open model's arrivals: add --rate");
        return -1;
    }
    if (!c->duration_ns && !(c->model == LG_MODEL_OPEN && c->nstages) && !c->requests)
        c->duration_ns = 10000000000ull; /* with -n alone, the count ends the run */
    if (!c->threads)
        c->threads = cpus_usable();
    return 0;
}

/* A transport flag, or a setting of the API model (an --api preset was applied before the
 * other flags by resource_api_preset_from_args). */
static int transport_or_api(struct loadgen_options *o, int opt, const char *name, const char *arg,
                            char *err, size_t errlen)
{
    if (opt == OPT_TRANSPORT)
        return transport_flag(&o->engine.transport, name, arg, err, errlen) < 0 ? -1 : 0;
    o->engine.workload.api = &o->api;
    if (!strcmp(name, "api"))
        return 0;
    return resource_api_set(&o->api, name, arg, err, errlen);
}

enum options_result options_parse(struct loadgen_options *o, int argc, char **argv, char *err,
                                  size_t errlen)
{
    memset(o, 0, sizeof *o);
    optind = 0; /* also resets getopt's state between calls (tests parse many argv) */
    opterr = 0;
    int opt, index = -1;
    resource_api_default(&o->api);
    if (resource_api_preset_from_args(&o->api, argc, argv, err, errlen) < 0)
        return OPTIONS_ERROR;
    while ((opt = getopt_long(argc, argv, "+c:r:t:d:n:X:H:h", long_options, &index)) != -1) {
        if (opt == 'h') {
            options_usage(stdout);
            return OPTIONS_EXIT_OK;
        }
        if (opt == OPT_VERSION) {
            printf("loadgen %s\n", taskbench_version());
            return OPTIONS_EXIT_OK;
        }
        if (opt == '?' || opt == ':') {
            snprintf(err, errlen, "unknown option or missing value: %s (see loadgen --help)",
                     argv[optind - 1]);
            return OPTIONS_ERROR;
        }
        if (opt == OPT_TRANSPORT || opt == OPT_API) {
            if (transport_or_api(o, opt, long_options[index].name, optarg, err, errlen) < 0)
                return OPTIONS_ERROR;
            continue;
        }
        if (apply(o, opt, optarg, err, errlen))
            return OPTIONS_ERROR;
    }
    int url_optional = o->engine.workload.targets_path != NULL;
    if (optind < argc - 1 || (optind == argc && !url_optional)) {
        snprintf(err, errlen,
                 optind >= argc ? "missing the target URL (see loadgen --help)"
                                : "expected one target URL, got more arguments");
        return OPTIONS_ERROR;
    }
    o->engine.url = optind < argc ? argv[optind] : NULL;
    return finish(o, err, errlen) ? OPTIONS_ERROR : OPTIONS_OK;
}
