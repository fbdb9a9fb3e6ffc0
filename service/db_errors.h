/*
 * db_errors: SQLite result codes as bounded metric labels, and what each means for a client.
 *
 * taskd_db_errors_total{code} uses the code's C name (SQLITE_BUSY, SQLITE_READONLY_DBMOVED…).
 * The set is fixed at compile time: the primary codes plus the extended codes that persistence
 * faults produce (see REFERENCE.md); any other extended code is counted under its primary name.
 */
#ifndef TASKD_DB_ERRORS_H
#define TASKD_DB_ERRORS_H

#include <stddef.h>

/* Slot of an (extended) result code in the bounded label set, < db_error_slot_count(). */
size_t db_error_slot(int code);
size_t db_error_slot_count(void);
const char *db_error_slot_name(size_t slot);

/* The label name of a code, e.g. "SQLITE_FULL". */
const char *db_error_name(int code);

/* 1 when the code means the database is unavailable (answer 503 and retry later): busy, locked,
 * full, read-only, I/O error, cannot open, not a database, corrupt. 0 for bugs and limits (500). */
int db_error_is_unavailable(int code);

#endif
