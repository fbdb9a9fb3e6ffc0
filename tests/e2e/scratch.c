/*
 * scratch: a stack of (pointer, release function) pairs emptied by the fixture's teardown.
 * See scratch.h. Releasing newest first lets a later object refer to an earlier one.
 */
#include "scratch.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    void *ptr;
    scratch_release_fn release;
};

static struct entry *entries;
static size_t count, capacity;

void *scratch_keep(void *ptr, scratch_release_fn release)
{
    if (!ptr)
        return NULL;
    if (count == capacity) {
        size_t cap = capacity ? capacity * 2 : 64;
        struct entry *grown = realloc(entries, cap * sizeof(*grown));
        if (!grown) {
            fprintf(stderr, "# scratch: out of memory\n");
            abort();
        }
        entries = grown;
        capacity = cap;
    }
    entries[count++] = (struct entry){ptr, release};
    return ptr;
}

void scratch_drop(void *ptr)
{
    if (!ptr)
        return;
    for (size_t i = count; i-- > 0;) {
        if (entries[i].ptr == ptr) {
            struct entry e = entries[i];
            memmove(&entries[i], &entries[i + 1], (count - i - 1) * sizeof(*entries));
            count--;
            e.release(e.ptr);
            return;
        }
    }
}

void scratch_release_all(void)
{
    while (count > 0) {
        struct entry e = entries[--count];
        e.release(e.ptr);
    }
    free(entries);
    entries = NULL;
    capacity = 0;
}

void scratch_free(void *ptr)
{
    free(ptr);
}

void scratch_json_delete(void *ptr)
{
    cJSON_Delete(ptr);
}
