/*
 * builtin_experiments: the built-in experiments (see builtin_experiments.h). They are the files
 * of chaos/experiments/, compiled in by the build (scripts/embed_assets.sh), and parsed once, on
 * first use, by the same reader as any file; a built-in that does not parse is a bug of this
 * build, reported once and left out (the tests read every file).
 */
#include "builtin_experiments.h"

#include <stdio.h>
#include <string.h>

#include "chaos_experiments.h"
#include "experiment_file.h"

#define MAX_BUILTINS 64

static struct scenario *builtins[MAX_BUILTINS];
static size_t nbuiltins;
static int loaded;

/* "db-deleted.json" -> "db-deleted" into out. */
static void stem(const char *file, char *out, size_t cap)
{
    size_t n = strlen(file);
    if (n > 5 && strcmp(file + n - 5, ".json") == 0)
        n -= 5;
    snprintf(out, cap, "%.*s", (int)n, file);
}

static void load(void)
{
    if (loaded)
        return;
    loaded = 1;
    for (size_t i = 0; chaos_experiments[i].name && nbuiltins < MAX_BUILTINS; i++) {
        char name[128], err[800];
        stem(chaos_experiments[i].name, name, sizeof(name));
        char source[160];
        snprintf(source, sizeof(source), "built-in %s (chaos/experiments/%s)", name,
                 chaos_experiments[i].name);
        struct experiment_source src = {source, NULL, chaos_experiments[i].data,
                                        chaos_experiments[i].len};
        struct scenario *sc = experiment_file_build(&src, NULL, err, sizeof(err));
        if (!sc)
            fprintf(stderr, "chaos: %s\n", err);
        else
            builtins[nbuiltins++] = sc;
    }
}

size_t builtin_experiments_count(void)
{
    load();
    return nbuiltins;
}

const struct scenario *builtin_experiment_at(size_t i)
{
    load();
    return i < nbuiltins ? builtins[i] : NULL;
}

const struct scenario *builtin_experiment_find(const char *name)
{
    load();
    for (size_t i = 0; name && i < nbuiltins; i++) {
        if (strcmp(builtins[i]->name, name) == 0)
            return builtins[i];
    }
    return NULL;
}

const char *builtin_experiment_text(const char *name, size_t *len)
{
    for (size_t i = 0; name && chaos_experiments[i].name; i++) {
        char stemmed[128];
        stem(chaos_experiments[i].name, stemmed, sizeof(stemmed));
        if (strcmp(stemmed, name) == 0) {
            *len = chaos_experiments[i].len;
            return chaos_experiments[i].data;
        }
    }
    return NULL;
}
