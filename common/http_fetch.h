/*
 * http_fetch: one blocking HTTP request with a deadline, for the tools' readers — chaos's probes
 * and alert polls, and loadgen's audit paging through taskd's rows — so neither drives libcurl
 * itself.
 *
 * Each call uses a fresh libcurl easy handle (a reading never rides on a connection to a server
 * that has since restarted), ignores proxy settings in the environment (the targets are local),
 * and sets CURLOPT_NOSIGNAL so it is safe beside other threads. The caller runs
 * curl_global_init() once before the first call.
 *
 * A session is for a reader that makes many requests to one service in a row (the audit paging
 * through a listing, or reading back thousands of resources): it keeps one handle, so its
 * connection is reused, lets its owner set transport options on it (TLS, HTTP version, a Unix
 * socket), and can capture one response header (a Link header naming the next page).
 */
#ifndef TASKBENCH_HTTP_FETCH_H
#define TASKBENCH_HTTP_FETCH_H

#include <stddef.h>

#include "buf.h"

/* What a call that got no HTTP answer returns (an answer returns its status, 100-599). */
enum http_fetch_failure {
    HTTP_FETCH_NO_ANSWER = -1, /* refused, reset or timed out: the server may come back */
    HTTP_FETCH_TOO_LARGE = -2, /* the answer's body is longer than `body`'s limit */
    HTTP_FETCH_FAILED = -3,    /* anything else: a malformed URL, an unknown host, no memory */
};

/* GETs `url`, waiting at most timeout_ms (> 0) for the whole exchange. The answer's body goes
 * into `body` (reset first; NULL discards it). Returns the HTTP status whatever it is, or an
 * http_fetch_failure with one sentence in err ("cannot read URL: why"; err may be NULL). */
int http_fetch_get(const char *url, long timeout_ms, struct buf *body, char *err, size_t errlen);

/* POSTs `json` (NUL-terminated) as application/json. Same contract as http_fetch_get; the
 * sentence reads "cannot post to URL: why". */
int http_fetch_post_json(const char *url, const char *json, long timeout_ms, struct buf *body,
                         char *err, size_t errlen);

struct http_fetch_session;

/* A session whose handle `configure` (may be NULL) sets options on once, before its first
 * request; it receives the libcurl easy handle (a CURL *) and ctx. NULL when out of memory. */
struct http_fetch_session *http_fetch_session_new(void (*configure)(void *curl, void *ctx),
                                                  void *ctx);

/* Frees the session and closes its connection. Accepts NULL. */
void http_fetch_session_free(struct http_fetch_session *s);

/* GETs `url` on the session, with http_fetch_get's contract. When `header` names a response
 * header ("Link"), its values (several joined with ", ") go into header_value (reset first; left
 * empty when the answer has none); both may be NULL. */
int http_fetch_session_get(struct http_fetch_session *s, const char *url, long timeout_ms,
                           struct buf *body, const char *header, struct buf *header_value,
                           char *err, size_t errlen);

#endif
