/*
 * Unit tests for service/db_errors: SQLite result codes become bounded metric labels (their C
 * names, extended where listed, else the primary name, else SQLITE_OTHER), and each code is
 * classified as "unavailable, retry later" (503) or "a bug or a limit" (500).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include "db_errors.h"

static void test_db_error_name_of_primary_codes(void **state)
{
    (void)state;
    assert_string_equal(db_error_name(SQLITE_BUSY), "SQLITE_BUSY");
    assert_string_equal(db_error_name(SQLITE_LOCKED), "SQLITE_LOCKED");
    assert_string_equal(db_error_name(SQLITE_FULL), "SQLITE_FULL");
    assert_string_equal(db_error_name(SQLITE_READONLY), "SQLITE_READONLY");
    assert_string_equal(db_error_name(SQLITE_IOERR), "SQLITE_IOERR");
    assert_string_equal(db_error_name(SQLITE_CANTOPEN), "SQLITE_CANTOPEN");
    assert_string_equal(db_error_name(SQLITE_NOTADB), "SQLITE_NOTADB");
    assert_string_equal(db_error_name(SQLITE_CORRUPT), "SQLITE_CORRUPT");
    assert_string_equal(db_error_name(SQLITE_CONSTRAINT), "SQLITE_CONSTRAINT");
    assert_string_equal(db_error_name(SQLITE_MISUSE), "SQLITE_MISUSE");
}

static void test_db_error_name_of_listed_extended_codes(void **state)
{
    (void)state;
    assert_string_equal(db_error_name(SQLITE_READONLY_DBMOVED), "SQLITE_READONLY_DBMOVED");
    assert_string_equal(db_error_name(SQLITE_BUSY_SNAPSHOT), "SQLITE_BUSY_SNAPSHOT");
    assert_string_equal(db_error_name(SQLITE_IOERR_FSYNC), "SQLITE_IOERR_FSYNC");
    assert_string_equal(db_error_name(SQLITE_CANTOPEN_ISDIR), "SQLITE_CANTOPEN_ISDIR");
    assert_string_equal(db_error_name(SQLITE_CONSTRAINT_UNIQUE), "SQLITE_CONSTRAINT_UNIQUE");
}

static void test_db_error_name_of_unlisted_extended_code_is_its_primary(void **state)
{
    (void)state;
    assert_string_equal(db_error_name(SQLITE_IOERR_ACCESS), "SQLITE_IOERR");
    assert_string_equal(db_error_name(SQLITE_BUSY_TIMEOUT), "SQLITE_BUSY");
    assert_string_equal(db_error_name(SQLITE_CONSTRAINT_NOTNULL), "SQLITE_CONSTRAINT");
    assert_string_equal(db_error_name(SQLITE_CORRUPT_VTAB), "SQLITE_CORRUPT");
}

static void test_db_error_name_of_unknown_code_is_other(void **state)
{
    (void)state;
    assert_string_equal(db_error_name(250), "SQLITE_OTHER");
    assert_string_equal(db_error_name(250 | (7 << 8)), "SQLITE_OTHER");
}

static void test_db_error_slot_names_are_distinct(void **state)
{
    (void)state;
    size_t n = db_error_slot_count();
    assert_true(n > 1);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(db_error_slot_name(i));
        assert_memory_equal(db_error_slot_name(i), "SQLITE_", 7);
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(db_error_slot_name(i), db_error_slot_name(j));
    }
}

static void test_db_error_slot_is_in_range_and_names_the_code(void **state)
{
    (void)state;
    int codes[] = {SQLITE_BUSY, SQLITE_READONLY_DBMOVED, SQLITE_IOERR_ACCESS, 250};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        size_t slot = db_error_slot(codes[i]);
        assert_true(slot < db_error_slot_count());
        assert_string_equal(db_error_slot_name(slot), db_error_name(codes[i]));
    }
}

static void test_db_error_slot_name_out_of_range_is_other(void **state)
{
    (void)state;
    assert_string_equal(db_error_slot_name(db_error_slot_count()), "SQLITE_OTHER");
    assert_string_equal(db_error_slot_name((size_t)-1), "SQLITE_OTHER");
}

static void test_db_error_unavailable_codes_answer_503(void **state)
{
    (void)state;
    int codes[] = {SQLITE_BUSY,  SQLITE_LOCKED,   SQLITE_FULL,   SQLITE_READONLY,
                   SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_CORRUPT};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (!db_error_is_unavailable(codes[i]))
            print_error("%s is not classified unavailable\n", db_error_name(codes[i]));
        assert_true(db_error_is_unavailable(codes[i]));
    }
}

static void test_db_error_unavailable_extended_codes_answer_503(void **state)
{
    (void)state;
    int codes[] = {SQLITE_READONLY_DBMOVED, SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_TIMEOUT,
                   SQLITE_IOERR_FSYNC,      SQLITE_IOERR_ACCESS,  SQLITE_CANTOPEN_ISDIR,
                   SQLITE_CORRUPT_INDEX};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_true(db_error_is_unavailable(codes[i]));
}

static void test_db_error_bugs_and_limits_answer_500(void **state)
{
    (void)state;
    int codes[] = {SQLITE_ERROR,  SQLITE_INTERNAL, SQLITE_CONSTRAINT, SQLITE_CONSTRAINT_UNIQUE,
                   SQLITE_MISUSE, SQLITE_TOOBIG,   SQLITE_MISMATCH,   SQLITE_RANGE,
                   SQLITE_SCHEMA};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (db_error_is_unavailable(codes[i]))
            print_error("%s is classified unavailable\n", db_error_name(codes[i]));
        assert_false(db_error_is_unavailable(codes[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_error_name_of_primary_codes),
        cmocka_unit_test(test_db_error_name_of_listed_extended_codes),
        cmocka_unit_test(test_db_error_name_of_unlisted_extended_code_is_its_primary),
        cmocka_unit_test(test_db_error_name_of_unknown_code_is_other),
        cmocka_unit_test(test_db_error_slot_names_are_distinct),
        cmocka_unit_test(test_db_error_slot_is_in_range_and_names_the_code),
        cmocka_unit_test(test_db_error_slot_name_out_of_range_is_other),
        cmocka_unit_test(test_db_error_unavailable_codes_answer_503),
        cmocka_unit_test(test_db_error_unavailable_extended_codes_answer_503),
        cmocka_unit_test(test_db_error_bugs_and_limits_answer_500),
    };
    return cmocka_run_group_tests_name("db_errors", tests, NULL, NULL);
}
