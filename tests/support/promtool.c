/*
 * promtool: `promtool check metrics` on a string, through a temporary file. See promtool.h.
 */
#include "promtool.h"
#include "temp_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int promtool_installed(void)
{
    return access(PROMTOOL_PATH, X_OK) == 0;
}

int promtool_check_metrics(const char *text, size_t len, char *report, size_t report_len)
{
    int rc = -1;
    char path[] = "/tmp/promtool-input." MKSTEMP_SUFFIX;
    report[0] = '\0';
    if (access(PROMTOOL_PATH, X_OK) != 0) {
        snprintf(report, report_len, "%s is not installed (make deps)", PROMTOOL_PATH);
        return -1;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(report, report_len, "cannot create a temporary file");
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        snprintf(report, report_len, "cannot write %s", path);
        goto out;
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", PROMTOOL_PATH, path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(report, report_len, "cannot run %s", PROMTOOL_PATH);
        goto out;
    }
    size_t n = fread(report, 1, report_len - 1, p);
    report[n] = '\0';
    int status = pclose(p);
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
out:
    unlink(path);
    return rc;
}
