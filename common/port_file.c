/*
 * port_file: writes a bound port atomically (temporary file + rename) and reads it back. See
 * port_file.h.
 */
#include "port_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int port_file_write(const char *path, unsigned port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%u\n", port) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) < 0) {
        int saved = errno;
        remove(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

unsigned port_file_read(const char *path)
{
    char text[16];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    char *end;
    long port = strtol(text, &end, 10);
    if (end == text || text[0] < '0' || text[0] > '9' || strcmp(end, "\n") != 0 || port < 1 ||
        port > 65535) {
        errno = EINVAL;
        return 0;
    }
    return (unsigned)port;
}
