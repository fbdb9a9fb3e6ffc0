/*
 * workload_internal: what workload.c (the task mix) and workload_targets.c (targets) share.
 * Not for other modules.
 */
#ifndef LOADGEN_WORKLOAD_INTERNAL_H
#define LOADGEN_WORKLOAD_INTERNAL_H

#include <stdint.h>

#include "workload.h"

/* The thread's xorshift64 generator. */
uint64_t workload_random(struct workload_state *st);

/* The draw that picks a request's operation or target: from the arrival's number (so shards
 * send what one process would), or the thread's generator for WORKLOAD_ANY_ARRIVAL. */
uint64_t workload_draw(struct workload_state *st, uint64_t arrival);

/* workload_next() for a targets workload. */
int workload_targets_next(struct workload_state *st, struct workload_request *req,
                          uint64_t arrival);

#endif
