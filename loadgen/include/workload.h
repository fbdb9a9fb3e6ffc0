/*
 * workload: what each request is — the task CRUD mix against taskd, or a set of targets (a
 * targets file, or the one request of --raw) with templates and success rules.
 *
 * Task mix: a weighted choice per request. In the open model with even arrivals the choice is a
 * function of the arrival's number in the whole schedule (and --seed), so N shards together send
 * the same operations as one process would; otherwise each thread draws from its own generator.
 * Reads, updates and deletes use ids this run created (each thread keeps its own bounded pool),
 * except a configurable share aimed at ids that cannot exist (404s, which then count as
 * successes). An id is checked out of the pool while a request on it is in flight, so
 * operations on one id never overlap — the ledger then reads as a sequential history per id.
 * With an empty pool, an operation that needs an id becomes a create.
 *
 * Targets: each request picks a target in proportion to the weights (by the arrival's number
 * too, when the task mix would) and renders its templates (workload_targets.c). A static target
 * costs nothing to render: its parts point at the target's own text.
 *
 * Either way a request comes out as parts — method, origin, request-target, header lines and
 * body — which the engine frames itself (the direct HTTP/1.1 path) or hands to libcurl.
 */
#ifndef LOADGEN_WORKLOAD_H
#define LOADGEN_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "expect.h"
#include "resource_api.h"
#include "results.h"
#include "targets.h"
#include "template.h"

struct workload_config {
    /* Task mix weights (any scale; all zero means the default 20/60/15/5/0). */
    unsigned create, read, update, delete_, list;
    double missing_ratio; /* share of read/update/delete aimed at missing ids (0..1) */
    unsigned task_size;   /* bytes of task text written (at least the unique tag) */
    unsigned list_limit;  /* ?limit= for list requests */
    const char *run_tag;  /* prefix of written task text, unique per run (for the audit) */
    const struct resource_api *api; /* where a create's answer names the new id (NULL: taskd's,
                                       "id" in the body) */

    /* A targets workload instead of the mix, described by the CLI or by chaos:
     *  - raw = 1: one request to the run's URL (method, body, headers below), named "raw";
     *  - targets_path: a targets file (targets.h); relative URLs join the run's URL.
     * headers[] are added to every target that lacks them; data_path is the CSV file of
     * {{data.X}}; expect_status / expect_body are the success rule of targets without one. */
    int raw;
    const char *method;
    const char *body;
    const char *headers[16];
    size_t nheaders;
    const char *targets_path;
    const char *data_path;
    const char *expect_status;
    const char *expect_body;
    uint64_t mix_seed; /* keys the choice by arrival number; equal in every shard (--seed) */

    /* Prepared by workload_prepare() (or given ready by a program): the compiled targets and
     * their data. NULL targets: the task mix. */
    struct target_set *targets;
    struct data_set *data;
    int owns_prepared; /* workload_release() frees targets and data */
};

/* Parses "create=20,read=60,update=15,delete=5,list=0" into cfg. Returns 0, or -1 with a
 * sentence in err. */
int workload_parse_mix(struct workload_config *cfg, const char *spec, char *err, size_t errlen);

/* 1 when cfg describes a targets workload (raw, a targets file, or prepared targets). */
int workload_is_targets(const struct workload_config *cfg);

/* Builds and compiles cfg->targets (and data) from the description, unless cfg->targets is
 * set already. url is the run's URL (the request of --raw, the base of relative targets);
 * shard_index/shard_count pick this shard's CSV rows. Returns 0, or -1 with one sentence in
 * err. Free with workload_release(). */
int workload_prepare(struct workload_config *cfg, const char *url, unsigned shard_index,
                     unsigned shard_count, char *err, size_t errlen);
void workload_release(struct workload_config *cfg);

/* Adds the workload's routes to r's table, in order (task mix: create, read, update, delete,
 * list; targets: one per target, by name). Returns 0 or -1 (out of memory). */
int workload_add_routes(const struct workload_config *cfg, struct lg_results *r);

#define WORKLOAD_TASK_MAX 1000 /* taskd's limit on task text */
#define WORKLOAD_POOL_CAP 65536
#define WORKLOAD_RENDER_MAX ((size_t)64 << 20) /* a rendered body: 64 MiB at most */
#define WORKLOAD_ID_MAX 64 /* ids up to 63 bytes are kept for later reads, updates and deletes */

/* The next request of one thread. The parts point into a target (static text) or into the
 * request's own buffers, which live as long as the request (one per engine slot). */
struct workload_request {
    int route; /* index in the run's route table */
    const char *method;
    const struct target *target; /* NULL in the task mix */
    size_t origin;               /* index of the origin (targets); 0 in the task mix */
    const struct expect *expect;
    const char *path; /* request-target: path and query */
    size_t path_len;
    const char *headers; /* "Name: value\r\n" lines */
    size_t headers_len;
    const char *body;
    size_t body_len;
    int has_body;
    int is_static; /* a static target: path, headers and body are the target's own */

    /* The task mix's write, for the ledger and the id pool. */
    char id[WORKLOAD_ID_MAX]; /* the id checked out of the pool ("": none) */
    int missing;              /* aimed at an id that cannot exist */
    char task[WORKLOAD_TASK_MAX + 1];
    int done;

    struct buf path_buf, headers_buf, body_buf; /* rendered parts (workload_request_init) */
};

void workload_request_init(struct workload_request *req);
void workload_request_free(struct workload_request *req);

/* One thread's state: its id pool, RNG, write counter and template stream. Not shared. */
struct workload_state {
    const struct workload_config *cfg;
    const struct resource_api *api; /* cfg->api, or default_api */
    struct resource_api default_api;
    unsigned weights[5], total_weight;
    char (*pool)[WORKLOAD_ID_MAX];
    size_t pool_len;
    uint64_t rng;
    uint64_t seq;
    unsigned thread;
    struct template_stream stream;
};

/* Thread `thread` of `threads` in shard `shard` of `shards` (shards 1: no sharding): its place
 * among all streams of the run for {{seq}}, and among this shard's threads for CSV rows. */
int workload_state_init(struct workload_state *st, const struct workload_config *cfg,
                        unsigned thread, unsigned threads, unsigned shard, unsigned shards,
                        uint64_t seed);
void workload_state_free(struct workload_state *st);

#define WORKLOAD_ANY_ARRIVAL UINT64_MAX

/* Fills req with the next request. `arrival` is its number in the whole schedule (all threads
 * and shards), or WORKLOAD_ANY_ARRIVAL to draw the operation (or target) from the thread's
 * generator. Returns 0, or -1 when a rendered part outgrew its limit (the request cannot be
 * sent; the engine counts it as failed). */
int workload_next(struct workload_state *st, struct workload_request *req, uint64_t arrival);

/* The rule a response is judged by. The task mix expects 2xx, and 404 for a request aimed at
 * a missing id. */
enum lg_verdict workload_verdict(const struct workload_request *req, int status, int body_ok);

/* The answer to a request, as far as the workload needs it. */
struct workload_answer {
    int status;           /* 0: no HTTP answer (a transport error) */
    const char *location; /* the Location header's value, or NULL */
    const char *body;     /* the first bytes of the body (enough for a created id) */
    size_t body_len;
};

/* Feeds the outcome back: a 2xx to a create adds the new id (found in the answer as cfg->api
 * says) to the pool; an id checked out goes back unless the row is gone or its state became
 * uncertain. Writes the created id into created (NUL-terminated; "" when none) and returns its
 * length. */
size_t workload_complete(struct workload_state *st, const struct workload_request *req,
                         const struct workload_answer *answer, char *created, size_t created_len);

/* The task mix's route names, methods and templates ("create", "POST", "/tasks"). */
const char *workload_task_route_name(enum lg_route r);
const char *workload_task_route_method(enum lg_route r);
const char *workload_task_route_template(enum lg_route r);

#endif
