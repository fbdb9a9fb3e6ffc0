/*
 * db_errors: SQLite result code names and classification. See db_errors.h.
 */
#include "db_errors.h"

#include <sqlite3.h>

struct code_name {
    int code;
    const char *name;
};

#define CODE(c)                                                                                    \
    {                                                                                              \
        c, #c                                                                                      \
    }
/* Extended codes first: an exact match wins over the primary fallback. */
static const struct code_name codes[] = {
    CODE(SQLITE_BUSY_SNAPSHOT),
    CODE(SQLITE_BUSY_RECOVERY),
    CODE(SQLITE_READONLY_DBMOVED),
    CODE(SQLITE_READONLY_DIRECTORY),
    CODE(SQLITE_READONLY_RECOVERY),
    CODE(SQLITE_READONLY_CANTINIT),
    CODE(SQLITE_READONLY_ROLLBACK),
    CODE(SQLITE_IOERR_WRITE),
    CODE(SQLITE_IOERR_READ),
    CODE(SQLITE_IOERR_SHORT_READ),
    CODE(SQLITE_IOERR_FSYNC),
    CODE(SQLITE_IOERR_TRUNCATE),
    CODE(SQLITE_IOERR_FSTAT),
    CODE(SQLITE_IOERR_DELETE),
    CODE(SQLITE_IOERR_SHMOPEN),
    CODE(SQLITE_IOERR_SHMSIZE),
    CODE(SQLITE_IOERR_LOCK),
    CODE(SQLITE_IOERR_NOMEM),
    CODE(SQLITE_CANTOPEN_ISDIR),
    CODE(SQLITE_CANTOPEN_NOTEMPDIR),
    CODE(SQLITE_CORRUPT_INDEX),
    CODE(SQLITE_CONSTRAINT_UNIQUE),
    CODE(SQLITE_ERROR),
    CODE(SQLITE_INTERNAL),
    CODE(SQLITE_PERM),
    CODE(SQLITE_ABORT),
    CODE(SQLITE_BUSY),
    CODE(SQLITE_LOCKED),
    CODE(SQLITE_NOMEM),
    CODE(SQLITE_READONLY),
    CODE(SQLITE_INTERRUPT),
    CODE(SQLITE_IOERR),
    CODE(SQLITE_CORRUPT),
    CODE(SQLITE_NOTFOUND),
    CODE(SQLITE_FULL),
    CODE(SQLITE_CANTOPEN),
    CODE(SQLITE_PROTOCOL),
    CODE(SQLITE_EMPTY),
    CODE(SQLITE_SCHEMA),
    CODE(SQLITE_TOOBIG),
    CODE(SQLITE_CONSTRAINT),
    CODE(SQLITE_MISMATCH),
    CODE(SQLITE_MISUSE),
    CODE(SQLITE_NOLFS),
    CODE(SQLITE_AUTH),
    CODE(SQLITE_FORMAT),
    CODE(SQLITE_RANGE),
    CODE(SQLITE_NOTADB),
    {-1, "SQLITE_OTHER"},
};
#undef CODE

#define CODE_COUNT (sizeof(codes) / sizeof(codes[0]))

size_t db_error_slot(int code)
{
    for (size_t i = 0; i < CODE_COUNT - 1; i++) {
        if (codes[i].code == code)
            return i;
    }
    int primary = code & 0xFF;
    if (primary != code)
        return db_error_slot(primary);
    return CODE_COUNT - 1;
}

size_t db_error_slot_count(void)
{
    return CODE_COUNT;
}

const char *db_error_slot_name(size_t slot)
{
    return slot < CODE_COUNT ? codes[slot].name : "SQLITE_OTHER";
}

const char *db_error_name(int code)
{
    return db_error_slot_name(db_error_slot(code));
}

int db_error_is_unavailable(int code)
{
    switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}
