/*
 * audit_ledger: reads a ledger (ledger.h) for the audit: line by line, each line checked whole
 * (a malformed line is an error naming it, except a torn last line a crash can leave), numbers
 * read exactly from the line's text because cJSON's doubles cannot hold nanoseconds or 19-digit
 * ids. Also reads one line's task text back by its byte offset, so the audit keeps only a hash of
 * each text in memory. Contract in audit.h and audit_internal.h, the format in docs/audit.md.
 */
#include "audit_internal.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Exact integers: cJSON keeps numbers as doubles, which cannot hold nanosecond timestamps or
 * 19-digit ids exactly. The line has already passed cJSON, so this scanner only has to find a
 * top-level member's value text; it skips strings (with escapes) and nested values. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

static const char *skip_value(const char *p, const char *end)
{
    if (p < end && *p == '"')
        return skip_string(p, end);
    int depth = 0;
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            if (depth == 0)
                break;
            depth--;
        } else if (depth == 0 && (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            break;
        p++;
    }
    return p;
}

/* Finds the value text of the top-level member `key` (compared unescaped-as-written). */
static int raw_member(const char *json, size_t len, const char *key, const char **val, size_t *vlen)
{
    const char *p = json, *end = json + len;
    size_t klen = strlen(key);
    p = skip_ws(p, end);
    if (p == end || *p != '{')
        return -1;
    for (p++;;) {
        p = skip_ws(p, end);
        if (p == end || *p != '"')
            return -1;
        const char *k = p + 1;
        p = skip_string(p, end);
        size_t this_klen = (size_t)(p - 1 - k);
        p = skip_ws(p, end);
        if (p == end || *p != ':')
            return -1;
        p = skip_ws(p + 1, end);
        const char *v = p;
        p = skip_value(p, end);
        if (this_klen == klen && !memcmp(k, key, klen)) {
            *val = v;
            *vlen = (size_t)(p - v);
            return 0;
        }
        p = skip_ws(p, end);
        if (p == end || *p != ',')
            return -1;
        p++;
    }
}

/* A member that must be a whole number in [0, max]. Returns 1 (found), 0 (absent), -1 (bad). */
static int member_uint(const cJSON *obj, const char *line, size_t len, const char *key,
                       uint64_t max, uint64_t *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item)
        return 0;
    if (!cJSON_IsNumber(item))
        return -1;
    const char *v;
    size_t n;
    char digits[24];
    if (raw_member(line, len, key, &v, &n) < 0 || n == 0 || n >= sizeof digits)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return -1;
    memcpy(digits, v, n);
    digits[n] = '\0';
    errno = 0;
    unsigned long long x = strtoull(digits, NULL, 10);
    if (errno == ERANGE || x > max)
        return -1;
    *out = x;
    return 1;
}

static int lookup_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) ? "an" : "a";
}

/* "op" and "outcome". */
static int parse_kind(const cJSON *o, struct ledger_entry *e, char *why, size_t whylen)
{
    static const char *const ops[] = {"create", "update", "delete"};
    static const char *const outcomes[] = {"ok", "fail", "info"};
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "op"));
    const char *outcome = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "outcome"));
    int op_i = op ? lookup_name(op, ops, 3) : -1;
    int outcome_i = outcome ? lookup_name(outcome, outcomes, 3) : -1;
    if (op_i < 0 || outcome_i < 0) {
        snprintf(why, whylen,
                 "\"op\" must be create, update or delete and \"outcome\" ok, fail "
                 "or info");
        return -1;
    }
    e->op = (enum ledger_op)op_i;
    e->outcome = (enum ledger_outcome)outcome_i;
    return 0;
}

/* "id": a positive integer (read exactly from the line's text into idbuf) or a non-empty string;
 * required unless the write is a create (a create whose answer named no id). */
static int parse_id(const cJSON *o, const char *line, size_t len, struct ledger_entry *e,
                    char *idbuf, size_t idcap, char *why, size_t whylen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    uint64_t v = 0;
    const char *op = ledger_op_name(e->op);
    if (!id && e->op != LEDGER_CREATE) {
        snprintf(why, whylen, "%s %s needs the \"id\" it was sent to", article(op), op);
        return -1;
    }
    if (!id)
        return 0;
    if (cJSON_IsString(id) && id->valuestring[0] && strlen(id->valuestring) < LEDGER_ID_MAX) {
        e->id = id->valuestring;
        return 0;
    }
    if (cJSON_IsNumber(id) && member_uint(o, line, len, "id", INT64_MAX, &v) == 1 && v > 0) {
        snprintf(idbuf, idcap, "%" PRIu64, v);
        e->id = idbuf;
        return 0;
    }
    snprintf(why, whylen,
             "\"id\" must be a resource id (a positive integer, or a string of 1 to %d bytes)",
             LEDGER_ID_MAX - 1);
    return -1;
}

/* "status" and the two timestamps, read exactly from the line's text. */
static int parse_numbers(const cJSON *o, const char *line, size_t len, struct ledger_entry *e,
                         char *why, size_t whylen)
{
    uint64_t status = 0;
    if (member_uint(o, line, len, "status", 999, &status) != 1) {
        snprintf(why, whylen, "\"status\" must be an HTTP status or 0");
        return -1;
    }
    e->status = (int)status;
    if (member_uint(o, line, len, "invoke_unix_ns", UINT64_MAX, &e->invoke_unix_ns) != 1 ||
        member_uint(o, line, len, "complete_unix_ns", UINT64_MAX, &e->complete_unix_ns) != 1) {
        snprintf(why, whylen,
                 "\"invoke_unix_ns\" and \"complete_unix_ns\" must be "
                 "nanoseconds since the epoch");
        return -1;
    }
    return 0;
}

/* The "task" a create or update wrote and its "done" when it set one (e->task points into `o`),
 * and the optional "target". */
static int parse_content(const cJSON *o, struct ledger_entry *e, char *why, size_t whylen)
{
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(o, "target");
    if (target && !cJSON_IsString(target)) {
        snprintf(why, whylen, "\"target\" must be a string (the request's name)");
        return -1;
    }
    e->target = target ? target->valuestring : NULL;
    e->done = -1;
    if (e->op == LEDGER_DELETE)
        return 0;
    const char *op = ledger_op_name(e->op);
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(o, "done");
    if (!cJSON_IsString(task) || (done && !cJSON_IsBool(done))) {
        snprintf(why, whylen,
                 "%s %s needs the \"task\" text it wrote (and \"done\", when present, is true or "
                 "false)",
                 article(op), op);
        return -1;
    }
    e->task = task->valuestring;
    e->done = done ? cJSON_IsTrue(done) : -1;
    return 0;
}

/* Parses one line into `e` (e->task points into *json, which the caller deletes). Returns 0,
 * or -1 with the problem in why. */
static int parse_entry(const char *line, size_t len, struct ledger_entry *e, cJSON **json,
                       char *idbuf, size_t idcap, char *why, size_t whylen)
{
    memset(e, 0, sizeof *e);
    const char *end = NULL;
    cJSON *o = *json = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!o || !cJSON_IsObject(o) || skip_ws(end, line + len) != line + len) {
        snprintf(why, whylen, "not a JSON object");
        return -1;
    }
    if (parse_kind(o, e, why, whylen) < 0 ||
        parse_id(o, line, len, e, idbuf, idcap, why, whylen) < 0 ||
        parse_numbers(o, line, len, e, why, whylen) < 0 || parse_content(o, e, why, whylen) < 0)
        return -1;
    return 0;
}

static int blank(const char *s, size_t n)
{
    return skip_ws(s, s + n) == s + n;
}

/* One audit_ledger_read in progress. */
struct ledger_reader {
    const char *path;
    audit_entry_fn fn;
    void *ctx;
    int *torn;
    char *err;
    size_t errlen;
    uint64_t lineno;
    int rc; /* audit_ledger_read's result: -1 until the read ends or take_line stops it */
};

/* Checks one line (`n` bytes starting at byte `at`) and hands its entry to fn. Returns 0 to read
 * on, or 1 to stop with rd->rc set: 0 after a torn last line, -1 after a bad line (err set), or
 * fn's non-zero return. */
static int take_line(struct ledger_reader *rd, const char *line, size_t n, uint64_t at)
{
    int terminated = n > 0 && line[n - 1] == '\n';
    if (n > AUDIT_LINE_MAX) {
        snprintf(rd->err, rd->errlen,
                 "the ledger %s line %" PRIu64 " is longer than %d bytes (not a "
                 "ledger written by loadgen?)",
                 rd->path, rd->lineno, AUDIT_LINE_MAX);
        rd->rc = -1;
        return 1;
    }
    if (blank(line, n))
        return 0;
    struct ledger_entry e;
    cJSON *json = NULL;
    char why[160], idbuf[24];
    if (parse_entry(line, n, &e, &json, idbuf, sizeof idbuf, why, sizeof why) < 0) {
        cJSON_Delete(json);
        /* loadgen writes whole lines through a stdio buffer; a crash can cut the last one
         * where the buffer was flushed. Such a line holds no complete write record. */
        if (!terminated && rd->torn) {
            *rd->torn = 1;
            rd->rc = 0;
            return 1;
        }
        snprintf(rd->err, rd->errlen,
                 "the ledger %s line %" PRIu64 " is malformed: %s (each line must be one JSON "
                 "object as loadgen --ledger writes it)",
                 rd->path, rd->lineno, why);
        rd->rc = -1;
        return 1;
    }
    int stop = rd->fn(&e, rd->lineno, at, rd->ctx);
    cJSON_Delete(json);
    if (stop)
        rd->rc = stop;
    return stop != 0;
}

int audit_ledger_read(const char *path, audit_entry_fn fn, void *ctx, int *torn, char *err,
                      size_t errlen)
{
    struct ledger_reader rd = {path, fn, ctx, torn, err, errlen, 0, -1};
    char *line = NULL;
    size_t cap = 0;
    uint64_t offset = 0;
    if (torn)
        *torn = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen,
                 "cannot read the ledger %s: %s (pass the file loadgen --ledger wrote)", path,
                 strerror(errno));
        goto out;
    }
    for (;;) {
        errno = 0;
        ssize_t n = getline(&line, &cap, f);
        if (n < 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read the ledger %s after line %" PRIu64 ": %s", path,
                         rd.lineno, strerror(errno ? errno : EIO));
                goto out;
            }
            break;
        }
        rd.lineno++;
        uint64_t at = offset;
        offset += (uint64_t)n;
        if (take_line(&rd, line, (size_t)n, at))
            goto out;
    }
    rd.rc = 0;
out:
    free(line);
    if (f)
        fclose(f);
    return rd.rc;
}

char *audit_ledger_text_at(const char *path, uint64_t offset)
{
    char *text = NULL, *line = NULL;
    size_t cap = 0;
    cJSON *json = NULL;
    FILE *f = fopen(path, "r");
    if (!f || fseeko(f, (off_t)offset, SEEK_SET) != 0)
        goto out;
    ssize_t n = getline(&line, &cap, f);
    if (n <= 0)
        goto out;
    json = cJSON_ParseWithLength(line, (size_t)n);
    const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "task"));
    if (task)
        text = strdup(task);
out:
    cJSON_Delete(json);
    free(line);
    if (f)
        fclose(f);
    return text;
}
