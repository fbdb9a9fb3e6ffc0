/*
 * server: the libmicrohttpd adapter. See server.h for the contract.
 */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "listen_addr.h"
#include "log.h"
#include "sched_batch.h"

#define REQUEST_ID_MAX 64
#define LOGGED_PATH_MAX 256
#define STATUS_CLIENT_CLOSED 499 /* nginx's code for a client that left before the response */
/* Per-connection pool for headers and I/O buffers; libmicrohttpd 0.9.75 zeroes it on every
 * keep-alive request, so its 32 KiB default costs more than the whole request. 16 KiB still
 * takes 8 KiB of headers (more gets 431); bodies stream through it in chunks. */
#define CONNECTION_MEMORY (16 * 1024)
/* A chunked body over the limit is read and dropped up to this much, then the connection is
 * closed without an answer. */
#define DISCARD_LIMIT (1024 * 1024)
/* libmicrohttpd's own hard limit sits above --max-connections, so on_accept can refuse the
 * connections in between politely instead of leaving them in the accept queue. */
#define CONNECTION_HEADROOM 64

struct server {
    struct MHD_Daemon *daemon;
    const struct api *api;
    unsigned max_connections;
    _Atomic int connections;
    _Atomic int in_flight;
    _Atomic int draining; /* SIGTERM: new requests get 503 and every response closes */
    _Atomic uint64_t next_request_id;
};

/* One request. It lives in its connection (see connection_open) and is reset for each request
 * on a kept-alive connection, so a request allocates nothing of its own. */
struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    struct store_write *write; /* POST, PUT, DELETE: the write handed to the store */
    int write_submitted;       /* the connection is suspended until the write is done */
    _Atomic int write_done;    /* set by the store's writer thread before it resumes us */
    uint64_t start_ns;
    int begun;        /* the access handler has seen this request */
    int nul_in_path;  /* the raw path holds %00, which decoding would cut at */
    size_t discarded; /* body bytes past the limit, read and thrown away */
    enum http_method method;
    struct route_match match;
    unsigned status; /* 0 until a response is queued */
    size_t bytes;
    int too_large;
    struct buf body;
    const char *error_code;
    int has_db_error;
    /* Not reset between requests: the texts are written before they are read, `db` is read
     * only with has_db_error, and the space for a write is kept for the connection's next. */
    char request_id[REQUEST_ID_MAX + 1];
    char raw_method[16];
    char path[LOGGED_PATH_MAX + 1];
    struct store_error db;
    struct store_write *write_space;
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

/* libmicrohttpd's URI callback: the first sight of a request, with its raw (undecoded) URI.
 * What it returns becomes the request's context for every later callback: the request held by
 * the connection (NULL, and the connection closes, when it could not be allocated). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct server *srv = cls;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct request *r = info ? info->socket_context : NULL;
    if (!r)
        return NULL;
    memset(r, 0, offsetof(struct request, request_id));
    r->start_ns = clock_monotonic_ns();
    r->srv = srv;
    r->conn = c;
    size_t path_len = strcspn(uri, "?");
    for (size_t i = 0; i + 2 < path_len; i++) {
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            r->nul_in_path = 1;
    }
    copy_truncated(r->path, sizeof(r->path), uri); /* until on_request has the decoded one */
    buf_init(&r->body, API_BODY_LIMIT);
    atomic_fetch_add(&srv->in_flight, 1);
    metrics_in_flight_add(1);
    return r;
}

/* 16 lowercase hex digits, without printf (once per request). */
static void format_request_id(char out[REQUEST_ID_MAX + 1], uint64_t id)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, id >>= 4)
        out[i] = hex[id & 0xF];
    out[16] = '\0';
}

/* The access handler's first call: the headers are in. */
static void request_begin(struct request *r, struct MHD_Connection *c, const char *url,
                          const char *method)
{
    r->begun = 1;
    r->method = method_parse(method);
    copy_truncated(r->raw_method, sizeof(r->raw_method), method);
    copy_truncated(r->path, sizeof(r->path), url);
    route_match(url, &r->match);
    if (r->nul_in_path)
        r->match.route = ROUTE_OTHER;
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (id && request_id_valid(id))
        memcpy(r->request_id, id, strlen(id) + 1);
    else
        format_request_id(r->request_id, atomic_fetch_add_explicit(&r->srv->next_request_id, 1,
                                                                   memory_order_relaxed));
}

/* A connection's request, allocated when the connection opens and freed when it closes. */
static struct request *connection_request_new(void)
{
    return calloc(1, sizeof(struct request));
}

static void connection_request_free(struct request *r)
{
    if (!r)
        return;
    buf_free(&r->body);
    free(r->write_space);
    free(r);
}

static int add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    return value && value[0] ? MHD_add_response_header(resp, name, value) == MHD_YES : 1;
}

/* Queues the api response on the connection and remembers what the log line needs. */
static enum MHD_Result queue(struct MHD_Connection *c, struct request *r, struct api_response *res)
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
             add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry) &&
             add_header(resp, MHD_HTTP_HEADER_CONNECTION,
                        atomic_load(&r->srv->draining) ? "close" : NULL);
    enum MHD_Result rc = ok ? MHD_queue_response(c, res->status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    if (rc == MHD_YES) {
        r->status = res->status;
        r->bytes = r->method == METHOD_HEAD ? 0 : len; /* libmicrohttpd sends no body for HEAD */
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
    res.retry_after = status == 503 ? 1 : 0;
    enum MHD_Result rc = queue(c, r, &res);
    api_response_free(&res);
    return rc;
}

static int declared_too_large(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || n > API_BODY_LIMIT;
}

/* Called on the store's writer thread once the write committed or failed. */
static void on_write_done(struct store_write *w, void *ctx)
{
    (void)w;
    struct request *r = ctx;
    atomic_store_explicit(&r->write_done, 1, memory_order_release);
    MHD_resume_connection(r->conn); /* libmicrohttpd calls on_request again: finish_write() */
}

static enum MHD_Result finish_write(struct MHD_Connection *c, struct request *r)
{
    struct api_response res;
    api_response_init(&res);
    api_finish_write(r->write, r->request_id, &res);
    enum MHD_Result rc = queue(c, r, &res);
    api_response_free(&res);
    return rc;
}

static int is_write_method(enum http_method m)
{
    return m == METHOD_POST || m == METHOD_PUT || m == METHOD_DELETE;
}

static enum MHD_Result dispatch(struct server *srv, struct MHD_Connection *c, struct request *r)
{
    /* Each lookup walks the request's headers or arguments: only the ones the route reads. */
    int writes = is_write_method(r->method);
    int lists = r->match.route == ROUTE_TASKS && !writes;
    struct api_request req = {
        .method = r->method,
        .match = r->match,
        .path = r->path,
        .content_type =
            writes ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)
                   : NULL,
        .query_limit =
            lists ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit") : NULL,
        .query_after =
            lists ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after") : NULL,
        .body = r->body.data ? r->body.data : "",
        .body_len = r->body.len,
        .body_too_large = r->too_large,
        .request_id = r->request_id,
    };
    if (writes) {
        if (!r->write_space)
            r->write_space = malloc(sizeof(*r->write_space));
        if (!r->write_space)
            return MHD_NO;
        r->write = r->write_space;
    }
    struct api_response res;
    api_response_init(&res);
    enum MHD_Result rc = MHD_YES;
    if (api_handle(srv->api, &req, &res, r->write)) {
        /* Suspend before submitting: the writer may finish and resume us at once. */
        r->write->done = on_write_done;
        r->write->ctx = r;
        r->write_submitted = 1;
        MHD_suspend_connection(c);
        store_write_submit(srv->api->store, r->write);
    } else {
        rc = queue(c, r, &res);
    }
    api_response_free(&res);
    buf_free(&r->body);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct request *r = *con_cls;
    if (!r)
        return MHD_NO; /* out of memory in on_uri */
    if (!r->begun) {
        /* First call: headers only. Answering now would cost keep-alive, except for a body
         * declared too large, which must not be read at all (the connection then closes). */
        request_begin(r, c, url, method);
        /* Checked after on_uri counted the request in flight, so server_drain() either waits
         * for it or it sees `draining` and never reaches the store, which may be closed. */
        if (atomic_load(&srv->draining)) {
            return respond_error(c, r, 503, "shutting_down",
                                 "taskd is shutting down; retry on another instance");
        }
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
        if (!r->too_large && buf_append(&r->body, upload_data, n) == 0)
            return MHD_YES;
        /* A chunked body past the limit: libmicrohttpd cannot answer before the body ends, so
         * read and drop it (never store it), up to a bound past which the connection closes. */
        r->too_large = 1;
        buf_free(&r->body);
        r->discarded += n;
        return r->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    if (r->status)
        return MHD_YES;
    if (r->write_submitted) {
        if (!atomic_load_explicit(&r->write_done, memory_order_acquire))
            return MHD_YES;
        return finish_write(c, r);
    }
    if (r->too_large)
        return respond_error(c, r, 413, "body_too_large",
                             "the request body is over the 64 KiB limit");
    if (r->nul_in_path)
        return respond_error(c, r, 400, "invalid_path",
                             "the path contains an encoded NUL (%00), which no route has");
    return dispatch(srv, c, r);
}

/* Refuses a new connection (closed at once) when --max-connections are open: a flood gets a
 * quick answer rather than a wait in the kernel's accept queue. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    struct server *srv = cls;
    if (atomic_load(&srv->connections) < (int)srv->max_connections)
        return MHD_YES;
    metrics_connection_refused();
    return MHD_NO;
}

/* Counts connections and gives each one the request it reuses from one request to the next. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    struct server *srv = cls;
    static _Thread_local int tuned;
    if (!tuned) { /* runs on each libmicrohttpd thread: the only hook we have into them */
        sched_batch_self();
        tuned = 1;
    }
    int delta = 1;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = connection_request_new(); /* NULL: its requests are refused */
    } else {
        connection_request_free(*socket_context);
        *socket_context = NULL;
        delta = -1;
    }
    atomic_fetch_add(&srv->connections, delta);
    metrics_connections_add(delta);
}

static void log_request(const struct request *r, uint64_t duration_ns)
{
    enum log_level level = r->status >= 500 ? LOG_ERROR : r->status >= 400 ? LOG_WARN : LOG_INFO;
    struct log_entry e;
    if (log_begin(&e, level, "request") < 0)
        return;
    struct json_writer *w = &e.w;
    jw_member_string(w, "request_id", r->request_id);
    jw_member_string(w, "method", r->raw_method);
    jw_member_string(w, "route", route_label(r->match.route));
    jw_member_string(w, "path", r->path);
    jw_member_uint(w, "status", r->status);
    jw_key(w, "duration_ms");
    jw_fixed(w, (double)duration_ns / 1e6, 3);
    jw_member_uint(w, "bytes", r->bytes);
    if (r->error_code) {
        jw_member_string(w, "error_code", r->error_code);
    }
    if (r->has_db_error) {
        jw_member_string(w, "db_state", db_file_state_name(r->db.file_state));
        if (r->db.sqlite_code) {
            jw_member_int(w, "sqlite_code", r->db.sqlite_code);
            jw_member_string(w, "sqlite_msg", r->db.message);
        } else {
            jw_key(w, "reason"); /* refused before SQLite was called */
            jw_string(w, r->db.message);
        }
        jw_member_int(w, "errno", r->db.sys_errno);
    }
    log_end(&e);
}

/* A request libmicrohttpd ended before our handler saw it: headers it could not parse (it
 * answers 400 or 431 itself) or a client that left mid-headers. Not counted in
 * http_requests_total, whose code label would have to be guessed; logged so it is not silent. */
static void log_unparsed(const struct request *r, enum MHD_RequestTerminationCode toe)
{
    struct log_entry e;
    if (log_begin(&e, LOG_WARN, "request not parsed") < 0)
        return;
    jw_member_string(&e.w, "path", r->path);
    jw_member_string(&e.w, "reason",
                     toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "the client closed the connection"
                     : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                         ? "idle timeout"
                         : "malformed request line or headers");
    log_end(&e);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    struct server *srv = cls;
    struct request *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    uint64_t duration = clock_monotonic_ns() - r->start_ns;
    if (r->begun) {
        if (!r->status)
            r->status = STATUS_CLIENT_CLOSED;
        metrics_request_done(r->method, r->match.route, r->status, duration);
        log_request(r, duration);
    } else {
        log_unparsed(r, toe);
    }
    buf_free(&r->body);
    metrics_in_flight_add(-1);
    atomic_fetch_sub(&srv->in_flight, 1);
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
        jw_member_string(&e.w, "detail", msg);
        log_end(&e);
    }
}

int server_start(struct server **out, const struct server_config *cfg, const struct api *api,
                 char *error, size_t error_len)
{
    *out = NULL;
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
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (cfg->addr->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->max_connections = cfg->max_connections;
    srv->daemon = MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->addr->addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections + CONNECTION_HEADROOM, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
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

/* Stops accepting: connects are refused from here on. Not with MHD_quiesce_daemon(): in
 * libmicrohttpd 0.9.75 with epoll and a thread pool it races with the worker threads, which
 * take the listening socket out of their epoll sets themselves once they see the daemon
 * quiesced; when a worker does so first, quiesce's own removal fails with ENOENT, and that is
 * an MHD_PANIC: taskd aborted on SIGTERM ("daemon.c:5531: Failed to remove listen FD from epoll
 * set"), rarely, when preempted at that point under load. Instead the listening socket is
 * replaced under its descriptor number by a socket that never listens: dup2() closes it (the
 * kernel drops it from every epoll set, so no worker hears of it again, and connects are
 * refused), and whatever libmicrohttpd still does with the number works on the stand-in: an
 * accept already under way fails with EINVAL, which it expects during shutdown, and
 * MHD_stop_daemon() closes it. If that cannot be done, taskd keeps listening and answers new
 * requests 503 until it exits. */
static void stop_listening(struct server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info || info->listen_fd == MHD_INVALID_SOCKET)
        return;
    int stand_in = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (stand_in >= 0 && dup2(stand_in, info->listen_fd) >= 0) {
        close(stand_in);
        return;
    }
    int err = errno;
    struct log_entry e;
    if (log_begin(&e, LOG_WARN,
                  "cannot stop listening while draining; new connections are "
                  "accepted and answered 503 until taskd exits") == 0) {
        jw_member_int(&e.w, "errno", err);
        log_end(&e);
    }
    if (stand_in >= 0)
        close(stand_in);
}

int server_drain(struct server *srv, uint64_t grace_ns)
{
    atomic_store(&srv->draining, 1);
    stop_listening(srv);
    uint64_t deadline = clock_monotonic_ns() + grace_ns;
    while (atomic_load(&srv->in_flight) > 0 && clock_monotonic_ns() < deadline) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return atomic_load(&srv->in_flight);
}

void server_stop(struct server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
