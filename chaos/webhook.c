/*
 * webhook: the receiver (see webhook.h) as a mini_http handler. mini_http collects each body
 * (refusing more than 1 MiB with 413 before the handler runs) and calls the handler on its one
 * server thread; the events are shared with the experiment's thread under a mutex.
 */
#include "webhook.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "mini_http.h"

#define MAX_ALERTS_PER_POST 1024

struct webhook {
    struct mini_http *server;
    pthread_mutex_t lock;
    struct webhook_event *events; /* WEBHOOK_MAX_EVENTS */
    size_t count;
    uint64_t posts, dropped;
    struct webhook_event *parsed; /* MAX_ALERTS_PER_POST; used by the server thread only */
};

static void copy_label(const cJSON *obj, const char *key, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    snprintf(out, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int webhook_parse(const char *body, size_t len, uint64_t unix_ns, struct webhook_event *out,
                  size_t max, char *err, size_t errlen)
{
    int rc = -1;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(root, "alerts");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(alerts)) {
        snprintf(err, errlen,
                 "the body is not an Alertmanager webhook (a JSON object with "
                 "an alerts array)");
        goto out;
    }
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "4") != 0) {
        snprintf(err, errlen, "the webhook payload version is not \"4\"");
        goto out;
    }
    char receiver[64];
    copy_label(root, "receiver", receiver, sizeof(receiver));
    int n = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        if ((size_t)n < max) {
            struct webhook_event *e = &out[n];
            e->unix_ns = unix_ns;
            copy_label(a, "status", e->status, sizeof(e->status));
            copy_label(cJSON_GetObjectItemCaseSensitive(a, "labels"), "alertname", e->alertname,
                       sizeof(e->alertname));
            snprintf(e->receiver, sizeof(e->receiver), "%s", receiver);
        }
        n++;
    }
    rc = n;
out:
    cJSON_Delete(root);
    return rc;
}

static void record(struct webhook *w, const struct webhook_event *events, size_t n)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < n; i++) {
        if (w->count < WEBHOOK_MAX_EVENTS)
            w->events[w->count++] = events[i];
        else
            w->dropped++;
    }
    pthread_mutex_unlock(&w->lock);
}

static int on_request(void *ctx, const struct mini_http_request *req, struct buf *out,
                      const char **content_type)
{
    (void)content_type; /* text/plain */
    struct webhook *w = ctx;
    if (strcmp(req->method, "POST") != 0) {
        buf_puts(out, "only POST is accepted: this is an Alertmanager webhook\n");
        return 405;
    }
    uint64_t now = clock_realtime_ns();
    pthread_mutex_lock(&w->lock);
    w->posts++;
    pthread_mutex_unlock(&w->lock);
    char err[160];
    int n = webhook_parse(req->body, req->body_len, now, w->parsed, MAX_ALERTS_PER_POST, err,
                          sizeof(err));
    if (n < 0) {
        buf_printf(out, "%s\n", err);
        return 400;
    }
    record(w, w->parsed, (size_t)n < MAX_ALERTS_PER_POST ? (size_t)n : MAX_ALERTS_PER_POST);
    buf_puts(out, "ok\n");
    return 200;
}

int webhook_start(struct webhook **out, const struct listen_addr *addr, char *err, size_t errlen)
{
    *out = NULL;
    struct webhook *w = calloc(1, sizeof(*w));
    if (w) {
        pthread_mutex_init(&w->lock, NULL);
        w->events = calloc(WEBHOOK_MAX_EVENTS, sizeof(*w->events));
        w->parsed = calloc(MAX_ALERTS_PER_POST, sizeof(*w->parsed));
    }
    if (!w || !w->events || !w->parsed) {
        webhook_stop(w);
        snprintf(err, errlen, "out of memory for the webhook receiver");
        return -1;
    }
    w->server = mini_http_start(addr, on_request, w, err, errlen);
    if (!w->server) {
        webhook_stop(w);
        return -1;
    }
    *out = w;
    return 0;
}

unsigned webhook_port(const struct webhook *w)
{
    return mini_http_port(w->server);
}

size_t webhook_events(struct webhook *w, size_t from, struct webhook_event *out, size_t max)
{
    pthread_mutex_lock(&w->lock);
    size_t n = 0;
    for (size_t i = from; i < w->count && n < max; i++)
        out[n++] = w->events[i];
    pthread_mutex_unlock(&w->lock);
    return n;
}

uint64_t webhook_posts(struct webhook *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->posts;
    pthread_mutex_unlock(&w->lock);
    return n;
}

uint64_t webhook_dropped(struct webhook *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->dropped;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void webhook_stop(struct webhook *w)
{
    if (!w)
        return;
    mini_http_stop(w->server); /* no handler runs after this */
    pthread_mutex_destroy(&w->lock);
    free(w->events);
    free(w->parsed);
    free(w);
}
