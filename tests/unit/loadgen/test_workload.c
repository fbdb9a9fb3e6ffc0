/*
 * Unit tests for loadgen/workload: the task mix — its flag syntax, the weights it draws by, id
 * checkout, choices by arrival number, what counts as success — and where a created id comes
 * from.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ledger.h"
#include "workload.h"

static void test_mix_flag_is_parsed_or_refused_in_one_sentence(void **state)
{
    (void)state;
    struct workload_config cfg = {0};
    char err[256];
    assert_int_equal(
        workload_parse_mix(&cfg, "create=1,read=2,update=3,delete=4,list=5", err, sizeof err), 0);
    assert_true(cfg.create == 1 && cfg.read == 2 && cfg.update == 3 && cfg.delete_ == 4 &&
                cfg.list == 5);
    assert_int_equal(workload_parse_mix(&cfg, "creat=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "--mix 'creat=1'"));
    assert_int_equal(workload_parse_mix(&cfg, "read=x", err, sizeof err), -1);
    assert_int_equal(workload_parse_mix(&cfg, "read=0", err, sizeof err), -1);
    assert_non_null(strstr(err, "at least one weight"));
}

static void test_mix_draws_by_weight_and_checks_ids_out(void **state)
{
    (void)state;
    struct workload_config cfg = {.create = 1, .read = 3, .run_tag = "t"};
    struct workload_state st;
    assert_int_equal(workload_state_init(&st, &cfg, 0, 1, 0, 1, 7), 0);
    struct workload_request req;
    workload_request_init(&req);
    workload_next(&st, &req, WORKLOAD_ANY_ARRIVAL); /* nothing to read yet: a create */
    assert_int_equal(req.route, LG_ROUTE_CREATE);
    assert_string_equal(req.path, "/tasks");
    assert_string_equal(req.body, "{\"task\":\"t-0-0c\",\"done\":false}");
    const char created[] = "{\"id\":42,\"task\":\"t-0-0c\"}";
    char id[LEDGER_ID_MAX];
    struct workload_answer answer = {201, NULL, created, sizeof created - 1};
    assert_int_equal(workload_complete(&st, &req, &answer, id, sizeof id), 2);
    assert_string_equal(id, "42");
    workload_next(&st, &req, WORKLOAD_ANY_ARRIVAL);
    if (req.route == LG_ROUTE_READ) {
        assert_string_equal(req.id, "42");
        assert_string_equal(req.path, "/tasks/42");
        workload_next(&st, &req,
                      WORKLOAD_ANY_ARRIVAL); /* 42 is checked out: this one cannot use it */
        assert_true(req.route == LG_ROUTE_CREATE);
    }
    workload_state_free(&st);

    /* Over many draws with a full pool, reads come three times as often as creates. */
    assert_int_equal(workload_state_init(&st, &cfg, 0, 1, 0, 1, 9), 0);
    unsigned reads = 0, creates = 0;
    for (int i = 0; i < 40000; i++) {
        workload_next(&st, &req, WORKLOAD_ANY_ARRIVAL);
        struct workload_answer created7 = {201, NULL, "{\"id\":7}", 8}, read = {200, NULL, "", 0};
        if (req.route == LG_ROUTE_CREATE) {
            creates++;
            workload_complete(&st, &req, &created7, id, sizeof id);
        } else {
            reads++;
            workload_complete(&st, &req, &read, id, sizeof id);
        }
    }
    assert_true(fabs((double)reads / (reads + creates) - 0.75) < 0.02);
    workload_state_free(&st);
    workload_request_free(&req);
}

static void test_mix_success_is_2xx_or_the_404_of_a_missing_id(void **state)
{
    (void)state;
    struct workload_request req = {.route = LG_ROUTE_READ};
    assert_int_equal(workload_verdict(&req, 200, 1), LG_VERDICT_OK);
    assert_int_equal(workload_verdict(&req, 404, 1), LG_VERDICT_STATUS); /* a lost row */
    assert_int_equal(workload_verdict(&req, 503, 1), LG_VERDICT_STATUS);
    req.missing = 1;
    assert_int_equal(workload_verdict(&req, 404, 1), LG_VERDICT_OK);
    assert_int_equal(workload_verdict(&req, 200, 1), LG_VERDICT_STATUS);
}

/* Arrival-numbered choices: the arrivals split over shards and threads (every k-th) make the
 * same operations as one state taking them all, with the same weights, as long as no pool runs
 * dry (an operation that needs an id then becomes a create, and pools differ between splits). */
static void test_mix_by_arrival_number_is_the_same_however_split(void **state)
{
    (void)state;
    struct workload_config cfg = {.create = 2,
                                  .read = 5,
                                  .update = 2,
                                  .delete_ = 1,
                                  .list = 1,
                                  .run_tag = "t",
                                  .mix_seed = 99};
    enum { ARRIVALS = 30000, SPLIT = 3 };
    unsigned whole[5] = {0}, split[5] = {0};
    struct workload_state one, part[SPLIT];
    struct workload_request req;
    workload_request_init(&req);
    assert_int_equal(workload_state_init(&one, &cfg, 0, 1, 0, 1, 1), 0);
    for (unsigned i = 0; i < SPLIT; i++)
        assert_int_equal(workload_state_init(&part[i], &cfg, i, SPLIT, 0, 1, 100 + i), 0);
    struct workload_request created = {.route = LG_ROUTE_CREATE};
    struct workload_answer id7 = {201, NULL, "{\"id\":7}", 8}, read = {200, NULL, "{\"id\":7}", 8};
    char id[LEDGER_ID_MAX];
    for (int n = 0; n < 100; n++) {
        workload_complete(&one, &created, &id7, id, sizeof id);
        for (unsigned i = 0; i < SPLIT; i++)
            workload_complete(&part[i], &created, &id7, id, sizeof id);
    }
    for (uint64_t u = 0; u < ARRIVALS; u++) {
        struct workload_state *states[2] = {&one, &part[u % SPLIT]};
        unsigned *counts[2] = {whole, split};
        for (int k = 0; k < 2; k++) {
            workload_next(states[k], &req, u);
            counts[k][req.route]++;
            /* every request answered, every create adding an id */
            workload_complete(states[k], &req, req.route == LG_ROUTE_CREATE ? &id7 : &read, id,
                              sizeof id);
        }
    }
    for (int r = 0; r < 5; r++)
        assert_int_equal(whole[r], split[r]);
    assert_true(fabs((double)whole[LG_ROUTE_READ] / ARRIVALS - 5.0 / 11) < 0.02);
    workload_request_free(&req);
    workload_state_free(&one);
    for (unsigned i = 0; i < SPLIT; i++)
        workload_state_free(&part[i]);
}

/* Where the id of a created task comes from: taskd's "id" (exact up to 2^53; larger integers
 * must come as strings), a string id, the Location header, or nowhere (the blog's app). */
static size_t created(struct workload_state *st, struct workload_request *req, int status,
                      const char *location, const char *body, char *id)
{
    do
        workload_next(st, req, WORKLOAD_ANY_ARRIVAL);
    while (req->route != LG_ROUTE_CREATE);
    struct workload_answer a = {status, location, body, strlen(body)};
    return workload_complete(st, req, &a, id, LEDGER_ID_MAX);
}

static void test_created_id_comes_from_where_the_api_says(void **state)
{
    (void)state;
    char id[LEDGER_ID_MAX], err[256];
    struct resource_api api;
    resource_api_default(&api);
    struct workload_config cfg = {.create = 1, .run_tag = "t", .api = &api};
    struct workload_state st;
    struct workload_request r;
    workload_request_init(&r);
    assert_int_equal(workload_state_init(&st, &cfg, 0, 1, 0, 1, 3), 0);
    assert_int_equal(created(&st, &r, 201, NULL, "{\"id\":9007199254740992,\"task\":\"x\"}", id),
                     16);
    assert_string_equal(id, "9007199254740992");
    assert_int_equal(created(&st, &r, 201, NULL, "{\"id\":9007199254740994}", id), 0);
    assert_int_equal(created(&st, &r, 201, NULL, "{\"id\":\"b3a1-77\"}", id), 7);
    assert_string_equal(id, "b3a1-77");
    assert_int_equal(created(&st, &r, 201, NULL, "{\"task\":1}", id), 0);
    assert_int_equal(created(&st, &r, 503, NULL, "{\"id\":5}", id), 0); /* not created */
    assert_string_equal(id, "");

    assert_int_equal(resource_api_set(&api, "id-from", "location", err, sizeof err), 0);
    assert_int_equal(created(&st, &r, 201, "http://h:1/tasks/77", "{\"id\":5}", id), 2);
    assert_string_equal(id, "77");
    assert_int_equal(created(&st, &r, 201, NULL, "{\"id\":5}", id), 0);

    assert_int_equal(resource_api_set(&api, "api", "blog", err, sizeof err), 0);
    assert_int_equal(created(&st, &r, 201, "/tasks/8", "{\"message\":\"Task added\"}", id), 0);
    workload_request_free(&r);
    workload_state_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_flag_is_parsed_or_refused_in_one_sentence),
        cmocka_unit_test(test_mix_draws_by_weight_and_checks_ids_out),
        cmocka_unit_test(test_mix_by_arrival_number_is_the_same_however_split),
        cmocka_unit_test(test_mix_success_is_2xx_or_the_404_of_a_missing_id),
        cmocka_unit_test(test_created_id_comes_from_where_the_api_says),
    };
    return cmocka_run_group_tests_name("workload", tests, NULL, NULL);
}
