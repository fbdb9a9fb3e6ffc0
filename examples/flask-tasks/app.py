#!/usr/bin/env python3
"""flask-tasks: the blog's Flask task API, on Debian's python3-flask, for taskbench to drive.

This is the app of "SRE Foundations to Production" part 4 (github.com/Rick-Houser/system-prism,
tag v4.0), rebuilt to be run by the bench: the same routes and answers, the same storage habits
(a new sqlite3 connection per request, the default rollback journal, `init_db()` at start with
five tries a second apart and then a crash) and the same metric names, which count an error only
on the 4xx paths the blog wrote by hand. Those habits are the point: chaos experiments show on
this app what the blog's volume-mount and deleted-database faults did to it.

What differs from the blog, each said where it is done: command-line flags instead of fixed
paths and ports (a free port, a port file, a database and log path per test); /metrics on the
app's own port (as the blog's later parts did); a GET /health that never touches the database
(the blog had no health check at all, so an orchestrator saw it ready whenever the process was
up — this endpoint says the same thing, and says it over HTTP); an optional paginated form of
GET /tasks (`?limit=N&cursor=C`), off unless asked for, so loadgen's audit can be shown on
cursor paging; and `done`, stored when a client sends it (the blog ignored it). The endpoints
are documented in examples/flask-tasks/README.md.
"""

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

app = Flask(__name__)
logger = logging.getLogger("flask_app")
DB_PATH = "tasks.db"  # set from --db before the first request


# ---- metrics: the blog's names, written out by hand (it used prometheus_client) -------------


class Metrics:
    """request_count_total and error_count_total by (method, endpoint), and the unlabelled
    request_processing_seconds summary (count and sum, as prometheus_client's Summary)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.errors = {}
        self.seconds_count = 0
        self.seconds_sum = 0.0

    def request(self, method, endpoint):
        with self.lock:
            key = (method, endpoint)
            self.requests[key] = self.requests.get(key, 0) + 1

    def error(self, method, endpoint):
        with self.lock:
            key = (method, endpoint)
            self.errors[key] = self.errors.get(key, 0) + 1

    def observe(self, seconds):
        with self.lock:
            self.seconds_count += 1
            self.seconds_sum += seconds

    def render(self):
        def counter(name, help_text, values):
            lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for (method, endpoint), value in sorted(values.items()):
                lines.append(f'{name}{{endpoint="{endpoint}",method="{method}"}} {value:.1f}')
            return lines

        with self.lock:
            out = counter("request_count_total", "Total number of requests", self.requests)
            out += counter("error_count_total", "Total number of errors", self.errors)
            out += [
                "# HELP request_processing_seconds Time spent processing requests",
                "# TYPE request_processing_seconds summary",
                f"request_processing_seconds_count {self.seconds_count:.1f}",
                f"request_processing_seconds_sum {self.seconds_sum!r}",
            ]
        return "\n".join(out) + "\n"


metrics = Metrics()


class RequestTime:
    """`with RequestTime():` is the blog's `with REQUEST_TIME.time():`."""

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        metrics.observe(time.perf_counter() - self.start)
        return False


# ---- storage: as the blog did it ------------------------------------------------------------


def connect():
    """A new connection per request, on the path as it is now (the blog's habit: a deleted
    file is silently re-created empty by the next request)."""
    return sqlite3.connect(DB_PATH)


def init_db(tries):
    """The blog's init_db: CREATE TABLE IF NOT EXISTS, five tries a second apart, then an
    exception that ends the process (what a bind-mounted directory did to the blog's app)."""
    for _ in range(tries):
        try:
            conn = connect()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, task TEXT NOT NULL)"
            )
            # Not in the blog: the column for `done`. Added to an existing blog database too.
            columns = [row[1] for row in conn.execute("PRAGMA table_info(tasks)")]
            if "done" not in columns:
                conn.execute("ALTER TABLE tasks ADD COLUMN done INTEGER NOT NULL DEFAULT 0")
            conn.commit()
            conn.close()
            return
        except sqlite3.OperationalError:
            time.sleep(1)
    raise Exception("Failed to initialize database")


def row_to_task(row):
    return {"id": row[0], "task": row[1], "done": bool(row[2])}


def done_of(body):
    """`done` when the client sent a boolean (not in the blog, which ignored it)."""
    value = body.get("done") if isinstance(body, dict) else None
    return value if isinstance(value, bool) else None


# ---- the blog's routes ----------------------------------------------------------------------


@app.route("/tasks", methods=["GET"])
def get_tasks():
    metrics.request("GET", "/tasks")
    with RequestTime():
        logger.info("GET /tasks called")
        if "limit" in request.args or "cursor" in request.args:
            return get_tasks_page()
        conn = connect()
        c = conn.cursor()
        c.execute("SELECT id, task, done FROM tasks")
        tasks = [row_to_task(row) for row in c.fetchall()]
        conn.close()
        return jsonify(tasks)


def get_tasks_page():
    """Not in the blog: GET /tasks?limit=N&cursor=C answers {"tasks": [...], "next_cursor": C}
    in id order, next_cursor null on the last page. The cursor is opaque to clients."""
    try:
        limit = int(request.args.get("limit", "100"))
        cursor = request.args.get("cursor", "")
        after = int(cursor[1:]) if cursor else 0
        if not 1 <= limit <= 1000 or (cursor and not cursor.startswith("c")):
            raise ValueError
    except ValueError:
        metrics.error("GET", "/tasks")
        return jsonify({"error": "limit must be 1..1000 and cursor one this API gave"}), 400
    conn = connect()
    c = conn.cursor()
    c.execute(
        "SELECT id, task, done FROM tasks WHERE id > ? ORDER BY id LIMIT ?", (after, limit + 1)
    )
    rows = c.fetchall()
    conn.close()
    page = [row_to_task(row) for row in rows[:limit]]
    next_cursor = f"c{page[-1]['id']}" if len(rows) > limit else None
    return jsonify({"tasks": page, "next_cursor": next_cursor})


@app.route("/tasks", methods=["POST"])
def add_task():
    metrics.request("POST", "/tasks")
    with RequestTime():
        body = request.json
        task = body.get("task")
        if task:
            conn = connect()
            c = conn.cursor()
            c.execute("INSERT INTO tasks (task, done) VALUES (?, ?)", (task, done_of(body) or False))
            conn.commit()
            conn.close()
            logger.info(f"Task added: {task}")
            return jsonify({"message": "Task added"}), 201
        metrics.error("POST", "/tasks")
        logger.warning("POST /tasks called with no task")
        return jsonify({"error": "No task provided"}), 400


@app.route("/tasks/<int:task_id>", methods=["PUT"])
def update_task(task_id):
    metrics.request("PUT", "/tasks/<id>")
    with RequestTime():
        body = request.json
        task = body.get("task")
        if task:
            conn = connect()
            c = conn.cursor()
            done = done_of(body)
            if done is None:
                c.execute("UPDATE tasks SET task = ? WHERE id = ?", (task, task_id))
            else:
                c.execute("UPDATE tasks SET task = ?, done = ? WHERE id = ?", (task, done, task_id))
            if c.rowcount == 0:  # No rows updated means task ID wasn't found
                conn.close()
                metrics.error("PUT", "/tasks/<id>")
                logger.warning(f"PUT /tasks/{task_id} failed: task not found")
                return jsonify({"error": "Task not found"}), 404
            conn.commit()
            conn.close()
            logger.info(f"Task {task_id} updated: {task}")
            return jsonify({"message": "Task updated"}), 200
        metrics.error("PUT", "/tasks/<id>")
        logger.warning(f"PUT /tasks/{task_id} called with no task")
        return jsonify({"error": "No task provided"}), 400


@app.route("/tasks/<int:task_id>", methods=["DELETE"])
def delete_task(task_id):
    metrics.request("DELETE", "/tasks/<id>")
    with RequestTime():
        conn = connect()
        c = conn.cursor()
        c.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
        if c.rowcount == 0:
            conn.close()
            metrics.error("DELETE", "/tasks/<id>")
            logger.warning(f"DELETE /tasks/{task_id} failed: task not found")
            return jsonify({"error": "Task not found"}), 404
        conn.commit()
        conn.close()
        logger.info(f"Task {task_id} deleted")
        return jsonify({"message": "Task deleted"}), 200


# ---- what the bench adds --------------------------------------------------------------------


@app.route("/health", methods=["GET"])
def health():
    """Never touches the database: 200 whenever the process answers HTTP, as the blog's
    deployment (no probe at all) effectively had it."""
    return jsonify({"status": "ok"})


@app.route("/metrics", methods=["GET"])
def metrics_endpoint():
    return Response(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")


# ---- start-up -------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """python-json-logger's `%(asctime)s %(levelname)s %(message)s`, the blog's log line."""

    def format(self, record):
        return json.dumps(
            {
                "asctime": self.formatTime(record),
                "levelname": record.levelname,
                "message": record.getMessage(),
            }
        )


def parse_args(argv):
    p = argparse.ArgumentParser(description="The blog's Flask task API (see README.md).")
    p.add_argument("--listen", default="127.0.0.1:5000", help="HOST:PORT; port 0 picks a free one")
    p.add_argument("--db", default="tasks.db", help="the SQLite file (the blog: /app/tasks.db)")
    p.add_argument("--log-file", default="flask_app.log", help="JSON log lines (the blog: /var/log/flask_app.log)")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--init-tries", type=int, default=5, help="init_db attempts, a second apart (the blog: 5)")
    p.add_argument("--access-log", action="store_true", help="werkzeug's line per request on stderr")
    return p.parse_args(argv)


def main(argv):
    global DB_PATH
    args = parse_args(argv)
    DB_PATH = args.db
    handler = logging.FileHandler(args.log_file)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    if not args.access_log:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    host, _, port = args.listen.rpartition(":")
    init_db(args.init_tries)
    server = make_server(host or "127.0.0.1", int(port), app, threaded=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{server.server_port}\n")
        os.rename(tmp, args.port_file)
    print(f"flask-tasks: listening on http://{host}:{server.server_port}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
