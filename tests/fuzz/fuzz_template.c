/*
 * fuzz_template: libFuzzer target for loadgen's template compiler and renderer
 * (loadgen/template.c), which read every URL, header and body of a targets file. The input is
 * a template compiled against a small CSV set. When it compiles: a static template renders to
 * its own text; rendering twice from streams in the same state gives the same bytes (only
 * {{randint}} and {{uuid}} draw, from the stream's seeded RNG); and a render that does not fit
 * its buffer leaves the buffer as it was. Plain C17, so it builds with gcc for corpus replay as
 * well as with clang -fsanitize=fuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_template: %s:%d: check failed: %s\n", __FILE__, __LINE__,        \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char rows[] = "id,name,note\n1,ann,\"a \"\"quote\"\"\"\n2,bob,\"two\nlines\"\n";

static void render_into(const struct template *t, uint64_t seed, const struct data_set *d,
                        struct buf *out)
{
    struct template_stream s;
    struct template_vars v;
    template_stream_init(&s, 1, 3, 1, 3, seed, d, "lg-fuzz");
    template_vars_next(&s, &v);
    check(template_render(t, &v, out) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct data_set *d;
    char err[512];
    if (!d && data_parse(&d, rows, sizeof rows - 1, "rows.csv", 0, 1, err, sizeof err) != 0)
        abort();
    struct template *t = NULL;
    if (template_compile(&t, (const char *)data, size, d, "fuzz", err, sizeof err) != 0) {
        check(t == NULL && err[0] != '\0');
        return 0;
    }
    struct buf a, b;
    buf_init(&a, (size_t)1 << 24);
    buf_init(&b, (size_t)1 << 24);
    render_into(t, 42, d, &a);
    render_into(t, 42, d, &b);
    check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    if (template_is_static(t)) {
        size_t n;
        const char *text = template_text(t, &n);
        check(n == a.len && (n == 0 || memcmp(text, a.data, n) == 0));
    }
    template_check_data(t, "\r\n", "fuzz", err, sizeof err); /* any answer, no crash */
    if (a.len > 0) { /* one byte too small: nothing appended */
        struct buf small;
        struct template_stream s;
        struct template_vars v;
        buf_init(&small, a.len - 1 + 2);
        buf_puts(&small, "xy");
        template_stream_init(&s, 1, 3, 1, 3, 42, d, "lg-fuzz");
        template_vars_next(&s, &v);
        check(template_render(t, &v, &small) == -1 && small.len == 2 &&
              memcmp(small.data, "xy", 3) == 0);
        buf_free(&small);
    }
    buf_free(&a);
    buf_free(&b);
    template_free(t);
    return 0;
}
