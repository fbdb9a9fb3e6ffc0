#!/bin/sh
# The taskd image's entrypoint: before taskd starts, checks that its database path is a regular
# file (or absent, in a writable directory) and explains the usual Docker causes when it is not —
# above all a bind mount of a missing host file, which Docker creates as a directory. Then it
# execs the command. Exit 78 (EX_CONFIG) on a bad path, so a restart loop is recognisable.
# Usage: taskd-entrypoint [taskd [OPTIONS]]; any other command is exec'd unchecked.
set -eu

if [ $# -eq 0 ]; then
    set -- taskd
fi
case "$1" in
-*) set -- taskd "$@" ;; # options only: they are taskd's
esac
if [ "$(basename "$1")" != taskd ]; then
    exec "$@"
fi

# The path taskd will open: --db on the command line wins over TASKD_DB, as in taskd itself.
db=${TASKD_DB:-./data/tasks.db}
prev=
for arg in "$@"; do
    case "$arg" in
    --db=*) db=${arg#--db=} ;;
    esac
    if [ "$prev" = --db ]; then
        db=$arg
    fi
    prev=$arg
done

fail() {
    echo "taskd-entrypoint: cannot start taskd: $1" >&2
    exit 78
}

if [ -d "$db" ]; then
    fail "the database path $db is a directory (a Docker bind mount of a missing host file creates one, as does a VOLUME on the file's path); mount the directory that holds the database instead, e.g. ./data:/data, and remove the empty directory on the host"
fi
if [ -e "$db" ] && [ ! -f "$db" ]; then
    fail "the database path $db exists but is not a regular file; point TASKD_DB at a file inside the mounted data directory"
fi
dir=$(dirname "$db")
if [ ! -d "$dir" ]; then
    fail "the directory $dir of the database path $db does not exist; mount the data directory there (e.g. ./data:$dir)"
fi
if [ ! -w "$dir" ] || [ ! -x "$dir" ]; then
    fail "taskd runs as uid $(id -u) and cannot write to $dir (SQLite needs to create $db-wal and $db-shm beside the database); when Docker created the host directory it belongs to root: run 'sudo chown $(id -u):$(id -g) <host directory>', or run the container as the directory's owner (TASKD_UID/TASKD_GID in stack/docker-compose.yml)"
fi
if [ -e "$db" ] && [ ! -w "$db" ]; then
    fail "taskd runs as uid $(id -u) and cannot write to $db; chown it to that uid or run the container as its owner"
fi
exec "$@"
