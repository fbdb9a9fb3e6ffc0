/*
 * audit_server: the service side of the audit. Reads every page of a listing, or one resource
 * at a time at its item URL, as the API model says (resource_api.h), over one reused connection
 * with the run's transport options (TLS, HTTP/2, a Unix socket…). Only one page is in memory at a
 * time. A request is retried while the service answers 503 or cannot be reached, e.g. while it
 * recovers from a fault. Contract in audit_internal.h.
 */
#include "audit_internal.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "http_fetch.h"
#include "transport.h"

#define PAGE_BODY_MAX (64u << 20)
#define LINK_MAX (64u << 10)
#define RETRY_PAUSE_MS 100
#define PAGES_MAX 1000000

struct audit_server {
    const struct audit_options *opt;
    char *base_url;
    struct http_fetch_session *session;
    struct buf url, body, link;
    int curl_started;
};

static void pause_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void configure(void *curl, void *ctx)
{
    const struct audit_options *opt = ctx;
    transport_apply(opt->transport, curl, opt->timeout_ns);
}

struct audit_server *audit_server_open(const char *base_url, const struct audit_options *opt,
                                       char *err, size_t errlen)
{
    struct audit_server *s = calloc(1, sizeof *s);
    if (!s || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot start libcurl for the audit");
        free(s);
        return NULL;
    }
    s->curl_started = 1;
    s->opt = opt;
    buf_init(&s->url, RESOURCE_API_URL_MAX * 4);
    buf_init(&s->body, PAGE_BODY_MAX);
    buf_init(&s->link, LINK_MAX);
    s->base_url = strdup(base_url);
    s->session = http_fetch_session_new(configure, (void *)opt);
    if (!s->base_url || !s->session) {
        snprintf(err, errlen, "cannot start the audit's reader: out of memory");
        audit_server_close(s);
        return NULL;
    }
    return s;
}

void audit_server_close(struct audit_server *s)
{
    if (!s)
        return;
    http_fetch_session_free(s->session);
    buf_free(&s->url);
    buf_free(&s->body);
    buf_free(&s->link);
    free(s->base_url);
    if (s->curl_started)
        curl_global_cleanup();
    free(s);
}

/* GETs `url` into s->body (and its Link header into s->link), retrying 503s and connection
 * failures until retry_for_ns. Returns the final status (200, or 404/410 when `absent_ok`), or
 * -1 with err set. */
static int fetch(struct audit_server *s, const char *url, int absent_ok, char *err, size_t errlen)
{
    const struct audit_options *opt = s->opt;
    uint64_t deadline = clock_monotonic_ns() + opt->retry_for_ns;
    long timeout_ms = (long)(opt->timeout_ns / 1000000u);
    for (;;) {
        int status = http_fetch_session_get(s->session, url, timeout_ms, &s->body, "Link", &s->link,
                                            err, errlen);
        if (status == 200 || (absent_ok && (status == 404 || status == 410)))
            return status;
        int again = status == 503 || status == HTTP_FETCH_NO_ANSWER;
        if (again && clock_monotonic_ns() < deadline) {
            pause_ms(RETRY_PAUSE_MS);
            continue;
        }
        if (status == HTTP_FETCH_TOO_LARGE)
            snprintf(err, errlen, "cannot audit against %s: an answer is larger than %u MiB", url,
                     PAGE_BODY_MAX >> 20);
        else if (status < 0) /* err says "cannot read URL: why" */
            snprintf(err + strlen(err), errlen - strlen(err), " (is the service running there?)");
        else
            snprintf(err, errlen,
                     "cannot read %s: HTTP %d %.200s (the audit needs a ready service)", url,
                     status, s->body.data ? s->body.data : "");
        return -1;
    }
}

int audit_server_list(struct audit_server *s, resource_item_fn fn, void *ctx, uint64_t *pages,
                      char *err, size_t errlen)
{
    const struct resource_api *api = &s->opt->api;
    struct buf next;
    buf_init(&next, RESOURCE_API_URL_MAX * 4);
    int rc = -1;
    buf_reset(&s->url);
    if (resource_api_list_url(api, s->base_url, &s->url) < 0) {
        snprintf(err, errlen, "the listing URL of %s is too long", s->base_url);
        goto out;
    }
    for (;;) {
        if (*pages == PAGES_MAX) {
            snprintf(err, errlen,
                     "the listing of %s has more than %d pages (paging that does not "
                     "end?)",
                     s->base_url, PAGES_MAX);
            goto out;
        }
        if (fetch(s, s->url.data, 0, err, errlen) < 0)
            goto out;
        (*pages)++;
        if (resource_api_read_page(api, s->url.data, s->link.len ? s->link.data : NULL,
                                   s->body.data, s->body.len, fn, ctx, &next, err, errlen) < 0)
            goto out;
        if (!next.len)
            break;
        buf_reset(&s->url);
        buf_append(&s->url, next.data, next.len);
    }
    rc = 0;
out:
    buf_free(&next);
    return rc;
}

int audit_server_item(struct audit_server *s, const char *id, resource_item_fn fn, void *ctx,
                      int *present, char *err, size_t errlen)
{
    buf_reset(&s->url);
    *present = 0;
    if (resource_api_item_url(&s->opt->api, s->base_url, id, &s->url) < 0) {
        snprintf(err, errlen, "the URL of resource %.64s is too long", id);
        return -1;
    }
    int status = fetch(s, s->url.data, 1, err, errlen);
    if (status != 200)
        return status < 0 ? -1 : 0;
    *present = 1;
    return resource_api_read_item(&s->opt->api, id, s->body.data, s->body.len, fn, ctx, err,
                                  errlen) == 0
               ? 0
               : -1;
}
