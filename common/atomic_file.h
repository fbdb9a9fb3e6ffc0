/*
 * atomic_file: writes a file so that a reader sees either nothing (or the old file) or all of
 * the new one, never half of it: the content goes to a fresh temporary file beside the path
 * (same directory, so rename() is atomic) and is renamed into place once complete. Used for
 * results other processes poll for (loadgen's JSON, read by a merge step) and for reports.
 */
#ifndef TASKBENCH_ATOMIC_FILE_H
#define TASKBENCH_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

struct atomic_file {
    FILE *f; /* write the content here */
    char tmp[4096];
    const char *path;
};

/* Creates the temporary file for `path`. Returns 0, or -1 with errno set (nothing created). */
int atomic_file_open(struct atomic_file *af, const char *path);

enum { ATOMIC_FILE_WRITE_FAILED = -1, ATOMIC_FILE_RENAME_FAILED = -2 };

/* Closes the temporary file and renames it to the path. Returns 0, or with errno set
 * ATOMIC_FILE_WRITE_FAILED (a write or the close failed: a full disk) or
 * ATOMIC_FILE_RENAME_FAILED (say, a directory at the path); the temporary file is removed then. */
int atomic_file_commit(struct atomic_file *af);

#endif
