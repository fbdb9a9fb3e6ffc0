/*
 * server: the libmicrohttpd adapter. See server.h for the contract.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "listen_addr.h"
#include "log.h"

#define REQUEST_ID_MAX 64
#define LOGGED_PATH_MAX 256
#define STATUS_CLIENT_CLOSED 499 /* nginx's code for a client that left before the response */
/* Per-connection pool for headers and I/O buffers; libmicrohttpd 0.9.75 zeroes it on every
 * keep-alive request, so its 32 KiB default costs more than the whole request. 16 KiB still
 * takes 8 KiB of headers (more gets 431); bodies stream through it in chunks. */
#define CONNECTION_MEMORY (16 * 1024)

struct server {
    struct MHD_Daemon *daemon;
    const struct api *api;
    _Atomic int in_flight;
    _Atomic uint64_t next_request_id;
};

struct request {
    uint64_t start_ns;
    enum http_method method;
    struct route_match match;
    unsigned status; /* 0 until a response is queued */
    size_t bytes;
    int too_large;
    struct buf body;
    char request_id[REQUEST_ID_MAX + 1];
    char raw_method[16];
    char path[LOGGED_PATH_MAX + 1];
    const char *error_code;
    int has_db_error;
    struct store_error db;
};

/* X-Request-Id is echoed only when it is short and made of safe characters. */
static int request_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* Copies at most size-1 bytes of src and terminates; longer text is cut (it is only logged). */
static void copy_truncated(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static struct request *request_new(struct server *srv, struct MHD_Connection *c, const char *url,
                                   const char *method)
{
    struct request *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->start_ns = clock_monotonic_ns();
    r->method = method_parse(method);
    copy_truncated(r->raw_method, sizeof(r->raw_method), method);
    copy_truncated(r->path, sizeof(r->path), url);
    route_match(url, &r->match);
    buf_init(&r->body, API_BODY_LIMIT);
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (id && request_id_valid(id))
        memcpy(r->request_id, id, strlen(id) + 1);
    else
        snprintf(r->request_id, sizeof(r->request_id), "%016" PRIx64,
                 atomic_fetch_add_explicit(&srv->next_request_id, 1, memory_order_relaxed));
    atomic_fetch_add(&srv->in_flight, 1);
    metrics_in_flight_add(1);
    return r;
}

static void request_free(struct request *r)
{
    buf_free(&r->body);
    free(r);
}

static int add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    return value && value[0] ? MHD_add_response_header(resp, name, value) == MHD_YES : 1;
}

/* Queues the api response on the connection and remembers what the log line needs. */
static enum MHD_Result queue(struct MHD_Connection *c, struct request *r,
                             struct api_response *res)
{
    size_t len = 0;
    char *body = res->status == 204 ? NULL : buf_detach(&res->body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    char retry[16] = "";
    if (res->retry_after > 0)
        snprintf(retry, sizeof(retry), "%d", res->retry_after);
    int ok = (len == 0 || add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type)) &&
             add_header(resp, "X-Request-Id", r->request_id) &&
             add_header(resp, MHD_HTTP_HEADER_LOCATION, res->location) &&
             add_header(resp, MHD_HTTP_HEADER_LINK, res->link) &&
             add_header(resp, MHD_HTTP_HEADER_ALLOW, res->allow) &&
             add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    enum MHD_Result rc = ok ? MHD_queue_response(c, res->status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    if (rc == MHD_YES) {
        r->status = res->status;
        r->bytes = len;
        r->error_code = res->error_code;
        r->has_db_error = res->has_db_error;
        r->db = res->db;
    }
    return rc;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, struct request *r, unsigned status,
                                     const char *code, const char *message)
{
    struct api_response res;
    api_response_init(&res);
    api_error(&res, status, code, message, r->request_id);
    enum MHD_Result rc = queue(c, r, &res);
    api_response_free(&res);
    return rc;
}

static int declared_too_large(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || n > API_BODY_LIMIT;
}

static enum MHD_Result dispatch(struct server *srv, struct MHD_Connection *c, struct request *r)
{
    struct api_request req = {
        .method = r->method,
        .match = r->match,
        .path = r->path,
        .content_type =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .query_limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"),
        .query_after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after"),
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .body_too_large = r->too_large,
        .request_id = r->request_id,
    };
    struct api_response res;
    api_response_init(&res);
    api_handle(srv->api, &req, &res);
    enum MHD_Result rc = queue(c, r, &res);
    api_response_free(&res);
    buf_free(&r->body);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct request *r = *con_cls;
    if (!r) {
        /* First call: headers only. Answering now would cost keep-alive, except for a body
         * declared too large, which must not be read at all (the connection then closes). */
        r = request_new(srv, c, url, method);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        if (declared_too_large(c)) {
            r->too_large = 1;
            return respond_error(c, r, 413, "body_too_large",
                                 "the request body is over the 64 KiB limit");
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->status)
            return MHD_YES; /* already answered (413): discard */
        if (buf_append(&r->body, upload_data, n) < 0) {
            r->too_large = 1;
            buf_free(&r->body);
            return respond_error(c, r, 413, "body_too_large",
                                 "the request body is over the 64 KiB limit");
        }
        return MHD_YES;
    }
    if (r->status)
        return MHD_YES;
    return dispatch(srv, c, r);
}

static void log_request(const struct request *r, uint64_t duration_ns)
{
    enum log_level level = r->status >= 500 ? LOG_ERROR : r->status >= 400 ? LOG_WARN : LOG_INFO;
    struct log_entry e;
    if (log_begin(&e, level, "request") < 0)
        return;
    struct json_writer *w = &e.w;
    jw_key(w, "request_id");
    jw_string(w, r->request_id);
    jw_key(w, "method");
    jw_string(w, r->raw_method);
    jw_key(w, "route");
    jw_string(w, route_label(r->match.route));
    jw_key(w, "path");
    jw_string(w, r->path);
    jw_key(w, "status");
    jw_uint(w, r->status);
    jw_key(w, "duration_ms");
    jw_fixed(w, (double)duration_ns / 1e6, 3);
    jw_key(w, "bytes");
    jw_uint(w, r->bytes);
    if (r->error_code) {
        jw_key(w, "error_code");
        jw_string(w, r->error_code);
    }
    if (r->has_db_error) {
        jw_key(w, "db_state");
        jw_string(w, db_file_state_name(r->db.file_state));
        if (r->db.sqlite_code) {
            jw_key(w, "sqlite_code");
            jw_int(w, r->db.sqlite_code);
            jw_key(w, "sqlite_msg");
            jw_string(w, r->db.message);
        } else {
            jw_key(w, "reason"); /* refused before SQLite was called */
            jw_string(w, r->db.message);
        }
        jw_key(w, "errno");
        jw_int(w, r->db.sys_errno);
    }
    log_end(&e);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct server *srv = cls;
    struct request *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    if (!r->status)
        r->status = STATUS_CLIENT_CLOSED;
    uint64_t duration = clock_monotonic_ns() - r->start_ns;
    metrics_request_done(r->method, r->match.route, r->status, duration);
    log_request(r, duration);
    metrics_in_flight_add(-1);
    atomic_fetch_sub(&srv->in_flight, 1);
    request_free(r);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    struct log_entry e;
    if (log_begin(&e, LOG_WARN, "libmicrohttpd") == 0) {
        jw_key(&e.w, "detail");
        jw_string(&e.w, msg);
        log_end(&e);
    }
}

int server_start(struct server **out, const struct server_config *cfg, const struct api *api,
                 char *error, size_t error_len)
{
    struct listen_addr addr;
    *out = NULL;
    if (listen_addr_parse(cfg->listen, &addr, error, error_len) < 0)
        return -1;
    struct server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(error, error_len, "out of memory");
        return -1;
    }
    srv->api = api;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = clock_realtime_ns();
    atomic_init(&srv->next_request_id, seed);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (addr.addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr.addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(error, error_len, "cannot listen on %s: %s (is another process using the port?)",
                 cfg->listen, strerror(errno));
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

uint16_t server_port(const struct server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int server_stop(struct server *srv, uint64_t grace_ns)
{
    if (!srv)
        return 0;
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    uint64_t deadline = clock_monotonic_ns() + grace_ns;
    while (atomic_load(&srv->in_flight) > 0 && clock_monotonic_ns() < deadline) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    int left = atomic_load(&srv->in_flight);
    MHD_stop_daemon(srv->daemon);
    free(srv);
    return left;
}
