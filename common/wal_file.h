/*
 * wal_file: reads a SQLite -wal file the way SQLite's recovery does, without SQLite — to tell
 * what recovery would keep and what it would silently drop.
 *
 * A -wal is a 32-byte header (magic, page size, salts, checksum) and frames of 24 bytes plus a
 * page; each frame carries the header's salts and a checksum chained over every frame before
 * it; a frame with a non-zero "database size" field ends (commits) a transaction. Recovery
 * replays frames while the salts match and the chain holds, up to the last commit frame, and
 * drops the rest without a word. A frame of the current salts whose checksum fails, or a frame
 * cut short by the end of the file, is a torn write when it comes inside a transaction (after
 * a frame of the chain that does not commit): a crash or power loss cut the transaction that
 * frame belonged to, and that transaction may have been acknowledged (synchronous=NORMAL
 * acknowledges before the -wal is synced). Right after a commit frame such a frame is what an
 * aborted longer transaction left when a shorter one was written over its start; frames with
 * older salts are the leftovers of an earlier generation. Neither says anything.
 * Format: sqlite.org/fileformat2.html#walformat. Used by taskd (refuse a torn -wal) and chaos
 * (tear one, and find where to cut to accept the loss).
 */
#ifndef TASKBENCH_WAL_FILE_H
#define TASKBENCH_WAL_FILE_H

#include <stdint.h>

#define WAL_FILE_HEADER 32
#define WAL_FILE_FRAME_HEADER 24
#define WAL_FILE_RECENT_COMMITS 4

struct wal_file_scan {
    int header_valid; /* magic, version, page size and header checksum all hold */
    uint32_t page_size;
    uint32_t salt1, salt2;
    uint64_t file_size;
    uint64_t frames;            /* frames of the current chain (salts and checksums hold) */
    uint64_t commits;           /* commit frames among them */
    uint64_t commit_end;        /* byte offset just after the last commit frame of the chain
                                   (WAL_FILE_HEADER when none): what recovery keeps */
    uint64_t last_commit_frame; /* 1-based index of that frame, 0 when none */
    /* The commit frames before it, newest first (0: none): where to tear deeper in a test. */
    uint64_t earlier_commit_frames[WAL_FILE_RECENT_COMMITS];
    int torn;             /* the chain ends in a torn frame of the current salts */
    uint64_t torn_offset; /* where that frame starts */
    /* The last committed frame of page 1, for the epoch check of the database header: its
     * user_version (offset 60) and application_id (offset 68). */
    int has_page1;
    uint32_t page1_user_version, page1_application_id;
};

/* Scans the -wal at `path`. Returns 0 (an empty or missing file is a valid scan with
 * header_valid 0), or a negative errno when it cannot be read. */
int wal_file_scan_path(const char *path, struct wal_file_scan *out);

/* The same over a descriptor (pread only; the offset is not moved). */
int wal_file_scan_fd(int fd, struct wal_file_scan *out);

/* The last commit frame the writer recorded in the -shm's wal-index (SQLite updates it after
 * each commit it writes): a process that crashes leaves it as it was, so a torn frame past it
 * belongs to a transaction that never committed, nothing acknowledged; a power cut that loses a
 * committed frame leaves the index beyond the -wal's last intact commit, or no valid index.
 * Returns 1 and fills `frame` when `shm_path` holds a valid index of this -wal (its salts), 0
 * when it does not (missing, uninitialised, copies that differ, another generation), or a
 * negative errno. */
int wal_file_index_commit_frame(const char *shm_path, const struct wal_file_scan *w,
                                uint64_t *frame);

/* Frame i (1-based) starts at this offset. */
uint64_t wal_file_frame_offset(const struct wal_file_scan *s, uint64_t i);

#endif
