/*
 * table: the experiments of chaos journals as one markdown table — per experiment its
 * mechanism, the service (taskd with its --sync mode, or the service's name), the verdict,
 * time to detect and to recover, writes acknowledged, refused and lost, and the checks that
 * failed. `chaos table JOURNAL...` prints it, and `chaos run --table` after a run; it is how
 * the closing figures of issue 12 were made (tests/chaos/scenario_table.sh).
 */
#ifndef CHAOS_TABLE_H
#define CHAOS_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* Prints the header row. */
void table_header(FILE *out);

/* Prints one row per experiment of a journal's JSON text. Returns the number of rows, or -1
 * with a sentence in err (not a chaos journal). `name` names it in errors. */
int table_rows(const char *json, const char *name, FILE *out, char *err, size_t errlen);

/* `chaos table JOURNAL...`: argv[0] is "table". Returns an exit status. */
int table_main(int argc, char **argv);

#endif
