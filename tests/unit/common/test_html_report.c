/*
 * Unit tests for common/html_report: the page carries the no-network policy and both inlined
 * assets, nothing in the data or the title can end an element or start markup, the file is
 * replaced atomically, and failures say which path failed without leaving files behind.
 * `test_html_report render KIND TITLE IN.json OUT.html` renders a page from a JSON file instead
 * (tests/loadgen/test_html_report.sh uses it to draw the fixture in a real browser).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "html_report.h"
#include "temp_names.h"

struct fixture {
    char dir[256];
    char path[512];
    char *page;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    snprintf(f.dir, sizeof(f.dir), "/tmp/test_html_report." MKSTEMP_SUFFIX);
    if (!mkdtemp(f.dir))
        return -1;
    snprintf(f.path, sizeof(f.path), "%s/report.html", f.dir);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->page);
    f->page = NULL;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        char p[800];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
            if (remove(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    return 0;
}

/* The whole file, NUL-terminated; NULL when it cannot be read. The caller frees it. */
static char *read_file(const char *path)
{
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto out;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
        goto out;
    }
    if (data)
        data[n] = '\0';
out:
    fclose(f);
    return data;
}

/* Writes a page to the fixture's path and reads it back into f->page. */
static void write_page(struct fixture *f, const char *title, const char *json)
{
    char err[512] = "";
    int rc = html_report_write(f->path, title, "loadgen", json, err, sizeof(err));
    if (rc != 0)
        fail_msg("html_report_write failed: %s", err);
    free(f->page);
    f->page = read_file(f->path);
    assert_non_null(f->page);
}

/* The text between the opening data tag and the next "</script". */
static char *data_section(const char *page)
{
    const char *open = "<script type=\"application/json\" id=\"data\">";
    const char *start = strstr(page, open);
    assert_non_null(start);
    start += strlen(open);
    const char *end = strstr(start, "</script");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_html_report_page_carries_policy_assets_and_data(void **state)
{
    struct fixture *f = *state;
    write_page(f, "Load test", "{\"schema\":\"taskbench.loadgen.result\"}");
    assert_memory_equal(f->page, "<!doctype html>\n", 16);
    assert_non_null(strstr(f->page, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(f->page,
                           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                           "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                           "img-src data:; base-uri 'none'; form-action 'none'\">"));
    assert_non_null(strstr(f->page, "<body data-kind=\"loadgen\">"));
    assert_non_null(strstr(f->page, asset_report_css));
    assert_non_null(strstr(f->page, asset_report_js));
    char *data = data_section(f->page);
    assert_string_equal(data, "{\"schema\":\"taskbench.loadgen.result\"}");
    free(data);
    /* exactly two script elements: the data and report.js */
    int scripts = 0;
    for (const char *p = f->page; (p = strstr(p, "<script")) != NULL; p++)
        scripts++;
    assert_int_equal(scripts, 2);
}

/* Every src= or href= in the page points nowhere outside it: no http(s):, no //host. */
static void test_html_report_page_links_nothing_external(void **state)
{
    struct fixture *f = *state;
    write_page(f, "r", "{\"target\":\"http://127.0.0.1:5000\"}");
    const char *attrs[] = {"src=", "href="};
    int seen_data = 0;
    for (size_t a = 0; a < 2; a++) {
        for (const char *p = f->page; (p = strcasestr(p, attrs[a])) != NULL; p++) {
            const char *v = p + strlen(attrs[a]);
            if (*v == '"' || *v == '\'')
                v++;
            assert_false(strncasecmp(v, "http:", 5) == 0 || strncasecmp(v, "https:", 6) == 0 ||
                         strncmp(v, "//", 2) == 0);
        }
    }
    /* the URL in the data is there, but only as JSON text */
    char *data = data_section(f->page);
    seen_data = strstr(data, "http://127.0.0.1:5000") != NULL;
    free(data);
    assert_true(seen_data);
    assert_null(strcasestr(f->page, "<link"));
    assert_null(strcasestr(f->page, "@import"));
}

static void test_html_report_data_cannot_close_its_script_element(void **state)
{
    struct fixture *f = *state;
    const char *json = "{\"task\":\"</script><script>alert(1)</script>\",\"url\":\"<!--<script>\","
                       "\"upper\":\"</SCRIPT >\"}";
    write_page(f, "r", json);
    char *data = data_section(f->page);
    assert_string_equal(data,
                        "{\"task\":\"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\","
                        "\"url\":\"\\u003c!--\\u003cscript>\",\"upper\":\"\\u003c/SCRIPT >\"}");
    /* and it still means the same to a JSON parser */
    cJSON *doc = cJSON_Parse(data);
    free(data);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "task")->valuestring,
                        "</script><script>alert(1)</script>");
    assert_string_equal(cJSON_GetObjectItem(doc, "url")->valuestring, "<!--<script>");
    assert_string_equal(cJSON_GetObjectItem(doc, "upper")->valuestring, "</SCRIPT >");
    cJSON_Delete(doc);
    assert_null(strstr(f->page, "alert(1)</script>"));
}

static void test_html_report_title_is_html_escaped(void **state)
{
    struct fixture *f = *state;
    write_page(f, "<b>\"run\" & 'co'</b></title><script>", "{}");
    const char *escaped = "&lt;b&gt;&quot;run&quot; &amp; &#39;co&#39;&lt;/b&gt;&lt;/title&gt;"
                          "&lt;script&gt;";
    char want[256];
    snprintf(want, sizeof(want), "<title>%s</title>", escaped);
    assert_non_null(strstr(f->page, want));
    snprintf(want, sizeof(want), "<h1>%s</h1>", escaped);
    assert_non_null(strstr(f->page, want));
    assert_null(strstr(f->page, "<b>"));
}

static void test_html_report_missing_directory_fails_naming_the_path(void **state)
{
    struct fixture *f = *state;
    char path[600], want[800], err[512] = "";
    snprintf(path, sizeof(path), "%s/no-such-dir/report.html", f->dir);
    assert_int_equal(html_report_write(path, "r", "loadgen", "{}", err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "cannot write HTML report %s: No such file or directory (check that the directory "
             "exists and is writable)",
             path);
    assert_string_equal(err, want);
    assert_int_equal(count_entries(f->dir), 0);
}

static void test_html_report_replaces_existing_file_and_leaves_no_temp(void **state)
{
    struct fixture *f = *state;
    write_page(f, "first", "{\"n\":1}");
    write_page(f, "second", "{\"n\":2}");
    assert_non_null(strstr(f->page, "<title>second</title>"));
    char *data = data_section(f->page);
    assert_string_equal(data, "{\"n\":2}");
    free(data);
    assert_int_equal(count_entries(f->dir), 1);
}

/* A directory in the way: the rename fails, the temporary page is removed, the directory stays. */
static void test_html_report_directory_at_path_fails_and_cleans_up(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", want[800];
    assert_int_equal(mkdir(f->path, 0755), 0);
    assert_int_equal(html_report_write(f->path, "r", "loadgen", "{}", err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "cannot write HTML report %s: renaming the finished page into place failed: Is a "
             "directory",
             f->path);
    assert_string_equal(err, want);
    assert_int_equal(count_entries(f->dir), 1);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_html_report_rejects_kind_that_is_not_a_plain_name(void **state)
{
    struct fixture *f = *state;
    char err[512] = "", want[800];
    assert_int_equal(html_report_write(f->path, "r", "load\"gen", "{}", err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "cannot write HTML report %s: report kind \"load\"gen\" is not a plain lowercase name",
             f->path);
    assert_string_equal(err, want);
    assert_int_equal(html_report_write(f->path, "r", "", "{}", err, sizeof(err)), -1);
    assert_int_equal(count_entries(f->dir), 0);
}

static void test_html_report_rejects_missing_data(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    assert_int_equal(html_report_write(f->path, "r", "loadgen", NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot write HTML report: no output path or no data was given");
    assert_int_equal(count_entries(f->dir), 0);
}

/* The assets are inlined raw: none may contain what would end their element early. */
static void test_html_report_assets_cannot_end_their_elements(void **state)
{
    (void)state;
    assert_true(asset_report_js_len > 1000);
    assert_true(asset_report_css_len > 500);
    assert_null(strcasestr(asset_report_js, "</script"));
    assert_null(strstr(asset_report_js, "<!--"));
    assert_null(strcasestr(asset_report_css, "</style"));
}

/* `render KIND TITLE IN.json OUT.html`: one page from a file, for the browser tests. */
static int render(const char *kind, const char *title, const char *in, const char *out)
{
    char err[512] = "";
    char *json = read_file(in);
    if (!json) {
        fprintf(stderr, "test_html_report: cannot read %s: %s\n", in, strerror(errno));
        return 1;
    }
    int rc = html_report_write(out, title, kind, json, err, sizeof(err));
    free(json);
    if (rc != 0) {
        fprintf(stderr, "test_html_report: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "render") == 0)
        return render(argv[2], argv[3], argv[4], argv[5]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_html_report_page_carries_policy_assets_and_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_html_report_page_links_nothing_external, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_html_report_data_cannot_close_its_script_element,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_title_is_html_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_missing_directory_fails_naming_the_path,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_replaces_existing_file_and_leaves_no_temp,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_directory_at_path_fails_and_cleans_up,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_rejects_kind_that_is_not_a_plain_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_report_rejects_missing_data, setup, teardown),
        cmocka_unit_test(test_html_report_assets_cannot_end_their_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
