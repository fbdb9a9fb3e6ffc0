/*
 * http_fetch: see http_fetch.h. The body is collected by a write callback that refuses the first
 * chunk over the buf's limit, which makes libcurl abort the transfer (CURLE_WRITE_ERROR): a
 * too-long answer costs at most its first limit bytes. libcurl's codes are folded into three
 * failures, so callers decide on retrying without knowing libcurl.
 */
#include "http_fetch.h"

#include <curl/curl.h>
#include <stdio.h>

struct sink {
    struct buf *body; /* NULL: discard */
    int too_large;
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

/* The failures a server that is restarting or overloaded produces: worth another try. */
static int no_answer(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR;
}

static int fetch(const char *verb, const char *url, const char *json, long timeout_ms,
                 struct buf *body, char *err, size_t errlen)
{
    struct sink sink = {body, 0};
    struct curl_slist *headers = NULL;
    int rc = HTTP_FETCH_FAILED;
    if (body)
        buf_reset(body);
    CURL *h = curl_easy_init();
    if (json)
        headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!h || (json && !headers)) {
        if (err)
            snprintf(err, errlen, "cannot %s %s: out of memory", verb, url);
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* "" overrides http_proxy and friends */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (json) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    if (cc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status >= 100 && status <= 599) {
        rc = (int)status;
        goto out;
    }
    if (sink.too_large) {
        rc = HTTP_FETCH_TOO_LARGE;
        if (err)
            snprintf(err, errlen, "cannot %s %s: the answer is longer than %zu bytes", verb, url,
                     body->limit);
        goto out;
    }
    rc = no_answer(cc) ? HTTP_FETCH_NO_ANSWER : HTTP_FETCH_FAILED;
    if (err)
        snprintf(err, errlen, "cannot %s %s: %s", verb, url,
                 cc == CURLE_OK ? "the answer has no HTTP status" : curl_easy_strerror(cc));
out:
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
