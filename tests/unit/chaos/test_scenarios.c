/*
 * Unit tests for chaos/scenarios: the table holds every scenario the issue named, each with its
 * summary, mechanism, rollback and expectation, none allowed to lose a write, and lookups by
 * name and index agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "builtin_experiments.h"
#include "scenarios.h"

static void test_every_scenario_of_the_issue_is_in_the_table(void **state)
{
    (void)state;
    static const char *const names[] = {"volume-mount", "db-missing",     "db-deleted",
                                        "wal-deleted",  "readonly",       "disk-full",
                                        "db-locked",    "corrupt-header", "kill-9"};
    assert_true(builtin_experiments_count() >=
                9); /* e2e/chaos/test_production_faults: the others */
    for (size_t i = 0; i < 9; i++) {
        const struct scenario *sc = builtin_experiment_find(names[i]);
        assert_non_null(sc);
        assert_true(*sc->summary && *sc->mechanism && *sc->rollback && *sc->expected);
        assert_int_equal(sc->expect.max_lost, 0); /* no scenario here may lose a write */
    }
    assert_null(builtin_experiment_find("db-gone"));
    assert_null(builtin_experiment_at(builtin_experiments_count()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_scenario_of_the_issue_is_in_the_table),
    };
    return cmocka_run_group_tests_name("scenarios", tests, NULL, NULL);
}
