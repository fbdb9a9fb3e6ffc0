/*
 * task_fill: many tasks into a taskd database with SQLite directly. See task_fill.h.
 */
#include "task_fill.h"

#include <sqlite3.h>
#include <stdio.h>

static int failed(sqlite3 *db, const char *what, char *error, size_t error_len)
{
    snprintf(error, error_len, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return -1;
}

int task_fill(const char *path, long long count, char *error, size_t error_len)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return failed(db, "cannot open the database", error, error_len);
    static const char prepare_sql[] = "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;"
                                      "PRAGMA cache_size = -65536;";
    char insert_sql[640];
    snprintf(insert_sql, sizeof(insert_sql),
             "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %lld) "
             "INSERT INTO tasks (task, done, created_at, updated_at) "
             "SELECT 'task ' || i || ': ' || substr('write the weekly report and send it to "
             "the whole team before noon', 1, 12 + (i * 7919) %% 41), i %% 2, "
             "'2026-12-07T00:00:00.000Z', '2026-12-07T00:00:00.000Z' FROM n;"
             "COMMIT;",
             count);
    if (sqlite3_exec(db, prepare_sql, NULL, NULL, NULL) != SQLITE_OK)
        return failed(db, "cannot leave WAL mode (is taskd still running on it?)", error,
                      error_len);
    if (sqlite3_exec(db, insert_sql, NULL, NULL, NULL) != SQLITE_OK)
        return failed(db, "cannot insert the tasks (is it a taskd database?)", error, error_len);
    if (sqlite3_exec(db, "PRAGMA journal_mode = WAL;", NULL, NULL, NULL) != SQLITE_OK)
        return failed(db, "cannot return to WAL mode", error, error_len);
    if (sqlite3_close(db) != SQLITE_OK)
        return failed(db, "cannot close the database", error, error_len);
    return 0;
}
