/*
 * table: see table.h. It reads only the journal (schema taskbench.chaos/1), never the run, so
 * a table can be made from journals of several runs and machines.
 */
#include "table.h"

#include <cJSON.h>
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "journal.h"

#define JOURNAL_READ_MAX (256u << 20)

void table_header(FILE *out)
{
    fputs("| experiment | mechanism | service | verdict | detect s | recover s | acknowledged | "
          "refused | lost | what deviated |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n",
          out);
}

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void print_seconds(FILE *out, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        fprintf(out, " %.3f |", v->valuedouble);
    else
        fputs(" – |", out);
}

static void print_count(FILE *out, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        fprintf(out, " %.0f |", v->valuedouble);
    else
        fputs(" – |", out);
}

/* taskd with its --sync mode, else the service's name, else its command's first word. */
static void print_service(FILE *out, const cJSON *exp)
{
    const cJSON *svc = get(exp, "service");
    const cJSON *name = get(svc, "name"), *cmd = get(svc, "command");
    const char *command = cJSON_IsString(cmd) ? cmd->valuestring : "";
    if (cJSON_IsString(name)) {
        fprintf(out, " %s |", name->valuestring);
    } else if (cJSON_IsTrue(get(svc, "taskd")) || !svc) {
        const char *sync =
            strstr(command, "--sync full") || strstr(command, "--sync=full") ? "full" : "normal";
        fprintf(out, " taskd --sync %s |", sync);
    } else {
        fprintf(out, " %.*s |", (int)strcspn(command, " "), command);
    }
}

/* The names of the failed checks, or the reason of a skip or error. */
static void print_why(FILE *out, const cJSON *exp)
{
    const cJSON *status = get(exp, "status"), *reason = get(exp, "reason");
    int first = 1;
    const cJSON *c;
    cJSON_ArrayForEach(c, get(exp, "checks"))
    {
        const cJSON *passed = get(c, "passed"), *name = get(c, "name");
        if (cJSON_IsFalse(passed) && cJSON_IsString(name)) {
            fprintf(out, "%s%s", first ? " " : "; ", name->valuestring);
            first = 0;
        }
    }
    if (first && cJSON_IsString(reason) && cJSON_IsString(status) &&
        strcmp(status->valuestring, "passed") != 0)
        fprintf(out, " %.100s", reason->valuestring);
    fputs(" |\n", out);
}

int table_rows(const char *json, const char *name, FILE *out, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(json);
    const cJSON *schema = get(root, "schema"), *list = get(root, "experiments");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, JOURNAL_SCHEMA) != 0 ||
        !cJSON_IsArray(list)) {
        snprintf(err, errlen, "%s is not a chaos journal (schema %s)", name, JOURNAL_SCHEMA);
        cJSON_Delete(root);
        return -1;
    }
    int rows = 0;
    const cJSON *exp;
    cJSON_ArrayForEach(exp, list)
    {
        const cJSON *scenario = get(exp, "scenario"), *status = get(exp, "status");
        const cJSON *fault = get(exp, "fault"), *writes = get(exp, "writes");
        const cJSON *mech = get(fault, "mechanism");
        fprintf(out, "| %s | %s |", cJSON_IsString(scenario) ? scenario->valuestring : "?",
                cJSON_IsString(mech) ? mech->valuestring : "?");
        print_service(out, exp);
        fprintf(out, " %s |", cJSON_IsString(status) ? status->valuestring : "?");
        print_seconds(out, get(exp, "time_to_detect_s"));
        print_seconds(out, get(exp, "time_to_recover_s"));
        print_count(out, get(writes, "acknowledged"));
        print_count(out, get(writes, "failed"));
        print_count(out, get(writes, "lost"));
        print_why(out, exp);
        rows++;
    }
    cJSON_Delete(root);
    return rows;
}

int table_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: chaos table JOURNAL...\n");
        return 2;
    }
    table_header(stdout);
    for (int i = 1; i < argc; i++) {
        struct buf text;
        char err[600];
        buf_init(&text, JOURNAL_READ_MAX);
        if (buf_append_file(&text, argv[i]) < 0) {
            fprintf(stderr, "chaos: cannot read %s: %s\n", argv[i], strerror(errno));
            buf_free(&text);
            return 2;
        }
        int rows = table_rows(text.data ? text.data : "", argv[i], stdout, err, sizeof(err));
        buf_free(&text);
        if (rows < 0) {
            fprintf(stderr, "chaos: %s\n", err);
            return 2;
        }
    }
    return 0;
}
