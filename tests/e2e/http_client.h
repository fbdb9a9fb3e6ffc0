/*
 * http_client: a small raw-socket HTTP/1.1 client for end-to-end tests, to 127.0.0.1 only.
 *
 * Tests must be able to send exactly the bytes they want (odd paths, unknown methods, malformed
 * or partial requests, pipelined batches), so sending and reading are separate: http_send()
 * writes raw bytes, http_read_response() parses one response from what arrives. Bytes received
 * past a response stay buffered for the next one (pipelining, keep-alive). Every wait is bounded
 * by the connection's timeout: a test can fail, never hang.
 *
 * Errors are negative errno values: -ETIMEDOUT (nothing complete before the timeout),
 * -ECONNRESET (reset by the peer), -ECONNABORTED (the peer closed before sending anything),
 * -EPROTO (the peer closed in the middle of a response), -EBADMSG (not HTTP).
 */
#ifndef E2E_HTTP_CLIENT_H
#define E2E_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_DEFAULT_TIMEOUT_MS 5000

struct http_header {
    char *name;
    char *value;
};

struct http_response {
    int status;
    int minor_version; /* HTTP/1.x */
    char reason[64];
    struct http_header *headers;
    size_t nheaders;
    char *body; /* NUL-terminated (the NUL is not counted); "" when there is none */
    size_t body_len;
    size_t interim; /* 1xx responses (100 Continue) that came before this one */
    int keep_alive; /* 0 when the server said it closes the connection */
};

struct http_conn;

/* Connects to 127.0.0.1:port within the default timeout. Returns 0, or a negative errno
 * (-ECONNREFUSED, -ETIMEDOUT…) and sets *out to NULL. The caller closes with http_close(). */
int http_connect(uint16_t port, struct http_conn **out);

/* Closes the socket and frees the connection. Accepts NULL. */
void http_close(struct http_conn *c);

/* Bounds every later wait on this connection (send, read, close) to `ms` milliseconds. */
void http_set_timeout(struct http_conn *c, int ms);

int http_fd(const struct http_conn *c);
uint16_t http_port(const struct http_conn *c);

/* 1 once the peer closed its side (EOF or reset), or a response announced Connection: close. */
int http_is_closed(const struct http_conn *c);

/* The last error as a sentence, for failure messages. */
const char *http_last_error(const struct http_conn *c);

/* Sends all `len` bytes. Returns 0 or a negative errno (-EPIPE, -ECONNRESET, -ETIMEDOUT). */
int http_send(struct http_conn *c, const void *data, size_t len);
int http_send_str(struct http_conn *c, const char *s);

/* Reads one response to a request made with `method` (HEAD responses have no body). Skips and
 * counts 1xx responses. Body by Content-Length, chunked encoding, or up to the peer's close.
 * Returns 0 with *out set (free it with http_response_free()), or a negative errno. */
int http_read_response(struct http_conn *c, const char *method, struct http_response **out);

/* Sends "METHOD PATH HTTP/1.1" with Host and, when `body` is not NULL, Content-Length (unless
 * `headers` has Content-Length or Transfer-Encoding), then `headers` ("Name: value" strings,
 * NULL-terminated, may be NULL) and the body; reads the response. Returns the response (free it
 * with http_response_free()) or NULL, with the reason in http_last_error(). */
struct http_response *http_request(struct http_conn *c, const char *method, const char *path,
                                   const char *const *headers, const char *body);
struct http_response *http_request_len(struct http_conn *c, const char *method, const char *path,
                                       const char *const *headers, const char *body,
                                       size_t body_len);

/* Waits for the peer to close the connection. Returns 0 when it did (EOF or reset), -ETIMEDOUT
 * when it was still open at the timeout. Bytes that arrive meanwhile are discarded and counted
 * in *extra (may be NULL). */
int http_wait_closed(struct http_conn *c, int timeout_ms, size_t *extra);

/* Bytes received and not yet consumed by a response (after waiting up to `wait_ms` for more). */
size_t http_pending(struct http_conn *c, int wait_ms);

/* The value of the first header called `name` (case-insensitive), or NULL. */
const char *http_header(const struct http_response *r, const char *name);
size_t http_header_count(const struct http_response *r, const char *name);

void http_response_free(struct http_response *r);

#endif
