#!/usr/bin/env bash
# lossyfs mounted for real (FUSE, root): a write is readable at once but survives a "drop" (the
# power cut) only once fsync'ed; renames keep unsynced data with the file; SQLite in WAL mode
# loses committed transactions at a cut under synchronous=NORMAL and none under FULL, which is
# what SQLite's documentation says and what chaos's power-loss scenarios build on; the control
# socket refuses unknown commands; and the mount goes away when lossyfs is stopped.
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
bin="$root/$build/bin/lossyfs"
[ "$(id -u)" -eq 0 ] || tap_skip "mounting a FUSE file system needs root here"
[ -e /dev/fuse ] || tap_skip "/dev/fuse does not exist"
tap_skip_without fusermount3 sqlite3 python3
[ -x "$bin" ] || tap_bail "$bin is not built"
tap_workdir lossyfs
back=$tap_work/back mnt=$tap_work/mnt ctl=$tap_work/ctl
mkdir -p "$back" "$mnt"
unmount() { mountpoint -q "$mnt" && umount -l "$mnt"; }
tap_exit_hooks+=(unmount)

"$bin" --control "$ctl" "$back" "$mnt" >"$tap_work/lossyfs.log" 2>&1 &
fs_pid=$!
tap_pids+=("$fs_pid")
for _ in $(seq 100); do [ -S "$ctl" ] && mountpoint -q "$mnt" && break; sleep 0.05; done
tap_check "mounted, the control socket answers" "$bin" ctl "$ctl" ping

# write DATA to FILE at OFFSET, fsync when the 4th argument is "sync"
pywrite() {
    python3 - "$@" <<'EOF'
import os, sys
path, data, off = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
os.pwrite(fd, data, off)
if len(sys.argv) > 4 and sys.argv[4] == "sync":
    os.fsync(fd)
os.close(fd)
EOF
}

pywrite "$mnt/a" "durable" 0 sync
pywrite "$mnt/a" "+volatile" 7
tap_check "an unsynced write is read back at once" test "$(cat "$mnt/a")" = "durable+volatile"
tap_check "the backing file holds only what was synced" test "$(cat "$back/a")" = "durable"
out=$("$bin" ctl "$ctl" stat)
tap_check "stat counts the unsynced file ($out)" grep -q "in 1 files" <<<"$out"
mv "$mnt/a" "$mnt/b"
"$bin" ctl "$ctl" drop >/dev/null
tap_check "a drop loses the unsynced write, after a rename too" test "$(cat "$mnt/b")" = "durable"

pywrite "$mnt/c" "never synced" 0
"$bin" ctl "$ctl" drop >/dev/null
tap_check "a never-synced file keeps its name (metadata is durable) but no data" \
    test -e "$mnt/c" -a ! -s "$mnt/c"

pywrite "$mnt/d" "flushed" 0
"$bin" ctl "$ctl" flush >/dev/null
"$bin" ctl "$ctl" drop >/dev/null
tap_check "flush makes every write durable" test "$(cat "$mnt/d")" = "flushed"

# SQLite in WAL mode: 50 committed inserts, then a cut.
# A writer that commits 50 rows and waits; the cut comes after a kill -9 (a process does not
# outlive a power cut, and its close would checkpoint and sync even under NORMAL).
sqlite_cut() { # MODE -> rows left after the cut
    local db=$mnt/$1.db fifo=$tap_work/ready.$1 writer
    mkfifo "$fifo"
    python3 - "$db" "$1" "$fifo" <<'EOF' &
import sqlite3, sys, time
path, mode, fifo = sys.argv[1:]
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute(f"PRAGMA synchronous={mode}")
db.execute("CREATE TABLE IF NOT EXISTS t(x)")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the table itself is durable
for i in range(50):
    db.execute("INSERT INTO t VALUES (?)", (i,))
open(fifo, "w").write("committed\n")
time.sleep(60)
EOF
    writer=$!
    read -r _ <"$fifo"
    kill -9 "$writer"
    wait "$writer" 2>/dev/null
    "$bin" ctl "$ctl" drop >/dev/null
    sqlite3 "$db" "SELECT count(*) FROM t" 2>&1
}
normal=$(sqlite_cut NORMAL)
full=$(sqlite_cut FULL)
tap_check "WAL + synchronous=NORMAL: committed rows vanish at a cut (0 of 50 left: $normal)" \
    test "$normal" = 0
tap_check "WAL + synchronous=FULL: every committed row survives a cut (50 of 50: $full)" \
    test "$full" = 50

out=$("$bin" ctl "$ctl" fly 2>&1)
tap_check "an unknown command is refused with the list of commands" \
    grep -q "unknown command 'fly' (drop, flush, stat, ping)" <<<"$out"
out=$("$bin" ctl "$tap_work/nothing" ping 2>&1)
tap_check "a missing socket is one sentence" grep -q "cannot reach lossyfs at" <<<"$out"

kill "$fs_pid"
wait "$fs_pid" 2>/dev/null
tap_check "SIGTERM unmounts" test "$(mountpoint -q "$mnt"; echo $?)" -ne 0
tap_check "and removes the control socket" test ! -e "$ctl"
tap_finish
