/*
 * wal_file: the -wal scan (see wal_file.h), following SQLite's walIndexRecover(): the header's
 * checksum, then frame by frame the salts and the running checksum, in the byte order the
 * magic number names. One pass, one frame buffer.
 */
#include "wal_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_MAGIC 0x377f0682u
#define WAL_VERSION 3007000u

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* SQLite's walChecksumBytes: pairs of 32-bit words, big-endian when the magic's low bit is
 * set, else little-endian; s0/s1 carry the running sums. */
static void checksum(int big_endian, const unsigned char *p, size_t n, uint32_t s[2])
{
    uint32_t s1 = s[0], s2 = s[1];
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t a = big_endian ? be32(p + i) : le32(p + i);
        uint32_t b = big_endian ? be32(p + i + 4) : le32(p + i + 4);
        s1 += a + s2;
        s2 += b + s1;
    }
    s[0] = s1;
    s[1] = s2;
}

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return (int)got;
        got += (size_t)r;
    }
    return (int)got;
}

uint64_t wal_file_frame_offset(const struct wal_file_scan *s, uint64_t i)
{
    return WAL_FILE_HEADER + (i - 1) * (WAL_FILE_FRAME_HEADER + (uint64_t)s->page_size);
}

/* Reads and checks the header. Returns 1 valid, 0 not a valid header, or a negative errno. */
static int scan_header(int fd, struct wal_file_scan *s, int *big_endian, uint32_t sum[2])
{
    unsigned char h[WAL_FILE_HEADER];
    int n = read_at(fd, h, sizeof(h), 0);
    if (n < 0)
        return n;
    if (n < WAL_FILE_HEADER || (be32(h) & ~1u) != WAL_MAGIC || be32(h + 4) != WAL_VERSION)
        return 0;
    uint32_t page = be32(h + 8);
    if (page < 512 || page > 65536 || (page & (page - 1)))
        return 0;
    *big_endian = be32(h) & 1;
    sum[0] = sum[1] = 0;
    checksum(*big_endian, h, 24, sum);
    if (sum[0] != be32(h + 24) || sum[1] != be32(h + 28))
        return 0;
    s->page_size = page;
    s->salt1 = be32(h + 16);
    s->salt2 = be32(h + 20);
    return 1;
}

int wal_file_scan_fd(int fd, struct wal_file_scan *s)
{
    memset(s, 0, sizeof(*s));
    s->commit_end = WAL_FILE_HEADER;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    s->file_size = (uint64_t)st.st_size;
    int big_endian;
    uint32_t sum[2];
    int rc = scan_header(fd, s, &big_endian, sum);
    if (rc <= 0)
        return rc;
    s->header_valid = 1;
    size_t frame_len = WAL_FILE_FRAME_HEADER + s->page_size;
    unsigned char *frame = malloc(frame_len);
    if (!frame)
        return -ENOMEM;
    uint32_t page1_uv = 0, page1_app = 0;
    int page1_pending = 0;
    for (uint64_t i = 1;; i++) {
        uint64_t off = wal_file_frame_offset(s, i);
        rc = read_at(fd, frame, frame_len, off);
        if (rc < 0)
            goto out;
        if (rc == 0)
            break; /* the end of the file, on a frame boundary */
        int same_salts = rc >= 16 && be32(frame + 8) == s->salt1 && be32(frame + 12) == s->salt2;
        if ((size_t)rc < frame_len) { /* cut short by the end of the file */
            s->torn = rc < 16 || same_salts;
            s->torn_offset = off;
            break;
        }
        uint32_t next[2] = {sum[0], sum[1]};
        checksum(big_endian, frame, 8, next);
        checksum(big_endian, frame + WAL_FILE_FRAME_HEADER, s->page_size, next);
        uint32_t pgno = be32(frame);
        if (!same_salts || pgno == 0 || next[0] != be32(frame + 16) ||
            next[1] != be32(frame + 20)) {
            /* Torn only inside a transaction: after a commit frame, a frame of the same salts
             * that fails the chain is what an aborted longer transaction left when a shorter
             * one overwrote its start (SQLite writes after the last commit again). Older
             * salts: leftovers of an earlier generation. */
            s->torn = same_salts && s->frames > s->last_commit_frame;
            s->torn_offset = off;
            break;
        }
        sum[0] = next[0];
        sum[1] = next[1];
        s->frames = i;
        if (pgno == 1) {
            page1_uv = be32(frame + WAL_FILE_FRAME_HEADER + 60);
            page1_app = be32(frame + WAL_FILE_FRAME_HEADER + 68);
            page1_pending = 1;
        }
        if (be32(frame + 4) != 0) { /* a commit frame */
            if (s->last_commit_frame) {
                memmove(s->earlier_commit_frames + 1, s->earlier_commit_frames,
                        sizeof(s->earlier_commit_frames) - sizeof(s->earlier_commit_frames[0]));
                s->earlier_commit_frames[0] = s->last_commit_frame;
            }
            s->commits++;
            s->last_commit_frame = i;
            s->commit_end = off + frame_len;
            if (page1_pending) {
                s->has_page1 = 1;
                s->page1_user_version = page1_uv;
                s->page1_application_id = page1_app;
                page1_pending = 0;
            }
        }
    }
    rc = 0;
out:
    free(frame);
    return rc;
}

int wal_file_scan_path(const char *path, struct wal_file_scan *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        memset(out, 0, sizeof(*out));
        out->commit_end = WAL_FILE_HEADER;
        return errno == ENOENT ? 0 : -errno;
    }
    int rc = wal_file_scan_fd(fd, out);
    close(fd);
    return rc;
}

/* The wal-index header (SQLite's WalIndexHdr) is written twice at the start of the -shm, in the
 * host's byte order, its checksum over the first 40 bytes; the salts are the -wal header's
 * bytes as they are. */
#define SHM_HEADER 48
#define SHM_MX_FRAME 16
#define SHM_SALTS 32
#define SHM_CHECKSUM 40

static uint32_t host32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

int wal_file_index_commit_frame(const char *shm_path, const struct wal_file_scan *w,
                                uint64_t *frame)
{
    int fd = open(shm_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    unsigned char h[2 * SHM_HEADER];
    int n = read_at(fd, h, sizeof(h), 0);
    close(fd);
    if (n < 0)
        return n;
    const uint16_t one = 1;
    uint32_t sum[2] = {0, 0};
    checksum(*(const unsigned char *)&one == 0, h, SHM_CHECKSUM, sum);
    if (n < (int)sizeof(h) || memcmp(h, h + SHM_HEADER, SHM_HEADER) != 0 ||
        host32(h) != WAL_VERSION || h[12] != 1 || sum[0] != host32(h + SHM_CHECKSUM) ||
        sum[1] != host32(h + SHM_CHECKSUM + 4) || !w->header_valid ||
        be32(h + SHM_SALTS) != w->salt1 || be32(h + SHM_SALTS + 4) != w->salt2)
        return 0;
    *frame = host32(h + SHM_MX_FRAME);
    return 1;
}
