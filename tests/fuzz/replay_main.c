/*
 * replay_main: runs a libFuzzer target over a saved corpus without libFuzzer, as a TAP test.
 *
 * Usage: fuzz_X_replay DIR|FILE... Every regular file directly inside each DIR (and every FILE)
 * is fed once to LLVMFuzzerTestOneInput, in name order, from a buffer of exactly its size so a
 * sanitized build catches reads past the input. It prints "1..N" and "ok N - <file>" per input;
 * a target that finds a broken invariant aborts: the input it was on is then reported as
 * "not ok" before the process dies, and the suite runner counts the non-zero exit as a failure.
 * An unreadable path is reported as "not ok" too.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    char *path;
    const char *problem; /* NULL, or why the path cannot be replayed */
};

struct input_list {
    struct input *items;
    size_t count, cap;
};

static void add_input(struct input_list *list, const char *dir, const char *name,
                      const char *problem)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? 2 * list->cap : 64;
        list->items = realloc(list->items, list->cap * sizeof(list->items[0]));
        if (!list->items) {
            fprintf(stderr, "replay: out of memory\n");
            exit(2);
        }
    }
    size_t n = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "replay: out of memory\n");
        exit(2);
    }
    if (dir)
        snprintf(path, n, "%s/%s", dir, name);
    else
        snprintf(path, n, "%s", name);
    list->items[list->count].path = path;
    list->items[list->count].problem = problem;
    list->count++;
}

static void add_directory(struct input_list *list, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        add_input(list, NULL, dir, strerror(errno));
        return;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            add_input(list, dir, ent->d_name, NULL);
    }
    closedir(d);
}

/* The TAP line for the input being replayed, written by the SIGABRT handler if it crashes. */
static char crash_line[4200];
static size_t crash_line_len;

static void on_abort(int sig)
{
    ssize_t ignored = write(STDOUT_FILENO, crash_line, crash_line_len);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct input *)a)->path, ((const struct input *)b)->path);
}

/* Reads the whole file into an exactly sized buffer. Returns NULL with errno set on failure. */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) < 0)
        goto out;
    *size = (size_t)st.st_size;
    data = malloc(*size ? *size : 1);
    if (!data)
        goto out;
    if (fread(data, 1, *size, f) != *size) {
        free(data);
        data = NULL;
        errno = EIO;
    }
out:
    fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    struct input_list list = {0};
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0)
            add_input(&list, NULL, argv[i], strerror(errno));
        else if (S_ISDIR(st.st_mode))
            add_directory(&list, argv[i]);
        else
            add_input(&list, NULL, argv[i], NULL);
    }
    signal(SIGABRT, on_abort);
    qsort(list.items, list.count, sizeof(list.items[0]), by_path);
    printf("1..%zu\n", list.count);
    fflush(stdout);
    for (size_t i = 0; i < list.count; i++) {
        const struct input *in = &list.items[i];
        size_t size = 0;
        uint8_t *data = in->problem ? NULL : read_file(in->path, &size);
        if (!data) {
            printf("not ok %zu - %s: %s\n", i + 1, in->path,
                   in->problem ? in->problem : strerror(errno));
        } else {
            int n = snprintf(crash_line, sizeof(crash_line), "not ok %zu - %s: aborted\n", i + 1,
                             in->path);
            crash_line_len = n < 0                            ? 0
                             : (size_t)n < sizeof(crash_line) ? (size_t)n
                                                              : sizeof(crash_line) - 1;
            LLVMFuzzerTestOneInput(data, size);
            printf("ok %zu - %s\n", i + 1, in->path);
            free(data);
        }
        fflush(stdout);
        free(in->path);
    }
    free(list.items);
    return 0;
}
