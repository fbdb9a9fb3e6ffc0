/*
 * ledger: one JSON line per write operation, for the lost-write audit.
 *
 * {"op":"create","outcome":"ok","status":201,"id":42,"task":"lg-…","done":false,
 *  "invoke_unix_ns":…,"complete_unix_ns":…}
 * op: create | update | delete. outcome: ok (2xx: the server says it committed), fail (an HTTP
 * error status: the server says it did not happen), info (no answer: timeout, reset, cancelled
 * at the end — it may or may not have happened). id is absent for a create without a 201.
 * Lines are written whole through a 1 MiB stdio buffer and ledger_close() writes everything
 * out; if loadgen is killed, the last line can be cut where the buffer flushed — `loadgen
 * audit` skips such a line and judges the ledger as incomplete. Operations on one id never overlap
 * in time (the workload checks an id out while it is in flight), so per id the lines form a
 * sequential history.
 */
#ifndef LOADGEN_LEDGER_H
#define LOADGEN_LEDGER_H

#include <stddef.h>
#include <stdint.h>

enum ledger_op { LEDGER_CREATE, LEDGER_UPDATE, LEDGER_DELETE };
enum ledger_outcome { LEDGER_OK, LEDGER_FAIL, LEDGER_INFO };

struct ledger_entry {
    enum ledger_op op;
    enum ledger_outcome outcome;
    int status;       /* 0 when no HTTP answer */
    int64_t id;       /* 0 when unknown (a create without 201) */
    const char *task; /* content written (NULL for delete) */
    int done;
    uint64_t invoke_unix_ns, complete_unix_ns;
};

struct ledger;

/* Opens (truncates) path. Returns NULL with a sentence in err. */
struct ledger *ledger_open(const char *path, char *err, size_t errlen);

/* Thread-safe. Returns 0, or -1 after a write error (sticky; ledger_close reports it). */
int ledger_append(struct ledger *l, const struct ledger_entry *e);

/* Flushes and closes. Returns 0, or -1 with a sentence in err when anything was not written. */
int ledger_close(struct ledger *l, char *err, size_t errlen);

const char *ledger_op_name(enum ledger_op op);
const char *ledger_outcome_name(enum ledger_outcome o);

#endif
