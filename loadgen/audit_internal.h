/*
 * audit_internal: what the pieces of `loadgen audit` share beyond audit.h, and nothing else.
 * audit.c judges; audit_ledger.c reads the ledger (also back, for a finding's text);
 * audit_server.c reads the service (its listing page by page, or one resource at a time);
 * audit_report.c renders a report; audit_cli.c is the command. Only audit.c needs both sources,
 * so the ledger's and the service's readers are the whole interface: plain callbacks.
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

struct audit_server;

/* A reader of the service at `base_url` as opt->api describes it, over opt->transport: one
 * connection, reused. NULL with a sentence in err when libcurl cannot start. */
struct audit_server *audit_server_open(const char *base_url, const struct audit_options *opt,
                                       char *err, size_t errlen);
void audit_server_close(struct audit_server *s); /* accepts NULL */

/* Reads every page of the listing (resource_api_read_page) and calls `fn` once per resource, in
 * the order the service lists them; *pages counts the pages read. A page is retried on 503 or
 * no connection for opt->retry_for_ns; each request is bounded by opt->timeout_ns. Returns 0, or
 * -1 with a sentence in err: the service did not answer 200 in time, a page does not fit the
 * model, or more than a million pages (paging that does not end). */
int audit_server_list(struct audit_server *s, resource_item_fn fn, void *ctx, uint64_t *pages,
                      char *err, size_t errlen);

/* Reads the resource `id` back at its item URL: calls `fn` with it when the service answers 200
 * and sets *present; a 404 or 410 sets *present to 0. Retries as audit_server_list. Returns 0,
 * or -1 with a sentence in err. */
int audit_server_item(struct audit_server *s, const char *id, resource_item_fn fn, void *ctx,
                      int *present, char *err, size_t errlen);

#endif
