/*
 * api: the HTTP API of DESIGN.md as plain functions: a parsed request in, a response out.
 *
 * Nothing here knows libmicrohttpd; server.c adapts. Reads are answered at once; writes are
 * validated here, run by the store's writer thread, and answered by api_finish_write(). Every error
 * is a JSON object
 * {"error": sentence, "code": slug, "request_id": id} with the status DESIGN.md gives it, and a
 * 5xx carries the database error that caused it so the one error log line can say why.
 */
#ifndef TASKD_API_H
#define TASKD_API_H

#include <stddef.h>

#include "buf.h"
#include "routes.h"
#include "store.h"

#define API_BODY_LIMIT (64 * 1024)
#define API_RESPONSE_LIMIT (32 * 1024 * 1024) /* 1000 tasks of 1000 escaped characters */

struct api_request {
    enum http_method method;
    struct route_match match;
    const char *path;
    const char *content_type; /* NULL when absent */
    const char *query_limit;  /* ?limit=, NULL when absent */
    const char *query_after;  /* ?after=, NULL when absent */
    const char *body;
    size_t body_len;
    int body_too_large;
    const char *request_id;
};

struct api_response {
    unsigned status;
    struct buf body;          /* JSON (or the exposition for /metrics) */
    const char *content_type; /* static string */
    const char *allow;        /* Allow header for 405, static */
    int retry_after;          /* seconds, 0 for none */
    char location[48];        /* Location for 201, "" for none */
    char link[128];           /* Link for a next page, "" for none */
    const char *error_code;   /* the "code" of an error body, NULL on success */
    struct store_error db;    /* set for 5xx caused by the database */
    int has_db_error;
};

struct api {
    struct store *store;
    const char *version;
};

void api_response_init(struct api_response *res);
void api_response_free(struct api_response *res);

/* Handles the request. Returns 0 when `res` holds the response, or 1 when the request is a
 * write: `write` (space the caller provides for POST, PUT and DELETE, else NULL) then holds the
 * validated write, the caller submits it to the store, and api_finish_write() turns the
 * outcome into the response. */
int api_handle(const struct api *api, const struct api_request *req, struct api_response *res,
               struct store_write *write);

/* The response to a write the store has run. */
void api_finish_write(const struct store_write *write, const char *request_id,
                      struct api_response *res);

/* Fills `res` with a JSON error. `message` is one sentence. */
void api_error(struct api_response *res, unsigned status, const char *code, const char *message,
               const char *request_id);

#endif
