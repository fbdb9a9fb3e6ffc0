/*
 * mapped_read: reads of the database through SQLite's memory map that fail are turned into an
 * I/O error of that read instead of killing taskd.
 *
 * With a memory map (--mmap-size), SQLite reads pages by touching memory, not with pread(2).
 * When the page cannot be read, because the disk fails (EIO) or the file was truncated under
 * taskd (a backup copied over it in place), the kernel sends SIGBUS, which SQLite cannot catch:
 * by default the process dies, where a pread would have returned an error that taskd answers
 * with 503 and recovers from. So while a thread is inside mapped_read_begin/_end, a SIGBUS on
 * it maps a page of zeros over the page that failed and records the failure; the caller then
 * throws away whatever the statement returned (SQLite may have read the zeros as a corrupt page,
 * or as data) and never uses that connection again: closing it unmaps the zeros too.
 * A SIGBUS anywhere else keeps its default action.
 */
#ifndef TASKD_MAPPED_READ_H
#define TASKD_MAPPED_READ_H

/* Installs the SIGBUS handler (once per process). Returns 0, or -1 with errno. */
int mapped_read_install(void);

/* Brackets SQLite calls on a connection with a memory map, on the calling thread. end returns 1
 * when a mapped page failed to read since begin (then discard the result), else 0. */
void mapped_read_begin(void);
int mapped_read_end(void);

#endif
