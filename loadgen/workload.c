/*
 * workload: builds each request of the task mix and keeps the ids the run created; hands
 * targets workloads to workload_targets.c. See workload.h for the contract; the choices that
 * matter for the audit are that task text is unique per write (run tag, thread, sequence
 * number) and that an id is out of the pool while a request on it is in flight.
 */
#include "workload.h"
#include "workload_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id_template.h"

/* Ids far above anything a run creates and below taskd's int64 limit: always a 404. */
#define MISSING_ID_BASE 9000000000000000000LL
#define URL_PATH_MAX 16384 /* a rendered request-target */
#define HEADERS_MAX 65536  /* rendered header lines */

static const char *const mix_names[LG_TASK_ROUTES] = {"create", "read", "update", "delete", "list"};
static const char *const mix_methods[LG_TASK_ROUTES] = {"POST", "GET", "PUT", "DELETE", "GET"};
static const char *const mix_templates[LG_TASK_ROUTES] = {"/tasks", "/tasks/{id}", "/tasks/{id}",
                                                          "/tasks/{id}", "/tasks"};
static const char json_header[] = "Content-Type: application/json\r\n";

const char *workload_task_route_name(enum lg_route r)
{
    return (unsigned)r < LG_TASK_ROUTES ? mix_names[r] : "unknown";
}

const char *workload_task_route_method(enum lg_route r)
{
    return (unsigned)r < LG_TASK_ROUTES ? mix_methods[r] : "";
}

const char *workload_task_route_template(enum lg_route r)
{
    return (unsigned)r < LG_TASK_ROUTES ? mix_templates[r] : "";
}

int workload_is_targets(const struct workload_config *cfg)
{
    return cfg->raw || cfg->targets_path || cfg->targets;
}

int workload_add_routes(const struct workload_config *cfg, struct lg_results *r)
{
    if (cfg->targets) {
        for (size_t i = 0; i < cfg->targets->n; i++) {
            const struct target *t = &cfg->targets->items[i];
            if (results_route_add(r, t->name, t->method, t->url) != (int)i)
                return -1;
        }
        return 0;
    }
    for (int i = 0; i < LG_TASK_ROUTES; i++)
        if (results_route_add(r, mix_names[i], mix_methods[i], mix_templates[i]) != i)
            return -1;
    return 0;
}

void workload_request_init(struct workload_request *req)
{
    memset(req, 0, sizeof *req);
    buf_init(&req->path_buf, URL_PATH_MAX);
    buf_init(&req->headers_buf, HEADERS_MAX);
    buf_init(&req->body_buf, WORKLOAD_RENDER_MAX);
}

void workload_request_free(struct workload_request *req)
{
    buf_free(&req->path_buf);
    buf_free(&req->headers_buf);
    buf_free(&req->body_buf);
}

static unsigned *mix_field(struct workload_config *cfg, size_t i)
{
    unsigned *fields[5] = {&cfg->create, &cfg->read, &cfg->update, &cfg->delete_, &cfg->list};
    return fields[i];
}

int workload_parse_mix(struct workload_config *cfg, const char *spec, char *err, size_t errlen)
{
    unsigned values[5] = {0};
    const char *p = spec;
    while (*p) {
        size_t name_len = strcspn(p, "=,");
        size_t i = 0;
        while (i < 5 && !(strlen(mix_names[i]) == name_len && !strncmp(p, mix_names[i], name_len)))
            i++;
        if (i == 5 || p[name_len] != '=') {
            snprintf(err, errlen,
                     "--mix '%s' is not a list of NAME=WEIGHT pairs with the names create, read, "
                     "update, delete and list, such as create=20,read=60,update=15,delete=5,list=0",
                     spec);
            return -1;
        }
        char *end;
        p += name_len + 1;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v > 1000000 || (*end && *end != ',')) {
            snprintf(err, errlen,
                     "--mix '%s': the weight of %s is not a whole number from 0 to 1000000", spec,
                     mix_names[i]);
            return -1;
        }
        values[i] = (unsigned)v;
        p = *end ? end + 1 : end;
    }
    unsigned total = 0;
    for (size_t i = 0; i < 5; i++)
        total += values[i];
    if (total == 0) {
        snprintf(err, errlen, "--mix '%s': at least one weight must be above 0", spec);
        return -1;
    }
    for (size_t i = 0; i < 5; i++)
        *mix_field(cfg, i) = values[i];
    return 0;
}

uint64_t workload_random(struct workload_state *st)
{
    uint64_t x = st->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return st->rng = x;
}

int workload_state_init(struct workload_state *st, const struct workload_config *cfg,
                        unsigned thread, unsigned threads, unsigned shard, unsigned shards,
                        uint64_t seed)
{
    memset(st, 0, sizeof *st);
    st->cfg = cfg;
    st->thread = thread + shard * 1000; /* in the task text: unique across shards */
    st->rng = seed ? seed : 0x2545f4914f6cdd1dull;
    resource_api_default(&st->default_api);
    st->api = cfg->api ? cfg->api : &st->default_api;
    shards = shards ? shards : 1;
    threads = threads ? threads : 1;
    /* Streams interleave as the pacer's do: thread i of shard s is stream s + shards * i. */
    template_stream_init(&st->stream, shard + shards * thread, shards * threads, thread, threads,
                         st->rng ^ 0x5851f42d4c957f2dull, cfg->data, cfg->run_tag);
    unsigned w[LG_TASK_ROUTES] = {cfg->create, cfg->read, cfg->update, cfg->delete_, cfg->list};
    if (!(w[0] | w[1] | w[2] | w[3] | w[4])) {
        unsigned def[5] = {20, 60, 15, 5, 0};
        memcpy(w, def, sizeof w);
    }
    memcpy(st->weights, w, sizeof w);
    for (size_t i = 0; i < 5; i++)
        st->total_weight += w[i];
    if (!cfg->targets) {
        st->pool = malloc(WORKLOAD_POOL_CAP * sizeof *st->pool);
        if (!st->pool)
            return -1;
    }
    return 0;
}

void workload_state_free(struct workload_state *st)
{
    free(st->pool);
    st->pool = NULL;
}

/* Takes a random id out of the pool (swap with the last) into id; 0 when the pool is empty. */
static int pool_checkout(struct workload_state *st, char id[WORKLOAD_ID_MAX])
{
    if (st->pool_len == 0)
        return 0;
    size_t i = workload_random(st) % st->pool_len;
    memcpy(id, st->pool[i], WORKLOAD_ID_MAX);
    memcpy(st->pool[i], st->pool[--st->pool_len], WORKLOAD_ID_MAX);
    return 1;
}

/* A full pool forgets a random id: the run then simply stops touching it. So does an id too
 * long to keep. */
static void pool_return(struct workload_state *st, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= WORKLOAD_ID_MAX)
        return;
    size_t i =
        st->pool_len < WORKLOAD_POOL_CAP ? st->pool_len++ : workload_random(st) % WORKLOAD_POOL_CAP;
    memcpy(st->pool[i], id, n + 1);
}

/* "/tasks/" and the id, percent-encoded as a path segment. */
static int item_path(struct workload_request *req)
{
    buf_reset(&req->path_buf);
    int rc = id_template_expand(&req->path_buf, "/tasks/{id}", req->id, strlen(req->id));
    req->path = req->path_buf.data;
    req->path_len = req->path_buf.len;
    return rc;
}

/* splitmix64's finaliser: arrival numbers in, well-spread draws out. */
static uint64_t mix_hash(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t workload_draw(struct workload_state *st, uint64_t arrival)
{
    return arrival == WORKLOAD_ANY_ARRIVAL ? workload_random(st)
                                           : mix_hash(st->cfg->mix_seed ^ mix_hash(arrival));
}

static enum lg_route pick_route(struct workload_state *st, uint64_t arrival)
{
    unsigned r = (unsigned)(workload_draw(st, arrival) % st->total_weight);
    for (unsigned i = 0; i < 5; i++) {
        if (r < st->weights[i])
            return (enum lg_route)i;
        r -= st->weights[i];
    }
    return LG_ROUTE_READ;
}

/* Unique text: run tag, thread, sequence, then padding up to task_size. */
static void write_task_text(struct workload_state *st, struct workload_request *req, char kind)
{
    const char *tag = st->cfg->run_tag ? st->cfg->run_tag : "lg";
    int n = snprintf(req->task, sizeof req->task, "%s-%u-%" PRIu64 "%c", tag, st->thread, st->seq++,
                     kind);
    size_t len = n < 0 ? 0 : (size_t)n;
    size_t want = st->cfg->task_size > WORKLOAD_TASK_MAX ? WORKLOAD_TASK_MAX : st->cfg->task_size;
    while (len < want)
        req->task[len++] = '.';
    req->task[len] = '\0';
}

/* {"task":"…","done":…}: the text is the run's own ([A-Za-z0-9.-]), so it needs no escaping. */
static int write_body(struct workload_request *req)
{
    buf_reset(&req->body_buf);
    if (buf_printf(&req->body_buf, "{\"task\":\"%s\",\"done\":%s}", req->task,
                   req->done ? "true" : "false"))
        return -1;
    req->body = req->body_buf.data;
    req->body_len = req->body_buf.len;
    req->has_body = 1;
    req->headers = json_header;
    req->headers_len = sizeof json_header - 1;
    return 0;
}

static int write_path(struct workload_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int write_path(struct workload_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&req->path_buf);
    int rc = buf_vprintf(&req->path_buf, fmt, ap);
    va_end(ap);
    req->path = req->path_buf.data;
    req->path_len = req->path_buf.len;
    return rc;
}

enum lg_verdict workload_verdict(const struct workload_request *req, int status, int body_ok)
{
    if (req->target) {
        if (!expect_status_ok(&req->target->expect, status))
            return LG_VERDICT_STATUS;
        return body_ok ? LG_VERDICT_OK : LG_VERDICT_BODY;
    }
    int expected = req->missing ? status == 404 : status >= 200 && status < 300;
    return expected ? LG_VERDICT_OK : LG_VERDICT_STATUS;
}

int workload_next(struct workload_state *st, struct workload_request *req, uint64_t arrival)
{
    req->id[0] = '\0';
    req->missing = 0;
    req->task[0] = '\0';
    req->done = 0;
    req->body = NULL;
    req->body_len = 0;
    req->has_body = 0;
    req->headers = "";
    req->headers_len = 0;
    req->target = NULL;
    req->expect = NULL;
    req->origin = 0;
    req->is_static = 0;
    if (st->cfg->targets)
        return workload_targets_next(st, req, arrival);
    enum lg_route route = pick_route(st, arrival);
    if (route == LG_ROUTE_READ || route == LG_ROUTE_UPDATE || route == LG_ROUTE_DELETE) {
        double draw = (double)(workload_random(st) >> 11) / 9007199254740992.0;
        if (draw < st->cfg->missing_ratio) {
            req->missing = 1;
            snprintf(req->id, sizeof req->id, "%" PRId64,
                     (int64_t)(MISSING_ID_BASE + (int64_t)(workload_random(st) % 1000000000)));
        } else if (!pool_checkout(st, req->id)) {
            route = LG_ROUTE_CREATE; /* nothing to read yet: make something */
        }
    }
    req->route = route;
    req->method = mix_methods[route];
    switch (route) {
    case LG_ROUTE_CREATE:
        write_task_text(st, req, 'c');
        return write_path(req, "/tasks") || write_body(req) ? -1 : 0;
    case LG_ROUTE_UPDATE:
        write_task_text(st, req, 'u');
        req->done = (int)(workload_random(st) & 1);
        return item_path(req) || write_body(req) ? -1 : 0;
    case LG_ROUTE_LIST: {
        unsigned limit = st->cfg->list_limit ? st->cfg->list_limit : 100;
        /* Start near an id of the run when ids are integers (taskd's keyset paging). */
        int64_t after =
            st->pool_len ? strtoll(st->pool[workload_random(st) % st->pool_len], NULL, 10) - 1 : 0;
        return write_path(req, "/tasks?limit=%u&after=%" PRId64, limit, after > 0 ? after : 0);
    }
    default: /* read, delete */
        return item_path(req);
    }
}

size_t workload_complete(struct workload_state *st, const struct workload_request *req,
                         const struct workload_answer *answer, char *created, size_t created_len)
{
    int status = answer->status;
    created[0] = '\0';
    if (st->cfg->targets)
        return 0;
    if (req->route == LG_ROUTE_CREATE) {
        int n = status >= 200 && status < 300
                    ? resource_api_created_id(st->api, answer->location, answer->body,
                                              answer->body_len, created, created_len)
                    : -1;
        if (n <= 0) {
            created[0] = '\0';
            return 0;
        }
        pool_return(st, created);
        return (size_t)n;
    }
    if (!req->id[0] || req->missing)
        return 0;
    /* The id goes back only when its state is known: not after a 404 (gone), not after a
     * successful delete, and not after a write that got no answer (it may have happened). */
    int uncertain_write = status == 0 && req->route != LG_ROUTE_READ;
    int deleted = req->route == LG_ROUTE_DELETE && status >= 200 && status < 300;
    if (status != 404 && !deleted && !uncertain_write)
        pool_return(st, req->id);
    return 0;
}
