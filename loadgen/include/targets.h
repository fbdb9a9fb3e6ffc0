/*
 * targets: a workload described as a list of named requests (`--targets FILE`), each a route
 * of its own in every output.
 *
 * Two file formats, told apart by their first line:
 *  - vegeta's HTTP format: "METHOD URL", then header lines "Name: value", then optionally
 *    "@FILE" (the body, read from FILE; a relative name is taken from the targets file's
 *    folder); targets are separated by blank lines or follow each other. Lines starting with #
 *    are comments, except loadgen's directives, which apply to the next target:
 *      # @name login      # @weight 5      # @expect 200,401      # @expect-body "ok":true
 *      # @ledger create
 *  - JSON lines, one object per line: {"name": "login", "method": "POST", "url": "/login",
 *    "headers": {"Content-Type": "application/json"}, "body": "…" or "body_file": "…",
 *    "weight": 5, "expect": "2xx" or [200, 201], "expect_body": "…", "ledger": "create"}.
 * A URL may be relative ("/login"): it is joined to the base URL given on the command line.
 * Templates ({{seq}}, {{uuid}}, …: template.h) may appear in the path and query, the header
 * values and the body; the scheme, host and port are fixed per target.
 *
 * A target without a name gets one from its method and path ("get_users", "post_login"), made
 * unique with a number. Names are 1 to 63 of [A-Za-z0-9_-], so `login.p99<50ms` reads without
 * ambiguity. Each request picks a target at random in proportion to the weights (default 1).
 *
 * The set is a library API: loadgen's CLI and chaos's experiment files build one from text
 * (targets_parse), from one URL (targets_add), then compile it once (targets_compile).
 */
#ifndef LOADGEN_TARGETS_H
#define LOADGEN_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "expect.h"
#include "template.h"

#define TARGETS_MAX 256
#define TARGET_NAME_MAX 64
#define TARGET_METHOD_MAX 24
#define TARGET_HEADERS_MAX 64
#define TARGET_BODY_MAX ((size_t)1 << 30) /* the largest body file: 1 GiB */

enum target_ledger {
    TARGET_LEDGER_NONE,
    TARGET_LEDGER_CREATE,
    TARGET_LEDGER_UPDATE,
    TARGET_LEDGER_DELETE
};

struct target {
    char name[TARGET_NAME_MAX];
    char method[TARGET_METHOD_MAX];
    char *url;       /* as written, relative or not (the route template shown in reports) */
    char *origin;    /* "http://host:port" as written, lower-case scheme */
    char *authority; /* "host:port": the Host header */
    size_t origin_index;
    int tls;                               /* https:// */
    char *path_text;                       /* the request-target template: path and query */
    char *header_text[TARGET_HEADERS_MAX]; /* "Name: value" templates */
    size_t nheaders;
    int has_host_header;
    int has_body;
    char *body_text; /* the body template (or bytes) */
    size_t body_len;
    char *body_source; /* the body file's name, NULL for an inline body */
    unsigned weight;
    struct expect expect;
    int expect_given; /* 0: the run's default rule applies (targets_set_default_expect) */
    enum target_ledger ledger;
    /* After targets_compile(): */
    struct template *path;
    struct template *headers[TARGET_HEADERS_MAX];
    struct template *body;
    int is_static;      /* path, headers and body without any {{ }} */
    char *header_block; /* static headers: every line with its CRLF, joined; else NULL */
    size_t header_block_len;
};

struct target_set {
    struct target *items;
    size_t n;
    char *origins[TARGETS_MAX]; /* distinct origins, in order of first use */
    size_t norigins;
    uint64_t cumulative[TARGETS_MAX]; /* running sums of weights, for targets_pick */
    uint64_t total_weight;
    int compiled;
};

void targets_init(struct target_set *set);
void targets_free(struct target_set *set); /* frees everything; the set can be reused */

/* Parses a targets file's text and appends its targets. `name` is the file's name (for errors),
 * `base_url` joins relative URLs (may be NULL), `base_dir` is where @FILE bodies are looked for
 * (NULL: the working directory). Returns 0, or -1 with one sentence in err naming the line. */
int targets_parse(struct target_set *set, const char *text, size_t len, const char *name,
                  const char *base_url, const char *base_dir, char *err, size_t errlen);

/* targets_parse() of a file, its folder as base_dir. */
int targets_load_file(struct target_set *set, const char *path, const char *base_url, char *err,
                      size_t errlen);

/* Appends one target: name NULL for a derived one; headers "Name: value"; body NULL for none.
 * Used for --raw (one target named "raw") and by programs that build a set. */
int targets_add(struct target_set *set, const char *name, const char *method, const char *url,
                const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                char *err, size_t errlen);

/* Adds header lines to every target that has no header of that name (the CLI's -H). */
int targets_add_common_headers(struct target_set *set, const char *const *headers, size_t n,
                               char *err, size_t errlen);

/* The rule for targets that did not give their own. */
void targets_set_default_expect(struct target_set *set, const struct expect *e);

/* Compiles every template (data may be NULL) and the weights. Returns 0, or -1 with err. */
int targets_compile(struct target_set *set, const struct data_set *data, char *err, size_t errlen);

/* The index of the target with this name, or -1. */
int targets_find(const struct target_set *set, const char *name);

/* A target in proportion to the weights, for a uniform 64-bit random number. */
size_t targets_pick(const struct target_set *set, uint64_t random);

/* 1 when any target is https:// (the run then needs libcurl's transfers). */
int targets_any_tls(const struct target_set *set);

/* 1 when the name can name a target: 1..63 of [A-Za-z0-9_-], not a reserved word. */
int targets_name_valid(const char *name);

const char *targets_ledger_name(enum target_ledger l); /* "create", … or "" */

#endif
