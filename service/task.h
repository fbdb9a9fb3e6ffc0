/*
 * task: the task model, its JSON form, and validation of request bodies.
 *
 * A task's text is 1 to TASK_TEXT_MAX_CHARS characters of valid UTF-8, not only white space and
 * without NUL. Bodies are parsed with cJSON and checked field by field, so every rejection names
 * the field and the rule it broke. Read-only fields (id, created_at, updated_at) are accepted and
 * ignored so a client can PUT back what it GOT; any other unknown field is an error.
 */
#ifndef TASKD_TASK_H
#define TASKD_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"

#define TASK_TEXT_MAX_CHARS 1000
#define TASK_TEXT_MAX_BYTES (4 * TASK_TEXT_MAX_CHARS)

struct task {
    int64_t id;
    int done;
    char created_at[CLOCK_RFC3339_LEN];
    char updated_at[CLOCK_RFC3339_LEN];
    size_t text_len;
    char text[TASK_TEXT_MAX_BYTES + 1];
};

/* A validated body. For POST, has_text is always 1; for PUT at least one field is present. */
struct task_input {
    int has_text;
    int has_done;
    int done;
    size_t text_len;
    char text[TASK_TEXT_MAX_BYTES + 1];
};

enum task_body_kind { TASK_BODY_CREATE, TASK_BODY_UPDATE };

/* Parses and validates a JSON body. Returns 0, or -1 with a one-sentence reason in `error`
 * (e.g. "field 'task' must be a string"). */
int task_input_parse(const char *body, size_t len, enum task_body_kind kind, struct task_input *out,
                     char *error, size_t error_len);

/* Appends the task as a JSON object to the writer. */
struct json_writer;
void task_write_json(struct json_writer *w, const struct task *t);

#endif
