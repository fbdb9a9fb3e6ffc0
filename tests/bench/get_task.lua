-- get_task.lua: wrk script for GET /tasks/{id} with an id drawn at random from 1..N, so reads
-- land all over the table as a real client's would (no single hot row, no misses). N is the
-- script argument:
--   wrk -s get_task.lua http://127.0.0.1:PORT -- 3000000
-- Each wrk thread seeds its own generator, so threads do not draw the same ids.

local threads = 0

function setup(thread)
   thread:set("thread_index", threads)
   threads = threads + 1
end

local ids = 1000

function init(args)
   local n = tonumber(args[1])
   if n and n >= 1 then
      ids = math.floor(n)
   end
   math.randomseed(os.time() + (thread_index or 0) * 7919)
end

function request()
   return wrk.format("GET", "/tasks/" .. math.random(ids))
end
