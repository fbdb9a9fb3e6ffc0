/*
 * audit_server: the server side of the audit. Pages through every row of a taskd with
 * GET /tasks?limit=AUDIT_PAGE_LIMIT&after=ID (keyset paging, so rows arrive in ascending id
 * order, which the audit's merge-join relies on and this reader checks) and hands each row to a
 * callback; only one page is in memory at a time. A page is retried while taskd answers 503 or
 * cannot be reached, e.g. while it recovers from a fault; each request is one http_fetch_get.
 * Contract in audit_internal.h.
 */
#include "audit_internal.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "http_fetch.h"

#define PAGE_BODY_MAX (64u << 20)
#define RETRY_PAUSE_MS 100
#define EXACT_DOUBLE_MAX 9007199254740992.0 /* 2^53: ids above are not exact in a double */

static void pause_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* GETs one page into body, retrying 503s and connection failures until retry_for_ns. */
static int fetch_page(const char *url, const struct audit_options *opt, struct buf *body, char *err,
                      size_t errlen)
{
    uint64_t deadline = clock_monotonic_ns() + opt->retry_for_ns;
    long timeout_ms = (long)(opt->timeout_ns / 1000000u);
    for (;;) {
        int status = http_fetch_get(url, timeout_ms, body, err, errlen);
        if (status == 200)
            return 0;
        int again = status == 503 || status == HTTP_FETCH_NO_ANSWER;
        if (again && clock_monotonic_ns() < deadline) {
            pause_ms(RETRY_PAUSE_MS);
            continue;
        }
        if (status == HTTP_FETCH_TOO_LARGE)
            snprintf(err, errlen, "cannot audit against %s: a page is larger than %u MiB", url,
                     PAGE_BODY_MAX >> 20);
        else if (status < 0) /* err says "cannot read URL: why" */
            snprintf(err + strlen(err), errlen - strlen(err), " (is taskd running there?)");
        else
            snprintf(err, errlen, "cannot read %s: HTTP %d %.200s (the audit needs a ready taskd)",
                     url, status, body->data ? body->data : "");
        return -1;
    }
}

/* Hands one page's rows to fn. Returns the number of rows, or -1 with err set. */
static long take_page(const struct buf *body, int64_t *after, audit_row_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    long rows = -1;
    cJSON *page = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
    if (!cJSON_IsArray(page)) {
        snprintf(err, errlen, "the server's task list after id %" PRId64 " is not a JSON array",
                 *after);
        goto out;
    }
    rows = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, page)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "task"));
        const cJSON *done = cJSON_GetObjectItemCaseSensitive(t, "done");
        double v = cJSON_IsNumber(id) ? id->valuedouble : 0;
        if (!task || !cJSON_IsBool(done) || !(v > (double)*after && v <= EXACT_DOUBLE_MAX) ||
            v != (double)(int64_t)v) {
            snprintf(err, errlen,
                     "the server's task list after id %" PRId64 " holds a malformed task or "
                     "ids out of order (is this a taskd?)",
                     *after);
            rows = -1;
            goto out;
        }
        fn((int64_t)v, task, strlen(task), cJSON_IsTrue(done), ctx);
        *after = (int64_t)v;
        rows++;
    }
out:
    cJSON_Delete(page);
    return rows;
}

static int read_pages(const char *base_url, const struct audit_options *opt, audit_row_fn fn,
                      void *ctx, uint64_t *pages, char *err, size_t errlen)
{
    int rc = -1;
    struct buf url, body;
    buf_init(&url, 4096);
    buf_init(&body, PAGE_BODY_MAX);
    size_t base_len = strlen(base_url);
    while (base_len > 0 && base_url[base_len - 1] == '/')
        base_len--;
    int64_t after = 0;
    for (;;) {
        buf_reset(&url);
        if (buf_printf(&url, "%.*s/tasks?limit=%d&after=%" PRId64, (int)base_len, base_url,
                       AUDIT_PAGE_LIMIT, after) < 0) {
            snprintf(err, errlen, "the URL %s is too long", base_url);
            goto out;
        }
        if (fetch_page(url.data, opt, &body, err, errlen) < 0)
            goto out;
        (*pages)++;
        long rows = take_page(&body, &after, fn, ctx, err, errlen);
        if (rows < 0)
            goto out;
        /* A short page is the last; taskd's Link header says the same, but the row count
         * does not depend on a header. */
        if (rows < AUDIT_PAGE_LIMIT)
            break;
    }
    rc = 0;
out:
    buf_free(&url);
    buf_free(&body);
    return rc;
}

int audit_server_read(const char *base_url, const struct audit_options *opt, audit_row_fn fn,
                      void *ctx, uint64_t *pages, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot start libcurl for the audit");
        return -1;
    }
    int rc = read_pages(base_url, opt, fn, ctx, pages, err, errlen);
    curl_global_cleanup();
    return rc;
}
