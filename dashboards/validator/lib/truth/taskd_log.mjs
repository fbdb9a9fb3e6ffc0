// taskd_log: what taskd's JSON log says happened — every request (one line each, written at its
// end), every process (from its start-up lines to "stopped", or to its last line when killed),
// every change of the database's state and every database it created.
//
// The log is written by taskd itself, but by a different path than its metrics (the request line
// is written after the counters are incremented, in the same thread, microseconds apart), so it
// is the record the metrics are checked against. Timestamps have millisecond precision.

const STARTUP = new Set([
  'created the database directory', 'created a new empty database', 'database available', 'database unavailable',
  'cannot start', 'database fault detection is off (--unsafe-no-fault-detection), for demonstrations only', 'sqlite diagnostic',
]);

// taskd's method label: the known methods, everything else "other".
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function methodLabel(raw) {
  return METHODS.has(raw) ? raw : 'other';
}

// SQLite result code names as taskd exports them (db_errors.c uses sqlite3's names; extended codes
// keep their own). The persistence-fault ones, primary and extended.
const SQLITE_NAMES = {
  1: 'SQLITE_ERROR', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 8: 'SQLITE_READONLY', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 26: 'SQLITE_NOTADB', 517: 'SQLITE_BUSY_SNAPSHOT', 261: 'SQLITE_BUSY_RECOVERY',
  1032: 'SQLITE_READONLY_DBMOVED', 1544: 'SQLITE_READONLY_DIRECTORY', 264: 'SQLITE_READONLY_RECOVERY', 520: 'SQLITE_READONLY_CANTLOCK',
  778: 'SQLITE_IOERR_WRITE', 266: 'SQLITE_IOERR_READ', 1034: 'SQLITE_IOERR_FSYNC', 4874: 'SQLITE_IOERR_SHMSIZE',
};
export function sqliteName(code) {
  return SQLITE_NAMES[code] || `SQLITE_${code}`;
}

function parseTs(s) {
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

// Parses one or more log files (each a list of lines). Returns { entries, requests, processes }:
// entries [{ ts, line, obj }] in time order (for the LogQL stand-in); requests [{ ts, start,
// method, route, code, durationMs, status, level, process, sqliteCode, reason }]; processes
// [{ start, listen, end, killed, dbPath, port, created, states: [{ ts, up, state, code }] }].
export function parseTaskdLogs(files) {
  const entries = [];
  const processes = [];
  const requests = [];
  for (const { name, text } of files) {
    const lines = [];
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let obj = null;
      try {
        obj = JSON.parse(raw);
      } catch {
        obj = null;
      }
      const ts = obj && typeof obj.ts === 'string' ? parseTs(obj.ts) : null;
      if (ts === null) continue; // not one of taskd's lines: Alloy would still ship it (see the LogQL entries)
      lines.push({ ts, line: raw, obj, file: name });
    }
    entries.push(...lines);
    segment(lines, processes, requests);
  }
  entries.sort((a, b) => a.ts - b.ts);
  requests.sort((a, b) => a.ts - b.ts);
  processes.sort((a, b) => a.start - b.start);
  processes.forEach((p, i) => {
    p.index = i;
  });
  return { entries, requests, processes };
}

// Splits one file's lines into processes: each "listening" line is a process, whose start-up
// block begins at the first start-up line of the run of start-up and request lines right before
// it (taskd accepts connections before it logs "listening": a request may be answered in
// between); "stopped" ends it (a process without one was killed, and ends at its last line).
function segment(lines, processes, requests) {
  const listens = [];
  lines.forEach((l, i) => {
    if (l.obj.msg === 'listening') listens.push(i);
  });
  let current = null;
  let next = 0;
  const begin = (i) => {
    let b = i;
    for (let k = i - 1; k >= 0 && (STARTUP.has(lines[k].obj.msg) || lines[k].obj.msg === 'request'); k--) {
      if (STARTUP.has(lines[k].obj.msg)) b = k;
    }
    return b;
  };
  const starts = new Map(listens.map((i) => [begin(i), i]));
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (starts.has(i)) {
      if (current && !current.ended) {
        current.killed = true;
        current.ended = true;
      }
      const li = lines[starts.get(i)];
      current = {
        start: l.ts,
        listen: li.ts,
        end: null,
        killed: false,
        ended: false,
        dbPath: li.obj.db_path || null,
        port: li.obj.port || null,
        created: false,
        states: [],
        lastTs: l.ts,
      };
      processes.push(current);
      next++;
    }
    if (!current) continue; // lines before any process start (a log rotated mid-run)
    current.lastTs = l.ts;
    const o = l.obj;
    if (o.msg === 'stopped') {
      current.end = l.ts;
      current.ended = true;
    } else if (o.msg === 'shutting down') {
      current.shutdown = l.ts;
    } else if (o.msg === 'created a new empty database') {
      current.created = true;
      current.createdAt = l.ts;
    } else if (o.msg === 'database available') {
      current.states.push({ ts: l.ts, up: true, state: 'ok', code: null });
    } else if (o.msg === 'database unavailable') {
      current.states.push({ ts: l.ts, up: false, state: o.db_state || 'ok', code: o.sqlite_error || (o.sqlite_code ? sqliteName(o.sqlite_code) : null) });
    } else if (o.msg === 'request') {
      const status = Number(o.status);
      const code = status >= 100 && status <= 599 ? String(status) : '500';
      const durationMs = Number(o.duration_ms);
      requests.push({
        ts: l.ts,
        start: l.ts - durationMs,
        method: methodLabel(o.method),
        route: o.route,
        code,
        status,
        durationMs,
        level: o.level,
        process: current,
        sqliteCode: o.sqlite_code ? sqliteName(o.sqlite_code) : null,
        refused: !!o.reason && !o.sqlite_code,
      });
    }
  }
  for (const p of processes) {
    if (p.end === null) {
      p.end = p.lastTs;
      p.killed = p.killed || !p.ended;
    }
  }
  return next;
}
