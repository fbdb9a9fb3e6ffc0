/*
 * port_file: writes a bound port atomically (temporary file + rename). See port_file.h.
 */
#include "port_file.h"

#include <errno.h>
#include <stdio.h>

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
