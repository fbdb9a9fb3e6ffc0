/*
 * promtool: runs `promtool check metrics` on an exposition, as Prometheus's own linter would see
 * it. Shared by the unit tests (the exposition writer, the metric registry) and the end-to-end
 * test of a live scrape. promtool comes from Debian's prometheus package (make deps).
 */
#ifndef TESTS_PROMTOOL_H
#define TESTS_PROMTOOL_H

#include <stddef.h>

#define PROMTOOL_PATH "/usr/bin/promtool"

/* 1 when promtool can be run here; a test without it is skipped (skip.h), not passed. */
int promtool_installed(void);

/* Checks text[0..len). Returns promtool's exit status (0: no findings; 3: lint findings) with
 * its output in `report`, or -1 when promtool could not be run (the reason is in `report`). */
int promtool_check_metrics(const char *text, size_t len, char *report, size_t report_len);

#endif
