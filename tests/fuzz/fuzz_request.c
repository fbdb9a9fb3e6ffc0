/*
 * fuzz_request: libFuzzer target for everything taskd does to a request before the database.
 *
 * The input is "METHOD\nPATH\nBODY". The method and path go through method_parse and
 * route_match, the body through task_input_parse as both a POST and a PUT body, and an accepted
 * body is written back as task JSON, which must re-parse with cJSON to the same text. The path is
 * also escaped with json_escape_string, which must always yield valid UTF-8 and valid JSON. Any
 * broken invariant aborts, so libFuzzer (or the replay runner) reports the input. Plain C17, so
 * it builds with gcc for corpus replay as well as with clang -fsanitize=fuzzer.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_writer.h"
#include "routes.h"
#include "task.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated heap copy of n bytes (the method and path are C strings in taskd). */
static char *copy_string(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    check(s != NULL);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Splits "METHOD\nPATH\nBODY"; a missing separator leaves the later parts empty. */
static void split_input(const uint8_t *data, size_t size, size_t *method_len, const uint8_t **path,
                        size_t *path_len, const uint8_t **body, size_t *body_len)
{
    const uint8_t *end = data + size;
    const uint8_t *nl = memchr(data, '\n', size);
    *method_len = nl ? (size_t)(nl - data) : size;
    *path = nl ? nl + 1 : end;
    nl = memchr(*path, '\n', (size_t)(end - *path));
    *path_len = nl ? (size_t)(nl - *path) : (size_t)(end - *path);
    *body = nl ? nl + 1 : end;
    *body_len = (size_t)(end - *body);
}

static void check_method(const char *method)
{
    enum http_method m = method_parse(method);
    check(m >= METHOD_GET && m <= METHOD_OTHER);
    check(method_label(m) != NULL);
    if (m != METHOD_OTHER)
        check(strcmp(method_label(m), method) == 0);
}

static void check_route(const char *path)
{
    struct route_match match;
    route_match(path, &match);
    check(match.route >= ROUTE_TASKS && match.route <= ROUTE_OTHER);
    check(route_label(match.route) != NULL);
    check(route_allow_header(match.route) != NULL);
    check(route_allows(match.route, METHOD_HEAD) == route_allows(match.route, METHOD_GET));
    if (match.route == ROUTE_TASK) {
        check(strncmp(path, "/tasks/", 7) == 0);
        check(path[7] != '\0' && strchr(path + 7, '/') == NULL);
        if (match.id_valid) {
            check(match.task_id >= 1);
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)match.task_id);
            /* Leading zeros are the only other spelling of a valid id. */
            const char *digits = path + 7;
            while (*digits == '0' && digits[1] != '\0')
                digits++;
            check(strcmp(id, digits) == 0);
        }
    } else {
        check(!match.id_valid);
    }
    if (match.route != ROUTE_OTHER && match.route != ROUTE_TASK)
        check(strcmp(path, route_label(match.route)) == 0);
}

/* Writes the task as JSON and checks that cJSON reads the same text and done back. */
static void check_task_json(const struct task_input *in, int64_t id)
{
    static struct task t;
    memset(&t, 0, sizeof(t));
    t.id = id;
    t.done = in->has_done ? in->done : 0;
    snprintf(t.created_at, sizeof(t.created_at), "2026-11-27T05:01:02.345Z");
    snprintf(t.updated_at, sizeof(t.updated_at), "2026-11-27T05:01:02.345Z");
    memcpy(t.text, in->text, in->text_len + 1);
    t.text_len = in->text_len;

    struct buf out;
    struct json_writer w;
    buf_init(&out, 64 * 1024);
    jw_init(&w, &out);
    task_write_json(&w, &t);
    check(!w.failed);
    check(w.depth == 0);
    check(utf8_count(out.data, out.len) >= 0);

    cJSON *root = cJSON_ParseWithLength(out.data, out.len);
    check(root != NULL && cJSON_IsObject(root));
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "task");
    check(cJSON_IsString(text));
    check(strcmp(text->valuestring, t.text) == 0);
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(root, "done");
    check(cJSON_IsBool(done) && cJSON_IsTrue(done) == (t.done != 0));
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(root, "id");
    check(cJSON_IsNumber(jid));
    cJSON_Delete(root);
    buf_free(&out);
}

static void check_body(const uint8_t *body, size_t len, enum task_body_kind kind, int64_t id)
{
    static struct task_input in;
    char error[256];
    /* An exact-size heap copy, so a sanitizer sees any read past `len`. */
    char *copy = malloc(len ? len : 1);
    check(copy != NULL);
    if (len)
        memcpy(copy, body, len);
    error[0] = '\0';
    int rc = task_input_parse(copy, len, kind, &in, error, sizeof(error));
    free(copy);
    if (rc != 0) {
        check(rc == -1);
        check(error[0] != '\0' && memchr(error, '\0', sizeof(error)) != NULL);
        return;
    }
    if (kind == TASK_BODY_CREATE)
        check(in.has_text);
    else
        check(in.has_text || in.has_done);
    if (!in.has_text)
        return;
    check(in.text_len <= TASK_TEXT_MAX_BYTES);
    check(strlen(in.text) == in.text_len);
    long chars = utf8_count(in.text, in.text_len);
    check(chars >= 1 && chars <= TASK_TEXT_MAX_CHARS);
    check_task_json(&in, id);
}

/* The escaped path must be valid UTF-8 and a JSON string that decodes to the path when the path
 * itself is valid UTF-8. */
static void check_escaped_path(const char *path)
{
    struct buf out;
    size_t n = strlen(path);
    buf_init(&out, 64 + 12 * n);
    check(json_escape_string(&out, path, n) == 0);
    check(utf8_count(out.data, out.len) >= 0);
    cJSON *parsed = cJSON_ParseWithLength(out.data, out.len);
    check(parsed != NULL && cJSON_IsString(parsed));
    if (utf8_count(path, n) >= 0)
        check(strcmp(parsed->valuestring, path) == 0);
    cJSON_Delete(parsed);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t method_len, path_len, body_len;
    const uint8_t *path_bytes, *body;
    split_input(data, size, &method_len, &path_bytes, &path_len, &body, &body_len);
    char *method = copy_string(data, method_len);
    char *path = copy_string(path_bytes, path_len);

    check_method(method);
    check_route(path);
    struct route_match match;
    route_match(path, &match);
    int64_t id = match.route == ROUTE_TASK && match.id_valid ? match.task_id : 1;
    check_body(body, body_len, TASK_BODY_CREATE, id);
    check_body(body, body_len, TASK_BODY_UPDATE, id);
    check_escaped_path(path);

    free(method);
    free(path);
    return 0;
}
