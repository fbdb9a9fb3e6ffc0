/*
 * audit_report: renders an audit's report (audit.h) for people and for machines. The human
 * summary leads with the counts, lists the findings kept in detail and ends with one verdict line
 * (CLEAN, CLEAN AS FAR AS THE LEDGER GOES or NOT CLEAN); the JSON object (schema AUDIT_SCHEMA,
 * fields in docs/audit.md) carries the same numbers and findings. Both only read the report.
 */
#include "audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_writer.h"

static const char *kind_name(enum audit_kind k)
{
    return k == AUDIT_LOST ? "lost" : "unexpected";
}

/* ---- the human summary ----------------------------------------------------------------- */

static void print_content(FILE *out, const char *label, const char *task, int done)
{
    if (!task) {
        fprintf(out, "      %-9s no row\n", label);
        return;
    }
    struct buf b;
    buf_init(&b, 8192);
    json_escape_string(&b, task, strlen(task));
    if (done < 0)
        fprintf(out, "      %-9s task %s\n", label, b.data ? b.data : "\"\"");
    else
        fprintf(out, "      %-9s task %s, done %s\n", label, b.data ? b.data : "\"\"",
                done ? "true" : "false");
    buf_free(&b);
}

/* The run tag, the ledger's and the server's numbers, and the verdict counts. */
static void print_counts(const struct audit_report *r, FILE *out)
{
    fprintf(out, "  api       %s\n", r->api ? r->api : "");
    fprintf(out, "  run tag   ");
    for (size_t i = 0; i < r->ntags; i++)
        fprintf(out, "%s%s", i ? ", " : "", r->tags[i]);
    fprintf(out, "%s\n", r->ntags ? "" : "(none found: only rows named by the ledger are judged)");
    fprintf(out, "  ledger    %" PRIu64 " writes:", r->writes);
    for (int op = 0; op < 3; op++)
        fprintf(out, "%s %s %" PRIu64 " ok, %" PRIu64 " fail, %" PRIu64 " info", op ? ";" : "",
                ledger_op_name((enum ledger_op)op), r->ops[op][LEDGER_OK], r->ops[op][LEDGER_FAIL],
                r->ops[op][LEDGER_INFO]);
    fprintf(out, "\n");
    if (r->torn_last_line)
        fprintf(out, "  warning   the ledger's last line was cut short (loadgen did not exit "
                     "cleanly) and was skipped\n");
    if (r->incomplete)
        fprintf(out, "  warning   the ledger is incomplete: writes after its end were never "
                     "recorded, so rows they may explain are unverifiable, not judged\n");
    if (r->mode == AUDIT_LISTED)
        fprintf(out,
                "  server    %" PRIu64 " rows read in %" PRIu64 " pages, %" PRIu64
                " with the run tag\n",
                r->rows_read, r->pages, r->rows_tagged);
    else
        fprintf(out,
                "  server    %" PRIu64 " ids read back one by one (no listing), %" PRIu64
                " found, %" PRIu64 " with the run tag\n",
                r->reads, r->rows_read, r->rows_tagged);
    if (r->unverifiable_creates)
        fprintf(out,
                "  warning   %" PRIu64 " acknowledged creates named no id and, without a listing "
                "(--list-url), cannot be looked for: unverifiable\n",
                r->unverifiable_creates);
    fprintf(out, "  checked   %" PRIu64 " ids, %" PRIu64 " creates without an id (in %.2f s)\n",
            r->ids_checked, r->creates_without_id, r->duration_s);
    fprintf(out,
            "  verdict   ok %" PRIu64 ", lost %" PRIu64 ", unexpected %" PRIu64
            ", recovered %" PRIu64,
            r->ok, r->lost, r->unexpected, r->recovered);
    if (r->incomplete || r->unverifiable)
        fprintf(out, ", unverifiable %" PRIu64, r->unverifiable);
    fprintf(out, "\n");
}

static void print_findings(const struct audit_report *r, FILE *out)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const struct audit_finding *f = &r->findings[i];
        if (f->id)
            fprintf(out, "  %s id %s: %s\n", kind_name(f->kind), f->id, f->reason);
        else
            fprintf(out, "  %s: %s\n", kind_name(f->kind), f->reason);
        if (f->target)
            fprintf(out, "      %-9s %s\n", "target", f->target);
        print_content(out, "expected", f->expected_task, f->expected_done);
        print_content(out, "found", f->found_task, f->found_done);
    }
    uint64_t total = r->lost + r->unexpected;
    if (total > r->nfindings)
        fprintf(out, "  ... and %" PRIu64 " more (--max-report N shows more)\n",
                total - r->nfindings);
}

void audit_print(const struct audit_report *r, FILE *out)
{
    fprintf(out, "audit of %s against %s\n", r->ledger_path, r->url);
    print_counts(r, out);
    print_findings(r, out);
    if (audit_clean(r) && r->incomplete)
        fprintf(out,
                "CLEAN AS FAR AS THE LEDGER GOES: nothing provably lost or unexpected, %" PRIu64
                " states unverifiable\n",
                r->unverifiable);
    else if (audit_clean(r) && r->unverifiable)
        fprintf(out,
                "CLEAN AS FAR AS IT CAN SEE: nothing lost or unexpected, %" PRIu64
                " states unverifiable\n",
                r->unverifiable);
    else if (audit_clean(r))
        fprintf(out, "CLEAN: every acknowledged write is on the server, and nothing else of "
                     "this run is\n");
    else
        fprintf(out, "NOT CLEAN: %" PRIu64 " lost, %" PRIu64 " unexpected\n", r->lost,
                r->unexpected);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_content(struct json_writer *w, const char *key, const char *task, int done)
{
    jw_key(w, key);
    if (!task) {
        jw_null(w);
        return;
    }
    jw_object_begin(w);
    jw_member_string(w, "task", task);
    if (done >= 0)
        jw_member_bool(w, "done", done);
    jw_object_end(w);
}

static void json_count(struct json_writer *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_uint(w, v);
}

/* "ops": {"create": {"ok": N, "fail": N, "info": N}, ...} */
static void json_ops(struct json_writer *w, const struct audit_report *r)
{
    jw_key(w, "ops");
    jw_object_begin(w);
    for (int op = 0; op < 3; op++) {
        jw_key(w, ledger_op_name((enum ledger_op)op));
        jw_object_begin(w);
        for (int o = 0; o < 3; o++)
            json_count(w, ledger_outcome_name((enum ledger_outcome)o), r->ops[op][o]);
        jw_object_end(w);
    }
    jw_object_end(w);
}

static void json_finding(struct json_writer *w, const struct audit_finding *f)
{
    jw_object_begin(w);
    jw_member_string(w, "kind", kind_name(f->kind));
    jw_key(w, "id");
    if (f->id && ledger_id_is_integer(f->id))
        jw_int(w, strtoll(f->id, NULL, 10));
    else if (f->id)
        jw_string(w, f->id);
    else
        jw_null(w);
    jw_key(w, "line");
    if (f->line) {
        jw_uint(w, f->line);
        jw_member_string(w, "op", ledger_op_name(f->op));
        jw_member_string(w, "outcome", ledger_outcome_name(f->outcome));
        jw_member_int(w, "status", f->status);
    } else {
        jw_null(w);
    }
    if (f->target)
        jw_member_string(w, "target", f->target);
    jw_member_string(w, "reason", f->reason ? f->reason : "");
    json_content(w, "expected", f->expected_task, f->expected_done);
    json_content(w, "found", f->found_task, f->found_done);
    jw_object_end(w);
}

int audit_render_json(const struct audit_report *r, struct buf *out)
{
    struct json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_member_string(&w, "schema", AUDIT_SCHEMA);
    jw_member_string(&w, "ledger", r->ledger_path ? r->ledger_path : "");
    jw_member_string(&w, "url", r->url ? r->url : "");
    jw_member_string(&w, "api", r->api ? r->api : "");
    jw_member_string(&w, "mode", r->mode == AUDIT_LISTED ? "listed" : "read_back");
    jw_member_bool(&w, "clean", audit_clean(r));
    jw_key(&w, "tags");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->ntags; i++)
        jw_string(&w, r->tags[i]);
    jw_array_end(&w);
    json_count(&w, "writes", r->writes);
    jw_member_bool(&w, "torn_last_line", r->torn_last_line);
    jw_member_bool(&w, "incomplete", r->incomplete);
    json_ops(&w, r);
    json_count(&w, "ids_checked", r->ids_checked);
    json_count(&w, "creates_without_id", r->creates_without_id);
    json_count(&w, "rows_read", r->rows_read);
    json_count(&w, "rows_tagged", r->rows_tagged);
    json_count(&w, "pages", r->pages);
    json_count(&w, "reads", r->reads);
    json_count(&w, "ok", r->ok);
    json_count(&w, "lost", r->lost);
    json_count(&w, "unexpected", r->unexpected);
    json_count(&w, "recovered", r->recovered);
    json_count(&w, "unverifiable", r->unverifiable);
    json_count(&w, "unverifiable_creates", r->unverifiable_creates);
    jw_key(&w, "duration_s");
    jw_fixed(&w, r->duration_s, 3);
    jw_key(&w, "findings");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->nfindings; i++)
        json_finding(&w, &r->findings[i]);
    jw_array_end(&w);
    jw_member_bool(&w, "findings_truncated", r->lost + r->unexpected > r->nfindings);
    jw_object_end(&w);
    return w.failed || out->overflowed ? -1 : 0;
}
