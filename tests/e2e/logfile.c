/*
 * logfile: reading and waiting on taskd's JSON-lines log. See logfile.h.
 */
#include "logfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "taskd_proc.h"

void logfile_free(struct logfile *lf)
{
    if (!lf)
        return;
    for (size_t i = 0; i < lf->count; i++) {
        free(lf->lines[i].raw);
        cJSON_Delete(lf->lines[i].json);
    }
    free(lf->lines);
    free(lf);
}

static int add_line(struct logfile *lf, const char *s, size_t n)
{
    struct logfile_line *grown = realloc(lf->lines, (lf->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    lf->lines = grown;
    char *raw = malloc(n + 1);
    if (!raw)
        return -1;
    memcpy(raw, s, n);
    raw[n] = '\0';
    cJSON *json = cJSON_ParseWithLength(raw, n);
    if (json && !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        json = NULL;
    }
    lf->lines[lf->count++] = (struct logfile_line){raw, json};
    return 0;
}

int logfile_parse(const char *text, size_t len, struct logfile **out)
{
    struct logfile *lf = calloc(1, sizeof(*lf));
    *out = NULL;
    if (!lf)
        return -1;
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *stop = eol ? eol : end;
        if (add_line(lf, s, (size_t)(stop - s)) < 0) {
            logfile_free(lf);
            return -1;
        }
        s = eol ? eol + 1 : end;
    }
    lf->ends_with_newline = len > 0 && text[len - 1] == '\n';
    *out = lf;
    return 0;
}

int logfile_read(const char *path, size_t offset, struct logfile **out)
{
    size_t len;
    char *text = taskd_proc_read_file(path, &len);
    *out = NULL;
    if (!text)
        return -1;
    if (offset > len)
        offset = len;
    int rc = logfile_parse(text + offset, len - offset, out);
    free(text);
    return rc;
}

static int msg_is(const cJSON *json, const char *msg)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(json, "msg");
    return cJSON_IsString(m) && strcmp(m->valuestring, msg) == 0;
}

size_t logfile_count_msg(const struct logfile *lf, const char *msg)
{
    size_t n = 0;
    for (size_t i = 0; i < lf->count; i++)
        n += lf->lines[i].json && msg_is(lf->lines[i].json, msg);
    return n;
}

const cJSON *logfile_find_request(const struct logfile *lf, const char *request_id, size_t *matches)
{
    const cJSON *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *json = lf->lines[i].json;
        if (!json || !msg_is(json, "request"))
            continue;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "request_id");
        if (cJSON_IsString(id) && strcmp(id->valuestring, request_id) == 0) {
            if (!found)
                found = json;
            n++;
        }
    }
    if (matches)
        *matches = n;
    return found;
}

int logfile_wait_msg(const char *path, size_t offset, const char *msg, size_t n, int timeout_ms)
{
    uint64_t deadline = clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        struct logfile *lf;
        if (logfile_read(path, offset, &lf) == 0) {
            size_t have = logfile_count_msg(lf, msg);
            logfile_free(lf);
            if (have >= n)
                return 0;
        }
        if (clock_monotonic_ns() >= deadline)
            return -1;
        struct timespec ts = {0, 5 * 1000 * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}
