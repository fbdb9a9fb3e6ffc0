/*
 * html_report: the page around a tool's JSON result. See html_report.h.
 *
 * The page is streamed straight to a temporary file (a long run's result can be megabytes, so
 * it is never copied whole into memory) and renamed into place once complete. Everything that
 * is not ours is escaped on the way: the title as HTML text, the data so that no `<` survives.
 */
#include "html_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "atomic_file.h"
#include "version.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A kind ends up in an attribute and picks a renderer: keep it to a plain identifier. */
static int kind_valid(const char *kind)
{
    if (!kind || !*kind || strlen(kind) > 32)
        return 0;
    for (const char *p = kind; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return 0;
    }
    return 1;
}

/* HTML text and attribute values: the five characters that could end or start markup. */
static void put_html_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Inside a script element the HTML parser ends the element at `</script` and changes state at
 * `<!--` followed by `<script`, whatever the JSON means. In valid JSON a `<` can only sit inside
 * a string, where `\u003c` means the same character, so replacing every one keeps the data
 * identical for JSON.parse while leaving the parser nothing to react to. */
static void put_json_for_script(FILE *f, const char *json)
{
    const char *p = json;
    for (;;) {
        const char *lt = strchr(p, '<');
        size_t n = lt ? (size_t)(lt - p) : strlen(p);
        fwrite(p, 1, n, f);
        if (!lt)
            break;
        fputs("\\u003c", f);
        p = lt + 1;
    }
}

static void put_page(FILE *f, const char *title, const char *kind, const char *data_json)
{
    fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"" HTML_REPORT_CSP "\">\n", f);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
    fputs("<meta name=\"generator\" content=\"taskbench ", f);
    put_html_escaped(f, taskbench_version());
    fputs("\">\n<title>", f);
    put_html_escaped(f, title);
    fputs("</title>\n<style>\n", f);
    fwrite(asset_report_css, 1, asset_report_css_len, f);
    fprintf(f, "</style>\n</head>\n<body data-kind=\"%s\">\n<header class=\"page-head\"><h1>",
            kind);
    put_html_escaped(f, title);
    fputs("</h1></header>\n<main id=\"report\"></main>\n", f);
    fputs("<noscript><p class=\"error-box\">This report draws its charts with JavaScript; "
          "enable it to see them. The raw result is embedded in the page source.</p></noscript>\n",
          f);
    fputs("<script type=\"application/json\" id=\"data\">", f);
    put_json_for_script(f, data_json);
    fputs("</script>\n<script>\n", f);
    fwrite(asset_report_js, 1, asset_report_js_len, f);
    fputs("</script>\n</body>\n</html>\n", f);
}

int html_report_write(const char *path, const char *title, const char *kind, const char *data_json,
                      char *err, size_t errlen)
{
    struct atomic_file af;
    if (!path || !*path || !data_json) {
        set_err(err, errlen, "cannot write HTML report: no output path or no data was given");
        return -1;
    }
    if (!kind_valid(kind)) {
        set_err(err, errlen,
                "cannot write HTML report %s: report kind \"%s\" is not a plain lowercase name",
                path, kind ? kind : "(null)");
        return -1;
    }
    if (atomic_file_open(&af, path)) {
        set_err(err, errlen,
                "cannot write HTML report %s: %s (check that the directory exists and is "
                "writable)",
                path, strerror(errno));
        return -1;
    }
    put_page(af.f, title ? title : "taskbench report", kind, data_json);
    int rc = atomic_file_commit(&af);
    if (rc == ATOMIC_FILE_WRITE_FAILED) {
        set_err(err, errlen, "cannot write HTML report %s: %s (check the free space on its disk)",
                path, strerror(errno));
        return -1;
    }
    if (rc) {
        set_err(err, errlen,
                "cannot write HTML report %s: renaming the finished page into place failed: %s",
                path, strerror(errno));
        return -1;
    }
    return 0;
}
