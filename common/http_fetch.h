/*
 * http_fetch: one blocking HTTP request with a deadline, for the tools' readers — chaos's probes
 * and alert polls, and loadgen's audit paging through taskd's rows — so neither drives libcurl
 * itself.
 *
 * Each call uses a fresh libcurl easy handle (a reading never rides on a connection to a server
 * that has since restarted), ignores proxy settings in the environment (the targets are local),
 * and sets CURLOPT_NOSIGNAL so it is safe beside other threads. The caller runs
 * curl_global_init() once before the first call.
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

#endif
