/*
 * workload_targets: a targets workload (see workload.h) — preparing the targets once from
 * what the CLI or a program described, and turning each request into parts.
 *
 * Preparing does everything that can fail: reading the targets file or making the one target
 * of --raw, adding the common headers and the default success rule, reading the CSV rows of
 * this shard, compiling every template. After that a request can fail only by outgrowing a
 * buffer's limit: picking a target is one binary search, and a static target's parts are
 * pointers into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"
#include "workload_internal.h"

static int prepare_default_rule(struct workload_config *cfg, char *err, size_t errlen)
{
    struct expect rule;
    expect_default(&rule);
    if (cfg->expect_status && expect_parse_statuses(&rule, cfg->expect_status, err, errlen))
        return -1;
    if (cfg->expect_body &&
        expect_set_body(&rule, cfg->expect_body, strlen(cfg->expect_body), err, errlen))
        return -1;
    targets_set_default_expect(cfg->targets, &rule);
    return 0;
}

static int add_raw_target(struct workload_config *cfg, const char *url, char *err, size_t errlen)
{
    const char *method = cfg->method ? cfg->method : cfg->body ? "POST" : "GET";
    return targets_add(cfg->targets, "raw", method, url, NULL, 0, cfg->body,
                       cfg->body ? strlen(cfg->body) : 0, err, errlen);
}

int workload_prepare(struct workload_config *cfg, const char *url, unsigned shard_index,
                     unsigned shard_count, char *err, size_t errlen)
{
    if (cfg->targets || !workload_is_targets(cfg))
        return 0;
    cfg->targets = malloc(sizeof *cfg->targets);
    if (!cfg->targets) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    targets_init(cfg->targets);
    cfg->owns_prepared = 1;
    int rc = cfg->raw ? add_raw_target(cfg, url, err, errlen)
                      : targets_load_file(cfg->targets, cfg->targets_path, url, err, errlen);
    if (!rc)
        rc = targets_add_common_headers(cfg->targets, cfg->headers, cfg->nheaders, err, errlen);
    if (!rc)
        rc = prepare_default_rule(cfg, err, errlen);
    if (!rc && cfg->data_path)
        rc = data_load_file(&cfg->data, cfg->data_path, shard_index, shard_count, err, errlen);
    if (!rc)
        rc = targets_compile(cfg->targets, cfg->data, err, errlen);
    if (rc)
        workload_release(cfg);
    return rc;
}

void workload_release(struct workload_config *cfg)
{
    if (!cfg->owns_prepared)
        return;
    if (cfg->targets) {
        targets_free(cfg->targets);
        free(cfg->targets);
    }
    data_free(cfg->data);
    cfg->targets = NULL;
    cfg->data = NULL;
    cfg->owns_prepared = 0;
}

static int render_headers(const struct target *t, struct template_vars *v,
                          struct workload_request *req)
{
    if (t->header_block) {
        req->headers = t->header_block;
        req->headers_len = t->header_block_len;
        return 0;
    }
    buf_reset(&req->headers_buf);
    for (size_t h = 0; h < t->nheaders; h++)
        if (template_render(t->headers[h], v, &req->headers_buf) ||
            buf_append(&req->headers_buf, "\r\n", 2))
            return -1;
    req->headers = req->headers_buf.data;
    req->headers_len = req->headers_buf.len;
    return 0;
}

static int render_part(const struct template *t, struct template_vars *v, struct buf *b,
                       const char **out, size_t *len)
{
    if (template_is_static(t)) {
        *out = template_text(t, len);
        return 0;
    }
    buf_reset(b);
    if (template_render(t, v, b))
        return -1;
    *out = b->data ? b->data : "";
    *len = b->len;
    return 0;
}

int workload_targets_next(struct workload_state *st, struct workload_request *req, uint64_t arrival)
{
    const struct target_set *set = st->cfg->targets;
    size_t i = targets_pick(set, set->n > 1 ? workload_draw(st, arrival) : 0);
    const struct target *t = &set->items[i];
    req->route = (int)i;
    req->target = t;
    req->method = t->method;
    req->origin = t->origin_index;
    req->expect = &t->expect;
    req->is_static = t->is_static && (!t->body || template_is_static(t->body));
    req->has_body = t->has_body;
    struct template_vars v;
    template_vars_next(&st->stream, &v);
    if (render_part(t->path, &v, &req->path_buf, &req->path, &req->path_len) ||
        render_headers(t, &v, req))
        return -1;
    if (t->has_body)
        return render_part(t->body, &v, &req->body_buf, &req->body, &req->body_len);
    return 0;
}
