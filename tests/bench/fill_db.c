/*
 * fill_db: adds N tasks to a taskd database directly with SQLite (tests/support/task_fill), so
 * the bench can measure reads on millions of rows without spending minutes POSTing them. Start
 * taskd on the path once first: it creates the schema.
 *
 * Usage: fill_db PATH N. Exits 0, 1 with one sentence on stderr, or 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "task_fill.h"

int main(int argc, char **argv)
{
    char *end = NULL;
    long long n = argc == 3 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 3 || *end != '\0' || n < 1 || n > 100000000) {
        fprintf(stderr, "usage: fill_db PATH N (N tasks, 1 to 100000000, added to a taskd "
                        "database that taskd created)\n");
        return 2;
    }
    char error[512];
    if (task_fill(argv[1], n, error, sizeof(error)) < 0) {
        fprintf(stderr, "fill_db: %s: %s\n", argv[1], error);
        return 1;
    }
    return 0;
}
