/*
 * port_file: tells another process which port a server bound, when it was started on port 0.
 * The file ("PORT\n") is written to a temporary name and renamed into place, so a reader polling
 * for it never sees it half written; the reader is here too, so both sides agree on the format.
 */
#ifndef TASKBENCH_PORT_FILE_H
#define TASKBENCH_PORT_FILE_H

/* Writes "PORT\n" to `path` atomically. Returns 0, or -1 with errno set (nothing at `path`). */
int port_file_write(const char *path, unsigned port);

/* Reads the port in `path`. Returns it (1..65535), or 0 with errno set: ENOENT while the file
 * is not written yet, EINVAL when it does not hold "PORT\n". A reader polls until it is not 0. */
unsigned port_file_read(const char *path);

#endif
