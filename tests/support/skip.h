/*
 * skip: a cmocka test that cannot run here (not root, a tool missing) says why and is counted
 * as skipped, never as passed. The reason goes out as a TAP comment ("# skipped: ...") just
 * before cmocka's "not ok N # SKIP" line, and tests/run_suite.sh shows both.
 */
#ifndef TESTS_SKIP_H
#define TESTS_SKIP_H

/* Include after <cmocka.h>. skip_because(FORMAT, ...): prints the reason and skips the test
 * (does not return). */
#define skip_because(...)                                                                          \
    do {                                                                                           \
        print_message("# skipped: ");                                                              \
        print_message(__VA_ARGS__);                                                                \
        print_message("\n");                                                                       \
        skip();                                                                                    \
    } while (0)

#endif
