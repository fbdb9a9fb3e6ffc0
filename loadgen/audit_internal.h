/*
 * audit_internal: what the pieces of `loadgen audit` share beyond audit.h, and nothing else.
 * audit.c judges; audit_ledger.c reads the ledger (also back, for a finding's text);
 * audit_server.c pages through taskd's rows; audit_report.c renders a report; audit_cli.c is
 * the command. Only audit.c needs both sources, so the ledger's and the server's readers are
 * the whole interface: plain callbacks, no shared state.
 */
#ifndef LOADGEN_AUDIT_INTERNAL_H
#define LOADGEN_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

/* The task text of the ledger line at byte `offset` of `path` (an offset audit_ledger_read
 * reported), for a finding's detail; the caller frees it. NULL when it cannot be read back or
 * memory ran out (the ledger was read whole before, so the caller treats both as out of memory). */
char *audit_ledger_text_at(const char *path, uint64_t offset);

/* One server row; `task` (`len` bytes, NUL-terminated) is valid during the call only. */
typedef void (*audit_row_fn)(int64_t id, const char *task, size_t len, int done, void *ctx);

/* Reads every row of the taskd at `base_url` in ascending id order, in pages of GET
 * /tasks?limit=AUDIT_PAGE_LIMIT&after=ID, and calls `fn` once per row; *pages counts the pages
 * read. A page is retried on 503 or no connection for opt->retry_for_ns; each request is bounded
 * by opt->timeout_ns. Returns 0, or -1 with a sentence in err: libcurl did not start, the server
 * did not answer 200 in time, or a page is not a JSON array of tasks in ascending id order
 * (rows before the bad one have been passed to `fn`). */
int audit_server_read(const char *base_url, const struct audit_options *opt, audit_row_fn fn,
                      void *ctx, uint64_t *pages, char *err, size_t errlen);

#endif
