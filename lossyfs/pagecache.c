/*
 * pagecache: unsynced writes per file, in 4 KiB pages (see pagecache.h). A file's pages live in
 * an open-addressing hash table keyed by page number; files are a short list, because SQLite
 * keeps three at most (the database, its -wal and its -shm) and the list is walked per call.
 */
#include "pagecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct page {
    uint64_t no; /* page number; UINT64_MAX marks a free slot */
    unsigned char *data;
};

struct file {
    ino_t ino;
    int fd;      /* dup of the backing descriptor */
    off_t size;  /* as the writer sees it */
    off_t floor; /* backing bytes at or beyond it read as zeros (an unsynced truncation) */
    struct page *slots;
    size_t nslots, npages;
    struct file *next;
};

struct pagecache {
    struct file *files;
};

#define FREE_SLOT UINT64_MAX

struct pagecache *pagecache_new(void)
{
    return calloc(1, sizeof(struct pagecache));
}

static void file_free(struct file *f)
{
    for (size_t i = 0; i < f->nslots; i++)
        free(f->slots[i].data);
    free(f->slots);
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

void pagecache_free(struct pagecache *c)
{
    if (!c)
        return;
    pagecache_drop_all(c, NULL);
    free(c);
}

static struct file *find(const struct pagecache *c, ino_t ino)
{
    for (struct file *f = c->files; f; f = f->next) {
        if (f->ino == ino)
            return f;
    }
    return NULL;
}

static void unlink_file(struct pagecache *c, struct file *f)
{
    for (struct file **p = &c->files; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            return;
        }
    }
}

/* The file's entry, made on its first unsynced change. NULL with errno on failure. */
static struct file *get(struct pagecache *c, ino_t ino, int fd)
{
    struct file *f = find(c, ino);
    if (f)
        return f;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->fd = dup(fd);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    f->ino = ino;
    f->size = f->floor = size;
    f->next = c->files;
    c->files = f;
    return f;
}

static size_t slot_of(const struct file *f, uint64_t no)
{
    return (size_t)(no * 0x9e3779b97f4a7c15ull) & (f->nslots - 1);
}

static struct page *lookup(const struct file *f, uint64_t no)
{
    if (!f->nslots)
        return NULL;
    for (size_t i = slot_of(f, no);; i = (i + 1) & (f->nslots - 1)) {
        if (f->slots[i].no == no)
            return &f->slots[i];
        if (f->slots[i].no == FREE_SLOT)
            return NULL;
    }
}

static int insert(struct file *f, uint64_t no, unsigned char *data);

/* Doubles the table (or makes the first one). Returns 0 or -ENOMEM. */
static int grow(struct file *f)
{
    size_t n = f->nslots ? f->nslots * 2 : 64;
    struct page *old = f->slots;
    size_t old_n = f->nslots;
    f->slots = malloc(n * sizeof(*f->slots));
    if (!f->slots) {
        f->slots = old;
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        f->slots[i] = (struct page){FREE_SLOT, NULL};
    f->nslots = n;
    f->npages = 0;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].no != FREE_SLOT)
            insert(f, old[i].no, old[i].data);
    }
    free(old);
    return 0;
}

static int insert(struct file *f, uint64_t no, unsigned char *data)
{
    if ((f->npages + 1) * 4 > f->nslots * 3 && grow(f) < 0)
        return -ENOMEM;
    size_t i = slot_of(f, no);
    while (f->slots[i].no != FREE_SLOT)
        i = (i + 1) & (f->nslots - 1);
    f->slots[i] = (struct page){no, data};
    f->npages++;
    return 0;
}

/* Rebuilds the table without the pages for which `drop` says so (backward-shift deletion is
 * not worth it: truncation is rare). */
static void remove_pages_from(struct file *f, uint64_t first)
{
    struct page *old = f->slots;
    size_t old_n = f->nslots;
    f->slots = NULL;
    f->nslots = f->npages = 0;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].no == FREE_SLOT)
            continue;
        if (old[i].no >= first || insert(f, old[i].no, old[i].data) < 0)
            free(old[i].data);
    }
    free(old);
}

/* One page as the backing file holds it under the floor, zeros above. */
static int load_backing(const struct file *f, int fd, uint64_t no, unsigned char *out)
{
    memset(out, 0, PAGECACHE_PAGE);
    off_t start = (off_t)(no * PAGECACHE_PAGE);
    if (start >= f->floor)
        return 0;
    size_t want = PAGECACHE_PAGE;
    if (start + (off_t)want > f->floor)
        want = (size_t)(f->floor - start);
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, out + got, want - got, start + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return 0;
}

/* The part of a transfer of `len` bytes at `off` that falls in one page, `done` bytes in. */
struct span {
    uint64_t no;    /* the page */
    size_t in_page; /* where in it */
    size_t n;       /* how many bytes */
};

static struct span span_at(off_t off, size_t done, size_t len)
{
    uint64_t pos = (uint64_t)off + done;
    struct span sp = {pos / PAGECACHE_PAGE, pos % PAGECACHE_PAGE, 0};
    sp.n = PAGECACHE_PAGE - sp.in_page;
    if (sp.n > len - done)
        sp.n = len - done;
    return sp;
}

ssize_t pagecache_write(struct pagecache *c, ino_t ino, int fd, const void *buf, size_t len,
                        off_t off)
{
    if (off < 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    struct file *f = get(c, ino, fd);
    if (!f)
        return -errno;
    const unsigned char *src = buf;
    size_t done = 0;
    while (done < len) {
        struct span sp = span_at(off, done, len);
        uint64_t no = sp.no, pos = (uint64_t)off + done;
        size_t in_page = sp.in_page, n = sp.n;
        struct page *p = lookup(f, no);
        if (!p) {
            unsigned char *data = malloc(PAGECACHE_PAGE);
            int rc = data ? load_backing(f, f->fd, no, data) : -ENOMEM;
            if (rc == 0)
                rc = insert(f, no, data);
            if (rc < 0) {
                free(data);
                return rc; /* pages written before this one stay: a short write */
            }
            p = lookup(f, no);
        }
        memcpy(p->data + in_page, src + done, n);
        done += n;
        if ((off_t)pos + (off_t)n > f->size)
            f->size = (off_t)pos + (off_t)n;
    }
    return (ssize_t)len;
}

ssize_t pagecache_read(struct pagecache *c, ino_t ino, int fd, void *buf, size_t len, off_t off)
{
    struct file *f = find(c, ino);
    if (!f) {
        ssize_t n;
        do
            n = pread(fd, buf, len, off);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
    }
    if (off >= f->size)
        return 0;
    if ((off_t)len > f->size - off)
        len = (size_t)(f->size - off);
    unsigned char *dst = buf, tmp[PAGECACHE_PAGE];
    size_t done = 0;
    while (done < len) {
        struct span sp = span_at(off, done, len);
        uint64_t no = sp.no;
        size_t in_page = sp.in_page, n = sp.n;
        const struct page *p = lookup(f, no);
        if (p) {
            memcpy(dst + done, p->data + in_page, n);
        } else {
            int rc = load_backing(f, f->fd, no, tmp);
            if (rc < 0)
                return rc;
            memcpy(dst + done, tmp + in_page, n);
        }
        done += n;
    }
    return (ssize_t)len;
}

int pagecache_truncate(struct pagecache *c, ino_t ino, int fd, off_t size)
{
    if (size < 0)
        return -EINVAL;
    struct file *f = get(c, ino, fd);
    if (!f)
        return -errno;
    uint64_t keep = ((uint64_t)size + PAGECACHE_PAGE - 1) / PAGECACHE_PAGE;
    remove_pages_from(f, keep);
    if (size % PAGECACHE_PAGE) {
        struct page *p = lookup(f, (uint64_t)size / PAGECACHE_PAGE);
        if (p)
            memset(p->data + size % PAGECACHE_PAGE, 0, PAGECACHE_PAGE - size % PAGECACHE_PAGE);
    }
    f->size = size;
    if (size < f->floor)
        f->floor = size;
    return 0;
}

off_t pagecache_size(const struct pagecache *c, ino_t ino)
{
    const struct file *f = find(c, ino);
    return f ? f->size : -1;
}

static int write_all(int fd, const unsigned char *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int sync_file(struct pagecache *c, struct file *f)
{
    if (ftruncate(f->fd, f->floor) < 0) /* what an unsynced truncation cut off stays cut */
        return -errno;
    for (size_t i = 0; i < f->nslots; i++) {
        const struct page *p = &f->slots[i];
        if (p->no == FREE_SLOT)
            continue;
        off_t start = (off_t)(p->no * PAGECACHE_PAGE);
        if (start >= f->size)
            continue;
        size_t n = PAGECACHE_PAGE;
        if (start + (off_t)n > f->size)
            n = (size_t)(f->size - start);
        int rc = write_all(f->fd, p->data, n, start);
        if (rc < 0)
            return rc;
    }
    if (ftruncate(f->fd, f->size) < 0 || fdatasync(f->fd) < 0)
        return -errno;
    unlink_file(c, f);
    file_free(f);
    return 0;
}

int pagecache_sync(struct pagecache *c, ino_t ino, int fd)
{
    struct file *f = find(c, ino);
    if (!f)
        return fdatasync(fd) < 0 ? -errno : 0;
    return sync_file(c, f);
}

static void count(const struct file *f, struct pagecache_stats *s)
{
    s->files++;
    s->pages += f->npages;
    s->dirty_bytes += (uint64_t)f->npages * PAGECACHE_PAGE;
}

int pagecache_sync_all(struct pagecache *c, struct pagecache_stats *synced)
{
    struct pagecache_stats s = {0, 0, 0};
    int first = 0;
    for (struct file *f = c->files, *next; f; f = next) {
        next = f->next;
        struct pagecache_stats one = {0, 0, 0};
        count(f, &one);
        int rc = sync_file(c, f);
        if (rc < 0 && !first)
            first = rc;
        if (rc == 0) {
            s.files += one.files;
            s.pages += one.pages;
            s.dirty_bytes += one.dirty_bytes;
        }
    }
    if (synced)
        *synced = s;
    return first;
}

void pagecache_drop_all(struct pagecache *c, struct pagecache_stats *lost)
{
    struct pagecache_stats s = {0, 0, 0};
    while (c->files) {
        struct file *f = c->files;
        c->files = f->next;
        count(f, &s);
        file_free(f);
    }
    if (lost)
        *lost = s;
}

void pagecache_stats(const struct pagecache *c, struct pagecache_stats *out)
{
    struct pagecache_stats s = {0, 0, 0};
    for (const struct file *f = c->files; f; f = f->next)
        count(f, &s);
    *out = s;
}
