/*
 * audit: the lost-write audit. Reads a ledger (ledger.h) and the service's resources, and decides
 * per id whether what the service holds is what the acknowledged writes say (Jepsen set
 * semantics): lost (an ok write's effect is missing), unexpected (a failed write took effect, or
 * a resource with this run's tag that no write explains), recovered (an indeterminate write that
 * took effect). Written text is unique per write, so a resource's text names the write that
 * produced it.
 *
 * Any JSON API that creates resources over HTTP can be audited: the options carry its resource
 * model (resource_api.h: where a created id comes from, how one resource is read back, how all
 * are listed) and its transport (transport.h); taskd's API is the default. With a listing the
 * audit reads every page and also judges resources no write explains; without one it reads each
 * ledger id back. Semantics, the torn-line rule and exit statuses are in docs/audit.md.
 */
#ifndef LOADGEN_AUDIT_H
#define LOADGEN_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "resource_api.h"

struct buf;
struct transport;

#define AUDIT_SCHEMA "taskbench.audit/1"
#define AUDIT_LINE_MAX (1 << 16) /* a longer ledger line is an error */
#define AUDIT_MAX_TAGS 16

struct audit_options {
    size_t max_report;       /* lost/unexpected findings kept in detail (default 20) */
    const char *tag;         /* run tag; NULL: derived from the ledger's task text */
    uint64_t timeout_ns;     /* per request (default 10 s) */
    uint64_t retry_for_ns;   /* keep retrying a request on 503 or no connection (default 10 s) */
    int incomplete_ledger;   /* the ledger may end before the run did (also set by a torn line) */
    struct resource_api api; /* the service's resource model (default: taskd's) */
    const struct transport *transport; /* how to reach it (NULL: plain HTTP/1.1) */
};

void audit_options_default(struct audit_options *o);

enum audit_kind { AUDIT_LOST, AUDIT_UNEXPECTED };

/* One lost or unexpected finding. Texts are owned by the report; NULL means "no row". */
struct audit_finding {
    enum audit_kind kind;
    char *id;      /* the id concerned (NULL: none, e.g. a create never found) */
    uint64_t line; /* ledger line of the write concerned (0: none) */
    enum ledger_op op;
    enum ledger_outcome outcome;
    int status;
    char *reason;        /* one sentence */
    char *expected_task; /* NULL: the row should be absent */
    int expected_done;
    char *found_task; /* NULL: the row is absent */
    int found_done;   /* -1: the row has no done */
    char *target;     /* the ledger line's target (targets workloads), or NULL */
};

enum audit_mode {
    AUDIT_LISTED,    /* every page of the listing was read */
    AUDIT_READ_BACK, /* each ledger id was read back at its item URL (no listing) */
};

struct audit_report {
    char *ledger_path, *url;
    char *api; /* resource_api_describe() of the model used */
    enum audit_mode mode;
    char *tags[AUDIT_MAX_TAGS];
    size_t ntags;
    uint64_t writes;             /* ledger entries read */
    int torn_last_line;          /* 1: an unterminated, unparsable last line was skipped */
    int incomplete;              /* judged as a prefix of the run's writes (docs/audit.md) */
    uint64_t ops[3][3];          /* [enum ledger_op][enum ledger_outcome] */
    uint64_t ids_checked;        /* distinct ids in the ledger */
    uint64_t creates_without_id; /* creates with no id, matched on the server by their text */
    uint64_t rows_read, rows_tagged, pages;
    uint64_t reads; /* AUDIT_READ_BACK: resources read back (one request each) */
    uint64_t ok;    /* ids and id-less creates whose state is as acknowledged */
    uint64_t lost, unexpected, recovered;
    uint64_t unverifiable;         /* states the audit cannot judge: after the end of an incomplete
                                      ledger, or creates with no id when there is no listing */
    uint64_t unverifiable_creates; /* of which: ok creates with no id and no listing */
    double duration_s;
    struct audit_finding *findings; /* the first max_report lost/unexpected, in server id order */
    size_t nfindings;
};

/* Reads the ledger at `ledger_path`, then the service at `base_url` (every page of its listing,
 * or each ledger id read back), and fills `out` (the caller frees it with audit_report_free(),
 * also after an error). Run it after the load has stopped. Returns 0 when the audit ran
 * (whatever it found), or -1 with a sentence in err: an API model that does not hold together,
 * unreadable or malformed ledger (naming the line), a service unreachable or answering other
 * than 200 (404 or 410 for a resource read back) after retry_for_ns, or answers that do not fit
 * the model. `opt` NULL means defaults (taskd's API). */
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
 *  [--timeout D] [--retry-for D] [API model flags] [transport flags] URL`.
 * argv[0] is "audit". Returns the exit status: 0 clean, 1 lost or unexpected, 2 usage or I/O. */
int audit_main(int argc, char **argv);

#endif
