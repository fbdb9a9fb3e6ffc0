/*
 * pagecache: the writes a disk has not made durable yet, held in memory per file.
 *
 * A write lands here, not in the backing file; a read sees it over the backing file; an fsync
 * (or fdatasync) of a file writes its pages to the backing file, sets its size and syncs it.
 * Until then the backing file keeps what the last sync left, so dropping the cache is exactly a
 * power cut: every write since a file's last sync vanishes, every synced one stays. This is the
 * model of Jepsen's lazyfs (a FUSE file system with its own page cache), reduced to what SQLite
 * does with its files: pread, pwrite, ftruncate, fsync/fdatasync. A file with unsynced writes
 * keeps a duplicate of its backing descriptor until it is synced or dropped, so a file unlinked
 * meanwhile can still be synced, as on a real disk.
 *
 * Files are keyed by the backing file's inode, so a rename keeps a file's unsynced writes with
 * it. Bytes of the backing file beyond a truncation that is not synced yet read as zeros (the
 * `floor`). Not thread-safe: the caller serialises every call (lossyfs holds one mutex).
 */
#ifndef LOSSYFS_PAGECACHE_H
#define LOSSYFS_PAGECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGECACHE_PAGE 4096

struct pagecache;

struct pagecache_stats {
    uint64_t files;       /* files with unsynced writes */
    uint64_t pages;       /* dirty pages held */
    uint64_t dirty_bytes; /* bytes written since the last sync, counted by page */
};

/* Returns a new empty cache, or NULL when out of memory. Free it with pagecache_free(). */
struct pagecache *pagecache_new(void);
void pagecache_free(struct pagecache *c);

/* Writes `len` bytes at `off` of the file with inode `ino`, whose backing descriptor is `fd`
 * (read for pages not cached yet). Returns len, or a negative errno (nothing changed). */
ssize_t pagecache_write(struct pagecache *c, ino_t ino, int fd, const void *buf, size_t len,
                        off_t off);

/* Reads up to `len` bytes at `off`: cached pages over the backing file, cut at the file's size
 * as the writer sees it. Returns the byte count (0 at the end), or a negative errno. */
ssize_t pagecache_read(struct pagecache *c, ino_t ino, int fd, void *buf, size_t len, off_t off);

/* Sets the size (ftruncate) without touching the backing file. Returns 0 or a negative errno. */
int pagecache_truncate(struct pagecache *c, ino_t ino, int fd, off_t size);

/* The size the writer sees, or -1 when the file has nothing unsynced (then stat the backing
 * file). */
off_t pagecache_size(const struct pagecache *c, ino_t ino);

/* Writes the file's pages and size to the backing file and fdatasyncs it. Returns 0, or a
 * negative errno (the pages stay cached: nothing was acknowledged as durable). */
int pagecache_sync(struct pagecache *c, ino_t ino, int fd);

/* pagecache_sync() of every file (each keeps a duplicate of the descriptor it was first written
 * through). Returns 0, or the first negative errno (the files that failed stay cached). */
int pagecache_sync_all(struct pagecache *c, struct pagecache_stats *synced);

/* Forgets every unsynced write of every file: the power cut. Fills `lost` (may be NULL) with
 * what was dropped. */
void pagecache_drop_all(struct pagecache *c, struct pagecache_stats *lost);

void pagecache_stats(const struct pagecache *c, struct pagecache_stats *out);

#endif
