/*
 * workload: what each request is — the task CRUD mix against taskd, or one raw request.
 *
 * Task mix: a weighted choice per request. In the open model with even arrivals the choice is a
 * function of the arrival's number in the whole schedule (and --seed), so N shards together send
 * the same operations as one process would; otherwise each thread draws from its own generator.
 * Reads, updates and deletes use ids this run
 * created (each thread keeps its own bounded pool), except a configurable share aimed at ids
 * that cannot exist (404s). An id is checked out of the pool while a request on it is in
 * flight, so operations on one id never overlap — the ledger then reads as a sequential
 * history per id. With an empty pool, an operation that needs an id becomes a create.
 */
#ifndef LOADGEN_WORKLOAD_H
#define LOADGEN_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"

struct workload_config {
    /* Task mix weights (any scale; all zero means the default 20/60/15/5/0). */
    unsigned create, read, update, delete_, list;
    double missing_ratio; /* share of read/update/delete aimed at missing ids (0..1) */
    unsigned task_size;   /* bytes of task text written (at least the unique tag) */
    unsigned list_limit;  /* ?limit= for list requests */
    /* --raw: method, body, extra header lines ("Name: value"); raw=1 switches the mix off. */
    int raw;
    const char *method;
    const char *body;
    const char *headers[16];
    size_t nheaders;
    const char *run_tag; /* prefix of written task text, unique per run (for the audit) */
    uint64_t mix_seed;   /* keys the choice by arrival number; equal in every shard (--seed) */
};

/* Parses "create=20,read=60,update=15,delete=5,list=0" into cfg. Returns 0, or -1 with a
 * sentence in err. */
int workload_parse_mix(struct workload_config *cfg, const char *spec, char *err, size_t errlen);

#define WORKLOAD_TASK_MAX 1000 /* taskd's limit on task text */
#define WORKLOAD_POOL_CAP 65536

/* The next request of one thread: what to send and, for writes, what it writes. */
struct workload_request {
    enum lg_route route;
    const char *method;
    char path[160]; /* appended to the base URL; "" in raw mode */
    int64_t id;     /* the id checked out of the pool (0: none) */
    int missing;    /* aimed at an id that cannot exist */
    char task[WORKLOAD_TASK_MAX + 1];
    int done;
    char body[WORKLOAD_TASK_MAX + 64];
    size_t body_len;
};

/* One thread's state: its id pool, RNG and write counter. Not shared between threads. */
struct workload_state {
    const struct workload_config *cfg;
    unsigned weights[5], total_weight;
    int64_t *pool;
    size_t pool_len;
    uint64_t rng;
    uint64_t seq;
    unsigned thread;
};

int workload_state_init(struct workload_state *st, const struct workload_config *cfg,
                        unsigned thread, uint64_t seed);
void workload_state_free(struct workload_state *st);

#define WORKLOAD_ANY_ARRIVAL UINT64_MAX

/* The next request. `arrival` is its number in the whole schedule (all threads and shards), or
 * WORKLOAD_ANY_ARRIVAL to draw the operation from the thread's generator. */
void workload_next(struct workload_state *st, struct workload_request *req, uint64_t arrival);

/* Feeds the outcome back: a 201 adds the new id (parsed from the body) to the pool; an id
 * checked out goes back unless the row is gone or its state became uncertain. status 0 is a
 * transport error. Returns the created id, or 0. */
int64_t workload_complete(struct workload_state *st, const struct workload_request *req, int status,
                          const char *body, size_t body_len);

/* Parses the "id" member of a task object; 0 when absent. */
int64_t workload_parse_id(const char *body, size_t len);

#endif
