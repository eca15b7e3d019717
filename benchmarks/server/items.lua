-- wrk script: OGC API items with a bbox and limit=100, rotating over several bboxes (each thread
-- starts at a different one), so that no single query's answer stays hot in a cache.
--
--   BBOXES="minx,miny,maxx,maxy minx,miny,maxx,maxy ..." wrk -t2 -c32 -d10s -s benchmarks/server/items.lua http://127.0.0.1:PORT
--
-- The requests are formatted once, in init(), and the script has no response() callback: wrk then
-- hands no headers or bodies to Lua and costs the shared cores as little as plain wrk does. Error
-- answers are still counted by wrk ("Non-2xx or 3xx responses"), which run.sh refuses.

local list = os.getenv("BBOXES")
if list == nil or list == "" then error("items.lua: set BBOXES to space-separated bboxes") end
local paths = {}
for b in string.gmatch(list, "%S+") do
   table.insert(paths, "/collections/incidents/items?bbox=" .. b .. "&limit=100")
end

local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
end

function init(args)
   requests = {}
   for i, p in ipairs(paths) do requests[i] = wrk.format("GET", p) end
   at = thread_no
end

function request()
   at = at % #requests + 1
   return requests[at]
end
