/*
 * Unit tests for chaos's experiment files (chaos/experiment_file.c) and the placeholders they
 * use: every file of chaos/experiments/ is a built-in, parses, and is the same experiment
 * whether read from disk or compiled in; a service file aims an experiment at another service
 * and drops what was taskd's; and every refusal is one sentence naming the file, the JSON path
 * and what is expected there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment_file.h"
#include "mechanism.h"
#include "placeholders.h"
#include "builtin_experiments.h"
#include "scenarios.h"

static char err[1024];

/* A minimal valid experiment with `extra` members spliced in after "name". */
static struct scenario *build_text(const char *text)
{
    struct experiment_source src = {"x.json", "/tmp", text, strlen(text)};
    err[0] = '\0';
    return experiment_file_build(&src, NULL, err, sizeof(err));
}

#define HEAD "{\"schema\":\"taskbench.chaos.experiment/1\",\"name\":\"x\",\"summary\":\"s\","

/* Builds `text`, expects a refusal whose sentence holds each of the NULL-terminated parts. */
static void refused(const char *text, ...)
{
    struct scenario *sc = build_text(text);
    if (sc) {
        scenario_free(sc);
        fail_msg("accepted: %s", text);
    }
    va_list ap;
    va_start(ap, text);
    for (const char *part; (part = va_arg(ap, const char *));) {
        if (!strstr(err, part))
            fail_msg("the error \"%s\" lacks \"%s\"", err, part);
    }
    va_end(ap);
}

static const char *root_dir(void)
{
    const char *r = getenv("TASKBENCH_ROOT");
    return r && *r ? r : ".";
}

static void test_every_file_of_chaos_experiments_is_a_builtin_that_parses(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/chaos/experiments", root_dir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        files++;
        char path[PATH_MAX + 300], name[256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(name, sizeof(name), "%.*s", (int)(n - 5), e->d_name);
        struct experiment_source src;
        char *text, *folder;
        assert_int_equal(experiment_file_read(path, &src, &text, &folder, err, sizeof(err)), 0);
        struct scenario *sc = experiment_file_build(&src, NULL, err, sizeof(err));
        if (!sc)
            fail_msg("%s", err);
        const struct scenario *builtin = builtin_experiment_find(name);
        if (!builtin)
            fail_msg("%s is not compiled into chaos (rebuild?)", name);
        /* The same experiment from the disk and from the binary. */
        assert_string_equal(sc->name, name);
        assert_ptr_equal(sc->mech, builtin->mech);
        for (size_t i = 0; i < SCENARIO_MAX_PARAMS; i++) {
            if (sc->params[i] || builtin->params[i])
                assert_string_equal(sc->params[i], builtin->params[i]);
        }
        assert_int_equal(sc->when, builtin->when);
        assert_int_equal(sc->expect.detect, builtin->expect.detect);
        assert_int_equal(sc->expect.refuse_writes, builtin->expect.refuse_writes);
        assert_int_equal(sc->expect.readiness_drops, builtin->expect.readiness_drops);
        assert_int_equal(sc->expect.writes_answered, builtin->expect.writes_answered);
        assert_true(sc->expect.max_lost == builtin->expect.max_lost);
        assert_string_equal(sc->expected, builtin->expected);
        assert_true(*sc->summary && *sc->mechanism && *sc->rollback && *sc->expected);
        scenario_free(sc);
        free(text);
        free(folder);
    }
    closedir(d);
    assert_int_equal(files, builtin_experiments_count());
    assert_int_equal(files,
                     24); /* the nine of issue 1, the fourteen of issue 12, volume-mount-live */
}

static void test_a_file_that_is_not_json_names_its_line_and_column(void **state)
{
    (void)state;
    refused("{\n  \"schema\": \"taskbench.chaos.experiment/1\",\n  \"name\": x\n}",
            "x.json:3:11: not valid JSON", NULL);
}

static void test_a_wrong_schema_is_refused_by_name(void **state)
{
    (void)state;
    refused("{\"schema\":\"chaos/2\"}",
            "x.json: $.schema: expected \"taskbench.chaos.experiment/1\"", "got \"chaos/2\"", NULL);
}

static void test_an_unknown_member_is_refused_with_the_ones_that_exist(void **state)
{
    (void)state;
    refused(HEAD "\"expekt\":{}}", "x.json: $: unknown member \"expekt\"",
            "expected one of: schema, name", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\",\"wen\":\"live\"},\"expect\":{\"preset\":"
                 "\"lose-nothing\"}}",
            "$.fault: unknown member \"wen\"", NULL);
}

static void test_the_expectation_must_be_stated(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"}}", "$.expect: missing: expected an object",
            NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{}}",
            "$.expect: missing \"preset\"", "fail-closed, keep-serving-reads", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"strict\"}}",
            "$.expect.preset: expected one of \"fail-closed\"", "got \"strict\"", NULL);
}

static void test_an_unknown_mechanism_lists_the_mechanisms(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"flood\"},\"expect\":{\"preset\":\"fail-closed\"}}",
            "$.fault.mechanism: unknown mechanism \"flood\"", "move-away", "libfiu", NULL);
}

static void test_mechanism_parameters_are_checked_by_type(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"fill-disk\",\"params\":{\"size\":\"big\"}},"
                 "\"expect\":{\"preset\":\"fail-closed\"}}",
            "x.json: $.fault.params.size: expected a size such as 4096, 64KiB or 16M",
            "got \"big\"", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"fill-disk\",\"params\":{\"bytes\":\"1M\"}},"
                 "\"expect\":{\"preset\":\"fail-closed\"}}",
            "$.fault.params: the fill-disk mechanism has no parameter \"bytes\"; it takes dir, "
            "size",
            NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"libfiu\"},\"expect\":{\"preset\":\"fail-closed\"}}",
            "$.fault.params: the libfiu mechanism needs \"point\"", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"move-away\",\"params\":{\"path\":\"{db\"}},"
                 "\"expect\":{\"preset\":\"fail-closed\"}}",
            "$.fault.params.path: expected a path", NULL);
}

static void test_a_mechanism_is_made_only_when_it_can_be(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\",\"when\":\"at-start\"},"
                 "\"expect\":{\"preset\":\"lose-nothing\"}}",
            "$.fault.when: the kill mechanism cannot be made at-start; it is made live", NULL);
}

static void test_a_service_command_says_where_its_port_comes_from(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"service\":{\"command\":[\"python3\",\"app.py\"]}}",
            "$.service: the command names neither {port}", "give \"url\"", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"service\":{\"command\":[\"app\",\"--port\",\"{prot}\"]}}",
            "$.service.command[2]: unknown placeholder {prot}", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"service\":{\"command\":[\"app\",\"{port}\"],\"live\":{\"path\":\"/h\","
                 "\"status\":[200,700]}}}",
            "$.service.live.status[1]: expected an HTTP status from 100 to 599", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"service\":{\"command\":[\"app\",\"{port}\"],\"start_cmd\":\"app &\"}}",
            "give \"command\"", NULL);
}

static void test_metric_conditions_name_a_metric_probe(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\","
                 "\"metrics\":{\"errors\":\"grows\"}}}",
            "$.expect.metrics.errors: no metric probe of that name", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\","
                 "\"metrics\":{\"errors\":\"more\"}},\"service\":{\"metrics\":[{\"name\":"
                 "\"errors\",\"scrape\":\"e_total\"}]}}",
            "$.expect.metrics.errors: expected \"grows\", or a comparison", NULL);
    struct scenario *sc = build_text(
        HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\","
             "\"metrics\":{\"errors\":\">= 2.5\"}},\"service\":{\"metrics\":[{\"name\":"
             "\"errors\",\"promql\":\"sum(rate(e_total[1m]))\"}]}}");
    if (!sc)
        fail_msg("%s", err);
    assert_int_equal(sc->expect.metrics[0].op, METRIC_GE);
    assert_true(sc->expect.metrics[0].value == 2.5);
    assert_int_equal(sc->service.metrics[0].source, METRIC_PROMQL);
    scenario_free(sc);
}

static void test_observe_only_asserts_nothing(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"observe-only\","
                 "\"writes_refused\":true}}",
            "$.expect.writes_refused: an observe-only experiment asserts nothing", NULL);
    struct scenario *sc =
        build_text(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"observe-"
                        "only\"}}");
    assert_non_null(sc);
    assert_true(sc->expect.observe_only);
    assert_false(sc->expect.recovers || sc->expect.refuse_writes || sc->expect.audit_lost);
    scenario_free(sc);
}

static void test_presets_are_bundles_a_file_adjusts(void **state)
{
    (void)state;
    struct scenario *sc =
        build_text(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"fail-closed\","
                        "\"writes_answered\":false,\"max_lost_writes\":\"counted\"}}");
    if (!sc)
        fail_msg("%s", err);
    assert_true(sc->expect.refuse_writes && sc->expect.readiness_drops && sc->expect.survives);
    assert_false(sc->expect.writes_answered);
    assert_true(sc->expect.max_lost == SCENARIO_ANY_LOSS);
    assert_string_equal(sc->expect.preset, "fail-closed");
    scenario_free(sc);
    sc = build_text(HEAD "\"fault\":{\"mechanism\":\"fill-disk\"},\"expect\":{\"preset\":"
                         "\"keep-serving-reads\"}}");
    assert_non_null(sc);
    assert_true(sc->expect.reads_served && sc->expect.refuse_writes);
    scenario_free(sc);
}

static void test_a_missing_targets_file_is_named_relative_to_the_file(void **state)
{
    (void)state;
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"load\":{\"targets\":\"nowhere.targets\"}}",
            "$.load.targets: expected a file", "/tmp/nowhere.targets", NULL);
    refused(HEAD "\"fault\":{\"mechanism\":\"kill\"},\"expect\":{\"preset\":\"lose-nothing\"},"
                 "\"load\":{\"mix\":\"create=1,fly=2\"}}",
            "$.load.mix:", NULL);
}

/* The service file's sections replace the experiment's: --no-create was taskd's. */
static void test_a_service_file_replaces_the_service_and_drops_taskds_arguments(void **state)
{
    (void)state;
    size_t len;
    const char *text = builtin_experiment_text("db-missing", &len);
    assert_non_null(text);
    struct experiment_source exp = {"built-in db-missing", NULL, text, len};
    static const char service[] =
        "{\"schema\":\"taskbench.chaos.service/1\",\"service\":{\"name\":\"app\",\"command\":"
        "[\"python3\",\"{file_dir}/app.py\",\"--port-file\",\"{port_file}\",\"--db\",\"{db}\"],"
        "\"live\":\"/health\",\"ready\":{\"path\":\"/health\",\"status\":[200,204]}}}";
    struct experiment_source svc = {"svc.json", "/srv", service, sizeof(service) - 1};
    struct scenario *sc = experiment_file_build(&exp, &svc, err, sizeof(err));
    if (!sc)
        fail_msg("%s", err);
    assert_false(sc->service.taskd);
    assert_null(sc->service.fault_args[0]); /* --no-create stayed with taskd */
    assert_string_equal(sc->service.command[1], "{file_dir}/app.py");
    assert_string_equal(sc->service.file_dir, "/srv");
    assert_string_equal(sc->service.live.path, "/health");
    assert_int_equal(sc->service.ready.nstatus, 2);
    assert_string_equal(sc->service.read.path, "/tasks?limit=1"); /* taskd's defaults remain */
    assert_string_equal(sc->expect.file_state, "missing");        /* the experiment's own */
    scenario_free(sc);
    static const char bad[] = "{\"schema\":\"taskbench.chaos.service/1\",\"fault\":{}}";
    struct experiment_source bad_svc = {"svc.json", "/srv", bad, sizeof(bad) - 1};
    assert_int_equal(experiment_file_check_service(&bad_svc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "svc.json: $: unknown member \"fault\""));
}

static void test_placeholders_fill_in_and_refuse_unknown_names(void **state)
{
    (void)state;
    struct placeholders p = {.port = 5000,
                             .dir = "/w/x",
                             .data_dir = "/w/x/data",
                             .db = "/w/x/data/t.db",
                             .port_file = "/w/x/p",
                             .work = "/w"};
    char out[256];
    assert_int_equal(
        placeholders_expand("127.0.0.1:{port}", &p, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "127.0.0.1:5000");
    assert_int_equal(placeholders_expand("{db}-wal {{x}}", &p, out, sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "/w/x/data/t.db-wal {x}");
    assert_int_equal(
        placeholders_expand("{file_dir}/app.py", &p, out, sizeof(out), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "a built-in experiment has no file of its own"));
    assert_int_equal(placeholders_check("{nope}", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown placeholder {nope}"));
    assert_int_equal(placeholders_check("a } b", err, sizeof(err)), -1);
    assert_true(placeholders_uses("--listen=127.0.0.1:{port}", "port"));
    assert_false(placeholders_uses("{{port}}", "port"));
    assert_int_equal(placeholders_expand("{dir}", &p, out, 4, err, sizeof(err)), -1);
}

static void test_every_mechanism_has_a_name_summary_and_documented_parameters(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; mechanisms[i]; i++, n++) {
        const struct mechanism *m = mechanisms[i];
        assert_ptr_equal(mechanism_find(m->name), m);
        assert_true(*m->summary && *m->rollback_summary && m->inject && m->rollback && m->plan);
        assert_true(m->when & (1u << m->default_when));
        for (size_t k = 0; m->params && m->params[k].name; k++)
            assert_true(*m->params[k].doc);
    }
    assert_int_equal(n, 18);
    assert_null(mechanism_find("flood"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_of_chaos_experiments_is_a_builtin_that_parses),
        cmocka_unit_test(test_a_file_that_is_not_json_names_its_line_and_column),
        cmocka_unit_test(test_a_wrong_schema_is_refused_by_name),
        cmocka_unit_test(test_an_unknown_member_is_refused_with_the_ones_that_exist),
        cmocka_unit_test(test_the_expectation_must_be_stated),
        cmocka_unit_test(test_an_unknown_mechanism_lists_the_mechanisms),
        cmocka_unit_test(test_mechanism_parameters_are_checked_by_type),
        cmocka_unit_test(test_a_mechanism_is_made_only_when_it_can_be),
        cmocka_unit_test(test_a_service_command_says_where_its_port_comes_from),
        cmocka_unit_test(test_metric_conditions_name_a_metric_probe),
        cmocka_unit_test(test_observe_only_asserts_nothing),
        cmocka_unit_test(test_presets_are_bundles_a_file_adjusts),
        cmocka_unit_test(test_a_missing_targets_file_is_named_relative_to_the_file),
        cmocka_unit_test(test_a_service_file_replaces_the_service_and_drops_taskds_arguments),
        cmocka_unit_test(test_placeholders_fill_in_and_refuse_unknown_names),
        cmocka_unit_test(test_every_mechanism_has_a_name_summary_and_documented_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
