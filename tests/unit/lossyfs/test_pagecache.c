/*
 * Unit tests for lossyfs/pagecache: the unsynced writes of lossyfs's power cut. A write is seen
 * by reads at once but reaches the backing file only at a sync; a drop forgets exactly what was
 * not synced; truncations follow the same rule. The last test runs random operations against
 * two models — what the writer must read, and what the disk must hold after a cut — and
 * compares both byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagecache.h"
#include "temp_names.h"

struct fixture {
    char path[64];
    int fd;
    ino_t ino;
    struct pagecache *c;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/test-pagecache-" MKSTEMP_SUFFIX);
    f->fd = mkstemp(f->path);
    struct stat st;
    fstat(f->fd, &st);
    f->ino = st.st_ino;
    f->c = pagecache_new();
    *state = f;
    return f->fd < 0 || !f->c;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pagecache_free(f->c);
    close(f->fd);
    unlink(f->path);
    free(f);
    return 0;
}

static off_t backing_size(const struct fixture *f)
{
    struct stat st;
    fstat(f->fd, &st);
    return st.st_size;
}

static void test_a_write_is_read_back_but_not_on_disk_until_synced(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "hello", 5, 0), 5);
    char buf[16] = "";
    assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(pagecache_size(f->c, f->ino), 5);
    assert_int_equal(backing_size(f), 0);
    assert_int_equal(pagecache_sync(f->c, f->ino, f->fd), 0);
    assert_int_equal(backing_size(f), 5);
    assert_int_equal(pread(f->fd, buf, 5, 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(pagecache_size(f->c, f->ino), -1); /* nothing unsynced any more */
}

static void test_a_drop_loses_exactly_the_unsynced_writes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "synced", 6, 0), 6);
    assert_int_equal(pagecache_sync(f->c, f->ino, f->fd), 0);
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "SY", 2, 0), 2);
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "+more", 5, 6), 5);
    char buf[16] = "";
    assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, sizeof(buf), 0), 11);
    assert_memory_equal(buf, "SYnced+more", 11);
    struct pagecache_stats lost;
    pagecache_drop_all(f->c, &lost);
    assert_int_equal(lost.files, 1);
    assert_int_equal(lost.pages, 1);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, sizeof(buf), 0), 6);
    assert_memory_equal(buf, "synced", 6);
}

static void test_an_unsynced_truncation_is_undone_by_a_drop(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(pwrite(f->fd, "0123456789", 10, 0), 10);
    assert_int_equal(pagecache_truncate(f->c, f->ino, f->fd, 4), 0);
    assert_int_equal(pagecache_size(f->c, f->ino), 4);
    /* Growing again reads zeros where the truncation cut, not the old bytes. */
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "Z", 1, 8), 1);
    char buf[16];
    assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, sizeof(buf), 0), 9);
    assert_memory_equal(buf, "0123\0\0\0\0Z", 9);
    pagecache_drop_all(f->c, NULL);
    assert_int_equal(backing_size(f), 10);
    assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, sizeof(buf), 0), 10);
    assert_memory_equal(buf, "0123456789", 10);
}

static void test_a_synced_truncation_reaches_the_disk(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(pwrite(f->fd, "0123456789", 10, 0), 10);
    assert_int_equal(pagecache_truncate(f->c, f->ino, f->fd, 3), 0);
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, "xy", 2, 5), 2);
    assert_int_equal(pagecache_sync(f->c, f->ino, f->fd), 0);
    char buf[16];
    assert_int_equal(backing_size(f), 7);
    assert_int_equal(pread(f->fd, buf, 7, 0), 7);
    assert_memory_equal(buf, "012\0\0xy", 7);
}

static void test_writes_across_pages_and_sync_all(void **state)
{
    struct fixture *f = *state;
    size_t len = 3 * PAGECACHE_PAGE + 100;
    unsigned char *data = malloc(len), *back = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7);
    assert_int_equal(pagecache_write(f->c, f->ino, f->fd, data, len, 1000), (ssize_t)len);
    struct pagecache_stats s;
    pagecache_stats(f->c, &s);
    assert_int_equal(s.files, 1);
    assert_int_equal(s.pages, 4); /* bytes 1000 .. 13388 touch pages 0..3 */
    assert_int_equal(pagecache_sync_all(f->c, &s), 0);
    assert_int_equal(s.pages, 4);
    assert_int_equal(backing_size(f), (off_t)(1000 + len));
    assert_int_equal(pread(f->fd, back, len, 1000), (ssize_t)len);
    assert_memory_equal(back, data, len);
    pagecache_stats(f->c, &s);
    assert_int_equal(s.files, 0);
    free(data);
    free(back);
}

/* Random pwrite/ftruncate/fsync/drop against two models, as SQLite's files see them. */
static void test_random_operations_match_the_model(void **state)
{
    struct fixture *f = *state;
    enum { CAP = 6 * PAGECACHE_PAGE };
    static unsigned char seen[CAP], disk[CAP], buf[CAP];
    size_t seen_len = 0, disk_len = 0;
    unsigned seed = 12345;
    for (int step = 0; step < 3000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned op = (seed >> 16) % 10;
        if (op < 6) { /* write */
            size_t off = (seed >> 4) % (CAP / 2), len = 1 + (seed >> 8) % (CAP / 3);
            unsigned char fill = (unsigned char)step;
            memset(buf, fill, len);
            assert_int_equal(pagecache_write(f->c, f->ino, f->fd, buf, len, (off_t)off),
                             (ssize_t)len);
            if (off > seen_len)
                memset(seen + seen_len, 0, off - seen_len);
            memset(seen + off, fill, len);
            if (off + len > seen_len)
                seen_len = off + len;
        } else if (op == 6) { /* truncate */
            size_t to = (seed >> 5) % CAP;
            assert_int_equal(pagecache_truncate(f->c, f->ino, f->fd, (off_t)to), 0);
            if (to > seen_len)
                memset(seen + seen_len, 0, to - seen_len);
            seen_len = to;
        } else if (op == 7) { /* sync */
            assert_int_equal(pagecache_sync(f->c, f->ino, f->fd), 0);
            memcpy(disk, seen, seen_len);
            disk_len = seen_len;
        } else if (op == 8) { /* power cut */
            pagecache_drop_all(f->c, NULL);
            memcpy(seen, disk, disk_len);
            seen_len = disk_len;
        }
        /* op 9: only the checks */
        memset(buf, 0xAA, sizeof(buf));
        assert_int_equal(pagecache_read(f->c, f->ino, f->fd, buf, CAP, 0), (ssize_t)seen_len);
        assert_memory_equal(buf, seen, seen_len);
        assert_int_equal(backing_size(f), (off_t)disk_len);
        assert_int_equal(pread(f->fd, buf, CAP, 0), (ssize_t)disk_len);
        assert_memory_equal(buf, disk, disk_len);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_write_is_read_back_but_not_on_disk_until_synced),
        T(test_a_drop_loses_exactly_the_unsynced_writes),
        T(test_an_unsynced_truncation_is_undone_by_a_drop),
        T(test_a_synced_truncation_reaches_the_disk),
        T(test_writes_across_pages_and_sync_all),
        T(test_random_operations_match_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
