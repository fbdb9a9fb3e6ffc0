/*
 * chaos_journal: see chaos_journal.h.
 */
#include "chaos_journal.h"

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scratch.h"
#include "taskd_proc.h"

const cJSON *cj_member(const cJSON *obj, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!m)
        fx_fail_at(__FILE__, __LINE__, "the journal has no member %s", name);
    return m;
}

double cj_number(const cJSON *obj, const char *name)
{
    const cJSON *m = cj_member(obj, name);
    if (!cJSON_IsNumber(m))
        fx_fail_at(__FILE__, __LINE__, "journal member %s is not a number", name);
    return m->valuedouble;
}

const char *cj_status(const cJSON *exp)
{
    return cj_member(exp, "status")->valuestring;
}

int cj_check_passed(const cJSON *exp, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cj_member(exp, "checks"))
    {
        if (strcmp(cj_member(c, "name")->valuestring, name) == 0)
            return cJSON_IsTrue(cj_member(c, "passed"));
    }
    return -1;
}

const cJSON *cj_load_one(const char *path)
{
    char *text = taskd_proc_read_file(path, NULL);
    if (!text)
        return NULL;
    cJSON *journal = scratch_keep(cJSON_Parse(text), scratch_json_delete);
    free(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(journal, "experiments");
    return cJSON_GetArraySize(list) == 1 ? cJSON_GetArrayItem(list, 0) : NULL;
}
