/*
 * ledger: one JSON line per write operation, for the lost-write audit.
 *
 * {"op":"create","outcome":"ok","status":201,"id":42,"task":"lg-…","done":false,
 *  "invoke_unix_ns":…,"complete_unix_ns":…}
 * op: create | update | delete. outcome: ok (2xx: the server says it committed), fail (an HTTP
 * error status: the server says it did not happen), info (no answer: timeout, reset, cancelled
 * at the end — it may or may not have happened). id is the resource's id: a JSON number when it
 * is a decimal integer (taskd's), a string otherwise (a UUID); absent for a create whose answer
 * named none (no 2xx, or an API that does not say: the audit then finds it by its text).
 * "task" is the unique text the write set and "done" its boolean, when it set one. "target"
 * names the request in a targets workload (absent for the task mix).
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
    const char *id;   /* NULL or "" when unknown (a create whose answer named no id) */
    const char *task; /* text written (NULL for delete) */
    int done;         /* 0 or 1; -1 when the write set no such field */
    uint64_t invoke_unix_ns, complete_unix_ns;
    const char *target; /* the request's name in a targets workload; NULL for the task mix */
};

#define LEDGER_ID_MAX 256 /* longest id, in bytes */

/* Whether `id` is written as a JSON number: a decimal integer without sign or leading zero that
 * fits an int64 (taskd's ids, and any API's integer ids). */
int ledger_id_is_integer(const char *id);

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
