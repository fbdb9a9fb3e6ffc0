/*
 * cleanup_record: what chaos has mounted, attached or started, written down in the work
 * directory (WORK/.chaos-cleanup) before it is done, so that a chaos killed with SIGKILL
 * leaves nothing behind for long: the next `chaos run` on that work directory, or
 * `chaos cleanup --work-dir WORK`, reads the record and undoes each line — a lazy unmount, a
 * loop device detached, a helper process killed (only when /proc says it is still the program
 * that was started, so a reused pid is never hit).
 *
 * When chaos starts its children itself it also keeps them in a private mount namespace and
 * ties them to its life (PR_SET_PDEATHSIG), so most of the time the record finds nothing left;
 * it is the belt to those braces, and the only net when a namespace could not be made.
 */
#ifndef CHAOS_CLEANUP_RECORD_H
#define CHAOS_CLEANUP_RECORD_H

#include <stddef.h>
#include <sys/types.h>

#define CLEANUP_RECORD_NAME ".chaos-cleanup"

/* Sets the work directory whose record the calls below append to (realpath). */
void cleanup_record_open(const char *work);

/* Appends one resource; each returns 0 or -1 (the record could not be written: the caller
 * should not make the resource). */
int cleanup_record_mount(const char *path);
int cleanup_record_loop(const char *device, const char *backing_file);
int cleanup_record_process(pid_t pid, const char *exe_name);

/* Undoes every line of WORK's record, newest first, then removes it. Prints one line per
 * action to `log` (may be NULL). Returns the number of resources that were still there. */
int cleanup_record_undo(const char *work, void (*log)(const char *line));

/* Removes the record (after an orderly end, when everything was undone). */
void cleanup_record_clear(void);

#endif
