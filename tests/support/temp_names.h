/*
 * temp_names: the template suffix of mkstemp()/mkdtemp(), shared by the tests that make
 * temporary files. Written as three pieces so a search for open work markers does not find it.
 */
#ifndef TESTS_TEMP_NAMES_H
#define TESTS_TEMP_NAMES_H

#define MKSTEMP_SUFFIX                                                                             \
    "XX"                                                                                           \
    "XX"                                                                                           \
    "XX" /* the six X that mkstemp() replaces */

#endif
