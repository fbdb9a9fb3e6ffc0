/*
 * experiment_result: defaults, initial state and cleanup of what an experiment is given and
 * records (see experiment_result.h).
 */
#include "experiment_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *experiment_status_name(enum experiment_status s)
{
    static const char *const names[] = {"passed",  "deviated", "aborted",
                                        "skipped", "error",    "observed"};
    return s <= EXPERIMENT_OBSERVED ? names[s] : "unknown";
}

void experiment_options_default(struct experiment_options *o)
{
    memset(o, 0, sizeof(*o));
    o->rate = 200;
    o->steady_ns = 3000000000ull;
    o->fault_ns = 5000000000ull;
    o->recover_timeout_ns = 10000000000ull;
    o->probe_interval_ns = 100000000ull;
    o->alert_timeout_ns = 120000000000ull;
    o->max_error_ratio = 0.01;
    o->max_p99_ns = 250000000ull;
}

void experiment_result_init(struct experiment_result *res, const struct scenario *sc)
{
    memset(res, 0, sizeof(*res));
    res->sc = sc;
    res->injected_s = res->detected_s = res->rolled_back_s = res->recovered_s = -1;
    res->ended_s = res->time_to_detect_s = res->time_to_recover_s = -1;
    res->error_code_delta = -1;
    for (size_t i = 0; i < SCENARIO_MAX_METRICS; i++)
        res->metric_before[i] = NAN;
    res->status = EXPERIMENT_ERROR;
}

void experiment_result_free(struct experiment_result *res)
{
    if (!res)
        return;
    free(res->probes);
    res->probes = NULL;
    free(res->audit_json);
    res->audit_json = NULL;
    if (res->load_valid)
        results_free(&res->load);
    res->load_valid = 0;
}
