/*
 * journal: the JSON journal and the human summary (see journal.h). The audit's own JSON
 * (loadgen's audit_render_json) is embedded as a member, re-emitted through the project's JSON
 * writer so the journal stays one valid document whatever the audit wrote.
 */
#include "journal.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "json_writer.h"
#include "mechanism.h"
#include "version.h"

static void put_time(struct json_writer *w, const char *key, double s)
{
    jw_key(w, key);
    if (s < 0)
        jw_null(w);
    else
        jw_fixed(w, s, 3);
}

static void put_cjson(struct json_writer *w, const cJSON *item)
{
    if (cJSON_IsObject(item)) {
        jw_object_begin(w);
        for (const cJSON *c = item->child; c; c = c->next) {
            jw_key(w, c->string);
            put_cjson(w, c);
        }
        jw_object_end(w);
    } else if (cJSON_IsArray(item)) {
        jw_array_begin(w);
        for (const cJSON *c = item->child; c; c = c->next)
            put_cjson(w, c);
        jw_array_end(w);
    } else if (cJSON_IsString(item)) {
        jw_string(w, item->valuestring);
    } else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (v == floor(v) && fabs(v) < 9e15)
            jw_int(w, (int64_t)v);
        else if (v == floor(v) && fabs(v) < 1e19)
            jw_fixed(w, v, 0); /* unix nanoseconds: digits, not an exponent */
        else
            jw_double(w, v);
    } else if (cJSON_IsBool(item)) {
        jw_bool(w, cJSON_IsTrue(item));
    } else {
        jw_null(w);
    }
}

static void put_string_or_null(struct json_writer *w, const char *key, const char *value)
{
    jw_key(w, key);
    if (value)
        jw_string(w, value);
    else
        jw_null(w);
}

static void put_expected(struct json_writer *w, const struct scenario *sc)
{
    const struct scenario_expect *x = &sc->expect;
    jw_key(w, "expected");
    jw_object_begin(w);
    jw_member_string(w, "summary", sc->expected);
    static const char *const detect[] = {[DETECT_NOT_READY] = "not_ready",
                                         [DETECT_WAL_BACK] = "wal_rebuilt",
                                         [DETECT_ABSORBED] = "absorbed",
                                         [DETECT_NONE] = "none"};
    jw_member_string(w, "detect", detect[x->detect]);
    jw_member_bool(w, "readiness_drop", x->readiness_drops);
    jw_key(w, "file_state");
    if (x->file_state)
        jw_string(w, x->file_state);
    else
        jw_null(w);
    jw_key(w, "error_code");
    if (x->error_code)
        jw_string(w, x->error_code);
    else
        jw_null(w);
    jw_member_bool(w, "writes_refused", x->refuse_writes);
    jw_member_bool(w, "some_write_refused", x->some_write_refused);
    jw_key(w, "max_lost_writes"); /* null: this setup loses writes and the audit counts them */
    if (x->max_lost == SCENARIO_ANY_LOSS)
        jw_null(w);
    else
        jw_uint(w, x->max_lost);
    jw_member_bool(w, "crash_before_audit", x->crash_before_audit);
    jw_key(w, "alerts");
    jw_array_begin(w);
    for (size_t i = 0; x->alerts[i]; i++)
        jw_string(w, x->alerts[i]);
    jw_array_end(w);
    /* Added by issue 12B: the preset the expectation started from, and the rest of it. */
    jw_member_string(w, "preset", x->preset);
    jw_member_bool(w, "observe_only", x->observe_only);
    jw_member_bool(w, "service_stays_up", x->survives);
    jw_member_bool(w, "writes_answered", x->writes_answered);
    jw_member_bool(w, "writes_accepted", x->writes_accepted);
    jw_member_bool(w, "reads_served", x->reads_served);
    jw_member_bool(w, "recovers", x->recovers);
    jw_member_bool(w, "no_unexpected_writes", x->no_unexpected);
    jw_member_bool(w, "integrity_check", x->integrity);
    jw_key(w, "metrics");
    jw_object_begin(w);
    for (size_t i = 0; i < x->nmetrics; i++)
        jw_member_string(w, x->metrics[i].probe, x->metrics[i].text);
    jw_object_end(w);
    jw_object_end(w);
}

/* What was broken and how (issue 12B): the mechanism with its parameters, as the file said. */
static void put_fault(struct json_writer *w, const struct experiment_result *r)
{
    const struct scenario *sc = r->sc;
    jw_key(w, "fault");
    jw_object_begin(w);
    jw_member_string(w, "mechanism", sc->mech->name);
    jw_key(w, "params");
    jw_object_begin(w);
    for (size_t i = 0; sc->mech->params && sc->mech->params[i].name; i++)
        put_string_or_null(w, sc->mech->params[i].name,
                           sc->params[i] ? sc->params[i] : sc->mech->params[i].fallback);
    jw_object_end(w);
    jw_member_string(w, "when", sc->at_start ? "at-start" : "live");
    jw_member_bool(w, "needs_root", sc->needs_root);
    jw_object_end(w);
}

/* The service that was broken (issue 12B). */
static void put_service(struct json_writer *w, const struct experiment_result *r)
{
    const struct scenario_service *s = &r->sc->service;
    jw_key(w, "service");
    jw_object_begin(w);
    jw_member_bool(w, "taskd", s->taskd);
    put_string_or_null(w, "name", s->name);
    jw_member_string(w, "command", r->service);
    put_string_or_null(w, "source", s->source);
    jw_member_string(w, "live", s->live.path);
    jw_member_string(w, "ready", s->ready.path);
    put_string_or_null(w, "read", s->read.path);
    put_string_or_null(w, "metrics_path", s->metrics_path);
    jw_member_uint(w, "exits_in_fault", r->service_exits_in_fault);
    put_string_or_null(w, "last_exit", *r->service_exit ? r->service_exit : NULL);
    jw_object_end(w);
}

static void put_observed(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "observed");
    jw_object_begin(w);
    jw_member_bool(w, "readiness_dropped", r->readiness_dropped);
    jw_key(w, "file_states");
    jw_array_begin(w);
    for (size_t i = 0; i < r->nstates; i++)
        jw_string(w, r->states_seen[i]);
    jw_array_end(w);
    jw_key(w, "error_code_delta");
    if (r->error_code_delta < 0)
        jw_null(w);
    else
        jw_double(w, r->error_code_delta);
    jw_member_double(w, "steady_error_ratio", r->steady_error_ratio);
    jw_member_double(w, "steady_p99_s", r->steady_p99_s);
    jw_member_int(w, "recovery_write_status", r->probe_write_status);
    jw_member_bool(w, "crashed_before_audit", r->crashed_before_audit);
    jw_key(w, "integrity_check");
    if (*r->integrity)
        jw_string(w, r->integrity);
    else
        jw_null(w);
    jw_object_end(w);
}

static void put_writes(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "writes");
    jw_object_begin(w);
    jw_member_uint(w, "acknowledged", r->writes_acknowledged);
    jw_member_uint(w, "failed", r->writes_failed);
    jw_member_uint(w, "indeterminate", r->writes_indeterminate);
    jw_member_uint(w, "acknowledged_in_fault", r->acked_in_fault);
    jw_member_uint(w, "refused_in_fault", r->refused_in_fault);
    jw_member_uint(w, "unanswered_in_fault", r->unanswered_in_fault);
    jw_key(w, "slowest_in_fault_s");
    jw_fixed(w, r->slowest_write_in_fault_s, 3);
    jw_member_bool(w, "audited", r->audit_ran);
    const char *keys[] = {"lost", "unexpected", "recovered"};
    const uint64_t values[] = {r->lost, r->unexpected, r->recovered};
    for (size_t i = 0; i < 3; i++) {
        jw_key(w, keys[i]);
        if (r->audit_ran)
            jw_uint(w, values[i]);
        else
            jw_null(w);
    }
    jw_object_end(w);
}

/* The metric probes' columns: {"name": [value or null, …], …}. */
static void put_metric_columns(struct json_writer *w, const struct experiment_result *r)
{
    const struct scenario_service *svc = &r->sc->service;
    jw_key(w, "metrics");
    jw_object_begin(w);
    for (size_t m = 0; m < svc->nmetrics; m++) {
        jw_key(w, svc->metrics[m].name);
        jw_array_begin(w);
        for (size_t i = 0; i < r->nprobes; i++) {
            double v = r->probes[i].metric[m];
            if (isnan(v))
                jw_null(w);
            else
                jw_double(w, v);
        }
        jw_array_end(w);
    }
    jw_object_end(w);
}

/* Probes as columns: {"t":[…],"readyz":[…],…}. */
static void put_probes(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "probes");
    jw_object_begin(w);
    jw_member_uint(w, "count", r->nprobes);
    jw_member_uint(w, "dropped", r->probes_dropped);
    static const char *const cols[] = {"t",         "readyz", "db_up", "file_state",
                                       "db_errors", "wal",    "ready", "read"};
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        jw_key(w, cols[c]);
        jw_array_begin(w);
        for (size_t i = 0; i < r->nprobes; i++) {
            const struct probe_sample *s = &r->probes[i];
            switch (c) {
            case 0:
                jw_fixed(w, s->t, 3);
                break;
            case 1:
                jw_int(w, s->readyz);
                break;
            case 2:
                s->db_up < 0 ? jw_null(w) : jw_int(w, s->db_up);
                break;
            case 3:
                *s->file_state ? jw_string(w, s->file_state) : jw_null(w);
                break;
            case 4:
                s->db_errors < 0 ? jw_null(w) : jw_double(w, s->db_errors);
                break;
            case 5:
                s->wal_present < 0 ? jw_null(w) : jw_int(w, s->wal_present);
                break;
            case 6:
                jw_bool(w, s->ready);
                break;
            default:
                s->read < 0 ? jw_null(w) : jw_int(w, s->read);
                break;
            }
        }
        jw_array_end(w);
    }
    put_metric_columns(w, r);
    jw_object_end(w);
}

static void put_load(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "load");
    if (!r->load_valid) {
        jw_null(w);
        return;
    }
    const struct lg_results *l = &r->load;
    jw_object_begin(w);
    jw_member_string(w, "workload", r->sc->load.targets ? "targets" : "task mix");
    if (r->sc->load.targets)
        jw_member_string(w, "targets", r->sc->load.targets);
    jw_member_double(w, "target_rate", l->target_rate);
    jw_member_double(w, "achieved_rate", results_achieved_rate(l));
    jw_key(w, "duration_s");
    jw_fixed(w, (double)l->duration_ns / 1e9, 3);
    jw_member_uint(w, "completed", l->completed);
    static const char *const classes[] = {"2xx", "4xx", "5xx", "transport_errors"};
    const enum lg_class ids[] = {LG_CLASS_2XX, LG_CLASS_4XX, LG_CLASS_5XX, LG_CLASS_ERROR};
    for (size_t i = 0; i < 4; i++) {
        jw_key(w, classes[i]);
        jw_uint(w, results_class_total(l, ids[i]));
    }
    jw_member_uint(w, "not_started", l->not_started);
    jw_key(w, "series");
    jw_array_begin(w);
    for (size_t i = 0; i < l->series_len; i++) {
        const struct lg_interval *row = &l->series[i];
        jw_object_begin(w);
        jw_key(w, "t");
        jw_fixed(w, row->t + r->load_offset_s, 3);
        jw_member_uint(w, "completed", row->completed);
        jw_member_uint(w, "ok", row->classes[LG_CLASS_2XX]);
        jw_member_uint(w, "client_errors", row->classes[LG_CLASS_4XX]);
        jw_member_uint(w, "server_errors", row->classes[LG_CLASS_5XX]);
        jw_member_uint(w, "transport_errors", row->classes[LG_CLASS_ERROR]);
        jw_member_double(w, "p50_s", (double)row->corrected_p50_ns / 1e9);
        jw_member_double(w, "p99_s", (double)row->corrected_p99_ns / 1e9);
        jw_member_double(w, "max_s", (double)row->corrected_max_ns / 1e9);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

static void put_alerts(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "alerts");
    if (!r->alerts_checked) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_key(w, "error");
    if (*r->alerts_error)
        jw_string(w, r->alerts_error);
    else
        jw_null(w);
    jw_member_uint(w, "webhook_posts", r->webhook_posts);
    jw_key(w, "seen");
    jw_array_begin(w);
    for (size_t i = 0; i < r->nalerts; i++) {
        const struct experiment_alert *a = &r->alerts[i];
        jw_object_begin(w);
        jw_member_string(w, "name", a->name);
        jw_member_bool(w, "expected", a->expected);
        put_time(w, "prometheus_pending_s", a->prom_pending_s);
        put_time(w, "prometheus_firing_s", a->prom_firing_s);
        put_time(w, "prometheus_resolved_s", a->prom_resolved_s);
        put_time(w, "alertmanager_active_s", a->am_active_s);
        put_time(w, "alertmanager_resolved_s", a->am_resolved_s);
        put_time(w, "webhook_firing_s", a->hook_firing_s);
        put_time(w, "webhook_resolved_s", a->hook_resolved_s);
        double fire = a->hook_firing_s >= 0 ? a->hook_firing_s : a->prom_firing_s;
        double resolve = a->hook_resolved_s >= 0 ? a->hook_resolved_s : a->prom_resolved_s;
        /* Only an alert that fired after the injection was fired by it. */
        int by_fault = fire >= 0 && r->injected_s >= 0 && fire >= r->injected_s;
        put_time(w, "time_to_fire_s", by_fault ? fire - r->injected_s : -1);
        put_time(w, "time_to_resolve_s",
                 by_fault && resolve >= r->rolled_back_s && r->rolled_back_s >= 0
                     ? resolve - r->rolled_back_s
                     : -1);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

static void put_checks(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "checks");
    jw_array_begin(w);
    for (size_t i = 0; i < r->nchecks; i++) {
        jw_object_begin(w);
        jw_member_string(w, "name", r->checks[i].name);
        jw_member_bool(w, "passed", r->checks[i].passed);
        jw_member_string(w, "detail", r->checks[i].detail);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* The phases' times, then the two durations the hypotheses are about. */
static void put_times(struct json_writer *w, const struct experiment_result *r)
{
    jw_key(w, "times");
    jw_object_begin(w);
    put_time(w, "injected_s", r->injected_s);
    put_time(w, "detected_s", r->detected_s);
    put_time(w, "rolled_back_s", r->rolled_back_s);
    put_time(w, "recovered_s", r->recovered_s);
    put_time(w, "ended_s", r->ended_s);
    jw_object_end(w);
    put_time(w, "time_to_detect_s", r->time_to_detect_s);
    put_time(w, "time_to_recover_s", r->time_to_recover_s);
}

static void put_experiment(struct json_writer *w, const struct experiment_result *r)
{
    const struct scenario *sc = r->sc;
    jw_object_begin(w);
    jw_member_string(w, "scenario", sc->name);
    jw_member_string(w, "description", sc->summary);
    jw_member_string(w, "status", experiment_status_name(r->status));
    jw_member_bool(w, "deviated",
                   r->status == EXPERIMENT_DEVIATED || r->status == EXPERIMENT_ABORTED);
    jw_key(w, "reason");
    if (*r->reason)
        jw_string(w, r->reason);
    else
        jw_null(w);
    jw_member_string(w, "mechanism", r->mechanism);
    jw_member_string(w, "rollback", sc->rollback);
    jw_member_string(w, "dir", r->dir);
    jw_member_string(w, "url", r->url);
    jw_member_uint(w, "start_unix_ns", r->start_unix_ns);
    jw_member_string(w, "source", sc->source);
    put_fault(w, r);
    put_service(w, r);
    put_expected(w, sc);
    put_observed(w, r);
    put_checks(w, r);
    jw_key(w, "notes");
    jw_array_begin(w);
    for (size_t i = 0; i < r->nnotes; i++)
        jw_string(w, r->notes[i]);
    jw_array_end(w);
    put_times(w, r);
    put_writes(w, r);
    jw_key(w, "audit");
    cJSON *audit = r->audit_json ? cJSON_Parse(r->audit_json) : NULL;
    if (audit)
        put_cjson(w, audit);
    else
        jw_null(w);
    cJSON_Delete(audit);
    put_load(w, r);
    put_alerts(w, r);
    put_probes(w, r);
    jw_object_end(w);
}

int journal_exit_code(const struct experiment_result *const *runs, size_t n)
{
    int code = 0;
    for (size_t i = 0; i < n; i++) {
        enum experiment_status s = runs[i]->status;
        if (s == EXPERIMENT_ERROR)
            return 2;
        if (s == EXPERIMENT_DEVIATED || s == EXPERIMENT_ABORTED)
            code = 1;
    }
    return code;
}

int journal_render(const struct experiment_result *const *runs, size_t n, struct buf *out)
{
    struct json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_member_string(&w, "schema", JOURNAL_SCHEMA);
    jw_member_string(&w, "tool", "chaos");
    jw_member_string(&w, "version", taskbench_version());
    int code = journal_exit_code(runs, n);
    jw_member_string(&w, "status", code == 0 ? "passed" : code == 1 ? "deviated" : "error");
    jw_member_bool(&w, "deviated", code == 1);
    jw_key(&w, "experiments");
    jw_array_begin(&w);
    for (size_t i = 0; i < n; i++)
        put_experiment(&w, runs[i]);
    jw_array_end(&w);
    jw_object_end(&w);
    buf_putc(out, '\n');
    return w.failed || out->overflowed ? -1 : 0;
}

static void print_seconds(FILE *out, const char *label, double s)
{
    if (s < 0)
        fprintf(out, "  %-18s -\n", label);
    else
        fprintf(out, "  %-18s %.3f s\n", label, s);
}

void journal_print(const struct experiment_result *const *runs, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct experiment_result *r = runs[i];
        fprintf(out, "%s: %s\n", r->sc->name, experiment_status_name(r->status));
        if (*r->reason)
            fprintf(out, "  %s\n", r->reason);
        if (r->status == EXPERIMENT_SKIPPED)
            continue;
        fprintf(out, "  service:           %s\n", r->service);
        fprintf(out, "  injected:          %s\n", r->mechanism);
        fprintf(out, "  expected:          %s (%s)\n", r->sc->expected, r->sc->expect.preset);
        print_seconds(out, "time to detect:", r->time_to_detect_s);
        print_seconds(out, "time to recover:", r->time_to_recover_s);
        fprintf(out, "  writes:            %llu acknowledged, %llu refused, %llu indeterminate",
                (unsigned long long)r->writes_acknowledged, (unsigned long long)r->writes_failed,
                (unsigned long long)r->writes_indeterminate);
        if (r->audit_ran)
            fprintf(out, "; audit: %llu lost, %llu unexpected, %llu recovered\n",
                    (unsigned long long)r->lost, (unsigned long long)r->unexpected,
                    (unsigned long long)r->recovered);
        else
            fprintf(out, "; not audited\n");
        const char *failed = r->status == EXPERIMENT_OBSERVED ? "seen" : "FAIL";
        for (size_t c = 0; c < r->nchecks; c++)
            fprintf(out, "  [%s] %s: %s\n", r->checks[c].passed ? "ok" : failed, r->checks[c].name,
                    r->checks[c].detail);
        for (size_t k = 0; k < r->nnotes; k++)
            fprintf(out, "  [--] %s\n", r->notes[k]);
        for (size_t a = 0; a < r->nalerts; a++) {
            const struct experiment_alert *al = &r->alerts[a];
            double fire = al->hook_firing_s >= 0 ? al->hook_firing_s : al->prom_firing_s;
            double resolve = al->hook_resolved_s >= 0 ? al->hook_resolved_s : al->prom_resolved_s;
            fprintf(out, "  alert %s%s: ", al->name, al->expected ? "" : " (not expected)");
            if (fire >= 0 && fire < r->injected_s)
                fputs("already firing before the injection", out);
            else if (fire < 0)
                fputs("never fired", out);
            else
                fprintf(out, "fired %.1f s after the injection", fire - r->injected_s);
            if (resolve >= 0 && resolve >= r->rolled_back_s)
                fprintf(out, ", resolved %.1f s after the rollback", resolve - r->rolled_back_s);
            else if (resolve >= 0)
                fputs(", resolved before the rollback", out);
            else if (fire >= 0)
                fputs(", never resolved", out);
            fputc('\n', out);
        }
    }
}
