/*
 * resource_api: a JSON API's resource model (contract in resource_api.h). Settings are checked as
 * they are set, one sentence per refusal; answers are parsed with cJSON and read with JSON
 * Pointers; URLs are joined and query parameters rewritten with libcurl's URL API, so a next
 * page's relative Link or a cursor with reserved characters comes out as a valid URL.
 */
#include "resource_api.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "id_template.h"
#include "json_pointer.h"
#include "link_header.h"

#define EXACT_INTEGER_MAX 9007199254740992.0 /* 2^53 */

const char *const resource_api_keys[] = {
    "api",          "id-from",      "item-url", "list-url",   "paging",     "items",
    "cursor-field", "cursor-param", "item-id",  "text-field", "done-field", NULL,
};

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

void resource_api_default(struct resource_api *a)
{
    memset(a, 0, sizeof *a);
    a->id_source = RESOURCE_ID_POINTER;
    copy(a->id_pointer, sizeof a->id_pointer, "/id");
    copy(a->item_url, sizeof a->item_url, "/tasks/{id}");
    copy(a->list_url, sizeof a->list_url, "/tasks?limit=1000");
    a->paging = RESOURCE_PAGING_LINK;
    copy(a->item_id, sizeof a->item_id, "/id");
    copy(a->text_field, sizeof a->text_field, "/task");
    copy(a->done_field, sizeof a->done_field, "/done");
}

/* The blog's Flask app: a create answers {"message":"Task added"} (no id, no Location), there
 * is no GET /tasks/{id}, GET /tasks answers every row at once, and rows have no done. */
static void preset_blog(struct resource_api *a)
{
    resource_api_default(a);
    a->id_source = RESOURCE_ID_NONE;
    a->id_pointer[0] = '\0';
    a->item_url[0] = '\0';
    copy(a->list_url, sizeof a->list_url, "/tasks");
    a->paging = RESOURCE_PAGING_ONE;
    a->done_field[0] = '\0';
}

int resource_api_preset_from_args(struct resource_api *a, int argc, char **argv, char *err,
                                  size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        const char *name = !strcmp(argv[i], "--api") && i + 1 < argc ? argv[i + 1]
                           : !strncmp(argv[i], "--api=", 6)          ? argv[i] + 6
                                                                     : NULL;
        if (name && resource_api_set(a, "api", name, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int resource_api_has_key(const char *key)
{
    for (size_t i = 0; resource_api_keys[i]; i++)
        if (!strcmp(key, resource_api_keys[i]))
            return 1;
    return 0;
}

static int refuse(char *err, size_t errlen, const char *key, const char *value, const char *what)
{
    snprintf(err, errlen, "--%s '%s' is not %s", key, value, what);
    return -1;
}

/* A JSON Pointer setting; `empty_ok`: "" (the whole document) is meaningful here. */
static int set_pointer(char *dst, const char *key, const char *value, int empty_ok, char *err,
                       size_t errlen)
{
    if (!json_pointer_valid(value) || (!*value && !empty_ok) ||
        strlen(value) >= RESOURCE_API_FIELD_MAX)
        return refuse(err, errlen, key, value,
                      "a JSON Pointer such as /id or /data/0/id (RFC 6901, shorter than 256 "
                      "bytes)");
    copy(dst, RESOURCE_API_FIELD_MAX, value);
    return 0;
}

/* A URL setting: "none", an absolute path ("/tasks") or an absolute http(s) URL. */
static int url_ok(const char *value)
{
    return strlen(value) < RESOURCE_API_URL_MAX &&
           (value[0] == '/' || !strncmp(value, "http://", 7) || !strncmp(value, "https://", 8));
}

static int set_id_from(struct resource_api *a, const char *value, char *err, size_t errlen)
{
    if (!strcmp(value, "none") || !strcmp(value, "location")) {
        a->id_source = value[0] == 'n' ? RESOURCE_ID_NONE : RESOURCE_ID_LOCATION;
        a->id_pointer[0] = '\0';
        return 0;
    }
    if (!strcmp(value, "body")) {
        a->id_source = RESOURCE_ID_POINTER;
        a->id_pointer[0] = '\0';
        return 0;
    }
    if (!*value || !json_pointer_valid(value) || strlen(value) >= RESOURCE_API_FIELD_MAX)
        return refuse(err, errlen, "id-from", value,
                      "a JSON Pointer into the create's answer (/id, /data/id), body, location "
                      "or none");
    a->id_source = RESOURCE_ID_POINTER;
    copy(a->id_pointer, sizeof a->id_pointer, value);
    return 0;
}

static int set_paging(struct resource_api *a, const char *value, char *err, size_t errlen)
{
    static const char *const names[] = {"one", "link", "cursor"};
    for (int i = 0; i < 3; i++) {
        if (!strcmp(value, names[i])) {
            a->paging = (enum resource_paging)i;
            return 0;
        }
    }
    return refuse(err, errlen, "paging", value,
                  "one (a single page), link (Link: rel=\"next\") or cursor (a cursor field)");
}

static int set_cursor_param(struct resource_api *a, const char *value, char *err, size_t errlen)
{
    size_t n = strlen(value);
    if (n == 0 || n >= sizeof a->cursor_param ||
        strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~[]") != n)
        return refuse(err, errlen, "cursor-param", value,
                      "a query parameter name (letters, digits, - . _ ~)");
    copy(a->cursor_param, sizeof a->cursor_param, value);
    return 0;
}

int resource_api_set(struct resource_api *a, const char *key, const char *value, char *err,
                     size_t errlen)
{
    if (!strcmp(key, "api")) {
        if (!strcmp(value, "taskd"))
            resource_api_default(a);
        else if (!strcmp(value, "blog"))
            preset_blog(a);
        else
            return refuse(err, errlen, key, value,
                          "an API this loadgen knows: taskd (the default) or blog (the blog's "
                          "Flask app, examples/flask-tasks)");
        return 0;
    }
    if (!strcmp(key, "id-from"))
        return set_id_from(a, value, err, errlen);
    if (!strcmp(key, "item-url") || !strcmp(key, "list-url")) {
        int item = key[0] == 'i';
        char *dst = item ? a->item_url : a->list_url;
        if (!strcmp(value, "none")) {
            dst[0] = '\0';
            return 0;
        }
        if (!url_ok(value) || (item && !id_template_valid(value)) ||
            (!item && strstr(value, ID_TEMPLATE_PLACEHOLDER)))
            return refuse(err, errlen, key, value,
                          item ? "a URL template with {id} once, such as /tasks/{id}, or none"
                               : "a path such as /tasks?limit=1000, an http(s) URL, or none");
        copy(dst, RESOURCE_API_URL_MAX, value);
        return 0;
    }
    if (!strcmp(key, "paging"))
        return set_paging(a, value, err, errlen);
    if (!strcmp(key, "items"))
        return set_pointer(a->items, key, value, 1, err, errlen);
    if (!strcmp(key, "cursor-field"))
        return set_pointer(a->cursor_field, key, value, 0, err, errlen);
    if (!strcmp(key, "cursor-param"))
        return set_cursor_param(a, value, err, errlen);
    if (!strcmp(key, "item-id"))
        return set_pointer(a->item_id, key, value, 0, err, errlen);
    if (!strcmp(key, "text-field"))
        return set_pointer(a->text_field, key, value, 0, err, errlen);
    if (!strcmp(key, "done-field")) {
        if (!strcmp(value, "none")) {
            a->done_field[0] = '\0';
            return 0;
        }
        return set_pointer(a->done_field, key, value, 0, err, errlen);
    }
    snprintf(err, errlen, "'%s' is not a setting of the API model (one of: api, id-from, ...)",
             key);
    return -1;
}

int resource_api_check(const struct resource_api *a, char *err, size_t errlen)
{
    if (!a->list_url[0] && !a->item_url[0]) {
        snprintf(err, errlen,
                 "the API needs a way to read resources back: --list-url or --item-url");
        return -1;
    }
    if (a->id_source == RESOURCE_ID_LOCATION && !a->item_url[0]) {
        snprintf(err, errlen, "--id-from location needs --item-url to find the id in it");
        return -1;
    }
    if (a->list_url[0] && a->paging == RESOURCE_PAGING_CURSOR &&
        (!a->cursor_field[0] || !a->cursor_param[0])) {
        snprintf(err, errlen,
                 "--paging cursor needs --cursor-field (where a page names the next) and "
                 "--cursor-param (the query parameter that takes it)");
        return -1;
    }
    return 0;
}

void resource_api_describe(const struct resource_api *a, struct buf *out)
{
    static const char *const paging[] = {"one page", "Link paging", "cursor paging"};
    switch (a->id_source) {
    case RESOURCE_ID_NONE:
        buf_puts(out, "ids: none from creates (found by text)");
        break;
    case RESOURCE_ID_LOCATION:
        buf_puts(out, "ids from Location");
        break;
    case RESOURCE_ID_POINTER:
        buf_printf(out, "ids from %s", a->id_pointer[0] ? a->id_pointer : "the body");
        break;
    }
    if (a->item_url[0])
        buf_printf(out, "; read back at %s", a->item_url);
    if (a->list_url[0])
        buf_printf(out, "; listed from %s (%s", a->list_url, paging[a->paging]);
    if (a->list_url[0] && a->paging == RESOURCE_PAGING_CURSOR)
        buf_printf(out, " %s -> ?%s=", a->cursor_field, a->cursor_param);
    if (a->list_url[0])
        buf_printf(out, ", items at %s)", a->items[0] ? a->items : "the page");
    buf_printf(out, "; item id %s, text %s, done %s", a->item_id, a->text_field,
               a->done_field[0] ? a->done_field : "none");
}

/* ---- ids ------------------------------------------------------------------------------- */

/* A JSON value as an id: a non-empty string, or an integer (exact below 2^53) in decimal.
 * Returns the length written into out, or -1. */
static int id_of_value(const cJSON *v, char *out, size_t outlen)
{
    int n = -1;
    if (cJSON_IsString(v) && v->valuestring[0])
        n = snprintf(out, outlen, "%s", v->valuestring);
    else if (cJSON_IsNumber(v) && fabs(v->valuedouble) <= EXACT_INTEGER_MAX &&
             v->valuedouble == floor(v->valuedouble))
        n = snprintf(out, outlen, "%.0f", v->valuedouble);
    return n > 0 && (size_t)n < outlen ? n : -1;
}

int resource_api_created_id(const struct resource_api *a, const char *location, const char *body,
                            size_t len, char *out, size_t outlen)
{
    if (a->id_source == RESOURCE_ID_LOCATION)
        return location ? id_template_match(a->item_url, location, out, outlen) : -1;
    if (a->id_source != RESOURCE_ID_POINTER || !body)
        return -1;
    cJSON *doc = cJSON_ParseWithLength(body, len);
    int n = id_of_value(json_pointer_get(doc, a->id_pointer), out, outlen);
    cJSON_Delete(doc);
    return n;
}

/* ---- URLs ------------------------------------------------------------------------------ */

/* Appends the base URL without its trailing slashes when `url` is a path. */
static int join_base(const char *base_url, const char *url, struct buf *out)
{
    if (url[0] != '/')
        return 0;
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    return buf_append(out, base_url, n);
}

int resource_api_item_url(const struct resource_api *a, const char *base_url, const char *id,
                          struct buf *out)
{
    if (!a->item_url[0] || join_base(base_url, a->item_url, out) < 0)
        return -1;
    return id_template_expand(out, a->item_url, id, strlen(id));
}

int resource_api_list_url(const struct resource_api *a, const char *base_url, struct buf *out)
{
    if (!a->list_url[0] || join_base(base_url, a->list_url, out) < 0)
        return -1;
    return buf_puts(out, a->list_url);
}

/* `rel` (absolute or relative) resolved against the absolute `page_url`, into out. */
static int resolve_url(const char *page_url, const char *rel, struct buf *out)
{
    CURLU *u = curl_url();
    char *full = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, page_url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, rel, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
        rc = buf_puts(out, full);
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

/* page_url with its `param` query parameters replaced by param=value (value URL-encoded). */
static int with_param(const char *page_url, const char *param, const char *value, struct buf *out)
{
    CURLU *u = curl_url();
    char *query = NULL, *full = NULL;
    struct buf kept, pair;
    buf_init(&kept, RESOURCE_API_URL_MAX * 4);
    buf_init(&pair, RESOURCE_API_URL_MAX * 4);
    int rc = -1;
    if (!u || curl_url_set(u, CURLUPART_URL, page_url, 0) != CURLUE_OK)
        goto out;
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    size_t plen = strlen(param);
    for (const char *q = query; q && *q;) {
        size_t n = strcspn(q, "&");
        int same = (n == plen || (n > plen && q[plen] == '=')) && !strncmp(q, param, plen);
        if (n && !same && ((kept.len && buf_putc(&kept, '&') < 0) || buf_append(&kept, q, n) < 0))
            goto out;
        q += n + (q[n] == '&');
    }
    if (buf_printf(&pair, "%s=%s", param, value) < 0 ||
        curl_url_set(u, CURLUPART_QUERY, kept.len ? kept.data : NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_QUERY, pair.data, CURLU_APPENDQUERY | CURLU_URLENCODE) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
        goto out;
    rc = buf_puts(out, full);
out:
    curl_free(query);
    curl_free(full);
    curl_url_cleanup(u);
    buf_free(&kept);
    buf_free(&pair);
    return rc;
}

/* ---- pages and items ------------------------------------------------------------------- */

/* Reads one item's fields; id_buf receives its id (unless `id` is given). Returns 0 or -1. */
static int fill_item(const struct resource_api *a, const cJSON *obj, const char *id, char *id_buf,
                     size_t id_cap, struct resource_item *item, char *err, size_t errlen)
{
    memset(item, 0, sizeof *item);
    if (!id && id_of_value(json_pointer_get(obj, a->item_id), id_buf, id_cap) < 0) {
        snprintf(err, errlen,
                 "an item has no id at %s (a non-empty string or an integer; see --item-id)",
                 a->item_id);
        return -1;
    }
    item->id = id ? id : id_buf;
    const cJSON *text = json_pointer_get(obj, a->text_field);
    if (cJSON_IsString(text)) {
        item->has_text = 1;
        item->text = text->valuestring;
        item->text_len = strlen(text->valuestring);
    }
    if (a->done_field[0]) {
        const cJSON *done = json_pointer_get(obj, a->done_field);
        if (!cJSON_IsBool(done)) {
            snprintf(err, errlen,
                     "item %.64s has no boolean at %s (say --done-field none if the API has no "
                     "such field)",
                     item->id, a->done_field);
            return -1;
        }
        item->has_done = 1;
        item->done = cJSON_IsTrue(done);
    }
    return 0;
}

/* The next page's URL into next (empty on the last page). Returns 0, or -1 with err. */
static int next_page(const struct resource_api *a, const cJSON *page, const char *page_url,
                     const char *link, struct buf *next, char *err, size_t errlen)
{
    char target[RESOURCE_API_URL_MAX * 4], cursor[RESOURCE_API_URL_MAX];
    int rc = 0;
    if (a->paging == RESOURCE_PAGING_LINK && link) {
        int found = link_header_find(link, strlen(link), "next", target, sizeof target);
        rc = found < 0 ? -1 : found ? resolve_url(page_url, target, next) : 0;
    } else if (a->paging == RESOURCE_PAGING_CURSOR) {
        const cJSON *c = json_pointer_get(page, a->cursor_field);
        if (cJSON_IsString(c) || cJSON_IsNumber(c)) {
            int n = id_of_value(c, cursor, sizeof cursor);
            rc = n < 0 ? -1 : with_param(page_url, a->cursor_param, cursor, next);
        } else if (c && !cJSON_IsNull(c)) {
            rc = -1;
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "the page %s names a next page that cannot be read (%s)", page_url,
                 a->paging == RESOURCE_PAGING_LINK ? "its Link header"
                                                   : "a cursor that is not a string or integer");
        return -1;
    }
    if (next->len && !strcmp(next->data, page_url)) {
        snprintf(err, errlen, "the page %s names itself as the next page (paging would not end)",
                 page_url);
        return -1;
    }
    return 0;
}

long resource_api_read_page(const struct resource_api *a, const char *page_url, const char *link,
                            const char *body, size_t len, resource_item_fn fn, void *ctx,
                            struct buf *next, char *err, size_t errlen)
{
    long count = -1;
    buf_reset(next);
    cJSON *page = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *items = json_pointer_get(page, a->items);
    if (!cJSON_IsArray(items)) {
        snprintf(err, errlen, "the page %s is not %s", page_url,
                 !page         ? "JSON"
                 : a->items[0] ? "an object with an array of items at --items"
                               : "a JSON array of items (say where they are with --items)");
        goto out;
    }
    if (next_page(a, page, page_url, link, next, err, errlen) < 0)
        goto out;
    count = 0;
    const cJSON *obj;
    char id[RESOURCE_API_ID_MAX];
    cJSON_ArrayForEach(obj, items)
    {
        struct resource_item item;
        if (fill_item(a, obj, NULL, id, sizeof id, &item, err, errlen) < 0) {
            count = -1;
            goto out;
        }
        int stop = fn(&item, ctx);
        if (stop) {
            count = stop < 0 ? stop : -1;
            snprintf(err, errlen, "reading the page %s was stopped", page_url);
            goto out;
        }
        count++;
    }
out:
    cJSON_Delete(page);
    return count;
}

int resource_api_read_item(const struct resource_api *a, const char *id, const char *body,
                           size_t len, resource_item_fn fn, void *ctx, char *err, size_t errlen)
{
    cJSON *doc = cJSON_ParseWithLength(body ? body : "", len);
    struct resource_item item;
    int rc = -1;
    if (!doc)
        snprintf(err, errlen, "the resource %.64s does not read back as JSON", id);
    else if (fill_item(a, doc, id, NULL, 0, &item, err, errlen) == 0)
        rc = fn(&item, ctx);
    cJSON_Delete(doc);
    return rc;
}

int resource_api_written(const struct resource_api *a, const char *body, size_t len, char *text,
                         size_t textlen, int *has_text, int *done, int *has_done)
{
    *has_text = *has_done = *done = 0;
    if (textlen)
        text[0] = '\0';
    cJSON *doc = cJSON_ParseWithLength(body ? body : "", len);
    if (!doc)
        return -1;
    const cJSON *t = json_pointer_get(doc, a->text_field);
    if (cJSON_IsString(t) && strlen(t->valuestring) < textlen) {
        copy(text, textlen, t->valuestring);
        *has_text = 1;
    }
    const cJSON *d = a->done_field[0] ? json_pointer_get(doc, a->done_field) : NULL;
    if (cJSON_IsBool(d)) {
        *has_done = 1;
        *done = cJSON_IsTrue(d);
    }
    cJSON_Delete(doc);
    return 0;
}
