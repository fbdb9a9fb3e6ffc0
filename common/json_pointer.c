/*
 * json_pointer: RFC 6901 over cJSON (contract in json_pointer.h). A pointer is resolved token by
 * token without copying it: each token is compared with member names in place, unescaping as it
 * goes, so a pointer of any length costs no allocation.
 */
#include "json_pointer.h"

#include <string.h>

/* Whether the token tok[0..n) (escaped) names exactly `name`. */
static int token_equals(const char *tok, size_t n, const char *name)
{
    size_t i = 0;
    for (; i < n; i++, name++) {
        char c = tok[i];
        if (c == '~') {
            c = tok[++i] == '0' ? '~' : '/';
        }
        if (*name != c)
            return 0;
    }
    return *name == '\0';
}

/* An array index: "0", or digits without a leading zero. Returns -1 when it is none. */
static long token_index(const char *tok, size_t n)
{
    if (n == 0 || n > 9 || (n > 1 && tok[0] == '0'))
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return -1;
        v = v * 10 + (tok[i] - '0');
    }
    return v;
}

int json_pointer_valid(const char *pointer)
{
    if (!pointer)
        return 0;
    if (*pointer && *pointer != '/')
        return 0;
    for (const char *p = pointer; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return 0;
    return 1;
}

const cJSON *json_pointer_get(const cJSON *root, const char *pointer)
{
    if (!json_pointer_valid(pointer))
        return NULL;
    const cJSON *node = root;
    const char *p = pointer;
    while (node && *p) {
        const char *tok = p + 1;
        size_t n = strcspn(tok, "/");
        p = tok + n;
        if (cJSON_IsObject(node)) {
            const cJSON *child = node->child;
            while (child && !(child->string && token_equals(tok, n, child->string)))
                child = child->next;
            node = child;
        } else if (cJSON_IsArray(node)) {
            long i = token_index(tok, n);
            node = i < 0 ? NULL : cJSON_GetArrayItem(node, (int)i);
        } else {
            node = NULL;
        }
    }
    return node;
}

int json_pointer_append(struct buf *out, const char *key, size_t n)
{
    if (buf_putc(out, '/') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = key[i] == '~'   ? buf_append(out, "~0", 2)
                 : key[i] == '/' ? buf_append(out, "~1", 2)
                                 : buf_putc(out, key[i]);
        if (rc < 0)
            return -1;
    }
    return 0;
}
