-- post_task.lua: wrk script for POST /tasks with a small JSON body, the write path under load:
--   wrk -s post_task.lua http://127.0.0.1:PORT
-- The request is fixed, so wrk formats it once and the client costs as little as it can.

wrk.method = "POST"
wrk.path = "/tasks"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"task": "benchmark task: write the weekly report"}'
