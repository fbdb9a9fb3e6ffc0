/*
 * report_text: the human summary of a run (see report_text.h).
 *
 * Numbers are rounded for reading (three significant digits for durations), never for
 * deciding: the JSON result carries the exact figures. The summary says plainly when the
 * target rate was not reached, because a quietly lower rate is the classic load-testing lie.
 */
#include "report_text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"

static char *format_bytes(uint64_t n, char *out, size_t len)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;
    while (u + 1 < sizeof(names) / sizeof(names[0]) && v >= 1023.5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%" PRIu64 " B", n);
    else
        snprintf(out, len, "%.*f %s", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, names[u]);
    return out;
}

int report_text_target_missed(const struct lg_results *r)
{
    if (r->not_started > 0)
        return 1;
    if (r->model != LG_MODEL_OPEN || r->target_rate <= 0)
        return 0;
    return results_achieved_rate(r) < 0.99 * r->target_rate;
}

static void write_header(FILE *f, const struct lg_results *r, const struct report_meta *meta)
{
    char started[CLOCK_RFC3339_LEN], dur[DURATION_TEXT_LEN];
    clock_format_rfc3339(r->start_unix_ns, started);
    fprintf(f, "loadgen: %s (%s workload)\n", meta->target, meta->mode);
    if (r->model == LG_MODEL_OPEN)
        fprintf(f, "  open model at %.1f/s, at most %" PRIu64 " in flight", r->target_rate,
                r->connections);
    else
        fprintf(f, "  closed model, %" PRIu64 " connections", r->connections);
    fprintf(f, ", %" PRIu64 " threads\n  %s measured from %s", r->threads,
            duration_format(r->duration_ns, dur), started);
    if (r->runs > 1)
        fprintf(f, ", merged from %" PRIu64 " runs", r->runs);
    fputs("\n\n", f);
}

static void write_rates(FILE *f, const struct lg_results *r)
{
    double achieved = results_achieved_rate(r);
    fprintf(f,
            "  requests  %" PRIu64 " completed, %" PRIu64 " started, %" PRIu64
            " cancelled at the end, %" PRIu64 " not started\n",
            r->completed, r->started, r->cancelled, r->not_started);
    if (r->model == LG_MODEL_OPEN && r->target_rate > 0)
        fprintf(f, "  rate      %.1f/s achieved of %.1f/s target (%.2f%%)\n", achieved,
                r->target_rate, 100 * achieved / r->target_rate);
    else
        fprintf(f, "  rate      %.1f/s achieved\n", achieved);
    if (report_text_target_missed(r))
        fprintf(f,
                "  !! target not reached: achieved %.1f/s of %.1f/s, %" PRIu64
                " requests not started\n",
                achieved, r->target_rate, r->not_started);
}

/* "failed    none" or "failed    1203 of 5000 (24.06%): unexpected status 1200, transport 3
 * (connect 3)". */
static void write_errors(FILE *f, const struct lg_results *r)
{
    uint64_t kinds[LG_ERR_COUNT] = {0}, unexpected = 0, mismatch = 0, transport = 0;
    for (size_t i = 0; i < r->nroutes; i++) {
        for (size_t k = 0; k < LG_ERR_COUNT; k++)
            kinds[k] += r->routes[i].errors[k];
        unexpected += r->routes[i].unexpected_status;
        mismatch += r->routes[i].body_mismatch;
        transport += r->routes[i].classes[LG_CLASS_ERROR];
    }
    uint64_t failed = results_error_total(r);
    if (failed == 0) {
        fputs("  failed    none\n", f);
        return;
    }
    fprintf(f, "  failed    %" PRIu64 " of %" PRIu64 " (%.2f%%):", failed, r->completed,
            r->completed ? 100.0 * (double)failed / (double)r->completed : 0);
    const char *sep = "";
    if (unexpected) {
        fprintf(f, " unexpected status %" PRIu64, unexpected);
        sep = ",";
    }
    if (mismatch) {
        fprintf(f, "%s body check %" PRIu64, sep, mismatch);
        sep = ",";
    }
    if (transport) {
        fprintf(f, "%s transport %" PRIu64 " (", sep, transport);
        const char *inner = "";
        for (size_t k = 0; k < LG_ERR_COUNT; k++) {
            if (kinds[k] == 0)
                continue;
            fprintf(f, "%s%s %" PRIu64, inner, results_error_name((enum lg_error_kind)k), kinds[k]);
            inner = ", ";
        }
        fputc(')', f);
    }
    fputc('\n', f);
}

/* "  protocol  h2 (every answer)" or "  protocol  http/1.1 300, h2 700". */
static void write_protocols(FILE *f, const struct lg_results *r)
{
    int kinds = 0;
    for (int p = 0; p < LG_PROTO_COUNT; p++)
        kinds += r->protocols[p] > 0;
    if (kinds == 0)
        return;
    fputs("  protocol ", f);
    for (int p = 0, any = 0; p < LG_PROTO_COUNT; p++) {
        if (!r->protocols[p])
            continue;
        fprintf(f, "%s %s", any ? "," : "", results_protocol_name((enum lg_protocol)p));
        if (kinds > 1)
            fprintf(f, " %" PRIu64, r->protocols[p]);
        any = 1;
    }
    fputs(kinds > 1 ? "\n" : " (every answer)\n", f);
}

static void write_codes(FILE *f, const struct lg_results *r)
{
    int any = 0;
    fputs("  status   ", f);
    for (size_t code = 0; code < LG_STATUS_MAX; code++) {
        uint64_t n = results_code_total(r, (int)code);
        if (n == 0)
            continue;
        if (code == 0)
            fprintf(f, "%s other %" PRIu64, any ? "," : "", n);
        else
            fprintf(f, "%s %zu: %" PRIu64, any ? "," : "", code, n);
        any = 1;
    }
    fputs(any ? "\n" : " none\n", f);
    write_protocols(f, r);
    char bytes[32];
    fprintf(f, "  received  %s\n", format_bytes(r->bytes_received, bytes, sizeof(bytes)));
    fprintf(f, "  connections %" PRIu64 " opened, %" PRIu64 " closed while measuring\n\n",
            r->connections_opened, r->connections_closed);
}

/* Right-aligns s in width columns; printf's width counts bytes, and "µ" is two. */
static void put_cell(FILE *f, const char *s, int width)
{
    int shown = 0;
    for (const char *c = s; *c; c++)
        shown += ((unsigned char)*c & 0xC0) != 0x80;
    fprintf(f, " %*s%s", width > shown ? width - shown : 0, "", s);
}

static void write_latency_cells(FILE *f, const struct loghist *h)
{
    static const double qs[] = {0.5, 0.9, 0.99, 0.999, 1};
    char d[DURATION_TEXT_LEN];
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        put_cell(f, h->count ? duration_format(loghist_quantile(h, qs[i]), d) : "-", 8);
    fputc('\n', f);
}

#define LABEL_MAX 44 /* the route column: name, method and route, cut with "…" */

static void write_row(FILE *f, const char *label, int width, uint64_t count, uint64_t errors,
                      const struct lg_results *r, const struct loghist *h)
{
    double seconds = (double)r->duration_ns / 1e9;
    double rate = seconds > 0 ? (double)count / seconds : 0;
    double err_pct = count ? 100.0 * (double)errors / (double)count : 0;
    int shown = 0;
    for (const char *c = label; *c; c++)
        shown += ((unsigned char)*c & 0xC0) != 0x80;
    fprintf(f, "  %s%*s %9" PRIu64 " %9.1f %7.2f%%", label, width > shown ? width - shown : 0, "",
            count, rate, err_pct);
    write_latency_cells(f, h);
}

/* "login  POST /api/login": the route's name, method and template, cut to LABEL_MAX columns. */
static void route_label(const struct lg_route_stats *rs, int name_width, char *out, size_t len)
{
    int n = snprintf(out, len, "%-*s %s %s", name_width, rs->name, rs->method, rs->route);
    if (n > LABEL_MAX && len > LABEL_MAX + 3) /* "…" is three bytes, one column */
        snprintf(out + LABEL_MAX - 1, len - (LABEL_MAX - 1), "\xE2\x80\xA6");
    while (n > 0 && out[strlen(out) - 1] == ' ') /* a route without method or template */
        out[strlen(out) - 1] = '\0', n--;
}

/* One row per route with requests, then the whole run in each view. */
static void write_table(FILE *f, const struct lg_results *r, struct loghist *h)
{
    int name_width = 0, width = 16;
    char label[LABEL_MAX + 8];
    for (size_t i = 0; i < r->nroutes; i++)
        if (results_route_completed(r, (int)i) && (int)strlen(r->routes[i].name) > name_width)
            name_width = (int)strlen(r->routes[i].name);
    for (size_t i = 0; i < r->nroutes; i++) {
        if (!results_route_completed(r, (int)i))
            continue;
        route_label(&r->routes[i], name_width, label, sizeof(label));
        int shown = 0;
        for (const char *c = label; *c; c++)
            shown += ((unsigned char)*c & 0xC0) != 0x80;
        width = shown > width ? shown : width;
    }
    fprintf(f, "  %-*s %9s %9s %8s %8s %8s %8s %8s %8s\n", width, "route", "count", "rate/s",
            "errors", "p50", "p90", "p99", "p99.9", "max");
    for (int i = 0; i < (int)r->nroutes; i++) {
        uint64_t count = results_route_completed(r, i);
        if (count == 0)
            continue;
        route_label(&r->routes[i], name_width, label, sizeof(label));
        results_collect(r, i, -1, LG_VIEW_CORRECTED, h);
        write_row(f, label, width, count, results_route_failed(r, i), r, h);
    }
    static const char *const views[] = {"all (corrected)", "all (service)", "all (lag)"};
    for (int v = LG_VIEW_CORRECTED; v <= LG_VIEW_LAG; v++) {
        results_collect(r, -1, -1, (enum lg_view_kind)v, h);
        write_row(f, views[v], width, h->count, results_error_total(r), r, h);
    }
    fputs("  routes show corrected latency (intended start -> done); service is sent -> done,\n"
          "  lag is intended start -> sent. errors: requests that failed the success rule\n"
          "  (an unexpected status, a failed body check) or got no answer.\n",
          f);
}

int report_text_write(FILE *f, const struct lg_results *r, const struct report_meta *meta)
{
    struct loghist *h = malloc(sizeof(*h)); /* ~220 KiB: not on the stack */
    if (!h)
        return -1;
    write_header(f, r, meta);
    write_rates(f, r);
    write_errors(f, r);
    write_codes(f, r);
    write_table(f, r, h);
    free(h);
    fflush(f);
    return ferror(f) ? -1 : 0;
}
