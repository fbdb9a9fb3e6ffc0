/*
 * audit: the lost-write audit's verdicts (contract in audit.h, semantics in docs/audit.md). The
 * ledger (read by audit_ledger.c) is loaded into compact entries — the id in one shared arena, a
 * hash of the text instead of the text (read back from the ledger only for the few findings
 * reported) — and sorted by (id, invoke time) into per-id histories. The service's resources
 * (read by audit_server.c) then stream past in whatever order it lists them; each is looked up
 * among the ledger's ids by binary search and judged at once, and the ids no page showed are
 * judged absent at the end. Without a listing, each ledger id is read back instead. Memory holds
 * the ledger's entries and one page, never the whole table.
 */
#include "audit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "clock.h"

#define NO_ID UINT32_MAX
#define TARGETS_MAX 1024

/* ---- the ledger in memory ---------------------------------------------------------------- */

struct entry {
    uint64_t invoke_ns;
    uint64_t hash;
    uint64_t line, offset;
    uint32_t id_off; /* into the id arena; NO_ID: a create whose answer named no id */
    uint32_t text_len;
    uint16_t id_len;
    uint16_t target; /* 1 + index into targets; 0: none */
    int16_t status;
    uint8_t op, outcome, has_text;
    int8_t done;     /* -1: the write set none */
    uint8_t matched; /* id-less creates: a resource with its text was seen */
};

struct text_key {
    uint64_t hash;
    size_t idx;
};

struct id_range {
    uint32_t id_off;
    uint16_t id_len;
    uint8_t judged;
    size_t first, count;
};

/* A resource as the service shows it, or its absence. */
struct row {
    int present;
    const char *id;
    const char *task;
    size_t len;
    int has_text;
    int done; /* -1: the API has no done */
    uint64_t hash;
    int tagged;
};

struct audit_ctx {
    const char *ledger_path;
    struct audit_options opt;
    struct audit_report *r;
    struct entry *entries;
    size_t n, cap;
    char *arena; /* every id, each NUL-terminated */
    size_t arena_len, arena_cap;
    char *targets[TARGETS_MAX];
    size_t ntargets;
    struct text_key *texts;
    size_t ntexts;
    struct id_range *ids;
    size_t nids, idless; /* entries[0, idless) are the id-less creates */
    int incomplete;      /* the ledger is a prefix of the run's writes */
    int oom;
};

/* FNV-1a with a final mix: collisions between a run's texts are negligible (~n^2 / 2^64), and
 * a match also needs equal length and done. */
static uint64_t text_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* Ids in one total order: decimal integers (no sign, no leading zero) by value, then every other
 * id byte by byte. Equal ids are equal bytes, on both sides (the ledger and the service's
 * answers are normalised the same way). */
static int is_integer(const char *s, size_t n)
{
    return n > 0 && strspn(s, "0123456789") >= n && (s[0] != '0' || n == 1);
}

static int id_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int ai = is_integer(a, an), bi = is_integer(b, bn);
    if (ai != bi)
        return ai ? -1 : 1;
    if (ai && an != bn)
        return an < bn ? -1 : 1;
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static const char *id_at(const struct audit_ctx *c, uint32_t off)
{
    return off == NO_ID ? NULL : c->arena + off;
}

/* loadgen writes "<tag>-<thread>-<seq><kind>" padded with '.'; returns the tag's length or 0. */
static size_t derive_tag(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || s[n - 1] < 'a' || s[n - 1] > 'z')
        return 0;
    n--;
    for (int field = 0; field < 2; field++) {
        size_t d = n;
        while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
            d--;
        if (d == n || d < 2 || s[d - 1] != '-')
            return 0;
        n = d - 1;
    }
    return n;
}

static int add_tag(struct audit_report *r, const char *s, size_t n)
{
    for (size_t i = 0; i < r->ntags; i++)
        if (strlen(r->tags[i]) == n && !memcmp(r->tags[i], s, n))
            return 0;
    if (r->ntags == AUDIT_MAX_TAGS)
        return 0;
    if (!(r->tags[r->ntags] = strndup(s, n)))
        return -1;
    r->ntags++;
    return 0;
}

static int has_tag(const struct audit_report *r, const char *s, size_t n)
{
    for (size_t i = 0; i < r->ntags; i++) {
        size_t t = strlen(r->tags[i]);
        if (n > t && s[t] == '-' && !memcmp(s, r->tags[i], t))
            return 1;
    }
    return 0;
}

/* Copies an id into the arena; returns its offset, or NO_ID with c->oom set. */
static uint32_t keep_id(struct audit_ctx *c, const char *id, size_t n)
{
    if (c->arena_len + n + 1 > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap * 2 : 65536;
        while (cap < c->arena_len + n + 1)
            cap *= 2;
        char *grown = cap < NO_ID ? realloc(c->arena, cap) : NULL;
        if (!grown) {
            c->oom = 1;
            return NO_ID;
        }
        c->arena = grown;
        c->arena_cap = cap;
    }
    uint32_t off = (uint32_t)c->arena_len;
    memcpy(c->arena + off, id, n);
    c->arena[off + n] = '\0';
    c->arena_len += n + 1;
    return off;
}

/* The target's number (1-based), or 0; a new name is kept (up to TARGETS_MAX). */
static uint16_t keep_target(struct audit_ctx *c, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < c->ntargets; i++)
        if (!strcmp(c->targets[i], name))
            return (uint16_t)(i + 1);
    if (c->ntargets == TARGETS_MAX)
        return 0;
    if (!(c->targets[c->ntargets] = strdup(name))) {
        c->oom = 1;
        return 0;
    }
    return (uint16_t)++c->ntargets;
}

static int load_entry(const struct ledger_entry *e, uint64_t line, uint64_t offset, void *arg)
{
    struct audit_ctx *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        struct entry *grown = realloc(c->entries, cap * sizeof *grown);
        if (!grown)
            return c->oom = 1;
        c->entries = grown;
        c->cap = cap;
    }
    struct entry *x = &c->entries[c->n++];
    memset(x, 0, sizeof *x);
    x->invoke_ns = e->invoke_unix_ns;
    x->id_off = NO_ID;
    if (e->id && e->id[0]) {
        size_t n = strlen(e->id);
        x->id_len = (uint16_t)n;
        if ((x->id_off = keep_id(c, e->id, n)) == NO_ID)
            return 1;
    }
    x->line = line;
    x->offset = offset;
    x->status = (int16_t)e->status;
    x->op = (uint8_t)e->op;
    x->outcome = (uint8_t)e->outcome;
    x->done = (int8_t)(e->done < 0 ? -1 : e->done ? 1 : 0);
    x->target = keep_target(c, e->target);
    if (e->task) {
        size_t len = strlen(e->task);
        x->has_text = 1;
        x->text_len = (uint32_t)len;
        x->hash = text_hash(e->task, len);
        size_t tag = c->opt.tag ? 0 : derive_tag(e->task, len);
        if (tag && add_tag(c->r, e->task, tag) < 0)
            return c->oom = 1;
    }
    c->r->writes++;
    c->r->ops[e->op][e->outcome]++;
    return c->oom;
}

static int by_id_then_time(const void *a, const void *b, void *arg)
{
    const struct audit_ctx *ctx = arg;
    const struct entry *x = a, *y = b;
    if ((x->id_off == NO_ID) != (y->id_off == NO_ID))
        return x->id_off == NO_ID ? -1 : 1;
    if (x->id_off != NO_ID) {
        int c = id_cmp(id_at(ctx, x->id_off), x->id_len, id_at(ctx, y->id_off), y->id_len);
        if (c)
            return c;
    }
    if (x->invoke_ns != y->invoke_ns)
        return x->invoke_ns < y->invoke_ns ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int by_hash(const void *a, const void *b)
{
    const struct text_key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int same_id(const struct audit_ctx *c, const struct entry *e, const struct id_range *h)
{
    return e->id_len == h->id_len && !memcmp(id_at(c, e->id_off), id_at(c, h->id_off), h->id_len);
}

/* Sorts the entries into per-id histories and indexes them by id and by text. */
static int index_ledger(struct audit_ctx *c)
{
    if (c->n) /* an empty ledger has no entries array, and qsort_r wants one */
        qsort_r(c->entries, c->n, sizeof *c->entries, by_id_then_time, c);
    c->texts = malloc((c->n ? c->n : 1) * sizeof *c->texts);
    c->ids = malloc((c->n ? c->n : 1) * sizeof *c->ids);
    if (!c->texts || !c->ids)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct entry *e = &c->entries[i];
        if (e->has_text)
            c->texts[c->ntexts++] = (struct text_key){e->hash, i};
        if (e->id_off == NO_ID)
            c->idless = i + 1;
        else if (c->nids && same_id(c, e, &c->ids[c->nids - 1]))
            c->ids[c->nids - 1].count++;
        else
            c->ids[c->nids++] = (struct id_range){e->id_off, e->id_len, 0, i, 1};
    }
    qsort(c->texts, c->ntexts, sizeof *c->texts, by_hash);
    c->r->ids_checked = c->nids;
    c->r->creates_without_id = c->idless;
    return 0;
}

/* The ledger's history of `id`, or NULL. */
static struct id_range *find_id(struct audit_ctx *c, const char *id)
{
    size_t n = strlen(id), lo = 0, hi = c->nids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = id_cmp(id_at(c, c->ids[mid].id_off), c->ids[mid].id_len, id, n);
        if (cmp == 0)
            return &c->ids[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The first index in texts with this hash, or ntexts. */
static size_t text_lower_bound(const struct audit_ctx *c, uint64_t hash)
{
    size_t lo = 0, hi = c->ntexts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->texts[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int same_text(const struct entry *e, const struct row *w)
{
    return w->present && w->has_text && e->has_text && e->hash == w->hash && e->text_len == w->len;
}

/* Whether the row is exactly what write `e` leaves behind (absent, for a delete). done is
 * compared when both the write and the API have one. */
static int is_effect(const struct entry *e, const struct row *w)
{
    if (e->op == LEDGER_DELETE)
        return !w->present;
    return same_text(e, w) && (e->done < 0 || w->done < 0 || e->done == (w->done ? 1 : 0));
}

/* ---- findings ------------------------------------------------------------------------- */

static const char *op_word(const struct entry *e)
{
    return ledger_op_name((enum ledger_op)e->op);
}

static const char *outcome_word(const struct entry *e)
{
    return ledger_outcome_name((enum ledger_outcome)e->outcome);
}

/* "the ok update at ledger line 12 (status 200)" */
static void describe(const struct entry *e, char *out, size_t n)
{
    if (e->status)
        snprintf(out, n, "the %s %s at ledger line %" PRIu64 " (status %d)", outcome_word(e),
                 op_word(e), e->line, e->status);
    else
        snprintf(out, n, "the %s %s at ledger line %" PRIu64 " (no answer)", outcome_word(e),
                 op_word(e), e->line);
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

/* Counts a lost or unexpected finding and keeps it in detail while there is room. `id` is the
 * id concerned (NULL: none), `op` the write concerned, `expect` the write whose effect should be
 * there (NULL: no row). */
static void add_finding(struct audit_ctx *c, enum audit_kind kind, const char *id,
                        const struct entry *op, const struct entry *expect, const struct row *found,
                        const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add_finding(struct audit_ctx *c, enum audit_kind kind, const char *id,
                        const struct entry *op, const struct entry *expect, const struct row *found,
                        const char *fmt, ...)
{
    struct audit_report *r = c->r;
    if (kind == AUDIT_LOST)
        r->lost++;
    else
        r->unexpected++;
    if (r->nfindings >= c->opt.max_report)
        return;
    struct audit_finding *f = &r->findings[r->nfindings];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->id = dup_or_null(id, &c->oom);
    f->found_done = -1;
    f->expected_done = -1;
    if (op) {
        f->line = op->line;
        f->op = (enum ledger_op)op->op;
        f->outcome = (enum ledger_outcome)op->outcome;
        f->status = op->status;
        f->target = dup_or_null(op->target ? c->targets[op->target - 1] : NULL, &c->oom);
    }
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    f->reason = dup_or_null(reason, &c->oom);
    if (expect && expect->op != LEDGER_DELETE) {
        f->expected_task = audit_ledger_text_at(c->ledger_path, expect->offset);
        f->expected_done = expect->done;
        if (!f->expected_task)
            c->oom = 1;
    }
    if (found->present && found->has_text) {
        f->found_task = strndup(found->task, found->len);
        f->found_done = found->done;
        if (!f->found_task)
            c->oom = 1;
    } else if (found->present) {
        f->found_task = dup_or_null("", &c->oom); /* a resource without text */
        f->found_done = found->done;
    }
    r->nfindings++;
}

/* ---- verdicts ------------------------------------------------------------------------- */

/* Another write in the ledger whose text the row holds (on any id), or NULL. */
static const struct entry *text_owner(const struct audit_ctx *c, const struct row *w)
{
    for (size_t i = text_lower_bound(c, w->hash); i < c->ntexts && c->texts[i].hash == w->hash; i++)
        if (same_text(&c->entries[c->texts[i].idx], w))
            return &c->entries[c->texts[i].idx];
    return NULL;
}

/* A row of this run that no write explains. `owner` is a write whose text it holds (or NULL). */
static void unexplained(struct audit_ctx *c, const struct row *w, const struct entry *owner)
{
    char what[160];
    if (!owner) {
        add_finding(c, AUDIT_UNEXPECTED, w->id, NULL, NULL, w,
                    "the row carries this run's tag but no write in the ledger explains it");
        return;
    }
    describe(owner, what, sizeof what);
    const char *owner_id = id_at(c, owner->id_off);
    if (owner_id && strcmp(owner_id, w->id))
        add_finding(c, AUDIT_UNEXPECTED, w->id, owner, NULL, w,
                    "the row holds the text of %s, which wrote to id %s", what, owner_id);
    else
        add_finding(c, AUDIT_UNEXPECTED, w->id, owner, NULL, w,
                    "the row holds the text of %s but done=%s, which no write set", what,
                    w->done ? "true" : "false");
}

/* A ledger cut short (loadgen killed) holds each id's history only up to the cut: a later,
 * unrecorded write of this run leaves either no row or a tagged text the ledger never saw. An
 * earlier write's text, another writer's text or a failed write's text stays a finding. */
static int later_write_may_explain(const struct audit_ctx *c, const struct row *w,
                                   const struct entry *owner)
{
    return c->incomplete && (!w->present || (w->tagged && !owner));
}

/* A failed write on this id whose text the row holds: it took effect after all. Returns 1 when
 * found (and reported). */
static int failed_write_took_effect(struct audit_ctx *c, const struct id_range *h,
                                    const struct entry *last_ok, const struct row *w)
{
    const struct entry *ops = &c->entries[h->first];
    char what[160];
    for (size_t i = 0; w->present && i < h->count; i++) {
        if (ops[i].outcome == LEDGER_FAIL && same_text(&ops[i], w)) {
            describe(&ops[i], what, sizeof what);
            add_finding(c, AUDIT_UNEXPECTED, id_at(c, h->id_off), &ops[i], last_ok, w,
                        "%s took effect: the row holds its text", what);
            return 1;
        }
    }
    return 0;
}

/* The row is not the effect of the last ok write `last_ok`: say what it holds instead. */
static void lost_write(struct audit_ctx *c, const struct id_range *h, const struct entry *last_ok,
                       const struct entry *owner, const struct row *w)
{
    char what[160];
    const char *id = id_at(c, h->id_off);
    describe(last_ok, what, sizeof what);
    if (last_ok->op == LEDGER_DELETE) {
        add_finding(c, AUDIT_LOST, id, last_ok, last_ok, w, "%s did not hold: the row is there",
                    what);
    } else if (!w->present) {
        add_finding(c, AUDIT_LOST, id, last_ok, last_ok, w, "%s is missing: no row has this id",
                    what);
    } else if (same_text(last_ok, w)) {
        add_finding(c, AUDIT_LOST, id, last_ok, last_ok, w,
                    "%s is missing: the row holds its text with done=%s", what,
                    w->done ? "true" : "false");
    } else if (owner && owner->id_off != NO_ID && same_id(c, owner, h)) {
        add_finding(c, AUDIT_LOST, id, last_ok, last_ok, w,
                    "%s is missing: the row holds the earlier %s at line %" PRIu64, what,
                    op_word(owner), owner->line);
    } else {
        add_finding(c, AUDIT_LOST, id, last_ok, last_ok, w,
                    "%s is missing: the row holds content no write to this id made", what);
    }
}

/* One id's history against what the service holds for it. The possible final states are the
 * effect of the last ok write and the effect of any info write (it may land late); fail writes
 * never happened. Written text is unique per write, so a present row names the write it came
 * from. */
static void judge_id(struct audit_ctx *c, struct id_range *h, const struct row *w)
{
    const struct entry *ops = &c->entries[h->first], *last_ok = NULL;
    h->judged = 1;
    for (size_t i = 0; i < h->count; i++)
        if (ops[i].outcome == LEDGER_OK)
            last_ok = &ops[i];
    if (last_ok && is_effect(last_ok, w)) {
        c->r->ok++;
        return;
    }
    for (size_t i = 0; i < h->count; i++) {
        if (ops[i].outcome == LEDGER_INFO && is_effect(&ops[i], w)) {
            c->r->recovered++;
            return;
        }
    }
    if (failed_write_took_effect(c, h, last_ok, w))
        return;
    const struct entry *owner = w->present ? text_owner(c, w) : NULL;
    int ours = w->tagged || owner;
    if (!last_ok || (last_ok->op == LEDGER_DELETE && !ours)) {
        /* Nothing acknowledged here, or the deleted id now holds another writer's row. */
        if (!ours)
            c->r->ok++;
        else if (later_write_may_explain(c, w, owner))
            c->r->unverifiable++;
        else
            unexplained(c, w, owner);
        return;
    }
    if (later_write_may_explain(c, w, owner))
        c->r->unverifiable++;
    else
        lost_write(c, h, last_ok, owner, w);
}

/* A row at an id the ledger never names: a create whose answer named no id, a duplicate, or a
 * stray. */
static void judge_stray(struct audit_ctx *c, const struct row *w)
{
    char what[160];
    for (size_t i = text_lower_bound(c, w->hash); i < c->ntexts && c->texts[i].hash == w->hash;
         i++) {
        struct entry *e = &c->entries[c->texts[i].idx];
        if (e->id_off != NO_ID || !is_effect(e, w))
            continue;
        describe(e, what, sizeof what);
        if (e->matched) {
            add_finding(c, AUDIT_UNEXPECTED, w->id, e, NULL, w,
                        "%s is on the server twice: this row repeats its text", what);
            return;
        }
        e->matched = 1;
        if (e->outcome == LEDGER_OK)
            c->r->ok++;
        else if (e->outcome == LEDGER_INFO)
            c->r->recovered++;
        else
            add_finding(c, AUDIT_UNEXPECTED, w->id, e, NULL, w, "%s took effect as id %s", what,
                        w->id);
        return;
    }
    const struct entry *owner = text_owner(c, w);
    if (later_write_may_explain(c, w, owner))
        c->r->unverifiable++; /* a create after the cut */
    else if (owner || w->tagged)
        unexplained(c, w, owner);
}

static void row_of(struct audit_ctx *c, const struct resource_item *item, struct row *w)
{
    *w = (struct row){.present = 1, .id = item->id, .done = item->has_done ? item->done : -1};
    if (item->has_text) {
        w->has_text = 1;
        w->task = item->text;
        w->len = item->text_len;
        w->hash = text_hash(item->text, item->text_len);
        w->tagged = has_tag(c->r, item->text, item->text_len);
    }
}

/* A resource of the listing (resource_item_fn): judged with the history of its id, if any. */
static int take_listed(const struct resource_item *item, void *arg)
{
    struct audit_ctx *c = arg;
    struct row w;
    row_of(c, item, &w);
    c->r->rows_read++;
    c->r->rows_tagged += (uint64_t)w.tagged;
    struct id_range *h = find_id(c, item->id);
    if (h && !h->judged)
        judge_id(c, h, &w);
    else if (!h)
        judge_stray(c, &w);
    return c->oom;
}

/* A resource read back (resource_item_fn): `arg` is the id's history. */
struct read_back {
    struct audit_ctx *c;
    struct id_range *h;
};

static int take_read_back(const struct resource_item *item, void *arg)
{
    struct read_back *rb = arg;
    struct row w;
    row_of(rb->c, item, &w);
    rb->c->r->rows_read++;
    rb->c->r->rows_tagged += (uint64_t)w.tagged;
    judge_id(rb->c, rb->h, &w);
    return rb->c->oom;
}

/* Judges the ids no page showed as absent, then the id-less creates no row matched. */
static void finish(struct audit_ctx *c)
{
    struct row absent = {0};
    char what[160];
    for (size_t i = 0; i < c->nids; i++)
        if (!c->ids[i].judged)
            judge_id(c, &c->ids[i], &absent);
    for (size_t i = 0; i < c->idless; i++) {
        const struct entry *e = &c->entries[i];
        if (e->matched)
            continue;
        if (e->outcome != LEDGER_OK) {
            c->r->ok++; /* a fail or info create that did not happen */
        } else if (c->r->mode == AUDIT_READ_BACK) {
            c->r->unverifiable++; /* without a listing it cannot be looked for */
            c->r->unverifiable_creates++;
        } else {
            describe(e, what, sizeof what);
            add_finding(c, AUDIT_LOST, NULL, e, e, &absent, "%s is missing: no row holds its text",
                        what);
        }
    }
}

/* Reads the service: every listed resource, or each ledger id read back. */
static int read_service(struct audit_ctx *c, const char *base_url, char *err, size_t errlen)
{
    struct audit_server *s = audit_server_open(base_url, &c->opt, err, errlen);
    int rc = -1;
    if (!s)
        return -1;
    if (c->r->mode == AUDIT_LISTED) {
        rc = audit_server_list(s, take_listed, c, &c->r->pages, err, errlen);
        goto out;
    }
    for (size_t i = 0; i < c->nids && !c->oom; i++) {
        struct read_back rb = {c, &c->ids[i]};
        int present;
        if (audit_server_item(s, id_at(c, c->ids[i].id_off), take_read_back, &rb, &present, err,
                              errlen) < 0)
            goto out;
        c->r->reads++;
    }
    rc = 0;
out:
    audit_server_close(s);
    return rc;
}

/* ---- the run --------------------------------------------------------------------------- */

void audit_options_default(struct audit_options *o)
{
    *o = (struct audit_options){
        .max_report = 20,
        .tag = NULL,
        .timeout_ns = 10ull * 1000000000ull,
        .retry_for_ns = 10ull * 1000000000ull,
    };
    resource_api_default(&o->api);
}

/* Zeroes the report and fills in what is known before the audit starts. Returns -1 when out of
 * memory. */
static int start_report(struct audit_report *r, const char *ledger_path, const char *base_url,
                        const struct audit_options *opt)
{
    memset(r, 0, sizeof *r);
    struct buf api;
    buf_init(&api, 4096);
    resource_api_describe(&opt->api, &api);
    r->api = buf_detach(&api, NULL);
    r->mode = opt->api.list_url[0] ? AUDIT_LISTED : AUDIT_READ_BACK;
    r->ledger_path = strdup(ledger_path);
    r->url = strdup(base_url);
    r->findings = calloc(opt->max_report ? opt->max_report : 1, sizeof *r->findings);
    if (!r->api || !r->ledger_path || !r->url || !r->findings ||
        (opt->tag && add_tag(r, opt->tag, strlen(opt->tag)) < 0))
        return -1;
    return 0;
}

/* Findings in id order (id-less ones last), whatever order the service listed resources in. */
static int by_finding_id(const void *a, const void *b)
{
    const struct audit_finding *x = a, *y = b;
    if (!x->id != !y->id)
        return x->id ? -1 : 1;
    int c = x->id ? id_cmp(x->id, strlen(x->id), y->id, strlen(y->id)) : 0;
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

int audit_run(const char *ledger_path, const char *base_url, const struct audit_options *opt,
              struct audit_report *out, char *err, size_t errlen)
{
    int rc = -1;
    uint64_t t0 = clock_monotonic_ns();
    struct audit_ctx c = {.ledger_path = ledger_path, .r = out};
    if (opt)
        c.opt = *opt;
    else
        audit_options_default(&c.opt);
    if (start_report(out, ledger_path, base_url, &c.opt) < 0)
        goto nomem;
    if (resource_api_check(&c.opt.api, err, errlen) < 0)
        goto out;
    int read = audit_ledger_read(ledger_path, load_entry, &c, &out->torn_last_line, err, errlen);
    if (c.oom)
        goto nomem;
    if (read != 0)
        goto out;
    c.incomplete = out->incomplete = c.opt.incomplete_ledger || out->torn_last_line;
    if (index_ledger(&c) < 0)
        goto nomem;
    if (read_service(&c, base_url, err, errlen) < 0)
        goto out;
    finish(&c);
    if (c.oom)
        goto nomem;
    qsort(out->findings, out->nfindings, sizeof *out->findings, by_finding_id);
    out->duration_s = (double)(clock_monotonic_ns() - t0) / 1e9;
    rc = 0;
    goto out;
nomem:
    snprintf(err, errlen, "cannot audit the ledger %s: out of memory", ledger_path);
out:
    free(c.entries);
    free(c.arena);
    for (size_t i = 0; i < c.ntargets; i++)
        free(c.targets[i]);
    free(c.texts);
    free(c.ids);
    return rc;
}

void audit_report_free(struct audit_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfindings; i++) {
        free(r->findings[i].id);
        free(r->findings[i].reason);
        free(r->findings[i].expected_task);
        free(r->findings[i].found_task);
        free(r->findings[i].target);
    }
    for (size_t i = 0; i < r->ntags; i++)
        free(r->tags[i]);
    free(r->findings);
    free(r->api);
    free(r->ledger_path);
    free(r->url);
    memset(r, 0, sizeof *r);
}

int audit_clean(const struct audit_report *r)
{
    return r->lost == 0 && r->unexpected == 0;
}
