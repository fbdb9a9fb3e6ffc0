/*
 * task: validation of task bodies and their JSON form. See task.h for the rules.
 */
#include "task.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

#include "json_writer.h"
#include "utf8.h"

/* What JSON allows between tokens (RFC 8259): space, tab, LF, CR. */
static int json_whitespace(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* White space as Unicode defines it (White_Space=yes), so "\u00a0" is as empty as " ". */
static int is_unicode_space(uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* 1 when s[0..n) is valid UTF-8 made only of white space (or empty). */
static int only_whitespace(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t step = utf8_decode(p + i, n - i, &cp);
        if (step == 0 || !is_unicode_space(cp))
            return 0;
        i += step;
    }
    return 1;
}

static int has_escaped_nul(const char *body, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (body[i] != '\\')
            continue;
        if (body[i + 1] == 'u' && i + 6 <= len && memcmp(body + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* skip the escaped character, a backslash included */
    }
    return 0;
}

static int validate_text(const cJSON *item, struct task_input *out, char *error, size_t error_len)
{
    if (!cJSON_IsString(item)) {
        snprintf(error, error_len, "field 'task' must be a string");
        return -1;
    }
    const char *s = item->valuestring;
    size_t n = strlen(s);
    long chars = utf8_count(s, n);
    if (chars < 0) {
        snprintf(error, error_len, "field 'task' is not valid UTF-8");
        return -1;
    }
    if (chars == 0 || only_whitespace(s, n)) {
        snprintf(error, error_len, "field 'task' must not be empty");
        return -1;
    }
    if (chars > TASK_TEXT_MAX_CHARS) {
        snprintf(error, error_len, "field 'task' is %ld characters long; the limit is %d", chars,
                 TASK_TEXT_MAX_CHARS);
        return -1;
    }
    memcpy(out->text, s, n + 1);
    out->text_len = n;
    out->has_text = 1;
    return 0;
}

static int validate_field(const cJSON *item, struct task_input *out, char *error, size_t error_len)
{
    const char *name = item->string;
    if (strcmp(name, "task") == 0)
        return validate_text(item, out, error, error_len);
    if (strcmp(name, "done") == 0) {
        if (!cJSON_IsBool(item)) {
            snprintf(error, error_len, "field 'done' must be true or false");
            return -1;
        }
        out->has_done = 1;
        out->done = cJSON_IsTrue(item);
        return 0;
    }
    if (strcmp(name, "id") == 0 || strcmp(name, "created_at") == 0 ||
        strcmp(name, "updated_at") == 0)
        return 0; /* read-only: ignored so GET-modify-PUT works */
    snprintf(error, error_len, "unknown field '%.64s'; a task has 'task' and 'done'", name);
    return -1;
}

int task_input_parse(const char *body, size_t len, enum task_body_kind kind, struct task_input *out,
                     char *error, size_t error_len)
{
    int rc = -1;
    cJSON *root = NULL;
    out->has_text = out->has_done = out->done = 0; /* not the 4 KB text: it is written on use */
    out->text_len = 0;
    out->text[0] = '\0';
    if (len == 0) {
        snprintf(error, error_len,
                 "the request body is empty; send a JSON object such as "
                 "{\"task\": \"Buy milk\"}");
        goto out;
    }
    if (memchr(body, '\0', len) || has_escaped_nul(body, len)) {
        snprintf(error, error_len, "the body contains a NUL character, which a task cannot hold");
        goto out;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root && !json_whitespace(end, (size_t)(body + len - end))) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        snprintf(error, error_len, "the body is not valid JSON (error near byte %zu)", at);
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(error, error_len,
                 "the body must be a JSON object such as {\"task\": \"Buy milk\"}");
        goto out;
    }
    for (const cJSON *item = root->child; item; item = item->next) {
        if (validate_field(item, out, error, error_len) < 0)
            goto out;
    }
    if (kind == TASK_BODY_CREATE && !out->has_text) {
        snprintf(error, error_len, "field 'task' is required");
        goto out;
    }
    if (kind == TASK_BODY_UPDATE && !out->has_text && !out->has_done) {
        snprintf(error, error_len, "nothing to update: send 'task', 'done' or both");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

void task_write_json(struct json_writer *w, const struct task *t)
{
    jw_object_begin(w);
    jw_member_int(w, "id", t->id);
    jw_key(w, "task");
    jw_stringn(w, t->text, t->text_len);
    jw_member_bool(w, "done", t->done);
    jw_member_string(w, "created_at", t->created_at);
    jw_member_string(w, "updated_at", t->updated_at);
    jw_object_end(w);
}
