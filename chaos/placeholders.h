/*
 * placeholders: the {names} an experiment file may write in the service's command, URL, paths,
 * environment and a fault's parameters, which chaos fills in once the experiment's directory
 * and the service's port are known: {port}, {port_file}, {dir}, {data_dir}, {db}, {file_dir},
 * {work}. "{{" and "}}" stand for literal braces. A name chaos does not know is an error when
 * the file is read, not a surprise at run time.
 */
#ifndef CHAOS_PLACEHOLDERS_H
#define CHAOS_PLACEHOLDERS_H

#include <stddef.h>

struct placeholders {
    unsigned port;         /* 0 until known */
    const char *port_file; /* where a service that picks its own port writes it */
    const char *dir;       /* the experiment's directory, WORK/NAME */
    const char *data_dir;  /* the service's data directory */
    const char *db;        /* the service's database */
    const char *file_dir;  /* the folder of the file that described it (NULL: a built-in) */
    const char *work;      /* the work directory */
};

/* Checks that every {name} in text is known, and that braces are balanced. Returns 0, or -1
 * with a sentence in err naming the placeholder and listing the known ones. */
int placeholders_check(const char *text, char *err, size_t errlen);

/* 1 when text uses {name} (name without braces). */
int placeholders_uses(const char *text, const char *name);

/* Writes text with every placeholder filled into out. Returns 0, or -1 with a sentence in err
 * (a value not known here, e.g. {file_dir} of a built-in, or out too small). */
int placeholders_expand(const char *text, const struct placeholders *p, char *out, size_t cap,
                        char *err, size_t errlen);

#endif
