/*
 * fill_db: adds N tasks to a taskd database directly with SQLite, so the bench can measure reads
 * on a large database (millions of rows) without spending minutes POSTing them. The database
 * must already be taskd's (start taskd on the path once: it creates the schema), so the tables,
 * the AUTOINCREMENT sequence and the header's commit count are the ones taskd itself keeps.
 *
 * The rows go in with one INSERT ... SELECT over a recursive CTE in a single transaction, with the
 * rollback journal instead of the WAL (which would write every page twice) and no syncs: about
 * 3 s per million rows here. Texts vary in length (20 to 60 characters) like real tasks; ids
 * follow the existing ones. The database is left in WAL mode, checkpointed, as taskd expects.
 *
 * Usage: fill_db PATH N. Exits 0, or 1 with one sentence on stderr.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fill_db: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long long n = argc == 3 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 3 || *end != '\0' || n < 1 || n > 100000000) {
        fprintf(stderr, "usage: fill_db PATH N (N tasks, 1 to 100000000, added to a taskd "
                        "database that taskd created)\n");
        return 2;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return fail(db, "cannot open the database");
    static const char prepare_sql[] = "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;"
                                      "PRAGMA cache_size = -65536;";
    char insert_sql[640];
    /* The text: "task N: " and 12 to 52 more characters taken from a fixed sentence. */
    snprintf(insert_sql, sizeof(insert_sql),
             "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %lld) "
             "INSERT INTO tasks (task, done, created_at, updated_at) "
             "SELECT 'task ' || i || ': ' || substr('write the weekly report and send it to "
             "the whole team before noon', 1, 12 + (i * 7919) %% 41), i %% 2, "
             "'2026-12-07T00:00:00.000Z', '2026-12-07T00:00:00.000Z' FROM n;"
             "COMMIT;",
             n);
    static const char finish_sql[] = "PRAGMA journal_mode = WAL;";
    if (sqlite3_exec(db, prepare_sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cannot leave WAL mode (is taskd still running on it?)");
    if (sqlite3_exec(db, insert_sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cannot insert the tasks (is it a taskd database?)");
    if (sqlite3_exec(db, finish_sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "cannot return to WAL mode");
    if (sqlite3_close(db) != SQLITE_OK)
        return fail(db, "cannot close the database");
    return 0;
}
