-- wrk script: OGC API items with a bbox and limit=100, rotating over several bboxes (each thread
-- starts at a different one), so that no single query's answer stays hot in a cache.
--
--   BBOXES="minx,miny,maxx,maxy minx,miny,maxx,maxy ..." wrk -t2 -c32 -d10s -s benchmarks/server/items.lua http://127.0.0.1:PORT
--
-- Counts the responses by status and prints them at the end as "status NNN COUNT" lines.

local list = os.getenv("BBOXES")
if list == nil or list == "" then error("items.lua: set BBOXES to space-separated bboxes") end
local paths = {}
for b in string.gmatch(list, "%S+") do
   table.insert(paths, "/collections/incidents/items?bbox=" .. b .. "&limit=100")
end

local threads = {}
local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   at = thread_no
end

function request()
   at = at % #paths + 1
   return wrk.format("GET", paths[at])
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
   end
   local keys = {}
   for k in pairs(total) do table.insert(keys, k) end
   table.sort(keys)
   for _, k in ipairs(keys) do io.write(string.format("status %s %d\n", k, total[k])) end
end
