#!/usr/bin/env python3
"""Samples a process from the outside, for the validator's truth mode: every --interval, one JSON
line with what /proc and statvfs say about the process named by --pid-file, or else the one that
listens on --port (whichever process that is at the moment, so restarts are followed):

  {"t": unix s, "pid": N, "start": unix s, "cpu_s": utime+stime in s, "rss_bytes": N,
   "vsize_bytes": N, "open_fds": N, "max_fds": N, "conns": N, "free_bytes": N, "free_inodes": N}

conns counts the process's TCP sockets on --port that are established or closing (what an HTTP
server still holds); free_bytes is statvfs(--data-dir) f_bavail x f_frsize, free_inodes its
f_favail (0 where the file system does not count inodes). A line without "pid"
says no process was running (or it had exited and waits to be reaped). Runs until --duration
has passed or it is killed.

  proc_sampler.py [--pid-file F] --port P --data-dir D --out FILE [--interval 0.2] [--duration 600]
"""
import argparse
import json
import os
import time

TCP_STATES = {"01", "08", "06", "07", "09", "0B"}  # established, close wait, time wait, close, last ack, closing
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    return 0


def read_pid(path):
    try:
        with open(path) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def tcp_sockets():
    """(local port, state, inode) of every TCP socket of the machine, IPv4 and IPv6."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    yield int(parts[1].split(":")[1], 16), parts[3], parts[9]
        except OSError:
            continue


def listener(port):
    """The pid of the process holding the listening TCP socket on 127.0.0.1/0.0.0.0:port, or None."""
    inodes = {inode for local, state, inode in tcp_sockets() if local == port and state == "0A"}
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def socket_inodes(pid):
    out = set()
    fds = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        fds += 1
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out, fds


def connections(inodes, port):
    return sum(1 for local, state, inode in tcp_sockets() if local == port and state in TCP_STATES and inode in inodes)


def max_fds(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def sample(pid, port, data_dir, btime):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24
    if fields[0] in ("Z", "X"):
        raise ProcessLookupError(pid)  # exited, not yet reaped: no memory, no fds, no process
    utime, stime = int(fields[11]), int(fields[12])
    start = btime + int(fields[19]) / CLK_TCK
    inodes, fds = socket_inodes(pid)
    st = os.statvfs(data_dir)
    return {
        "pid": pid,
        "start": round(start, 3),
        "cpu_s": (utime + stime) / CLK_TCK,
        "vsize_bytes": int(fields[20]),
        "rss_bytes": int(fields[21]) * PAGE,
        "open_fds": fds,
        "max_fds": max_fds(pid),
        "conns": connections(inodes, port),
        "free_bytes": st.f_bavail * st.f_frsize,
        "free_inodes": st.f_favail,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pid-file")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--duration", type=float, default=600)
    args = ap.parse_args()
    btime = boot_time()
    end = time.time() + args.duration
    with open(args.out, "a", buffering=1) as out:
        while time.time() < end:
            t = time.time()
            pid = read_pid(args.pid_file) if args.pid_file else listener(args.port)
            row = {"t": round(t, 4)}
            if pid:
                try:
                    row.update(sample(pid, args.port, args.data_dir, btime))
                except (OSError, ValueError, IndexError):
                    row = {"t": round(t, 4)}  # the process went away (or exited) while it was read
            out.write(json.dumps(row) + "\n")
            time.sleep(max(0.0, t + args.interval - time.time()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
