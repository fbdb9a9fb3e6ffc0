/*
 * Unit tests for common/wal_file: a -wal written by the real SQLite (a child process commits
 * and exits without closing, as a crash leaves it) is read as SQLite's recovery reads it: every
 * frame, every commit, where recovery stops. A torn frame inside the last transaction, and a
 * file cut inside a frame, are torn; a broken frame right after a commit (what an aborted
 * longer transaction leaves) and frames of an earlier generation are not. The epoch that taskd
 * stamps into the header is found in the last committed frame of page 1. The -shm's index ends
 * at the writer's last commit: a frame cut short past it is a crash's, not a power cut's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wal_file.h"
#include "temp_names.h"

static char dir[64], db[96], wal[104], shm[104];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test-wal-file-" MKSTEMP_SUFFIX);
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof(db), "%s/t.db", dir);
    snprintf(wal, sizeof(wal), "%s/t.db-wal", dir);
    snprintf(shm, sizeof(shm), "%s/t.db-shm", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    static const char *const names[] = {"t.db", "t.db-wal", "t.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

/* A child opens the database in WAL mode, runs `sql` and exits without closing: its -wal stays
 * as a crash leaves it (a close would checkpoint it away). */
static void commit_and_crash(const char *sql)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *h;
        if (sqlite3_open(db, &h) != SQLITE_OK ||
            sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;", NULL, NULL,
                         NULL) != SQLITE_OK ||
            sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void poke(uint64_t off, const char *bytes, size_t n)
{
    int fd = open(wal, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static const char create_sql[] = "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, x);";
static const char three_commits[] = "INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('b');"
                                    "INSERT INTO t(x) VALUES ('c');";

static void test_a_crashed_wal_is_read_as_recovery_reads_it(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, x);"
                     "INSERT INTO t(x) VALUES ('a'); INSERT INTO t(x) VALUES ('b');"
                     "INSERT INTO t(x) VALUES ('c');");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_true(s.header_valid);
    assert_int_equal(s.page_size, 4096);
    assert_int_equal(s.commits, 4); /* the CREATE and three inserts, each its own transaction */
    assert_int_equal(s.last_commit_frame, s.frames);
    assert_int_equal(s.commit_end, (uint64_t)file_size(wal));
    assert_false(s.torn);
    assert_true(s.has_page1);
}

static void test_a_torn_frame_inside_the_last_transaction_is_torn(void **state)
{
    (void)state;
    commit_and_crash(create_sql);
    struct wal_file_scan before;
    assert_int_equal(wal_file_scan_path(wal, &before), 0);
    commit_and_crash(three_commits); /* each insert writes the table and sqlite_sequence */
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_true(s.frames >= before.frames + 6);
    /* Garbage in the page of the last frame (the commit frame of the last insert). */
    uint64_t last = wal_file_frame_offset(&s, s.frames);
    poke(last + WAL_FILE_FRAME_HEADER + 100, "torn by a power cut", 19);
    struct wal_file_scan torn;
    assert_int_equal(wal_file_scan_path(wal, &torn), 0);
    assert_true(torn.torn);
    assert_int_equal(torn.torn_offset, last);
    assert_int_equal(torn.commits, s.commits - 1);
    assert_true(torn.commit_end < last); /* where to cut to accept the loss */
    assert_int_equal(torn.frames, s.frames - 1);
}

static void test_a_file_cut_inside_a_frame_is_torn(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, x);"
                     "INSERT INTO t(x) VALUES ('a');");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    uint64_t last = wal_file_frame_offset(&s, s.frames);
    assert_int_equal(truncate(wal, (off_t)(last + 1000)), 0);
    struct wal_file_scan cut;
    assert_int_equal(wal_file_scan_path(wal, &cut), 0);
    assert_true(cut.torn);
    assert_int_equal(cut.torn_offset, last);
}

static void test_a_broken_frame_right_after_a_commit_is_a_leftover_not_torn(void **state)
{
    (void)state;
    commit_and_crash(create_sql);
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    /* A frame with the current salts and a wrong checksum after the last commit: what an
     * aborted transaction leaves behind when a shorter one overwrote its start. */
    unsigned char frame[WAL_FILE_FRAME_HEADER + 4096];
    memset(frame, 0x5a, sizeof(frame));
    unsigned char hdr[WAL_FILE_HEADER];
    int fd = open(wal, O_RDONLY);
    assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    close(fd);
    memcpy(frame + 8, hdr + 16, 8); /* the salts */
    poke(s.commit_end, (const char *)frame, sizeof(frame));
    struct wal_file_scan after;
    assert_int_equal(wal_file_scan_path(wal, &after), 0);
    assert_false(after.torn);
    assert_int_equal(after.commit_end, s.commit_end);
    /* The same frame with other salts: a frame of an earlier generation. */
    frame[8] ^= 0xff;
    poke(s.commit_end, (const char *)frame, sizeof(frame));
    assert_int_equal(wal_file_scan_path(wal, &after), 0);
    assert_false(after.torn);
}

static void test_the_epoch_of_page_1_is_found(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(x); PRAGMA user_version = 1234567; "
                     "PRAGMA application_id = 7654321;");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_true(s.has_page1);
    assert_int_equal(s.page1_user_version, 1234567);
    assert_int_equal(s.page1_application_id, 7654321);
}

static void test_a_missing_or_empty_wal_is_a_valid_empty_scan(void **state)
{
    (void)state;
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_false(s.header_valid);
    assert_int_equal(s.frames, 0);
    assert_int_equal(s.commit_end, WAL_FILE_HEADER);
    int fd = open(wal, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a wal header at all, really.", 32), 32);
    close(fd);
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_false(s.header_valid);
    assert_false(s.torn);
}

static void test_the_index_of_a_crashed_writer_ends_at_its_last_commit(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(x); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    uint64_t indexed = 0;
    assert_int_equal(wal_file_index_commit_frame(shm, &s, &indexed), 1);
    assert_int_equal(indexed, s.last_commit_frame);
    assert_int_equal(indexed, s.frames);
}

/* What a kill between SQLite's two writes of a frame leaves: the frame's header and part of its
 * page past the last commit. Torn, and the index vouches that it never committed. */
static void test_a_frame_cut_short_past_the_indexed_commit_is_a_crash(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    char part[WAL_FILE_FRAME_HEADER + 1000];
    int fd = open(wal, O_RDONLY);
    assert_int_equal(pread(fd, part, sizeof(part), (off_t)wal_file_frame_offset(&s, s.frames)),
                     (ssize_t)sizeof(part));
    close(fd);
    poke(s.commit_end, part, sizeof(part));
    struct wal_file_scan crashed;
    assert_int_equal(wal_file_scan_path(wal, &crashed), 0);
    assert_true(crashed.torn);
    assert_int_equal(crashed.last_commit_frame, s.last_commit_frame);
    uint64_t indexed = 0;
    assert_int_equal(wal_file_index_commit_frame(shm, &crashed, &indexed), 1);
    assert_int_equal(indexed, crashed.last_commit_frame);
}

/* A power cut inside a committed frame: the index recorded that commit, beyond what survived. */
static void test_a_cut_inside_an_indexed_commit_is_not_a_crash(void **state)
{
    (void)state;
    commit_and_crash("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    struct wal_file_scan s;
    assert_int_equal(wal_file_scan_path(wal, &s), 0);
    assert_int_equal(truncate(wal, (off_t)(wal_file_frame_offset(&s, s.frames) + 1000)), 0);
    struct wal_file_scan cut;
    assert_int_equal(wal_file_scan_path(wal, &cut), 0);
    assert_true(cut.torn);
    uint64_t indexed = 0;
    assert_int_equal(wal_file_index_commit_frame(shm, &cut, &indexed), 1);
    assert_true(indexed > cut.last_commit_frame);
    /* No index, or one of another generation, vouches for nothing. */
    cut.salt1 ^= 1;
    assert_int_equal(wal_file_index_commit_frame(shm, &cut, &indexed), 0);
    assert_int_equal(unlink(shm), 0);
    assert_int_equal(wal_file_index_commit_frame(shm, &s, &indexed), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_crashed_wal_is_read_as_recovery_reads_it),
        T(test_a_torn_frame_inside_the_last_transaction_is_torn),
        T(test_a_file_cut_inside_a_frame_is_torn),
        T(test_a_broken_frame_right_after_a_commit_is_a_leftover_not_torn),
        T(test_the_epoch_of_page_1_is_found),
        T(test_a_missing_or_empty_wal_is_a_valid_empty_scan),
        T(test_the_index_of_a_crashed_writer_ends_at_its_last_commit),
        T(test_a_frame_cut_short_past_the_indexed_commit_is_a_crash),
        T(test_a_cut_inside_an_indexed_commit_is_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
