-- get_task.lua: wrk script for GET /tasks/{id}, cycling through ids 1..N so every request reads
-- a different seeded row (no single hot row, no misses). N is the script argument:
--   wrk -s get_task.lua http://127.0.0.1:PORT -- 1000
-- Each wrk thread starts at its own offset, so threads do not walk the ids in lockstep.

local threads = 0

function setup(thread)
   thread:set("thread_index", threads)
   threads = threads + 1
end

local ids = 1000
local next_id = 1

function init(args)
   local n = tonumber(args[1])
   if n and n >= 1 then
      ids = math.floor(n)
   end
   next_id = ((thread_index or 0) * 7919) % ids + 1
end

function request()
   local id = next_id
   next_id = id % ids + 1
   return wrk.format("GET", "/tasks/" .. id)
end
