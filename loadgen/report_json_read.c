/*
 * report_json_read: reads a loadgen JSON result back into struct lg_results (see report_json.h).
 *
 * Only the source figures are read — counts, exact histograms, series rows — and every one is
 * checked (type, range, histogram counts adding up), because merged results are trusted as if
 * measured. Derived figures (percentile summaries, ratios, totals by class) are ignored. Errors
 * name the field by its path, e.g. routes[1].by_class[0].histograms.lag.buckets[3].
 */
#include "report_json.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX 9007199254740992.0 /* 2^53: larger JSON numbers are not exact in a double */
#define PATH_MAX_LEN 128

struct reader {
    char *err;
    size_t errlen;
    uint64_t version; /* 1: failures were 5xx and transport errors, no connection counts */
};

__attribute__((format(printf, 2, 3))) static int fail(struct reader *rd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rd->err, rd->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int exact_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > EXACT_MAX ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int get_u64(struct reader *rd, const cJSON *obj, const char *path, const char *key,
                   uint64_t *out)
{
    if (exact_u64(member(obj, key), out) != 0)
        return fail(rd, "%s%s%s is missing or not a whole number from 0 to 2^53", path,
                    *path ? "." : "", key);
    return 0;
}

/* A 64-bit integer written as a decimal string (or, leniently, as an exact number). */
static int get_u64_text(struct reader *rd, const cJSON *obj, const char *path, const char *key,
                        uint64_t *out)
{
    const cJSON *v = member(obj, key);
    if (exact_u64(v, out) == 0)
        return 0;
    const char *s = cJSON_GetStringValue(v);
    char *end;
    errno = 0;
    if (s && *s >= '0' && *s <= '9') {
        unsigned long long n = strtoull(s, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = n;
            return 0;
        }
    }
    return fail(rd, "%s%s%s is missing or not a whole number written as a decimal string", path,
                *path ? "." : "", key);
}

static int get_double(struct reader *rd, const cJSON *obj, const char *path, const char *key,
                      double *out)
{
    const cJSON *v = member(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return fail(rd, "%s%s%s is missing or not a non-negative number", path, *path ? "." : "",
                    key);
    *out = v->valuedouble;
    return 0;
}

/* Seconds (nine decimals as written) back to nanoseconds. */
static int get_seconds_ns(struct reader *rd, const cJSON *obj, const char *path, const char *key,
                          uint64_t *out)
{
    double s;
    if (get_double(rd, obj, path, key, &s) != 0)
        return -1;
    if (s * 1e9 > EXACT_MAX)
        return fail(rd, "%s%s%s is too large a duration (%g s)", path, *path ? "." : "", key, s);
    *out = (uint64_t)llround(s * 1e9);
    return 0;
}

static const char *get_string(struct reader *rd, const cJSON *obj, const char *path,
                              const char *key)
{
    const char *s = cJSON_GetStringValue(member(obj, key));
    if (!s)
        fail(rd, "%s%s%s is missing or not a string", path, *path ? "." : "", key);
    return s;
}

static const cJSON *get_typed(struct reader *rd, const cJSON *obj, const char *path,
                              const char *key, int want_array)
{
    const cJSON *v = member(obj, key);
    if (want_array ? cJSON_IsArray(v) : cJSON_IsObject(v))
        return v;
    fail(rd, "%s%s%s is missing or not an %s", path, *path ? "." : "", key,
         want_array ? "array" : "object");
    return NULL;
}

/* ---- names back to enums ---- */

static int class_of_name(const char *name)
{
    for (int c = 0; c < LG_CLASS_COUNT; c++)
        if (strcmp(name, results_class_name((enum lg_class)c)) == 0)
            return c;
    return -1;
}

static int error_of_name(const char *name)
{
    for (int k = 0; k < LG_ERR_COUNT; k++)
        if (strcmp(name, results_error_name((enum lg_error_kind)k)) == 0)
            return k;
    return -1;
}

/* ---- header ---- */

static int check_identity(struct reader *rd, const cJSON *root)
{
    const char *schema = cJSON_GetStringValue(member(root, "schema"));
    if (!schema || strcmp(schema, REPORT_SCHEMA) != 0)
        return fail(rd, "it is not a loadgen result (schema is \"%s\", expected \"%s\")",
                    schema ? schema : "missing", REPORT_SCHEMA);
    uint64_t version;
    if (get_u64(rd, root, "", "version", &version) != 0)
        return -1;
    if (version != 1 && version != RESULTS_SCHEMA_VERSION)
        return fail(rd,
                    "it is version %llu of the loadgen result and this loadgen reads versions 1 "
                    "and %d; use the loadgen that wrote it",
                    (unsigned long long)version, RESULTS_SCHEMA_VERSION);
    rd->version = version;
    const cJSON *layout = get_typed(rd, root, "", "histogram_layout", 0);
    uint64_t bits, maxexp;
    const char *unit;
    if (!layout || !(unit = get_string(rd, layout, "histogram_layout", "unit")) ||
        get_u64(rd, layout, "histogram_layout", "sub_bucket_bits", &bits) != 0 ||
        get_u64(rd, layout, "histogram_layout", "max_exponent", &maxexp) != 0)
        return -1;
    if (strcmp(unit, "ns") != 0 || bits != LOGHIST_SUB_BITS || maxexp != LOGHIST_MAX_EXP)
        return fail(rd,
                    "its histogram layout (unit %s, sub_bucket_bits %llu, max_exponent %llu) "
                    "differs from this loadgen's (ns, %d, %d), so its histograms cannot be read "
                    "exactly",
                    unit, (unsigned long long)bits, (unsigned long long)maxexp, LOGHIST_SUB_BITS,
                    LOGHIST_MAX_EXP);
    return 0;
}

static int read_meta(struct reader *rd, const cJSON *root, struct report_meta *meta)
{
    const char *target = get_string(rd, root, "", "target");
    const char *mode = target ? get_string(rd, root, "", "mode") : NULL;
    if (!mode)
        return -1;
    struct report_meta m = {0};
    if (report_meta_set(&m, target, mode) != 0)
        return fail(rd,
                    "its target is longer than %d bytes or its mode \"%s\" is not tasks, raw or "
                    "targets",
                    REPORT_TARGET_MAX - 1, mode);
    const cJSON *tool = member(root, "tool");
    const char *version = cJSON_GetStringValue(member(tool, "version"));
    snprintf(m.tool_version, sizeof(m.tool_version), "%s", version ? version : "");
    if (meta)
        *meta = m;
    return 0;
}

/* totals.protocols (absent in files from before it existed): a count per protocol name. */
static int read_protocols(struct reader *rd, const cJSON *totals, struct lg_results *r)
{
    const cJSON *obj = member(totals, "protocols"), *item;
    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj))
        return fail(rd, "totals.protocols is not an object");
    cJSON_ArrayForEach(item, obj)
    {
        uint64_t n;
        if (get_u64(rd, obj, "totals.protocols.", item->string, &n) != 0)
            return -1;
        r->protocols[results_protocol_of(item->string)] += n;
    }
    return 0;
}

static int read_run(struct reader *rd, const cJSON *root, struct lg_results *r)
{
    const char *model = get_string(rd, root, "", "model");
    if (!model)
        return -1;
    if (strcmp(model, "open") != 0 && strcmp(model, "closed") != 0)
        return fail(rd, "model is \"%s\", expected \"open\" or \"closed\"", model);
    r->model = strcmp(model, "open") == 0 ? LG_MODEL_OPEN : LG_MODEL_CLOSED;
    if (get_u64_text(rd, root, "", "start_unix_ns", &r->start_unix_ns) != 0 ||
        get_seconds_ns(rd, root, "", "duration_seconds", &r->duration_ns) != 0 ||
        get_u64(rd, root, "", "threads", &r->threads) != 0 ||
        get_u64(rd, root, "", "connections", &r->connections) != 0 ||
        get_u64(rd, root, "", "runs", &r->runs) != 0)
        return -1;
    const cJSON *rate = get_typed(rd, root, "", "rate", 0);
    if (!rate)
        return -1;
    r->target_rate = 0;
    if (!cJSON_IsNull(member(rate, "target")) &&
        get_double(rd, rate, "rate", "target", &r->target_rate) != 0)
        return -1;
    const cJSON *t = get_typed(rd, root, "", "totals", 0);
    if (!t || get_u64(rd, t, "totals", "scheduled", &r->scheduled) != 0 ||
        get_u64(rd, t, "totals", "started", &r->started) != 0 ||
        get_u64(rd, t, "totals", "completed", &r->completed) != 0 ||
        get_u64(rd, t, "totals", "not_started", &r->not_started) != 0 ||
        get_u64(rd, t, "totals", "cancelled", &r->cancelled) != 0 ||
        get_u64(rd, t, "totals", "bytes_received", &r->bytes_received) != 0)
        return -1;
    if (rd->version < 2)
        return 0;
    const cJSON *c = get_typed(rd, t, "totals", "connections", 0);
    if (!c || get_u64(rd, c, "totals.connections", "opened", &r->connections_opened) != 0 ||
        get_u64(rd, c, "totals.connections", "closed", &r->connections_closed) != 0)
        return -1;
    return read_protocols(rd, t, r);
}

/* ---- counters by name ---- */

static int read_classes(struct reader *rd, const cJSON *obj, const char *path,
                        uint64_t classes[LG_CLASS_COUNT])
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        int c = class_of_name(item->string);
        if (c < 0)
            return fail(rd, "%s has an unknown status class \"%s\"", path, item->string);
        if (exact_u64(item, &classes[c]) != 0)
            return fail(rd, "%s.%s is not a whole number from 0 to 2^53", path, item->string);
    }
    return 0;
}

static int read_codes(struct reader *rd, const cJSON *obj, const char *path,
                      uint64_t codes[LG_STATUS_MAX])
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        long code = 0;
        if (strcmp(item->string, "other") != 0) {
            char *end;
            errno = 0;
            code = strtol(item->string, &end, 10);
            if (errno || *end || end == item->string || code < 100 || code >= LG_STATUS_MAX)
                return fail(rd, "%s has \"%s\", which is not a status from 100 to 599 or \"other\"",
                            path, item->string);
        }
        if (exact_u64(item, &codes[code]) != 0)
            return fail(rd, "%s.%s is not a whole number from 0 to 2^53", path, item->string);
    }
    return 0;
}

static int read_errors(struct reader *rd, const cJSON *obj, const char *path,
                       uint64_t errors[LG_ERR_COUNT])
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        int k = error_of_name(item->string);
        if (k < 0)
            return fail(rd, "%s has an unknown transport error kind \"%s\"", path, item->string);
        if (exact_u64(item, &errors[k]) != 0)
            return fail(rd, "%s.%s is not a whole number from 0 to 2^53", path, item->string);
    }
    return 0;
}

/* ---- histograms ---- */

static int read_buckets(struct reader *rd, const cJSON *arr, const char *path, struct loghist *h)
{
    const cJSON *pair;
    size_t i = 0;
    uint64_t total = 0, index = 0, count = 0;
    long long last = -1;
    cJSON_ArrayForEach(pair, arr)
    {
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
            exact_u64(cJSON_GetArrayItem(pair, 0), &index) != 0 ||
            exact_u64(cJSON_GetArrayItem(pair, 1), &count) != 0)
            return fail(rd, "%s.buckets[%zu] is not an [index, count] pair of whole numbers", path,
                        i);
        if (index >= LOGHIST_BUCKETS || (long long)index <= last)
            return fail(rd, "%s.buckets[%zu] has index %llu, out of order or beyond %u", path, i,
                        (unsigned long long)index, LOGHIST_BUCKETS - 1);
        h->counts[index] = count;
        total += count;
        last = (long long)index;
        i++;
    }
    if (total != h->count)
        return fail(rd, "%s: its buckets hold %llu values but its count is %llu", path,
                    (unsigned long long)total, (unsigned long long)h->count);
    return 0;
}

static int read_histogram(struct reader *rd, const cJSON *obj, const char *path, struct loghist *h)
{
    uint64_t min_ns;
    loghist_reset(h);
    if (!cJSON_IsObject(obj))
        return fail(rd, "%s is missing or not an object", path);
    if (get_u64(rd, obj, path, "count", &h->count) != 0 ||
        get_u64(rd, obj, path, "min_ns", &min_ns) != 0 ||
        get_u64(rd, obj, path, "max_ns", &h->max_ns) != 0 ||
        get_u64_text(rd, obj, path, "sum_ns", &h->sum_ns) != 0)
        return -1;
    const cJSON *buckets = get_typed(rd, obj, path, "buckets", 1);
    if (!buckets || read_buckets(rd, buckets, path, h) != 0)
        return -1;
    if (h->count == 0)
        return 0; /* min stays UINT64_MAX, as in an empty histogram */
    if (min_ns > h->max_ns)
        return fail(rd, "%s: min_ns %llu is above max_ns %llu", path, (unsigned long long)min_ns,
                    (unsigned long long)h->max_ns);
    h->min_ns = min_ns;
    return 0;
}

static int read_class_views(struct reader *rd, const cJSON *item, const char *path,
                            struct lg_results *r, int route)
{
    char sub[PATH_MAX_LEN + 64];
    const char *name = get_string(rd, item, path, "class");
    if (!name)
        return -1;
    int c = class_of_name(name);
    if (c < 0)
        return fail(rd, "%s.class \"%s\" is not a status class", path, name);
    if (results_views(r, (enum lg_route)route, (enum lg_class)c))
        return fail(rd, "%s repeats the class %s", path, name);
    struct lg_views *v = results_views_alloc(r, (enum lg_route)route, (enum lg_class)c);
    if (!v)
        return fail(rd, "out of memory reading %s", path);
    const cJSON *hs = get_typed(rd, item, path, "histograms", 0);
    if (!hs)
        return -1;
    snprintf(sub, sizeof(sub), "%s.histograms.corrected", path);
    if (read_histogram(rd, member(hs, "corrected"), sub, &v->corrected) != 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.histograms.service", path);
    if (read_histogram(rd, member(hs, "service"), sub, &v->service) != 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.histograms.lag", path);
    return read_histogram(rd, member(hs, "lag"), sub, &v->lag);
}

/* ---- routes ---- */

static int read_route_counts(struct reader *rd, const cJSON *item, const char *path,
                             struct lg_route_stats *rs)
{
    char sub[PATH_MAX_LEN + 16];
    const cJSON *classes = get_typed(rd, item, path, "classes", 0);
    const cJSON *codes = classes ? get_typed(rd, item, path, "codes", 0) : NULL;
    const cJSON *errors = codes ? get_typed(rd, item, path, "errors", 0) : NULL;
    if (!errors)
        return -1;
    snprintf(sub, sizeof(sub), "%s.classes", path);
    if (read_classes(rd, classes, sub, rs->classes) != 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.codes", path);
    if (read_codes(rd, codes, sub, rs->codes) != 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.errors", path);
    if (read_errors(rd, errors, sub, rs->errors) != 0)
        return -1;
    if (rd->version < 2) { /* version 1 counted 5xx (and transport errors) as its errors */
        rs->unexpected_status = rs->classes[LG_CLASS_5XX];
        return 0;
    }
    if (get_u64(rd, item, path, "unexpected_status", &rs->unexpected_status) != 0 ||
        get_u64(rd, item, path, "body_mismatch", &rs->body_mismatch) != 0)
        return -1;
    uint64_t answered = 0;
    for (int c = 0; c < LG_CLASS_COUNT; c++)
        answered += c == LG_CLASS_ERROR ? 0 : rs->classes[c];
    if (rs->unexpected_status + rs->body_mismatch > answered)
        return fail(rd,
                    "%s: unexpected_status and body_mismatch add up to more than the %llu "
                    "responses",
                    path, (unsigned long long)answered);
    return 0;
}

static int read_route(struct reader *rd, const cJSON *item, const char *path, struct lg_results *r)
{
    const char *name = get_string(rd, item, path, "name");
    const char *method = name ? get_string(rd, item, path, "method") : NULL;
    const char *template = method ? get_string(rd, item, path, "route") : NULL;
    if (!template)
        return -1;
    if (!*name || strlen(name) >= LG_ROUTE_NAME_MAX)
        return fail(rd, "%s.name \"%.80s\" is empty or longer than %d bytes", path, name,
                    LG_ROUTE_NAME_MAX - 1);
    if (results_route_find(r, name) >= 0)
        return fail(rd, "%s repeats the route %s", path, name);
    int route = results_route_add(r, name, method, template);
    if (route < 0)
        return fail(rd, "%s: out of memory or more than %d routes", path, LG_ROUTES_MAX);
    if (read_route_counts(rd, item, path, &r->routes[route]) != 0)
        return -1;
    const cJSON *by_class = get_typed(rd, item, path, "by_class", 1);
    if (!by_class)
        return -1;
    const cJSON *cls;
    size_t j = 0;
    cJSON_ArrayForEach(cls, by_class)
    {
        char sub[PATH_MAX_LEN + 32];
        snprintf(sub, sizeof(sub), "%s.by_class[%zu]", path, j++);
        if (read_class_views(rd, cls, sub, r, route) != 0)
            return -1;
    }
    return 0;
}

static int read_routes(struct reader *rd, const cJSON *root, struct lg_results *r)
{
    const cJSON *routes = get_typed(rd, root, "", "routes", 1);
    if (!routes)
        return -1;
    const cJSON *item;
    size_t i = 0;
    cJSON_ArrayForEach(item, routes)
    {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof(path), "routes[%zu]", i++);
        if (read_route(rd, item, path, r) != 0)
            return -1;
    }
    return 0;
}

/* ---- series ---- */

static int read_row(struct reader *rd, const cJSON *item, const char *path, struct lg_interval *row)
{
    char sub[PATH_MAX_LEN + 16];
    memset(row, 0, sizeof(*row));
    if (get_double(rd, item, path, "t", &row->t) != 0 ||
        get_double(rd, item, path, "target_rate", &row->target_rate) != 0 ||
        get_u64(rd, item, path, "scheduled", &row->scheduled) != 0 ||
        get_u64(rd, item, path, "started", &row->started) != 0 ||
        get_u64(rd, item, path, "completed", &row->completed) != 0 ||
        get_u64(rd, item, path, "in_flight", &row->in_flight) != 0 ||
        get_u64(rd, item, path, "backlog", &row->backlog) != 0 ||
        get_seconds_ns(rd, item, path, "service_p99", &row->service_p99_ns) != 0 ||
        get_seconds_ns(rd, item, path, "lag_p99", &row->lag_p99_ns) != 0)
        return -1;
    const cJSON *classes = get_typed(rd, item, path, "classes", 0);
    const cJSON *lat = classes ? get_typed(rd, item, path, "latency", 0) : NULL;
    if (!lat)
        return -1;
    snprintf(sub, sizeof(sub), "%s.classes", path);
    if (read_classes(rd, classes, sub, row->classes) != 0)
        return -1;
    if (rd->version < 2)
        row->failed = row->classes[LG_CLASS_ERROR] + row->classes[LG_CLASS_5XX];
    else if (get_u64(rd, item, path, "failed", &row->failed) != 0 ||
             get_u64(rd, item, path, "connections_opened", &row->opened) != 0 ||
             get_u64(rd, item, path, "connections_closed", &row->closed) != 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s.latency", path);
    if (get_seconds_ns(rd, lat, sub, "p50", &row->corrected_p50_ns) != 0 ||
        get_seconds_ns(rd, lat, sub, "p90", &row->corrected_p90_ns) != 0 ||
        get_seconds_ns(rd, lat, sub, "p99", &row->corrected_p99_ns) != 0 ||
        get_seconds_ns(rd, lat, sub, "max", &row->corrected_max_ns) != 0)
        return -1;
    return 0;
}

static int read_series(struct reader *rd, const cJSON *root, struct lg_results *r)
{
    const cJSON *series = get_typed(rd, root, "", "series", 1);
    if (!series)
        return -1;
    const cJSON *item;
    size_t i = 0;
    cJSON_ArrayForEach(item, series)
    {
        char path[PATH_MAX_LEN];
        struct lg_interval row;
        snprintf(path, sizeof(path), "series[%zu]", i++);
        if (read_row(rd, item, path, &row) != 0)
            return -1;
        if (results_append_interval(r, &row) != 0)
            return fail(rd, "out of memory reading %s", path);
    }
    return 0;
}

int report_json_parse(const char *text, size_t len, struct lg_results *out,
                      struct report_meta *meta_out, char *err, size_t errlen)
{
    struct reader rd = {err, errlen, RESULTS_SCHEMA_VERSION};
    int rc = -1;
    results_init(out);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        fail(&rd, "it is not a JSON object (a loadgen --json result was expected)");
        goto out;
    }
    if (check_identity(&rd, root) != 0 || read_meta(&rd, root, meta_out) != 0 ||
        read_run(&rd, root, out) != 0 || read_routes(&rd, root, out) != 0 ||
        read_series(&rd, root, out) != 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* Reads the whole file, up to REPORT_JSON_LIMIT bytes. Returns 0, or -1 with errno set. */
static int slurp(const char *path, char **text, size_t *len)
{
    struct buf b;
    buf_init(&b, REPORT_JSON_LIMIT);
    int rc = buf_append_file(&b, path);
    int why = errno;
    *text = rc ? NULL : buf_detach(&b, len);
    buf_free(&b);
    if (!rc && !*text) {
        rc = -1;
        why = ENOMEM;
    }
    errno = why;
    return rc;
}

int report_json_read_file(const char *path, struct lg_results *out, struct report_meta *meta_out,
                          char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    char why[512];
    if (slurp(path, &text, &len) != 0) {
        results_init(out);
        snprintf(err, errlen, "cannot read the loadgen result %s: %s", path,
                 errno == EFBIG ? "it is larger than 256 MiB" : strerror(errno));
        return -1;
    }
    int rc = report_json_parse(text, len, out, meta_out, why, sizeof(why));
    if (rc != 0)
        snprintf(err, errlen, "cannot read the loadgen result %s: %s", path, why);
    free(text);
    return rc;
}
