/*
 * webhook: the receiver (see webhook.h) on libmicrohttpd's internal polling thread. A request
 * is answered on a later call of the access handler than its first (the two-call pattern that
 * keeps keep-alive working), after its body was collected into a capped buffer.
 */
#include "webhook.h"

#include <cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "clock.h"
#include "listen_addr.h"

#define BODY_LIMIT (1024 * 1024)
#define MAX_ALERTS_PER_POST 1024

struct webhook {
    struct MHD_Daemon *daemon;
    unsigned port;
    pthread_mutex_t lock;
    struct webhook_event *events; /* WEBHOOK_MAX_EVENTS */
    size_t count;
    uint64_t posts, dropped;
};

struct request {
    struct buf body;
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

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *res =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!res)
        return MHD_NO;
    MHD_add_response_header(res, "Content-Type", "text/plain; charset=utf-8");
    if (status == 405)
        MHD_add_response_header(res, "Allow", "POST");
    enum MHD_Result r = MHD_queue_response(conn, status, res);
    MHD_destroy_response(res);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)url, (void)version;
    struct webhook *w = cls;
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        buf_init(&req->body, BODY_LIMIT);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        buf_append(&req->body, upload_data, *upload_data_size); /* overflow is sticky */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return reply(conn, 405, "only POST is accepted: this is an Alertmanager webhook\n");
    uint64_t now = clock_realtime_ns();
    pthread_mutex_lock(&w->lock);
    w->posts++;
    pthread_mutex_unlock(&w->lock);
    if (req->body.overflowed)
        return reply(conn, 413, "the body is over 1 MiB\n");
    static struct webhook_event parsed[MAX_ALERTS_PER_POST]; /* one MHD thread: no race */
    char err[160];
    int n = webhook_parse(req->body.data ? req->body.data : "", req->body.len, now, parsed,
                          MAX_ALERTS_PER_POST, err, sizeof(err));
    if (n < 0) {
        char text[200];
        snprintf(text, sizeof(text), "%s\n", err);
        return reply(conn, 400, text);
    }
    record(w, parsed, (size_t)n < MAX_ALERTS_PER_POST ? (size_t)n : MAX_ALERTS_PER_POST);
    return reply(conn, 200, "ok\n");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    struct request *req = *con_cls;
    if (req) {
        buf_free(&req->body);
        free(req);
        *con_cls = NULL;
    }
}

int webhook_start(struct webhook **out, const char *addr, char *err, size_t errlen)
{
    *out = NULL;
    struct listen_addr la;
    char why[160];
    if (listen_addr_parse(addr, &la, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "--webhook-listen '%s': %s", addr, why);
        return -1;
    }
    struct webhook *w = calloc(1, sizeof(*w));
    if (!w || !(w->events = calloc(WEBHOOK_MAX_EVENTS, sizeof(*w->events)))) {
        free(w);
        snprintf(err, errlen, "out of memory for the webhook receiver");
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (la.addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    w->daemon =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&la.addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
                         MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!w->daemon) {
        snprintf(err, errlen,
                 "cannot listen for webhooks on %s (in use, or not a local "
                 "address?); choose another --webhook-listen",
                 addr);
        webhook_stop(w);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? info->port : 0;
    *out = w;
    return 0;
}

unsigned webhook_port(const struct webhook *w)
{
    return w->port;
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
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    pthread_mutex_destroy(&w->lock);
    free(w->events);
    free(w);
}
