/*
 * audit: the lost-write audit. Reads a ledger (ledger.h) and the server's rows, and decides per
 * task id whether what the server holds is what the acknowledged writes say (Jepsen set
 * semantics): lost (an ok write's effect is missing), unexpected (a failed write took effect, or
 * a row with this run's tag that no write explains), recovered (an indeterminate write that
 * took effect). Task text is unique per write, so a row's text names the write that produced it.
 * Semantics, the ledger's torn-line rule and exit statuses are in docs/audit.md.
 */
#ifndef LOADGEN_AUDIT_H
#define LOADGEN_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"

struct buf;

#define AUDIT_SCHEMA "taskbench.audit/1"
#define AUDIT_PAGE_LIMIT 1000    /* rows per GET /tasks page (taskd's maximum) */
#define AUDIT_LINE_MAX (1 << 16) /* a longer ledger line is an error */
#define AUDIT_MAX_TAGS 16

struct audit_options {
    size_t max_report;     /* lost/unexpected findings kept in detail (default 20) */
    const char *tag;       /* run tag; NULL: derived from the ledger's task text */
    uint64_t timeout_ns;   /* per page request (default 10 s) */
    uint64_t retry_for_ns; /* keep retrying a page on 503 or no connection (default 10 s) */
    int incomplete_ledger; /* the ledger may end before the run did (also set by a torn line) */
};

void audit_options_default(struct audit_options *o);

enum audit_kind { AUDIT_LOST, AUDIT_UNEXPECTED };

/* One lost or unexpected finding. Texts are owned by the report; NULL means "no row". */
struct audit_finding {
    enum audit_kind kind;
    int64_t id;    /* the server id concerned (0: none, e.g. a create never found) */
    uint64_t line; /* ledger line of the write concerned (0: none) */
    enum ledger_op op;
    enum ledger_outcome outcome;
    int status;
    char *reason;        /* one sentence */
    char *expected_task; /* NULL: the row should be absent */
    int expected_done;
    char *found_task; /* NULL: the row is absent */
    int found_done;
};

struct audit_report {
    char *ledger_path, *url;
    char *tags[AUDIT_MAX_TAGS];
    size_t ntags;
    uint64_t writes;             /* ledger entries read */
    int torn_last_line;          /* 1: an unterminated, unparsable last line was skipped */
    int incomplete;              /* judged as a prefix of the run's writes (docs/audit.md) */
    uint64_t ops[3][3];          /* [enum ledger_op][enum ledger_outcome] */
    uint64_t ids_checked;        /* distinct ids in the ledger */
    uint64_t creates_without_id; /* creates with no id, matched on the server by their text */
    uint64_t rows_read, rows_tagged, pages;
    uint64_t ok; /* ids and id-less creates whose state is as acknowledged */
    uint64_t lost, unexpected, recovered;
    uint64_t unverifiable; /* incomplete ledger: states a later write may explain */
    double duration_s;
    struct audit_finding *findings; /* the first max_report lost/unexpected, in server id order */
    size_t nfindings;
};

/* Reads the ledger at `ledger_path`, then every row of the taskd at `base_url` (pages of
 * GET /tasks), and fills `out` (the caller frees it with audit_report_free(), also after an
 * error). Run it after the load has stopped. Returns 0 when the audit ran (whatever it found),
 * or -1 with a sentence in err: unreadable or malformed ledger (naming the line), server
 * unreachable or answering other than 200 after retry_for_ns. `opt` NULL means defaults. */
int audit_run(const char *ledger_path, const char *base_url, const struct audit_options *opt,
              struct audit_report *out, char *err, size_t errlen);

void audit_report_free(struct audit_report *r);

/* 1 when nothing was lost and nothing unexpected. */
int audit_clean(const struct audit_report *r);

/* The human summary, findings included. */
void audit_print(const struct audit_report *r, FILE *out);

/* The report as one JSON object (schema AUDIT_SCHEMA, described in docs/audit.md). Returns 0,
 * or -1 when `out` hit its limit. */
int audit_render_json(const struct audit_report *r, struct buf *out);

/* Reads a ledger line by line and calls `fn` once per entry with the entry (its task text valid
 * during the call only), its 1-based line number and byte offset; a non-zero return from `fn`
 * stops the read and is returned. A malformed line is an error naming it, except an unterminated
 * last line, which a crash can leave half-written: it is skipped and *torn set to 1 (torn may be
 * NULL). Returns 0, -1 with a sentence in err, or what `fn` returned. */
typedef int (*audit_entry_fn)(const struct ledger_entry *e, uint64_t line, uint64_t offset,
                              void *ctx);
int audit_ledger_read(const char *path, audit_entry_fn fn, void *ctx, int *torn, char *err,
                      size_t errlen);

/* `loadgen audit --ledger FILE [--json OUT] [--max-report N] [--tag TAG] [--incomplete]
 *  [--timeout D] [--retry-for D] URL`.
 * argv[0] is "audit". Returns the exit status: 0 clean, 1 lost or unexpected, 2 usage or I/O. */
int audit_main(int argc, char **argv);

#endif
