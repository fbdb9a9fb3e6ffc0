/*
 * expo: Prometheus text exposition writer. See expo.h for the contract.
 * Buffer overflow is tracked by the buf itself (buf.overflowed); callers check it once at the end.
 */
#include "expo.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void expo_escaped(struct buf *out, const char *s, int quote_too)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            buf_puts(out, "\\\\");
        else if (*p == '\n')
            buf_puts(out, "\\n");
        else if (*p == '"' && quote_too)
            buf_puts(out, "\\\"");
        else
            buf_putc(out, *p);
    }
}

void expo_family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s ", name);
    expo_escaped(out, help, 0);
    buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* name{a="x",b="y"} with an optional extra label (used for le); no braces when there are none. */
static void expo_series(struct buf *out, const char *name, const char *suffix,
                        const struct expo_label *labels, size_t nlabels, const char *extra_name,
                        const char *extra_value)
{
    buf_puts(out, name);
    buf_puts(out, suffix);
    if (nlabels == 0 && !extra_name)
        return;
    buf_putc(out, '{');
    for (size_t i = 0; i < nlabels; i++) {
        buf_printf(out, "%s%s=\"", i ? "," : "", labels[i].name);
        expo_escaped(out, labels[i].value, 1);
        buf_putc(out, '"');
    }
    if (extra_name) {
        buf_printf(out, "%s%s=\"%s\"", nlabels ? "," : "", extra_name, extra_value);
    }
    buf_putc(out, '}');
}

static void expo_value_double(struct buf *out, double value)
{
    if (isnan(value))
        buf_puts(out, " NaN\n");
    else if (isinf(value))
        buf_puts(out, value > 0 ? " +Inf\n" : " -Inf\n");
    else
        buf_printf(out, " %.17g\n", value);
}

void expo_sample_u64(struct buf *out, const char *name, const struct expo_label *labels,
                     size_t nlabels, uint64_t value)
{
    expo_series(out, name, "", labels, nlabels, NULL, NULL);
    buf_printf(out, " %" PRIu64 "\n", value);
}

void expo_sample_double(struct buf *out, const char *name, const struct expo_label *labels,
                        size_t nlabels, double value)
{
    expo_series(out, name, "", labels, nlabels, NULL, NULL);
    expo_value_double(out, value);
}

void expo_histogram(struct buf *out, const char *name, const struct expo_label *labels,
                    size_t nlabels, const struct histogram_snapshot *snap)
{
    char le[32];
    for (size_t i = 0; i < snap->count; i++) {
        /* Bounds that render identically whatever the float noise: 2.5e-05 → "2.5e-05". */
        snprintf(le, sizeof(le), "%.6g", snap->bounds->upper[i]);
        expo_series(out, name, "_bucket", labels, nlabels, "le", le);
        buf_printf(out, " %" PRIu64 "\n", snap->cumulative[i]);
    }
    expo_series(out, name, "_bucket", labels, nlabels, "le", "+Inf");
    buf_printf(out, " %" PRIu64 "\n", snap->total);
    expo_series(out, name, "_sum", labels, nlabels, NULL, NULL);
    expo_value_double(out, snap->sum_seconds);
    expo_series(out, name, "_count", labels, nlabels, NULL, NULL);
    buf_printf(out, " %" PRIu64 "\n", snap->total);
}

void expo_gauge(struct buf *out, const char *name, const char *help, double value)
{
    expo_family(out, name, "gauge", help);
    expo_sample_double(out, name, NULL, 0, value);
}
