/*
 * port_file: tells another process which port a server bound, when it was started on port 0.
 * The file is written to a temporary name and renamed into place, so a reader polling for it
 * never sees it half written.
 */
#ifndef TASKBENCH_PORT_FILE_H
#define TASKBENCH_PORT_FILE_H

/* Writes "PORT\n" to `path` atomically. Returns 0, or -1 with errno set (nothing at `path`). */
int port_file_write(const char *path, unsigned port);

#endif
