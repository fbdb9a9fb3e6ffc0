/*
 * http_fetch: see http_fetch.h. The body is collected by a write callback that refuses the first
 * chunk over the buf's limit, which makes libcurl abort the transfer (CURLE_WRITE_ERROR): a
 * too-long answer costs at most its first limit bytes. libcurl's codes are folded into three
 * failures, so callers decide on retrying without knowing libcurl.
 */
#include "http_fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sink {
    struct buf *body; /* NULL: discard */
    int too_large;
    const char *header;       /* a response header to keep, or NULL */
    struct buf *header_value; /* its values, joined with ", " */
};

struct http_fetch_session {
    CURL *h;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    if (s->body && buf_append(s->body, data, size * n) < 0) {
        s->too_large = 1;
        return 0;
    }
    return size * n;
}

/* Keeps the values of sink->header ("Name: value\r\n" lines; a new response resets them, so
 * only the final answer's count after a redirect or a 100 Continue). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n, name = s->header ? strlen(s->header) : 0;
    if (len >= 5 && !strncmp(data, "HTTP/", 5))
        buf_reset(s->header_value);
    if (name && len > name && data[name] == ':' && !strncasecmp(data, s->header, name)) {
        const char *v = data + name + 1, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        if (s->header_value->len)
            buf_append(s->header_value, ", ", 2);
        buf_append(s->header_value, v, (size_t)(end - v));
    }
    return len;
}

/* The failures a server that is restarting or overloaded produces: worth another try. */
static int no_answer(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
}

/* One request on handle h, which the caller set up (URL and method aside) and cleans up. */
static int perform(CURL *h, const char *verb, const char *url, const char *json,
                   struct curl_slist *headers, long timeout_ms, struct sink *sink, char *err,
                   size_t errlen)
{
    if (sink->body)
        buf_reset(sink->body);
    if (sink->header_value)
        buf_reset(sink->header_value);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sink->header ? on_header : NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, sink->header ? sink : NULL);
    if (json) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    if (cc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status >= 100 && status <= 599)
        return (int)status;
    if (sink->too_large) {
        if (err)
            snprintf(err, errlen, "cannot %s %s: the answer is longer than %zu bytes", verb, url,
                     sink->body->limit);
        return HTTP_FETCH_TOO_LARGE;
    }
    if (err)
        snprintf(err, errlen, "cannot %s %s: %s", verb, url,
                 cc == CURLE_OK ? "the answer has no HTTP status" : curl_easy_strerror(cc));
    return no_answer(cc) ? HTTP_FETCH_NO_ANSWER : HTTP_FETCH_FAILED;
}

/* A handle with the options every request here has. */
static CURL *new_handle(void)
{
    CURL *h = curl_easy_init();
    if (h) {
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* "" overrides http_proxy and friends */
    }
    return h;
}

static int fetch(const char *verb, const char *url, const char *json, long timeout_ms,
                 struct buf *body, char *err, size_t errlen)
{
    struct sink sink = {body, 0, NULL, NULL};
    struct curl_slist *headers = NULL;
    int rc = HTTP_FETCH_FAILED;
    CURL *h = new_handle();
    if (json)
        headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!h || (json && !headers)) {
        if (body)
            buf_reset(body);
        if (err)
            snprintf(err, errlen, "cannot %s %s: out of memory", verb, url);
    } else {
        rc = perform(h, verb, url, json, headers, timeout_ms, &sink, err, errlen);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rc;
}

int http_fetch_get(const char *url, long timeout_ms, struct buf *body, char *err, size_t errlen)
{
    return fetch("read", url, NULL, timeout_ms, body, err, errlen);
}

int http_fetch_post_json(const char *url, const char *json, long timeout_ms, struct buf *body,
                         char *err, size_t errlen)
{
    return fetch("post to", url, json, timeout_ms, body, err, errlen);
}

struct http_fetch_session *http_fetch_session_new(void (*configure)(void *curl, void *ctx),
                                                  void *ctx)
{
    struct http_fetch_session *s = calloc(1, sizeof *s);
    if (s && !(s->h = new_handle())) {
        free(s);
        return NULL;
    }
    if (s && configure)
        configure(s->h, ctx);
    return s;
}

void http_fetch_session_free(struct http_fetch_session *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->h);
    free(s);
}

int http_fetch_session_get(struct http_fetch_session *s, const char *url, long timeout_ms,
                           struct buf *body, const char *header, struct buf *header_value,
                           char *err, size_t errlen)
{
    struct sink sink = {body, 0, header_value ? header : NULL, header_value};
    return perform(s->h, "read", url, NULL, NULL, timeout_ms, &sink, err, errlen);
}
