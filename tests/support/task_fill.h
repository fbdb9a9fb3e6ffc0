/*
 * task_fill: adds tasks to a taskd database directly with SQLite, for tests and benchmarks that
 * need many rows fast (millions for the bench, thousands for a test) without POSTing them. The
 * database must be taskd's own (taskd created it), so its schema, AUTOINCREMENT sequence and
 * commit count stay the ones taskd keeps. taskd must not be running on it.
 *
 * One INSERT ... SELECT over a recursive CTE in a single transaction, in the rollback journal
 * (the WAL would write every page twice) and without syncs: about 3 s per million rows here. The
 * rows land in the database file itself, not in a -wal, and ids follow the existing ones. Texts
 * are "task N: " and 12 to 52 more characters, like real tasks. The file is left in WAL mode.
 */
#ifndef TESTS_TASK_FILL_H
#define TESTS_TASK_FILL_H

#include <stddef.h>

/* Adds `count` tasks to the database at `path`. Returns 0, or -1 with a sentence in `error`. */
int task_fill(const char *path, long long count, char *error, size_t error_len);

#endif
