/*
 * merge: reads loadgen JSON results and merges them (see merge.h).
 *
 * The first file seeds the result and every further one is checked against it before it is
 * added, so an error names the two files that disagree and what about them.
 */
#include "merge.h"

#include <stdio.h>
#include <string.h>

static const char *model_name(enum lg_model m)
{
    return m == LG_MODEL_OPEN ? "open" : "closed";
}

static int check_compatible(const char *first, const struct report_meta *m0,
                            const struct lg_results *r0, const char *path,
                            const struct report_meta *m, const struct lg_results *r, char *err,
                            size_t errlen)
{
    if (strcmp(m0->mode, m->mode) != 0) {
        snprintf(err, errlen,
                 "cannot merge %s into %s: it ran the %s workload and %s the %s one; merge only "
                 "results of the same workload",
                 path, first, m->mode, first, m0->mode);
        return -1;
    }
    if (r0->model != r->model) {
        snprintf(err, errlen,
                 "cannot merge %s into %s: it ran the %s model and %s the %s one; merge only "
                 "results of the same load model",
                 path, first, model_name(r->model), first, model_name(r0->model));
        return -1;
    }
    return 0;
}

int merge_files(const char *const *paths, size_t n, struct lg_results *out,
                struct report_meta *meta, char *err, size_t errlen)
{
    struct report_meta m0, m;
    struct lg_results next;
    int rc = -1;
    results_init(&next);
    if (n == 0) {
        results_init(out);
        snprintf(err, errlen, "no result files to merge; give two or more loadgen --json files");
        return -1;
    }
    if (report_json_read_file(paths[0], out, &m0, err, errlen) != 0)
        goto out;
    for (size_t i = 1; i < n; i++) {
        results_free(&next);
        if (report_json_read_file(paths[i], &next, &m, err, errlen) != 0 ||
            check_compatible(paths[0], &m0, out, paths[i], &m, &next, err, errlen) != 0)
            goto out;
        if (results_merge(out, &next) != 0) {
            snprintf(err, errlen, "cannot merge %s: out of memory", paths[i]);
            goto out;
        }
    }
    if (meta)
        *meta = m0;
    rc = 0;
out:
    results_free(&next);
    return rc;
}
