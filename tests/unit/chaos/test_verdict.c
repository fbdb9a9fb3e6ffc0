/*
 * Unit tests for chaos/verdict: the checks judged from what an experiment recorded, with no
 * taskd, no load and no clock. The steady state holds only with every probe ready and the
 * error ratio and p99 within the tolerances; after the run, detection, the writes during the
 * fault, the recovery, the audit, the integrity check and the expected alerts each become a
 * named check whose detail says what was measured; what a phase could not do comes first, as a
 * failed check; one failed check makes the experiment deviated, and the checks a scenario does
 * not ask for are not added at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment_result.h"
#include "builtin_experiments.h"
#include "scenarios.h"
#include "verdict.h"

struct fixture {
    struct experiment_options o;
    struct experiment_result res;
    const struct scenario *sc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    experiment_options_default(&f->o);
    f->sc = builtin_experiment_find("db-deleted");
    experiment_result_init(&f->res, f->sc);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    experiment_result_free(&f->res);
    free(f);
    return 0;
}

/* The check named `name`, or NULL. */
static const struct experiment_check *find(const struct experiment_result *res, const char *name)
{
    for (size_t i = 0; i < res->nchecks; i++) {
        if (strcmp(res->checks[i].name, name) == 0)
            return &res->checks[i];
    }
    return NULL;
}

static int passed(const struct experiment_result *res, const char *name)
{
    const struct experiment_check *c = find(res, name);
    if (!c)
        fail_msg("no check named \"%s\"", name);
    return c->passed;
}

/* A steady window that holds: 30 probes ready, 600 requests, 0.5 % errors, p99 20 ms. */
static void good_steady(struct experiment_result *res)
{
    res->steady_probes = 30;
    res->steady_not_ready = 0;
    res->steady_requests = 600;
    res->steady_error_ratio = 0.005;
    res->steady_p99_s = 0.020;
}

/* A db-deleted run in which taskd did everything right: its scrape had the file state and the
 * error counter (a service without them gets notes instead of those checks). */
static void good_run(struct experiment_result *res)
{
    good_steady(res);
    if (!res->probes) {
        res->probes = calloc(1, sizeof(*res->probes));
        assert_non_null(res->probes);
        res->probes[0].has_file_state = res->probes[0].has_db_errors = 1;
        res->nprobes = 1;
    }
    res->injected_s = 3.0;
    res->detected_s = 3.1;
    res->time_to_detect_s = 0.1;
    res->readiness_dropped = 1;
    snprintf(res->states_seen[res->nstates++], PROBES_STATE_LEN, "unlinked");
    res->refused_in_fault = 40;
    res->rolled_back_s = 8.0;
    res->recovered_s = 8.2;
    res->time_to_recover_s = 0.2;
    res->probe_write_status = 201;
    res->audit_ran = 1;
    res->writes_acknowledged = 900;
    snprintf(res->integrity, sizeof(res->integrity), "ok");
}

static void test_a_calm_steady_state_holds(void **state)
{
    struct fixture *f = *state;
    good_steady(&f->res);
    assert_true(verdict_steady_state(&f->o, &f->res));
    assert_int_equal(f->res.nchecks, 1);
    assert_string_equal(f->res.checks[0].name, "steady state");
    assert_true(f->res.checks[0].passed);
    assert_string_equal(f->res.checks[0].detail, "0 of 30 probes not ready; 600 requests, error "
                                                 "ratio 0.0050 (max 0.0100); p99 20.0 ms (max "
                                                 "250.0 ms)");
}

static void test_a_steady_state_fails_on_any_unready_probe_errors_or_latency(void **state)
{
    struct fixture *f = *state;
    good_steady(&f->res);
    f->res.steady_not_ready = 1;
    assert_false(verdict_steady_state(&f->o, &f->res));
    good_steady(&f->res);
    f->res.steady_error_ratio = 0.02;
    assert_false(verdict_steady_state(&f->o, &f->res));
    good_steady(&f->res);
    f->res.steady_p99_s = 0.3;
    assert_false(verdict_steady_state(&f->o, &f->res));
    assert_non_null(strstr(f->res.checks[2].detail, "p99 300.0 ms (max 250.0 ms)"));
    good_steady(&f->res);
    f->res.steady_p99_s = 0.25; /* at the tolerance: holds */
    assert_true(verdict_steady_state(&f->o, &f->res));
    for (size_t i = 0; i < 3; i++)
        assert_false(f->res.checks[i].passed);
}

static void test_a_steady_state_without_probes_or_requests_does_not_hold(void **state)
{
    struct fixture *f = *state;
    good_steady(&f->res);
    f->res.steady_probes = 0;
    assert_false(verdict_steady_state(&f->o, &f->res));
    good_steady(&f->res);
    f->res.steady_requests = 0;
    assert_false(verdict_steady_state(&f->o, &f->res));
}

static void test_a_run_that_did_everything_right_passes(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.status, EXPERIMENT_PASSED);
    static const char *const expected[] = {
        "service stays up on the fault",
        "detected",
        "readiness dropped",
        "file state",
        "writes refused",
        "writes answered",
        "fault bit",
        "recovered",
        "no acknowledged write lost",
        "no unexpected write",
        "integrity_check",
    };
    assert_int_equal(f->res.nchecks, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < f->res.nchecks; i++) {
        assert_string_equal(f->res.checks[i].name, expected[i]);
        assert_true(f->res.checks[i].passed);
    }
    assert_string_equal(find(&f->res, "detected")->detail, "after 0.100 s");
    assert_string_equal(find(&f->res, "recovered")->detail,
                        "ready 0.200 s after the rollback; a write answered 201");
    assert_string_equal(find(&f->res, "service stays up on the fault")->detail,
                        "the service did not exit during the fault");
    /* db-deleted has no error code to count, and no alerts without an alert source: those
     * checks are not added. */
    assert_null(find(&f->res, "error counted"));
    assert_int_equal(f->res.alerts_checked, 0);
}

static void test_an_acknowledged_write_during_the_fault_is_a_deviation(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->res.acked_in_fault = 3;
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
    assert_false(passed(&f->res, "writes refused"));
    assert_string_equal(find(&f->res, "writes refused")->detail,
                        "3 writes invoked during the fault were acknowledged");
    assert_true(passed(&f->res, "detected"));
}

static void test_an_unnoticed_fault_and_no_recovery_are_deviations(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->res.detected_s = f->res.time_to_detect_s = -1;
    f->res.readiness_dropped = 0;
    f->res.nstates = 0;
    f->res.recovered_s = f->res.time_to_recover_s = -1;
    f->res.probe_write_status = 0;
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
    assert_string_equal(find(&f->res, "detected")->detail,
                        "no probe in the 5.0 s fault window showed not ready, db_up 0, the "
                        "expected state or a metric condition");
    assert_false(passed(&f->res, "readiness dropped"));
    assert_string_equal(find(&f->res, "file state")->detail,
                        "taskd_db_file_state{state=\"unlinked\"} never read 1 during the fault");
    assert_string_equal(find(&f->res, "recovered")->detail,
                        "not ready within the recovery timeout (10.000 s); a write answered 0");
}

static void test_lost_writes_count_against_the_scenario_allowance(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->res.lost = 2;
    f->res.unexpected = 1;
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_string_equal(find(&f->res, "no acknowledged write lost")->detail,
                        "2 lost (at most 0 allowed) of 900 acknowledged");
    assert_false(passed(&f->res, "no acknowledged write lost"));
    assert_false(passed(&f->res, "no unexpected write"));
}

static void test_without_an_audit_there_is_no_audit_verdict(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->res.audit_ran = 0;
    f->res.integrity[0] = '\0';
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_null(find(&f->res, "no acknowledged write lost"));
    assert_null(find(&f->res, "integrity_check"));
    assert_int_equal(f->res.status, EXPERIMENT_PASSED);
}

/* A load that records no write (a targets file without # @ledger) cannot show whether writes
 * were refused or lost: those expectations are notes, never passed checks. */
static void test_a_load_without_recorded_writes_leaves_the_write_checks_as_notes(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->res.writes_acknowledged = f->res.refused_in_fault = 0;
    f->res.unexpected = 140; /* rows of the run's tag that no ledger line explains */
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.status, EXPERIMENT_PASSED);
    assert_null(find(&f->res, "writes refused"));
    assert_null(find(&f->res, "fault bit"));
    assert_null(find(&f->res, "no acknowledged write lost"));
    assert_null(find(&f->res, "no unexpected write"));
    assert_int_equal(f->res.nnotes, 2);
    assert_non_null(strstr(f->res.notes[0], "the load recorded no write"));
    assert_non_null(strstr(f->res.notes[1], "the audit: not checked"));
    assert_true(passed(&f->res, "readiness dropped"));
}

static void test_a_setup_that_loses_writes_counts_them_instead_of_failing(void **state)
{
    struct fixture *f = *state;
    f->sc = builtin_experiment_find("power-loss-normal");
    assert_non_null(f->sc);
    good_run(&f->res);
    f->res.lost = 45;
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_true(passed(&f->res, "acknowledged writes lost (counted)"));
    assert_string_equal(find(&f->res, "acknowledged writes lost (counted)")->detail,
                        "45 of 900 acknowledged writes lost: this setup loses them, and the audit "
                        "lists each one");
    assert_null(find(&f->res, "no acknowledged write lost"));
    assert_true(passed(&f->res, "no unexpected write"));
}

static void test_an_absorbed_fault_must_leave_taskd_ready_and_writing(void **state)
{
    struct fixture *f = *state;
    f->sc = builtin_experiment_find("short-write");
    assert_non_null(f->sc);
    good_run(&f->res);
    f->res.readiness_dropped = 0;
    f->res.acked_in_fault = 120;
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_true(passed(&f->res, "absorbed"));
    assert_null(find(&f->res, "detected")); /* nothing was to be detected */
    assert_int_equal(f->res.status, EXPERIMENT_PASSED);
    experiment_result_free(&f->res);
    experiment_result_init(&f->res, f->sc);
    good_run(&f->res);
    f->res.readiness_dropped = 1; /* it turned unready: not absorbed */
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_false(passed(&f->res, "absorbed"));
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
}

static void test_what_a_phase_could_not_do_comes_first_as_failed_checks(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    snprintf(f->res.stop_error, sizeof(f->res.stop_error), "taskd ignored SIGTERM");
    snprintf(f->res.rollback_error, sizeof(f->res.rollback_error), "rename: No such file");
    snprintf(f->res.audit_error, sizeof(f->res.audit_error), "the audit could not run: x");
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
    assert_string_equal(f->res.checks[0].name, "rollback");
    assert_string_equal(f->res.checks[0].detail, "rename: No such file");
    assert_string_equal(f->res.checks[1].name, "audit");
    assert_string_equal(f->res.checks[2].name, "clean stop");
    assert_string_equal(f->res.checks[2].detail, "taskd ignored SIGTERM");
    for (size_t i = 0; i < 3; i++)
        assert_false(f->res.checks[i].passed);
    assert_null(find(&f->res, "crash and restart"));
    assert_null(find(&f->res, "ledger"));
}

static void test_a_start_up_fault_needs_the_service_to_stay_up(void **state)
{
    struct fixture *f = *state;
    f->sc = builtin_experiment_find("volume-mount");
    good_run(&f->res);
    f->res.nstates = 0;
    snprintf(f->res.states_seen[f->res.nstates++], PROBES_STATE_LEN, "is_directory");
    verdict_judge(f->sc, &f->o, &f->res, 0);
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
    assert_string_equal(f->res.checks[0].name, "service stays up on the fault");
    assert_string_equal(f->res.checks[0].detail, "the service did not come up on the fault");
    assert_true(passed(&f->res, "file state"));
    /* A service that came up but exited by itself during the fault did not stay up either. */
    experiment_result_free(&f->res);
    experiment_result_init(&f->res, f->sc);
    good_run(&f->res);
    f->res.service_exits_in_fault = 1;
    snprintf(f->res.service_exit, sizeof(f->res.service_exit), "the service exited with 1");
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_false(passed(&f->res, "service stays up on the fault"));
    assert_string_equal(find(&f->res, "service stays up on the fault")->detail,
                        "the service exited with 1 during the fault");
}

/* An alert as the sources saw it: Prometheus firing at `fire` and gone at `resolve` (-1:
 * never). */
static void seen(struct experiment_result *res, const char *name, double fire, double resolve)
{
    struct experiment_alert *a = &res->alerts[res->nalerts++];
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->prom_pending_s = fire;
    a->prom_firing_s = fire;
    a->prom_resolved_s = resolve;
    a->am_active_s = a->am_resolved_s = a->hook_firing_s = a->hook_resolved_s = -1;
}

static void test_each_expected_alert_must_fire_after_the_injection_and_resolve(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->o.prometheus_url = "http://127.0.0.1:9090";
    seen(&f->res, "TaskdDatabaseDown", 5.0, 12.0);           /* fired and resolved */
    seen(&f->res, "TaskdDatabaseFileStateNotOk", 1.0, 12.0); /* before the injection at 3 s */
    seen(&f->res, "TaskdHighErrorRatio", 6.0, -1);           /* not expected: no check */
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_int_equal(f->res.alerts_checked, 1);
    assert_true(passed(&f->res, "alert TaskdDatabaseDown"));
    assert_string_equal(find(&f->res, "alert TaskdDatabaseDown")->detail,
                        "fired during the fault and resolved after the rollback");
    assert_false(passed(&f->res, "alert TaskdDatabaseFileStateNotOk"));
    assert_string_equal(find(&f->res, "alert TaskdDatabaseFileStateNotOk")->detail,
                        "was already firing before the injection");
    assert_null(find(&f->res, "alert TaskdHighErrorRatio"));
    assert_int_equal(f->res.alerts[0].expected, 1);
    assert_int_equal(f->res.alerts[2].expected, 0);
    assert_int_equal(f->res.status, EXPERIMENT_DEVIATED);
}

static void test_an_expected_alert_never_seen_is_listed_and_fails(void **state)
{
    struct fixture *f = *state;
    good_run(&f->res);
    f->o.prometheus_url = "http://127.0.0.1:9090";
    seen(&f->res, "TaskdDatabaseDown", 5.0, -1); /* fired, never resolved */
    verdict_judge(f->sc, &f->o, &f->res, 1);
    assert_string_equal(find(&f->res, "alert TaskdDatabaseDown")->detail, "fired, never resolved");
    assert_string_equal(find(&f->res, "alert TaskdDatabaseFileStateNotOk")->detail, "never fired");
    assert_int_equal(f->res.nalerts, 2); /* the one never seen is in the journal, as expected */
    assert_string_equal(f->res.alerts[1].name, "TaskdDatabaseFileStateNotOk");
    assert_int_equal(f->res.alerts[1].expected, 1);
}

static void test_checks_beyond_the_limit_are_dropped(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < EXPERIMENT_MAX_CHECKS + 4; i++) {
        good_steady(&f->res);
        verdict_steady_state(&f->o, &f->res);
    }
    assert_int_equal(f->res.nchecks, EXPERIMENT_MAX_CHECKS);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_calm_steady_state_holds),
        T(test_a_steady_state_fails_on_any_unready_probe_errors_or_latency),
        T(test_a_steady_state_without_probes_or_requests_does_not_hold),
        T(test_a_run_that_did_everything_right_passes),
        T(test_an_acknowledged_write_during_the_fault_is_a_deviation),
        T(test_an_unnoticed_fault_and_no_recovery_are_deviations),
        T(test_lost_writes_count_against_the_scenario_allowance),
        T(test_without_an_audit_there_is_no_audit_verdict),
        T(test_a_load_without_recorded_writes_leaves_the_write_checks_as_notes),
        T(test_a_setup_that_loses_writes_counts_them_instead_of_failing),
        T(test_an_absorbed_fault_must_leave_taskd_ready_and_writing),
        T(test_what_a_phase_could_not_do_comes_first_as_failed_checks),
        T(test_a_start_up_fault_needs_the_service_to_stay_up),
        T(test_each_expected_alert_must_fire_after_the_injection_and_resolve),
        T(test_an_expected_alert_never_seen_is_listed_and_fails),
        T(test_checks_beyond_the_limit_are_dropped),
    };
    return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
