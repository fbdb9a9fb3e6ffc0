/*
 * html_report: writes one self-contained HTML page that charts a tool's JSON result offline.
 *
 * The page inlines report.css and report.js (compiled in from common/assets/) and embeds the
 * result as a `<script type="application/json" id="data">` block; report.js draws it with SVG
 * according to `kind` ("loadgen", "chaos"). A Content-Security-Policy meta forbids every network
 * load, and every `<` inside the data is written as `\u003c`, so no text in a result (a task
 * name, a URL) can close the data block or start markup. The file appears atomically.
 */
#ifndef TASKBENCH_HTML_REPORT_H
#define TASKBENCH_HTML_REPORT_H

#include <stddef.h>

/* The policy the page carries; exported for the tests. */
#define HTML_REPORT_CSP                                                                            \
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "                  \
    "img-src data:; base-uri 'none'; form-action 'none'"

/* Writes the report page to `path`: `title` (any text; HTML-escaped) heads the page, `kind`
 * selects report.js's renderer (lowercase letters, digits, '-' or '_'), `data_json` is the
 * tool's JSON result, embedded as is (it is not parsed here; a page with invalid JSON shows an
 * error box when opened). The page is written to a temporary file beside `path` and renamed
 * over it, so `path` holds either the old file or the whole new page.
 * Returns 0, or -1 with one sentence in `err` (what failed, on which path, what to do) and
 * nothing left behind at or beside `path`. */
int html_report_write(const char *path, const char *title, const char *kind, const char *data_json,
                      char *err, size_t errlen);

#endif
