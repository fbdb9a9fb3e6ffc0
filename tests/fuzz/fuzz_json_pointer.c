/*
 * fuzz_json_pointer: libFuzzer target for JSON Pointers (common/json_pointer.c) and the resource
 * model's page reader (loadgen/resource_api.c), which apply user-given pointers to whatever JSON a
 * service answers. The input is a pointer, a newline, and a JSON document. Invariants: resolving
 * any pointer never crashes and yields a node of the document or nothing; for every node of the
 * document, the pointer built from its path (json_pointer_append) resolves to that very node
 * (to the first member when an object repeats a name); reading the document as a list page, with
 * Link or cursor paging, never crashes and counts at most the items the page holds. Plain C17.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_pointer.h"
#include "resource_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_json_pointer: %s:%d: check failed: %s\n", __FILE__, __LINE__,    \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_DEPTH 32

/* Whether an earlier member of node's parent object has the same name. */
static int repeated_name(const cJSON *first, const cJSON *node)
{
    for (const cJSON *c = first; c && c != node; c = c->next)
        if (c->string && node->string && !strcmp(c->string, node->string))
            return 1;
    return 0;
}

static void walk(const cJSON *root, const cJSON *node, struct buf *path, int depth)
{
    const cJSON *got = json_pointer_get(root, path->data ? path->data : "");
    check(got == node);
    if (depth == MAX_DEPTH || !(cJSON_IsObject(node) || cJSON_IsArray(node)))
        return;
    int index = 0;
    for (const cJSON *c = node->child; c; c = c->next, index++) {
        size_t keep = path->len;
        char digits[16];
        int ok;
        if (cJSON_IsObject(node)) {
            if (!c->string || repeated_name(node->child, c))
                continue;
            ok = json_pointer_append(path, c->string, strlen(c->string)) == 0;
        } else {
            snprintf(digits, sizeof digits, "%d", index);
            ok = json_pointer_append(path, digits, strlen(digits)) == 0;
        }
        if (ok)
            walk(root, c, path, depth + 1);
        path->len = keep;
        if (path->data)
            path->data[keep] = '\0';
        path->overflowed = 0;
    }
}

static int count_item(const struct resource_item *item, void *ctx)
{
    check(item->id && item->id[0]);
    (*(long *)ctx)++;
    return 0;
}

static void read_as_page(const char *body, size_t len, const char *pointer)
{
    struct resource_api a;
    char err[512];
    struct buf next;
    buf_init(&next, 1 << 16);
    resource_api_default(&a);
    long seen = 0;
    long n = resource_api_read_page(&a, "http://h/t?limit=2", pointer, body, len, count_item, &seen,
                                    &next, err, sizeof err);
    check(n == -1 || n == seen);
    resource_api_set(&a, "paging", "cursor", err, sizeof err);
    resource_api_set(&a, "cursor-param", "c", err, sizeof err);
    if (resource_api_set(&a, "cursor-field", pointer, err, sizeof err) == 0 &&
        resource_api_set(&a, "items", pointer, err, sizeof err) == 0) {
        seen = 0;
        n = resource_api_read_page(&a, "http://h/t?c=1", NULL, body, len, count_item, &seen, &next,
                                   err, sizeof err);
        check(n == -1 || n == seen);
    }
    buf_free(&next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pointer = malloc(plen + 1);
    if (!pointer)
        return 0;
    memcpy(pointer, data, plen);
    pointer[plen] = '\0';
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t blen = nl ? size - plen - 1 : 0;
    cJSON *doc = cJSON_ParseWithLength(body, blen);
    const cJSON *got = json_pointer_get(doc, pointer);
    check(!got || doc);
    if (doc) {
        struct buf path;
        buf_init(&path, 1 << 16);
        walk(doc, doc, &path, 0);
        buf_free(&path);
    }
    read_as_page(body, blen, pointer);
    cJSON_Delete(doc);
    free(pointer);
    return 0;
}
